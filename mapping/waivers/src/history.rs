//! A donor's history and the entitlement it gives under a rule.
//!
//! The entitlement is recomputed from the history every time, never kept as
//! a balance: a cancelled claim then restores what it took by simply
//! leaving the history, a corrected rule applies to every later decision,
//! and two decisions can never disagree about what was already spent.

use crate::claim::Claim;
use crate::decide::Decision;
use crate::rule::{Allowance, AllowanceKind, Group, MeasuredFrom, Rule, WaitingFrom, Window};
use crate::words::{DonationKind, Relationship};
use chrono::{DateTime, FixedOffset, Months, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// What the engine knows about one donor, from the donation ledger and the
/// waivers already granted against this donor (through every channel:
/// hospital, blood station, online).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DonorHistory {
    pub donations: Vec<Donation>,
    /// Granted and not cancelled. A cancelled waiver is left out: that is
    /// what restores the entitlement it took.
    pub waivers: Vec<PriorWaiver>,
}

/// One donation in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Donation {
    pub at: DateTime<FixedOffset>,
    /// The recorded volume; the rule may count it differently
    /// ([`crate::rule::CountAsMl`]).
    pub volume_ml: u32,
    pub kind: DonationKind,
}

/// A waiver already granted against this donor.
///
/// It records the claimant's relationship, not a group: the rule in force
/// decides which allowance the relationship draws on, so a rule that
/// regroups relationships still reads old waivers correctly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorWaiver {
    pub claim_id: String,
    pub relationship: Relationship,
    pub waived_ml: u32,
    pub at: DateTime<FixedOffset>,
}

impl DonorHistory {
    /// Adds the waiver that `decision` granted for `claim` (nothing if it
    /// waived nothing). A claim already recorded is replaced, not added
    /// twice, so recording the same claim again consumes nothing more.
    pub fn record(&mut self, claim: &Claim, decision: &Decision, at: DateTime<FixedOffset>) {
        self.cancel(&claim.claim_id);
        if decision.waived_ml > 0 {
            self.waivers.push(PriorWaiver {
                claim_id: claim.claim_id.clone(),
                relationship: claim.relationship,
                waived_ml: decision.waived_ml,
                at,
            });
        }
    }

    /// Removes a cancelled claim's waiver; `true` if there was one.
    pub fn cancel(&mut self, claim_id: &str) -> bool {
        let before = self.waivers.len();
        self.waivers.retain(|w| w.claim_id != claim_id);
        self.waivers.len() != before
    }
}

/// What a relationship may still have waived at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Entitlement {
    /// Free use: for life (`until` = `None`) or until that moment.
    Unlimited {
        until: Option<DateTime<FixedOffset>>,
    },
    /// Up to `allowance_ml`, of which `used_ml` is already waived.
    Limited { allowance_ml: u64, used_ml: u64 },
}

impl Entitlement {
    /// mL still available; `None` for free use. Never negative: an
    /// allowance that shrank below what was used (a window closed) is 0.
    pub fn remaining_ml(&self) -> Option<u64> {
        match *self {
            Entitlement::Unlimited { .. } => None,
            Entitlement::Limited {
                allowance_ml,
                used_ml,
            } => Some(allowance_ml.saturating_sub(used_ml)),
        }
    }
}

/// Why a relationship has no entitlement at all at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// No group of the rule lists the relationship.
    NotCovered,
    /// No donation on or before the moment.
    NoDonation,
    /// The waiting period runs until then.
    Waiting { until: DateTime<FixedOffset> },
}

/// The group a relationship draws on, and what it may still have waived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing<'r> {
    pub group: &'r Group,
    pub entitlement: Entitlement,
}

/// What `relationship` may have waived at `at` against this donor.
pub fn entitlement<'r>(
    rule: &'r Rule,
    history: &DonorHistory,
    relationship: Relationship,
    at: DateTime<FixedOffset>,
) -> Result<Standing<'r>, Ineligible> {
    standing(rule, history, relationship, at, None)
}

/// As [`entitlement`], not counting the waiver of claim `exclude` (the
/// claim being decided, if it was decided before).
pub(crate) fn standing<'r>(
    rule: &'r Rule,
    history: &DonorHistory,
    relationship: Relationship,
    at: DateTime<FixedOffset>,
    exclude: Option<&str>,
) -> Result<Standing<'r>, Ineligible> {
    let group = rule.group_of(relationship).ok_or(Ineligible::NotCovered)?;
    let donations = counted(rule, history, at)?;
    let grant = group
        .allowances
        .iter()
        .filter_map(|a| grant(a, &donations, at))
        .fold(Grant::Ml(0), Grant::max);
    let entitlement = match grant {
        Grant::Unlimited(until) => Entitlement::Unlimited { until },
        Grant::Ml(allowance_ml) => {
            let pool = group.pool_of(relationship);
            let used_ml = history
                .waivers
                .iter()
                .filter(|w| pool.contains(&w.relationship) && Some(w.claim_id.as_str()) != exclude)
                .map(|w| u64::from(w.waived_ml))
                .sum();
            Entitlement::Limited {
                allowance_ml,
                used_ml,
            }
        }
    };
    Ok(Standing { group, entitlement })
}

/// A donation as the rule counts it.
struct Counted {
    at: DateTime<FixedOffset>,
    ml: u64,
    kind: DonationKind,
}

