//! Vendor dialect profiles: a hospital LIS's own export (another XML, a CSV
//! with Chinese headers, an XLSX workbook) mapped onto the hospital
//! document by a TOML profile, with no code per vendor.
//!
//! [`Profile::from_toml`] reads and checks a profile;
//! [`Profile::convert`] turns a file into the document in its JSON form,
//! which the engine then reads with `hemobridge_document::read_json` like
//! any other document (so every document rule applies once, there), plus
//! where each record came from, so that an error of the document reader can
//! be shown on the user's row and column ([`Converted::explain`]).
//!
//! Pure: no I/O, no clock. The facility is a parameter: the engine knows
//! who is uploading, the file does not get to say.
//!
//! - `profile`: the TOML and its checks.
//! - `schema`: the document's records and fields, from the published JSON
//!   Schema.
//! - `read`: CSV (any encoding), XLSX and XML down to rows of cells.
//! - `convert`: rows to document records.
//! - [`error`]: profile errors and row errors (Chinese and English).

mod convert;
pub mod error;
mod locate;
mod profile;
mod read;
mod schema;

pub use error::{ConvertError, ProfileError, RowError, SourceRef};
pub use profile::{
    CsvOptions, Dates, DocumentId, DocumentOptions, Format, Profile, RecordType, XlsxOptions,
    XmlOptions, AUTO, ELEMENT_NAME,
};

use std::collections::BTreeMap;

/// A converted file.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The hospital document, JSON form (`docs/schema/report-1.schema.json`).
    pub document: serde_json::Value,
    /// For each `records[i]`, the row (or XML element) it came from; a
    /// `Stock` or `Dispatch` record points at its first row.
    pub sources: Vec<SourceRef>,
    /// For each `records[i]`, the rows of its `items` / `units` (empty for
    /// records without children).
    pub child_sources: Vec<Vec<SourceRef>>,
    /// `Kind.field` → the source column it was read from.
    pub columns: BTreeMap<String, String>,
    /// Each record's kind (`Received`, `Patient`, ...).
    pub kinds: Vec<String>,
}

impl Converted {
    /// The document as UTF-8 JSON bytes, ready for
    /// `hemobridge_document::read_json` or for storing as the raw payload.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.document).expect("a JSON value serializes")
    }
}

impl Profile {
    /// Converts a vendor file into the hospital document of `facility`.
    /// `file_name` is used only when the profile makes the `documentId`
    /// from it. All or nothing: every row error, or the whole document.
    pub fn convert(
        &self,
        bytes: &[u8],
        file_name: Option<&str>,
        facility: &str,
    ) -> Result<Converted, ConvertError> {
        convert::convert(self, bytes, file_name, facility)
    }
}
