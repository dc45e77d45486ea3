//! The outbound formats: what hemobridge sends to regulators.
//!
//! - [`provincial`]: the provincial store (Jiangsu blood-cloud style), JSON
//!   over HTTPS, one envelope for every message (`docs/specs/provincial.md`,
//!   `docs/specs/provincial.schema.json`).
//! - [`shanghai`]: the Shanghai clinical blood-use platform, XML (UTF-8),
//!   one daily envelope holding one data set per kind of record
//!   (`docs/specs/shanghai.md`, `docs/specs/shanghai.xsd`); the element
//!   names are data (`mappings/shanghai-2017.toml`).
//!
//! The crate is pure: no I/O, no clock, no logging. The caller (the
//! engine's delivery) gives the message id and the time of sending in an
//! [`Envelope`], so that rendering the same input twice gives the same bytes.
//! Patient names and ID numbers never reach this crate in clear: the engine
//! passes masked or keyed-hash strings.

pub mod provincial;
pub mod shanghai;
mod xml;

use chrono::{DateTime, FixedOffset, SecondsFormat};

/// What the sender says about one message, whatever its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The idempotency key: the same logical message keeps the same id on
    /// every retry (the receiver uses it to drop duplicates).
    pub message_id: String,
    /// This engine's id (the sender).
    pub sender: String,
    /// When the message was rendered for sending.
    pub sent_at: DateTime<FixedOffset>,
}

/// ISO 8601 with the offset and whole seconds (`2026-11-24T08:30:00+08:00`):
/// the one time format of both outbound formats.
pub(crate) fn iso_time(t: &DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A quantity as both formats write it: rounded to two decimals (the
/// submission's precision), shortest form (`2`, `0.5`, `12.25`).
pub(crate) fn quantity_text(value: f64) -> String {
    hemobridge_submission::round_quantity(value).to_string()
}

/// A quantity as a JSON number, rounded like [`quantity_text`].
pub(crate) fn quantity_json(value: f64) -> serde_json::Value {
    serde_json::Value::from(hemobridge_submission::round_quantity(value))
}