/// The donations that count at `at`, oldest first: none after `at`, none
/// still in a waiting period.
fn counted(
    rule: &Rule,
    history: &DonorHistory,
    at: DateTime<FixedOffset>,
) -> Result<Vec<Counted>, Ineligible> {
    let mut ds: Vec<Counted> = history
        .donations
        .iter()
        .filter(|d| d.at <= at)
        .map(|d| Counted {
            at: d.at,
            ml: u64::from(rule.count_as_ml.counted_ml(d.kind, d.volume_ml)),
            kind: d.kind,
        })
        .collect();
    ds.sort_by_key(|d| d.at);
    let first = ds.first().ok_or(Ineligible::NoDonation)?.at;
    if let Some(w) = rule.waiting {
        match w.from {
            WaitingFrom::FirstDonation => {
                let until = plus_days(first, w.days);
                if at < until {
                    return Err(Ineligible::Waiting { until });
                }
            }
            WaitingFrom::EachDonation => {
                ds.retain(|d| plus_days(d.at, w.days) <= at);
                if ds.is_empty() {
                    return Err(Ineligible::Waiting {
                        until: plus_days(first, w.days),
                    });
                }
            }
        }
    }
    Ok(ds)
}

/// What one allowance gives. Ordered so that the most generous wins:
/// any free use beats any volume, and free use for life beats a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Unlimited(Option<DateTime<FixedOffset>>),
    Ml(u64),
}

impl Grant {
    fn max(self, other: Grant) -> Grant {
        match (self, other) {
            (Grant::Ml(a), Grant::Ml(b)) => Grant::Ml(a.max(b)),
            (Grant::Ml(_), u) | (u, Grant::Ml(_)) => u,
            (Grant::Unlimited(None), _) | (_, Grant::Unlimited(None)) => Grant::Unlimited(None),
            (Grant::Unlimited(Some(a)), Grant::Unlimited(Some(b))) => {
                Grant::Unlimited(Some(a.max(b)))
            }
        }
    }
}

/// What `a` gives at `at`, or `None` where it does not apply.
fn grant(a: &Allowance, ds: &[Counted], at: DateTime<FixedOffset>) -> Option<Grant> {
    if !a.only_if_donated.is_empty() && !ds.iter().any(|d| a.only_if_donated.contains(&d.kind)) {
        return None;
    }
    match &a.kind {
        AllowanceKind::Multiple {
            windows,
            measured_from,
        } => Some(Grant::Ml(multiple(windows, *measured_from, ds, at))),
        AllowanceKind::Threshold {
            min_ml,
            accumulated_within_years,
            free_for_years,
        } => threshold(
            u64::from(*min_ml),
            *accumulated_within_years,
            *free_for_years,
            ds,
            at,
        ),
        AllowanceKind::Fixed { ml } => Some(Grant::Ml(u64::from(*ml))),
        AllowanceKind::Unlimited => Some(Grant::Unlimited(None)),
    }
}

fn multiple(
    windows: &[Window],
    from: MeasuredFrom,
    ds: &[Counted],
    at: DateTime<FixedOffset>,
) -> u64 {
    let times = |since: DateTime<FixedOffset>| -> u64 {
        windows
            .iter()
            .find(|w| w.within_years.is_none_or(|y| at < plus_years(since, y)))
            .map_or(0, |w| u64::from(w.times))
    };
    let total = || ds.iter().map(|d| d.ml).fold(0u64, u64::saturating_add);
    match (from, ds.first(), ds.last()) {
        (_, None, _) | (_, _, None) => 0,
        (MeasuredFrom::EachDonation, _, _) => ds
            .iter()
            .map(|d| d.ml.saturating_mul(times(d.at)))
            .fold(0, u64::saturating_add),
        (MeasuredFrom::FirstDonation, Some(first), _) => total().saturating_mul(times(first.at)),
        (MeasuredFrom::LastDonation, _, Some(last)) => total().saturating_mul(times(last.at)),
    }
}

/// Free use once the donations reach `min_ml` (within a span of
/// `within_years`, if set): for life, or for `free_years` from the latest
/// donation at which the threshold was reached, since each such donation
/// starts the period again.
fn threshold(
    min_ml: u64,
    within_years: Option<u32>,
    free_years: Option<u32>,
    ds: &[Counted],
    at: DateTime<FixedOffset>,
) -> Option<Grant> {
    let mut best: Option<DateTime<FixedOffset>> = None;
    let mut start = 0;
    let mut sum = 0u64;
    for (i, d) in ds.iter().enumerate() {
        sum = sum.saturating_add(d.ml);
        if let Some(y) = within_years {
            // Donations within `y` years before this one still add up.
            while start < i && ds[start].at <= minus_years(d.at, y) {
                sum -= ds[start].ml;
                start += 1;
            }
        }
        if sum < min_ml {
            continue;
        }
        match free_years {
            None => return Some(Grant::Unlimited(None)),
            Some(y) => {
                let until = plus_years(d.at, y);
                if at < until {
                    best = Some(best.map_or(until, |b| b.max(until)));
                }
            }
        }
    }
    best.map(|until| Grant::Unlimited(Some(until)))
}

/// The latest representable moment, where date arithmetic leaves chrono's
/// range: a period that ends there never ends.
fn never() -> DateTime<FixedOffset> {
    DateTime::<Utc>::MAX_UTC.fixed_offset()
}

fn plus_years(t: DateTime<FixedOffset>, years: u32) -> DateTime<FixedOffset> {
    t.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or_else(never)
}

fn minus_years(t: DateTime<FixedOffset>, years: u32) -> DateTime<FixedOffset> {
    t.checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC.fixed_offset())
}

fn plus_days(t: DateTime<FixedOffset>, days: u32) -> DateTime<FixedOffset> {
    t.checked_add_signed(TimeDelta::days(i64::from(days)))
        .unwrap_or_else(never)
}
