//! The door for hospital documents (hbx report v1, `docs/document.md`) in XML
//! or JSON: `POST /api/v1/ingest/xml` and `/json` today, portal uploads later.
//!
//! The same order as the HL7 door ([`crate::ingest`]): the verdict first
//! (reading is pure and fast, the facility check one look-up), then the raw
//! body is stored through the group-commit writer whatever the verdict, and
//! only then the answer. A valid document becomes a `pending` row that the
//! worker applies like an HL7 message. A refused one is kept with its errors
//! and changes no state: `error` when it is invalid (reading it again fails
//! again), `rejected` when it cannot be read or is refused because of who
//! sent it (an unknown facility, a hospital sending a station's records, or
//! a facility that could not be checked). `rejected` rows are never put back
//! on the queue by reprocess or replay, so those checks, which only this
//! door makes, cannot be bypassed. A repeated `documentId` from the same
//! facility is answered with the first receipt and not processed again (the
//! store's duplicate check).
//!
//! The one refusal that stores nothing is a token sending as another
//! facility (403), as at the HL7 HTTP door: the body is not the caller's to
//! file under someone else's code.

mod scan;

use crate::ingest::Ingest;
use crate::normalize::{field_errors_json, read_errors};
use crate::store::messages::{NewMessage, Status};
use crate::store::Store;
use hemobridge_canonical::{EventKind, FacilityKind};
use hemobridge_document::{Config, Document, FieldError, ReadError};

/// The two syntaxes of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Xml,
    Json,
}

impl Syntax {
    /// The stored format, which tells the worker how to read the body again.
    pub fn format(self) -> &'static str {
        match self {
            Syntax::Xml => "xml",
            Syntax::Json => "json",
        }
    }

    fn read(self, raw: &[u8], cfg: &Config) -> Result<Document, ReadError> {
        match self {
            Syntax::Xml => hemobridge_document::read_xml(raw, cfg),
            Syntax::Json => hemobridge_document::read_json(raw, cfg),
        }
    }

    fn peek(self, raw: &[u8]) -> Option<(String, String)> {
        match self {
            Syntax::Xml => hemobridge_document::peek_xml(raw),
            Syntax::Json => hemobridge_document::peek_json(raw),
        }
    }
}

/// What the sender is told, before it is put into HTTP terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Valid and stored (202). For a repeated document, `receipt` is the
    /// first one's message id and `duplicate` is set.
    Accepted {
        receipt: i64,
        records: usize,
        duplicate: bool,
    },
    /// The caller may not send as the document's facility (403); nothing
    /// was stored.
    Forbidden { own: String, claimed: String },
    /// Stored and refused; `receipt` is the stored message's id.
    Refused {
        receipt: i64,
        refusal: Refusal,
        errors: Vec<FieldError>,
    },
    /// Nothing could be stored, or the facility could not be checked: the
    /// sender should resend later (503).
    Unavailable,
}

/// Why a stored document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not XML / not JSON, or bytes not in the declared encoding (400).
    Unreadable,
    /// Readable but breaks the rules (422).
    Invalid,
}

/// The verdict reached before storing.
enum Verdict {
    Accept(Document),
    Refuse {
        status: Status,
        refusal: Refusal,
        errors: Vec<FieldError>,
    },
    /// The store could not say whether the facility is registered.
    CannotCheck,
}

impl Verdict {
    fn status(&self) -> Status {
        match self {
            Verdict::Accept(_) => Status::Pending,
            Verdict::Refuse { status, .. } => *status,
            Verdict::CannotCheck => Status::Rejected,
        }
    }

    /// The HTTP status of the answer, kept as the message's ACK code.
    fn http_code(&self) -> u16 {
        match self {
            Verdict::Accept(_) => 202,
            Verdict::Refuse {
                refusal: Refusal::Unreadable,
                ..
            } => 400,
            Verdict::Refuse { .. } => 422,
            Verdict::CannotCheck => 503,
        }
    }

    fn errors(&self) -> Option<Vec<FieldError>> {
        match self {
            Verdict::Accept(_) => None,
            Verdict::Refuse { errors, .. } => Some(errors.clone()),
            Verdict::CannotCheck => Some(vec![FieldError {
                path: "facility".into(),
                message: "the engine cannot check the facility now; resend later".into(),
            }]),
        }
    }
}

/// Records that speak for a blood station: only a station may send them.
const STATION_RECORDS: [&str; 2] = ["Donation", "Dispatch"];

