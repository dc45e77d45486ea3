//! The canonical schema of hemobridge and the normalizers that bring field
//! data onto it.
//!
//! Every ingest path (HL7 v2, XML/JSON documents, portal forms) maps its input
//! onto the types in this crate; every outbound format (FHIR, provincial,
//! Shanghai) is computed from them. The crate is pure: no I/O, no clock, no
//! global state, so that a mapping can be replayed and gives the same answer.
//!
//! - [`facility`]: hospitals and blood stations.
//! - [`patient`]: a hospital's patient, with sensitive fields wrapped.
//! - [`product`]: canonical blood-component codes and the name/code table.
//! - [`blood_group`]: ABO and RhD, from ISBT 128 codes and text forms.
//! - [`unit`]: one blood component (DIN + product).
//! - [`event`]: typed, timestamped unit events (the chain links).
//! - [`time`]: HL7 and ISO 8601 times with a site time zone.
//! - [`ids`]: resident ID (GB 11643) and DIN (ISBT 128) checks, masking.
//! - [`sensitive`]: a wrapper that never prints patient identity.

pub mod blood_group;
pub mod event;
pub mod facility;
pub mod ids;
pub mod patient;
pub mod product;
pub mod sensitive;
pub mod text;
pub mod time;
pub mod unit;

pub use blood_group::{Abo, BloodGroup, Rh};
pub use event::{DiscardReason, EventDetail, EventKind, ReactionCategory, Severity, UnitEvent};
pub use facility::{Facility, FacilityKind};
pub use patient::{IdType, Patient, Sex};
pub use product::{Category, Measure, Modifiers, Product, ProductTable};
pub use sensitive::Sensitive;
pub use unit::{BloodUnit, UnitKey};

use serde::{Deserialize, Serialize};

/// Everything one input (a message, a document, a form) says, in canonical
/// form. Applying it to the store is idempotent: every part has a natural key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Normalized {
    pub patients: Vec<Patient>,
    pub units: Vec<BloodUnit>,
    pub events: Vec<UnitEvent>,
}

impl Normalized {
    pub fn is_empty(&self) -> bool {
        self.patients.is_empty() && self.units.is_empty() && self.events.is_empty()
    }
}
