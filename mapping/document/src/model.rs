//! What a document says, once read: the canonical facts (patients, units,
//! unit events) plus the parts that are not unit events (stock reports,
//! donations, waiver claims), which the engine routes to their own ledgers.

use chrono::{DateTime, FixedOffset};
use hemobridge_canonical::{Abo, Measure, Normalized, Product, Rh, Sensitive};
use serde::{Deserialize, Serialize};

/// A valid document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// Unique per sending facility; a repeat is a duplicate.
    pub document_id: String,
    /// The sending facility's code (checked against the caller's token by
    /// the engine, not here).
    pub facility: String,
    pub generated_at: Option<DateTime<FixedOffset>>,
    /// The number of records (children of `Report`, items of `records`).
    pub records: usize,
    /// Patients, units and unit events, in document order.
    pub facts: Normalized,
    pub stock: Vec<StockReport>,
    pub waiver_claims: Vec<WaiverClaim>,
    pub donations: Vec<Donation>,
}

/// A blood bank's stock at one moment (库存), as the hospital counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockReport {
    pub facility: String,
    pub at: DateTime<FixedOffset>,
    pub items: Vec<StockItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub product: Product,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    /// In `measure`; may be zero (a group out of stock is worth reporting).
    pub quantity: f64,
    pub measure: Measure,
}

/// A donation at a blood station: the start of a unit's chain and the
/// donor's entitlement for fee waivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Donation {
    /// The DIN, canonical form (ISBT 128 flags and check character dropped).
    pub unit: String,
    /// The station's pseudonymous donor key.
    pub donor_key: String,
    pub donor_id_number: Option<Sensitive>,
    pub donor_name: Option<Sensitive>,
    pub kind: DonationKind,
    pub volume_ml: u32,
    pub at: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DonationKind {
    WholeBlood,
    ApheresisPlatelets,
    ApheresisPlasma,
    StemCell,
}

impl DonationKind {
    /// The document's words, in the order the spec lists them.
    pub const WORDS: [(&'static str, DonationKind); 4] = [
        ("whole-blood", DonationKind::WholeBlood),
        ("apheresis-platelets", DonationKind::ApheresisPlatelets),
        ("apheresis-plasma", DonationKind::ApheresisPlasma),
        ("stem-cell", DonationKind::StemCell),
    ];

    pub fn as_str(self) -> &'static str {
        DonationKind::WORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("whole-blood", |(w, _)| w)
    }
}

/// A direct-waiver claim at discharge (用血费用直接减免).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaiverClaim {
    pub claim_id: String,
    /// The hospital's patient key.
    pub patient: String,
    pub donor_id_number: Sensitive,
    pub donor_name: Option<Sensitive>,
    /// The patient's relationship to the donor.
    pub relationship: Relationship,
    /// The blood-product fee of this stay in fen (1 yuan = 100 fen): money
    /// is kept in whole fen so that no float rounding touches it.
    pub blood_fee_fen: i64,
    pub discharged_at: DateTime<FixedOffset>,
    pub units_used_ml: u32,
}

/// Who the patient is to the donor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// The donor (本人). Named `Self_` because `Self` is a keyword.
    #[allow(non_camel_case_types)]
    #[serde(rename = "self")]
    Self_,
    Spouse,
    Parent,
    Child,
    Sibling,
    SpouseParent,
    Other,
}

impl Relationship {
    /// The document's words, in the order the spec lists them.
    pub const WORDS: [(&'static str, Relationship); 7] = [
        ("self", Relationship::Self_),
        ("spouse", Relationship::Spouse),
        ("parent", Relationship::Parent),
        ("child", Relationship::Child),
        ("sibling", Relationship::Sibling),
        ("spouse-parent", Relationship::SpouseParent),
        ("other", Relationship::Other),
    ];

    pub fn as_str(self) -> &'static str {
        Relationship::WORDS
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("other", |(w, _)| w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_serde_names() {
        for (word, r) in Relationship::WORDS {
            assert_eq!(serde_json::to_value(r).unwrap(), word);
            assert_eq!(r.as_str(), word);
        }
        for (word, k) in DonationKind::WORDS {
            assert_eq!(serde_json::to_value(k).unwrap(), word);
            assert_eq!(k.as_str(), word);
        }
    }
}
