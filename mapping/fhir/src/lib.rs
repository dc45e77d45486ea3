//! Canonical blood-transfusion facts as FHIR R5 resources (fhir-sdk's R5
//! models, no client, no I/O).
//!
//! - [`resources`]: `Patient`, `Organization`, `BiologicallyDerivedProduct`,
//!   `BiologicallyDerivedProductDispense`, `Procedure` (transfusion),
//!   `AdverseEvent` (reaction), `Claim` (direct waiver).
//! - [`daily`]: the daily submission as a `MeasureReport` in a
//!   `transaction` Bundle ([`daily_bundle`]).
//! - [`rest`]: `CapabilityStatement`, `OperationOutcome`, `searchset`.
//! - [`ids`]: deterministic, valid FHIR ids; [`systems`]: code systems.
//!
//! Privacy: no patient name, ID number or birth date is ever mapped; a
//! patient is its hospital's key under a hospital-scoped identifier system.
//! See `docs/fhir.md` for the profile of every resource.

pub mod daily;
pub mod datatypes;
pub mod ids;
pub mod resources;
pub mod rest;
pub mod systems;

pub use daily::{daily_bundle, measure_report};
pub use fhir_sdk::r5::resources::{Bundle, Resource};

/// A resource could not be built: a required element was missing (a bug
/// in this crate) or a value cannot be expressed in FHIR.
#[derive(Debug)]
pub enum MappingError {
    Builder(fhir_sdk::BuilderError),
    Value(String),
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MappingError::Builder(e) => write!(f, "FHIR resource not built: {e}"),
            MappingError::Value(v) => write!(f, "value not expressible in FHIR: {v}"),
        }
    }
}

impl std::error::Error for MappingError {}

impl From<fhir_sdk::BuilderError> for MappingError {
    fn from(e: fhir_sdk::BuilderError) -> Self {
        MappingError::Builder(e)
    }
}

/// The daily submission's transaction Bundle as JSON (what is `POST`ed to
/// the FHIR server's base URL).
pub fn daily_bundle_json(
    submission: &hemobridge_submission::DailySubmission,
) -> Result<serde_json::Value, MappingError> {
    to_json(&daily_bundle(submission)?)
}

/// Any resource as JSON.
pub fn to_json<T: serde::Serialize>(resource: &T) -> Result<serde_json::Value, MappingError> {
    serde_json::to_value(resource).map_err(|e| MappingError::Value(e.to_string()))
}