/// Takes one document: judges it, stores it, answers. `scope` is the
/// caller's own facility when its token is limited to one.
pub async fn submit(
    ingest: &Ingest,
    store: &Store,
    syntax: Syntax,
    raw: Vec<u8>,
    channel: &'static str,
    scope: Option<&str>,
) -> Answer {
    let read = syntax.read(&raw, &ingest.normalizer.document);
    let (document_id, facility) = match &read {
        Ok(doc) => (Some(doc.document_id.clone()), Some(doc.facility.clone())),
        Err(_) => syntax
            .peek(&raw)
            .map_or((None, None), |(id, f)| (Some(id), Some(f))),
    };
    if let (Some(own), Some(claimed)) = (scope, facility.as_deref()) {
        if claimed != own {
            return Answer::Forbidden {
                own: own.to_string(),
                claimed: claimed.to_string(),
            };
        }
    }
    let verdict = judge(store, syntax, &raw, read).await;
    let accepted_records = match &verdict {
        Verdict::Accept(doc) => Some(doc.records),
        _ => None,
    };
    // The facility names a series only when it is registered (an accepted
    // document's is; a refused one's is looked up, positives are cached).
    let registered = match (&verdict, facility.as_deref()) {
        (Verdict::Accept(_), f) => f,
        (_, Some(f)) if ingest.facilities.is_registered(f).await.unwrap_or(false) => Some(f),
        _ => None,
    };
    ingest.metrics.received(registered, channel, "Report");
    let message = NewMessage {
        channel,
        format: syntax.format(),
        // A body whose facility cannot be read is filed under the caller's
        // own, so that its sender can find it in the message browser.
        facility: non_empty(facility).or_else(|| scope.map(str::to_string)),
        msg_type: Some("Report".into()),
        control_id: non_empty(document_id),
        charset: Some(scan::charset(syntax, &raw).name().to_string()),
        raw,
        status: verdict.status(),
        ack_code: Some(verdict.http_code().to_string()),
        // The receipt without its id, which is not known before the insert.
        ack: accepted_records
            .map(|n| serde_json::json!({ "records": n }).to_string().into_bytes())
            .unwrap_or_default(),
        errors: verdict.errors().map(|e| field_errors_json(&e)),
    };
    let receipt = match ingest.writer.store(message).await {
        Ok(receipt) => receipt,
        Err(reason) => {
            tracing::error!(%reason, "document not stored; answering 503");
            return Answer::Unavailable;
        }
    };
    match verdict {
        Verdict::Accept(doc) => match receipt.duplicate_of {
            Some(first) => Answer::Accepted {
                receipt: first,
                records: receipt_records(&receipt.ack).unwrap_or(doc.records),
                duplicate: true,
            },
            None => {
                ingest.wake.notify_one();
                if !doc.waiver_claims.is_empty() {
                    // The waiver ledger does not exist yet; the claims stay
                    // in the stored body and can be replayed into it later.
                    tracing::info!(
                        message_id = receipt.id,
                        claims = doc.waiver_claims.len(),
                        "waiver claims in this document are not recorded yet"
                    );
                }
                Answer::Accepted {
                    receipt: receipt.id,
                    records: doc.records,
                    duplicate: false,
                }
            }
        },
        Verdict::Refuse {
            refusal, errors, ..
        } => {
            tracing::info!(
                message_id = receipt.id,
                errors = errors.len(),
                "document refused"
            );
            Answer::Refused {
                receipt: receipt.id,
                refusal,
                errors,
            }
        }
        Verdict::CannotCheck => Answer::Unavailable,
    }
}

async fn judge(
    store: &Store,
    syntax: Syntax,
    raw: &[u8],
    read: Result<Document, ReadError>,
) -> Verdict {
    let doc = match read {
        Ok(doc) => doc,
        Err(e) => {
            let (status, refusal) = match e {
                ReadError::Unreadable(_) => (Status::Rejected, Refusal::Unreadable),
                ReadError::Invalid(_) => (Status::Error, Refusal::Invalid),
            };
            return Verdict::Refuse {
                status,
                refusal,
                errors: read_errors(e),
            };
        }
    };
    let kind = match store.facility(&doc.facility).await {
        Ok(Some(facility)) => facility.kind,
        Ok(None) => {
            return Verdict::Refuse {
                status: Status::Rejected,
                refusal: Refusal::Invalid,
                errors: vec![FieldError {
                    path: "facility".into(),
                    message: format!("facility {:?} is not registered", doc.facility),
                }],
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "facility look-up failed");
            return Verdict::CannotCheck;
        }
    };
    let errors = station_only(syntax, raw, &doc, kind);
    if errors.is_empty() {
        Verdict::Accept(doc)
    } else {
        Verdict::Refuse {
            status: Status::Rejected,
            refusal: Refusal::Invalid,
            errors,
        }
    }
}

/// Donations and dispatches start a unit's chain at a blood station, so a
/// document holding them must come from one: a hospital cannot create a
/// station's collections. Each offending record is named by its index.
fn station_only(syntax: Syntax, raw: &[u8], doc: &Document, kind: FacilityKind) -> Vec<FieldError> {
    let has_station_records = !doc.donations.is_empty()
        || doc
            .facts
            .events
            .iter()
            .any(|e| e.kind == EventKind::Dispatched);
    if kind == FacilityKind::Station || !has_station_records {
        return Vec::new();
    }
    let error = |path: String, record: &str| FieldError {
        path,
        message: format!(
            "{record} records are sent by blood stations; {} is registered as a {}",
            doc.facility,
            kind.as_str()
        ),
    };
    let errors: Vec<FieldError> = scan::record_kinds(syntax, raw)
        .iter()
        .enumerate()
        .filter(|(_, k)| STATION_RECORDS.contains(&k.as_str()))
        .map(|(i, k)| error(format!("records[{i}]"), k))
        .collect();
    if errors.is_empty() {
        // The scan should always find them; never let the rule lapse.
        return vec![error("records".into(), "Donation and Dispatch")];
    }
    errors
}

/// The record count kept in a stored receipt (`{"records": n}`).
fn receipt_records(ack: &[u8]) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_slice(ack).ok()?;
    value.get("records")?.as_u64().map(|n| n as usize)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}
