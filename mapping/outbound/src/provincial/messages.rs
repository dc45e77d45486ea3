//! The inputs of the provincial messages that the daily submission does not
//! already describe: a stock snapshot and a waiver decision.

use chrono::{DateTime, FixedOffset};
use hemobridge_waivers::Decision;

/// The blood bank's stock at one moment, for the province's real-time stock
/// search (by product, ABO, RhD).
#[derive(Debug, Clone, PartialEq)]
pub struct StockSnapshot {
    /// The hospital's facility code.
    pub hospital: String,
    /// The moment the figures describe.
    pub at: DateTime<FixedOffset>,
    /// One item per (product, ABO, RhD) held; zero quantities may be sent to
    /// say "none left".
    pub items: Vec<StockItem>,
    /// When the hospital itself last reported its stock, if it ever did (the
    /// rest is computed from events).
    pub last_reported_at: Option<DateTime<FixedOffset>>,
}

/// One product and blood group in stock.
#[derive(Debug, Clone, PartialEq)]
pub struct StockItem {
    /// Canonical product code (`RBC-LR`, ...).
    pub product: String,
    /// Product category (`red-cells`, `plasma`, ...).
    pub category: String,
    /// `A`, `B`, `O`, `AB`, or `None` where unknown.
    pub abo: Option<String>,
    /// `+`, `-`, or `None` where unknown.
    pub rh: Option<String>,
    pub quantity: f64,
    /// `U`, `mL` or `dose`.
    pub measure: String,
}

/// A direct-waiver decision, as the province's waiver monitor receives it.
///
/// No clear identity: the donor is its keyed hash (the engine's donor key),
/// the patient at most a masked name.
#[derive(Debug, Clone, PartialEq)]
pub struct WaiverClaimMessage {
    pub claim_id: String,
    /// The hospital that decided (its facility code).
    pub hospital: String,
    /// `full`, `partial` or `none`.
    pub decision: String,
    pub waived_ml: u32,
    /// Money in integer fen (rendered as yuan with two decimals).
    pub blood_fee_fen: i64,
    pub waived_fen: i64,
    pub patient_pays_fen: i64,
    /// Stable English reason code (`within-entitlement`, ...).
    pub reason_code: String,
    /// The reason in Chinese, for people.
    pub reason: String,
    pub rule: WaiverRule,
    /// The donor's keyed hash (never the ID number).
    pub donor_key: String,
    /// `self`, `spouse`, `parent`, `child`, `sibling`, `spouse-parent`,
    /// `other`.
    pub relationship: String,
    /// The patient's masked name (`张*`), if the engine sends one.
    pub patient_name_masked: Option<String>,
    pub units_used_ml: u32,
    pub decided_at: DateTime<FixedOffset>,
    pub remaining: RemainingEntitlement,
}

/// Which rule text decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverRule {
    pub id: String,
    pub version: String,
}

/// What the donor's entitlement holds after the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemainingEntitlement {
    /// `None`: free use (for life or a free period).
    pub self_ml: Option<u64>,
    pub relatives_ml: u64,
}

/// A decision withdrawn: the entitlement it used is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverCancel {
    pub claim_id: String,
    pub hospital: String,
    pub cancelled_at: DateTime<FixedOffset>,
    /// Why, if the hospital said (free text, no identity).
    pub reason: Option<String>,
}

impl WaiverClaimMessage {
    /// The message for a decision of `hemobridge-waivers`, with what the
    /// decision does not carry (who decided, the donor's key, the claim).
    #[allow(clippy::too_many_arguments)]
    pub fn from_decision(
        decision: &Decision,
        hospital: &str,
        donor_key: &str,
        relationship: &str,
        units_used_ml: u32,
        patient_name_masked: Option<String>,
        decided_at: DateTime<FixedOffset>,
    ) -> WaiverClaimMessage {
        WaiverClaimMessage {
            claim_id: decision.claim_id.clone(),
            hospital: hospital.to_owned(),
            decision: decision.kind.as_str().to_owned(),
            waived_ml: decision.waived_ml,
            // The decision keeps `patient_pays = fee - waived`.
            blood_fee_fen: decision.waived_fen + decision.patient_pays_fen,
            waived_fen: decision.waived_fen,
            patient_pays_fen: decision.patient_pays_fen,
            reason_code: decision.reason.code.as_str().to_owned(),
            reason: decision.reason.message.clone(),
            rule: WaiverRule {
                id: decision.rule.id.clone(),
                version: decision.rule.version.clone(),
            },
            donor_key: donor_key.to_owned(),
            relationship: relationship.to_owned(),
            patient_name_masked,
            units_used_ml,
            decided_at,
            remaining: RemainingEntitlement {
                self_ml: decision.remaining.self_ml,
                relatives_ml: decision.remaining.relatives_ml.unwrap_or(0),
            },
        }
    }
}
