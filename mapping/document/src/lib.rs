//! The hospital document, "hbx report v1" (`domain/hbx-document.md`), in XML
//! and JSON, read onto the canonical schema.
//!
//! Hospitals and blood stations that do not speak HL7 v2 send this document
//! over HTTP or upload it on the portal. This crate reads it and nothing
//! else: no I/O, no clock, so that a stored body can be replayed and gives
//! the same answer. The published schemas (`docs/schema/report-1.xsd`,
//! `docs/schema/report-1.schema.json`) describe what it accepts, and the
//! tests keep them in agreement.
//!
//! A document is all or nothing: [`read_xml`] and [`read_json`] either give
//! every fact of a valid document or every error of an invalid one.
//!
//! - `xml` and `json`: the two syntaxes, each down to neutral records.
//! - `shape`: which records and fields exist (one table for both syntaxes).
//! - `build` and `values`: the rules, once, and the canonical facts.
//! - `encoding`: UTF-8, GB 18030 and GBK from the XML declaration.
//! - [`model`]: the parts of a document that are not unit events.
//! - [`error`]: unreadable (400) versus invalid (422), with paths.

mod build;
mod encoding;
pub mod error;
mod json;
pub mod model;
mod raw;
mod shape;
mod values;
mod xml;

pub use error::{FieldError, ReadError};
pub use model::{
    Document, Donation, DonationKind, Relationship, StockItem, StockReport, WaiverClaim,
};
pub use xml::NAMESPACE;

use hemobridge_canonical::ProductTable;

/// What reading depends on besides the bytes.
#[derive(Debug, Clone)]
pub struct Config {
    /// The zone of times written without an offset (`HEMOBRIDGE_TIMEZONE`).
    pub zone: chrono_tz::Tz,
    /// Product names and codes, extensible by connectors.
    pub products: ProductTable,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            zone: chrono_tz::Asia::Shanghai,
            products: ProductTable::default(),
        }
    }
}

/// Reads an XML document (UTF-8 by default; GB18030 or GBK when its XML
/// declaration says so).
pub fn read_xml(bytes: &[u8], cfg: &Config) -> Result<Document, ReadError> {
    xml::read(bytes, cfg)
}

/// Reads a JSON document (UTF-8).
pub fn read_json(bytes: &[u8], cfg: &Config) -> Result<Document, ReadError> {
    json::read(bytes, cfg)
}

/// `(documentId, facility)` of an XML document, read from the root element
/// alone: cheap enough to run before full validation, for the duplicate
/// check and the token/facility check. `None` if they cannot be found.
pub fn peek_xml(bytes: &[u8]) -> Option<(String, String)> {
    xml::peek(bytes)
}

/// `(documentId, facility)` of a JSON document, without validating records.
pub fn peek_json(bytes: &[u8]) -> Option<(String, String)> {
    json::peek(bytes)
}
