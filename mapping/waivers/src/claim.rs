//! A claim at discharge: who claims, and what the blood products of this
//! stay cost.

use crate::words::Relationship;
use serde::{Deserialize, Serialize};

/// A direct-waiver claim (用血费用直接减免), as the hospital's blood-fee
/// window sends it. The engine maps the document's `WaiverClaim` onto it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// The hospital's id of the claim: a second claim with the same id is
    /// the same claim (see [`crate::decide`]).
    pub claim_id: String,
    /// The patient's relationship to the donor.
    pub relationship: Relationship,
    /// The blood-product fee of this stay in fen; only blood products, not
    /// transfusion services, tests or materials.
    pub blood_fee_fen: i64,
    /// The volume of blood products used at this stay.
    pub volume_ml: u32,
    /// Optional itemised bill of blood products, in the hospital's order.
    /// When present it must add up to `blood_fee_fen` and `volume_ml`; where
    /// prices differ, the waived volume is taken in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ClaimItem>,
}

/// One line of the itemised bill: a product, its volume and its fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimItem {
    /// The product's name or code, as the hospital bills it.
    pub product: String,
    pub volume_ml: u32,
    pub fee_fen: i64,
}

/// Why a claim cannot be decided: the engine should answer 422 with this
/// before asking for a decision; [`crate::decide`] answers "none" with
/// reason `invalid-claim` if it is asked anyway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("claimId is empty")]
    MissingClaimId,
    #[error("bloodFee is negative ({0} fen)")]
    NegativeFee(i64),
    #[error("a blood fee of {0} fen with no volume used")]
    FeeWithoutVolume(i64),
    #[error("items[{0}]: the fee is negative")]
    NegativeItemFee(usize),
    #[error("items[{0}]: a product line with no volume")]
    ItemWithoutVolume(usize),
    #[error("the items add up to {items} mL, the claim says {claim} mL")]
    ItemVolumes { items: u64, claim: u32 },
    #[error("the items add up to {items} fen, the claim says {claim} fen")]
    ItemFees { items: i128, claim: i64 },
}

impl Claim {
    /// Checks that the claim is consistent in itself (not against a rule).
    pub fn check(&self) -> Result<(), ClaimError> {
        if self.claim_id.trim().is_empty() {
            return Err(ClaimError::MissingClaimId);
        }
        if self.blood_fee_fen < 0 {
            return Err(ClaimError::NegativeFee(self.blood_fee_fen));
        }
        if self.volume_ml == 0 && self.blood_fee_fen > 0 {
            return Err(ClaimError::FeeWithoutVolume(self.blood_fee_fen));
        }
        if self.items.is_empty() {
            return Ok(());
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.fee_fen < 0 {
                return Err(ClaimError::NegativeItemFee(i));
            }
            if item.volume_ml == 0 {
                return Err(ClaimError::ItemWithoutVolume(i));
            }
        }
        let volume: u64 = self.items.iter().map(|i| u64::from(i.volume_ml)).sum();
        if volume != u64::from(self.volume_ml) {
            return Err(ClaimError::ItemVolumes {
                items: volume,
                claim: self.volume_ml,
            });
        }
        let fee: i128 = self.items.iter().map(|i| i128::from(i.fee_fen)).sum();
        if fee != i128::from(self.blood_fee_fen) {
            return Err(ClaimError::ItemFees {
                items: fee,
                claim: self.blood_fee_fen,
            });
        }
        Ok(())
    }
}
