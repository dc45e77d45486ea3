//! The engine's entry to the pure mapping crates: stored bytes in, canonical
//! facts (or the reasons they could not be read) out. The worker calls it for
//! every pending message, replay calls it again for stored ones, so a mapping
//! fix applies to old messages too.

use crate::store::canonical::Facts;
use hemobridge_canonical::Normalized;
use hemobridge_document::{Config as DocumentConfig, Document, FieldError, ReadError};
use hemobridge_hl7::{Config as Hl7Config, Mapping};

pub struct Normalizer {
    pub hl7: Hl7Config,
    /// The hospital document's reader; same zone and product table as HL7,
    /// so that a fact reads the same whichever way it came.
    pub document: DocumentConfig,
    /// Facts the HL7 door already computed, by message id.
    pub handoff: crate::handoff::Handoff,
}

impl Normalizer {
    pub fn new(hl7: Hl7Config) -> Self {
        let document = DocumentConfig {
            zone: hl7.zone,
            products: hl7.products.clone(),
        };
        Normalizer {
            hl7,
            document,
            handoff: Default::default(),
        }
    }

    /// Reads a stored payload of the given format. Errors are a JSON array
    /// for the message browser: `{code, message, location}` for HL7,
    /// `{path, message}` for documents.
    /// A pending message's facts: those the door handed over, or else read
    /// from the stored bytes.
    pub fn normalize_pending(&self, id: i64, raw: &[u8], format: &str) -> Result<Facts, String> {
        match self.handoff.take(id) {
            Some(facts) => Ok(Facts::from(facts)),
            None => self.normalize_stored(raw, format),
        }
    }

    pub fn normalize_stored(&self, raw: &[u8], format: &str) -> Result<Facts, String> {
        match format {
            "hl7" => self.hl7_message(raw).map(Facts::from),
            "xml" => document_facts(hemobridge_document::read_xml(raw, &self.document)),
            "json" => document_facts(hemobridge_document::read_json(raw, &self.document)),
            other => Err(issue_json(
                "format",
                &format!("no reader for stored format {other:?}"),
            )),
        }
    }

    fn hl7_message(&self, raw: &[u8]) -> Result<Normalized, String> {
        let decoded =
            hemobridge_hl7::decode(raw, &self.hl7).map_err(|e| issues_json(&[e.to_issue()]))?;
        match hemobridge_hl7::map_message(&decoded, &self.hl7) {
            Mapping::Mapped(facts) => Ok(facts),
            Mapping::Invalid(issues) => Err(issues_json(&issues)),
            Mapping::Unsupported(issue) => Err(issues_json(&[issue])),
        }
    }
}

/// A document's facts. Waiver claims are not carried: their ledger does not
/// exist yet, and a document that holds some is still applied.
fn document_facts(read: Result<Document, ReadError>) -> Result<Facts, String> {
    let doc = read.map_err(|e| field_errors_json(&read_errors(e)))?;
    let station = doc.facility;
    Ok(Facts {
        normalized: doc.facts,
        stock: doc.stock,
        donations: doc
            .donations
            .into_iter()
            .map(|d| (station.clone(), d))
            .collect(),
    })
}

/// A document's read error as a list of `{path, message}`; an unreadable
/// document is one error at `document`.
pub fn read_errors(error: ReadError) -> Vec<FieldError> {
    match error {
        ReadError::Invalid(errors) => errors,
        ReadError::Unreadable(message) => vec![FieldError {
            path: "document".into(),
            message,
        }],
    }
}

pub fn field_errors_json(errors: &[FieldError]) -> String {
    serde_json::to_string(errors).unwrap_or_else(|_| "[]".into())
}

pub fn issues_json(issues: &[hemobridge_hl7::Issue]) -> String {
    serde_json::to_string(issues).unwrap_or_else(|_| "[]".into())
}

fn issue_json(code: &str, message: &str) -> String {
    serde_json::json!([{ "code": code, "message": message }]).to_string()
}
