//! Unit events: the typed, timestamped links of a vein-to-vein chain.
//!
//! Each event says what happened to one unit, when, where, and (for the
//! clinical steps) to which patient. Events from different sources about the
//! same unit meet on (DIN, product).

use crate::UnitKey;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Blood collected from a donor at a station.
    Collected,
    /// A station sent the unit to a hospital.
    Dispatched,
    /// A hospital put the unit into its inventory (入库).
    Received,
    /// Crossmatched (配血) for a patient, with a result.
    Crossmatched,
    /// Reserved / allocated for a patient.
    Reserved,
    /// No longer allocated to the patient; back in general inventory.
    Released,
    /// Issued to a ward for a patient (发血).
    Issued,
    /// Transfused (start and end in the detail; `presumed` for BPX PT).
    Transfused,
    /// Returned unused to the blood bank (退血).
    Returned,
    /// Discarded (报废).
    Discarded,
    /// An adverse transfusion reaction.
    Reaction,
    /// The unit left this hospital for another (调剂).
    Transferred,
}

pub const ALL_EVENT_KINDS: [EventKind; 12] = [
    EventKind::Collected,
    EventKind::Dispatched,
    EventKind::Received,
    EventKind::Crossmatched,
    EventKind::Reserved,
    EventKind::Released,
    EventKind::Issued,
    EventKind::Transfused,
    EventKind::Returned,
    EventKind::Discarded,
    EventKind::Reaction,
    EventKind::Transferred,
];

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Collected => "collected",
            EventKind::Dispatched => "dispatched",
            EventKind::Received => "received",
            EventKind::Crossmatched => "crossmatched",
            EventKind::Reserved => "reserved",
            EventKind::Released => "released",
            EventKind::Issued => "issued",
            EventKind::Transfused => "transfused",
            EventKind::Returned => "returned",
            EventKind::Discarded => "discarded",
            EventKind::Reaction => "reaction",
            EventKind::Transferred => "transferred",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        ALL_EVENT_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// The order of the steps in a normal chain, used to order events that
    /// carry the same timestamp and to find steps out of order.
    pub fn chain_rank(self) -> u8 {
        match self {
            EventKind::Collected => 0,
            EventKind::Dispatched => 1,
            EventKind::Received => 2,
            EventKind::Crossmatched => 3,
            EventKind::Reserved => 4,
            EventKind::Released => 5,
            EventKind::Issued => 6,
            EventKind::Returned => 7,
            EventKind::Transferred => 7,
            EventKind::Transfused => 8,
            EventKind::Reaction => 9,
            EventKind::Discarded => 10,
        }
    }
}

/// The reason a unit was discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscardReason {
    Expired,
    Damaged,
    Hemolysis,
    ReturnedLate,
    Other,
}

impl DiscardReason {
    pub fn parse(s: &str) -> Option<DiscardReason> {
        match s.trim() {
            "expired" | "过期" | "EXP" => Some(DiscardReason::Expired),
            "damaged" | "破损" | "破袋" => Some(DiscardReason::Damaged),
            "hemolysis" | "溶血" => Some(DiscardReason::Hemolysis),
            "returned-late" | "超时退回" => Some(DiscardReason::ReturnedLate),
            "other" | "其他" => Some(DiscardReason::Other),
            _ => None,
        }
    }
}

/// Severity of a transfusion reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
    Death,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim() {
            "mild" | "轻度" | "轻" => Some(Severity::Mild),
            "moderate" | "中度" | "中" => Some(Severity::Moderate),
            "severe" | "重度" | "重" | "严重" => Some(Severity::Severe),
            "death" | "死亡" => Some(Severity::Death),
            _ => None,
        }
    }
}

/// The national reporting category of a reaction (CV05.01.040), kept beside
/// the finer code the source sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReactionCategory {
    Febrile,
    Allergic,
    Haemolytic,
    Other,
}

