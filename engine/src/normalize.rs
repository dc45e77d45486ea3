//! The engine's entry to the pure mapping crates: stored bytes in, canonical
//! facts (or the reasons they could not be read) out. The worker calls it for
//! every pending message, replay calls it again for stored ones, so a mapping
//! fix applies to old messages too.

use hemobridge_canonical::Normalized;
use hemobridge_hl7::{Config as Hl7Config, Mapping};

pub struct Normalizer {
    pub hl7: Hl7Config,
}

impl Normalizer {
    pub fn new(hl7: Hl7Config) -> Self {
        Normalizer { hl7 }
    }

    /// Reads a stored payload of the given format. Errors are a JSON array
    /// of `{code, message, location}` for the message browser.
    pub fn normalize_stored(&self, raw: &[u8], format: &str) -> Result<Normalized, String> {
        match format {
            "hl7" => self.hl7_message(raw),
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

pub fn issues_json(issues: &[hemobridge_hl7::Issue]) -> String {
    serde_json::to_string(issues).unwrap_or_else(|_| "[]".into())
}

fn issue_json(code: &str, message: &str) -> String {
    serde_json::json!([{ "code": code, "message": message }]).to_string()
}
