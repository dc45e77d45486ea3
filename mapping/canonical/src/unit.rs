//! A blood unit: one component of one donation, identified by the donation
//! identification number (DIN, 血袋号) and the product. A DIN can carry
//! several products (the red cells and the plasma of one donation).

use crate::{Abo, Measure, Modifiers, Product, Rh};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitKey {
    pub din: String,
    pub product: Product,
}

/// What a source says about a unit. Fields a source does not know are
/// `None`; the store merges attributes from every source (a station's
/// dispatch knows the donor, a hospital's receipt knows its expiry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BloodUnit {
    pub din: String,
    pub product: Product,
    #[serde(default, skip_serializing_if = "Modifiers::is_empty")]
    pub modifiers: Modifiers,
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
    /// Volume of the component in mL, or the source whole-blood volume for
    /// U-counted products where the source sends it.
    pub volume_ml: Option<u32>,
    /// Quantity in the product's measure (1.5 U for a 300 mL red-cell unit).
    pub quantity: Option<f64>,
    pub measure: Measure,
    pub expires: Option<DateTime<FixedOffset>>,
    /// The supplying blood station's code.
    pub station: Option<String>,
    /// The blood station's pseudonymous donor key (never the donor's ID).
    pub donor_key: Option<String>,
}

impl BloodUnit {
    pub fn new(din: impl Into<String>, product: Product) -> Self {
        BloodUnit {
            din: din.into(),
            product,
            modifiers: Modifiers::default(),
            abo: None,
            rh: None,
            volume_ml: None,
            quantity: None,
            measure: product.measure(),
            expires: None,
            station: None,
            donor_key: None,
        }
    }

    pub fn key(&self) -> UnitKey {
        UnitKey {
            din: self.din.clone(),
            product: self.product,
        }
    }
}
