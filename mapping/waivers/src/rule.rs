//! A province's waiver rule, validated: what [`crate::decide`] reads.
//!
//! A rule is data, not code: every province's rule is a combination of the
//! same few parts (who qualifies, how much, how donations count, from
//! when), so a regulator corrects a rule by editing a file, and no release
//! is needed. The file format and its checks are in [`crate::rules`]; this
//! module is the shape that remains once a file has been checked, so that a
//! decision never meets an inconsistent rule.

use crate::words::{DonationKind, Relationship};
use chrono::NaiveDate;
use serde::Serialize;

/// One version of one province's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable identifier, e.g. `jiangsu-2025`: what the configuration names.
    pub id: String,
    /// Changed by whoever edits the file; recorded on every decision so
    /// that a decision can be traced to the exact text that produced it.
    pub version: String,
    pub province: String,
    pub name: Option<String>,
    /// Where the text comes from (regulation, article, publisher).
    pub source: String,
    /// `None` where the file says `"unknown"`.
    pub effective_from: Option<NaiveDate>,
    pub status: RuleStatus,
    /// Open points and interpretations, in plain words.
    pub notes: Vec<String>,
    pub count_as_ml: CountAsMl,
    pub waiting: Option<Waiting>,
    /// Each relationship appears in at most one group.
    pub groups: Vec<Group>,
}

/// How far the text of a rule can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum RuleStatus {
    /// The regulation's text, as published by an authority.
    #[serde(rename = "official text")]
    OfficialText,
    /// Known only from a press report: to confirm against the official text.
    #[serde(rename = "press report, to confirm")]
    PressReport,
    /// A published variant whose province or details are not confirmed.
    #[serde(rename = "variant, to confirm")]
    Variant,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::OfficialText => "official text",
            RuleStatus::PressReport => "press report, to confirm",
            RuleStatus::Variant => "variant, to confirm",
        }
    }
}

/// How much one donation adds to the donor's cumulative volume, by kind.
///
/// `None` counts the volume recorded in the donation ledger; `Some(ml)`
/// counts every donation of that kind as `ml`, e.g. an apheresis-platelet
/// donation as 800 mL of whole blood in one published rule, or a stem-cell
/// donation as 0 where it grants allowances of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CountAsMl {
    pub whole_blood: Option<u32>,
    pub apheresis_platelets: Option<u32>,
    pub apheresis_plasma: Option<u32>,
    pub stem_cell: Option<u32>,
}

impl CountAsMl {
    /// The volume that a donation of `kind` with `recorded_ml` counts for.
    pub fn counted_ml(&self, kind: DonationKind, recorded_ml: u32) -> u32 {
        let fixed = match kind {
            DonationKind::WholeBlood => self.whole_blood,
            DonationKind::ApheresisPlatelets => self.apheresis_platelets,
            DonationKind::ApheresisPlasma => self.apheresis_plasma,
            DonationKind::StemCell => self.stem_cell,
        };
        fixed.unwrap_or(recorded_ml)
    }
}

/// A waiting period: a donation entitles to nothing until `days` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub days: u32,
    pub from: WaitingFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitingFrom {
    /// Nothing at all until `days` after the first donation; afterwards
    /// every donation counts at once (the published variant's wording).
    FirstDonation,
    /// Each donation counts only from `days` after it.
    EachDonation,
}

/// Relationships that draw on the same allowances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: String,
    pub name: Option<String>,
    pub relationships: Vec<Relationship>,
    /// `true`: all relationships of the group draw on one allowance together
    /// (Jiangsu's relatives: 等量, counted across all of them). `false`:
    /// each relationship has an allowance of that size of its own.
    pub shared: bool,
    /// Alternatives, not a sum: the most generous one that applies counts.
    pub allowances: Vec<Allowance>,
}

impl Group {
    pub fn covers(&self, r: Relationship) -> bool {
        self.relationships.contains(&r)
    }

    /// The relationships whose past waivers consume the allowance that `r`
    /// draws on in this group.
    pub fn pool_of(&self, r: Relationship) -> &[Relationship] {
        if self.shared {
            &self.relationships
        } else {
            let i = self.relationships.iter().position(|x| *x == r);
            i.map_or(&[], |i| &self.relationships[i..=i])
        }
    }
}

/// One way to be entitled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowance {
    pub kind: AllowanceKind,
    /// If not empty, the allowance applies only to a donor who has given at
    /// least one donation of one of these kinds (e.g. stem cells).
    pub only_if_donated: Vec<DonationKind>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AllowanceKind {
    /// A multiple of the counted volume, the multiple depending on how long
    /// ago the donation was (e.g. 5 × within 5 years, 1 × after).
    Multiple {
        /// Ascending `within_years`; only the last may be open-ended.
        windows: Vec<Window>,
        measured_from: MeasuredFrom,
    },
    /// Free use once the cumulative counted volume reaches `min_ml`: for
    /// life, or for `free_for_years` from the donation that reached it.
    Threshold {
        min_ml: u32,
        /// Only donations within this many years of each other add up.
        accumulated_within_years: Option<u32>,
        /// `None`: for life.
        free_for_years: Option<u32>,
    },
    /// A fixed volume (e.g. 800 mL for a stem-cell donor's relatives).
    Fixed { ml: u32 },
    /// Free use, without condition other than `only_if_donated`.
    Unlimited,
}

/// `times` × the volume while the donation is less than `within_years` old
/// (`None`: at any age not covered by an earlier window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub within_years: Option<u32>,
    pub times: u32,
}

/// Which donation date the windows of a multiple are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeasuredFrom {
    /// Each donation's volume gets the multiple of its own age (the usual
    /// reading of "自献血之日起5年内").
    #[default]
    EachDonation,
    /// The whole volume gets the multiple of the first donation's age.
    FirstDonation,
    /// The whole volume gets the multiple of the latest donation's age.
    LastDonation,
}

impl Rule {
    /// The group that `r` belongs to, if the rule covers it.
    pub fn group_of(&self, r: Relationship) -> Option<&Group> {
        self.groups.iter().find(|g| g.covers(r))
    }
}