impl ReactionCategory {
    /// CV05.01.040 code.
    pub fn national_code(self) -> &'static str {
        match self {
            ReactionCategory::Febrile => "1",
            ReactionCategory::Allergic => "2",
            ReactionCategory::Haemolytic => "3",
            ReactionCategory::Other => "9",
        }
    }

    /// Classifies an HL7 table 0514 code or a Chinese / English text.
    pub fn classify(code_or_text: &str) -> ReactionCategory {
        let t = code_or_text.trim().to_ascii_uppercase();
        if t.starts_with("NONHTR")
            || t.contains("FNHTR")
            || t.contains("FEBRILE")
            || t.contains("发热")
        {
            ReactionCategory::Febrile
        } else if t.starts_with("ALLERG")
            || t.starts_with("ANAPHYL")
            || t.contains("过敏")
            || t.contains("URTICARIA")
            || t.contains("荨麻疹")
        {
            ReactionCategory::Allergic
        } else if t.contains("HTR")
            || t == "ABOINC"
            || t.contains("HEMOLY")
            || t.contains("HAEMOLY")
            || t.contains("溶血")
        {
            ReactionCategory::Haemolytic
        } else {
            ReactionCategory::Other
        }
    }
}

/// Facts that belong to some event kinds only. Unused fields are `None` and
/// are left out of JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDetail {
    /// Crossmatch: `compatible` / `incompatible`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Issued: the ward or location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    /// Transfused: start and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// Transfused: inferred from "dispensed and not returned" (BPX PT).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub presumed: bool,
    /// Transfused: volume given, in mL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<u32>,
    /// Transfused: ICD-10 of the principal diagnosis (单病种).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// Reaction: the source's code or text, its national category, severity
    /// and outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_category: Option<ReactionCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Returned / discarded: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Returned but still linked to the patient (BPX/BTX `RL`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_linked: bool,
    /// Dispatched / transferred: the destination; received: the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The source's own status code (BPX-2, BTX-11), for audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitEvent {
    pub kind: EventKind,
    pub at: DateTime<FixedOffset>,
    /// The facility where it happened (the reporting hospital or station).
    pub facility: String,
    pub unit: UnitKey,
    /// The hospital's patient key, for clinical steps.
    pub patient_key: Option<String>,
    #[serde(default)]
    pub detail: EventDetail,
}

impl UnitEvent {
    pub fn new(
        kind: EventKind,
        at: DateTime<FixedOffset>,
        facility: impl Into<String>,
        unit: UnitKey,
    ) -> Self {
        UnitEvent {
            kind,
            at,
            facility: facility.into(),
            unit,
            patient_key: None,
            detail: EventDetail::default(),
        }
    }

    /// A stable identity for the fact this event records, so that the same
    /// fact reported twice (a resent message, the portal and HL7 both) is
    /// stored once: facility, unit, kind, time (and patient for clinical
    /// steps). 64 bits of FNV-1a, printed as hex; stable across releases.
    pub fn natural_key(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        feed(self.facility.as_bytes());
        feed(self.unit.din.as_bytes());
        feed(self.unit.product.code().as_bytes());
        feed(self.kind.as_str().as_bytes());
        feed(&self.at.timestamp_millis().to_be_bytes());
        feed(self.patient_key.as_deref().unwrap_or("").as_bytes());
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Product;

    #[test]
    fn reaction_categories() {
        for (code, want) in [
            ("NONHTR1", ReactionCategory::Febrile),
            ("发热性非溶血性输血反应", ReactionCategory::Febrile),
            ("ALLERGIC2", ReactionCategory::Allergic),
            ("ANAPHYLAC", ReactionCategory::Allergic),
            ("过敏反应", ReactionCategory::Allergic),
            ("ACUTHEHTR", ReactionCategory::Haemolytic),
            ("DELAYEDHTR", ReactionCategory::Haemolytic),
            ("ABOINC", ReactionCategory::Haemolytic),
            ("急性溶血性输血反应", ReactionCategory::Haemolytic),
            ("TACO", ReactionCategory::Other),
            ("输血相关急性肺损伤", ReactionCategory::Other),
        ] {
            assert_eq!(ReactionCategory::classify(code), want, "{code}");
        }
    }

    #[test]
    fn natural_key_separates_facts() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T08:00:00+08:00").unwrap();
        let unit = UnitKey {
            din: "W0000260000011".into(),
            product: Product::RbcLr,
        };
        let a = UnitEvent::new(EventKind::Issued, at, "H1", unit.clone());
        let mut b = a.clone();
        assert_eq!(a.natural_key(), b.natural_key());
        b.kind = EventKind::Transfused;
        assert_ne!(a.natural_key(), b.natural_key());
        let same_instant = UnitEvent::new(
            EventKind::Issued,
            DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap(),
            "H1",
            unit,
        );
        assert_eq!(a.natural_key(), same_instant.natural_key());
    }
}
