//! The door for HL7 v2 messages, shared by MLLP and `POST /api/v1/ingest/hl7`.
//!
//! It decides the acknowledgement before storing (decode, facility check,
//! mapping are pure and fast), stores the raw bytes with that verdict through
//! the group-commit writer, and only then returns the ACK. A repeated control
//! id gets the first message's ACK again. When nothing can be stored, the
//! answer is a negative ACK (AE / CE, "resend later"): never a positive ACK
//! for a message that is not on disk.

use crate::facilities::FacilityDirectory;
use crate::normalize::{issues_json, Normalizer};
use crate::store::messages::{NewMessage, Status};
use crate::writer::Writer;
use chrono::{DateTime, FixedOffset};
use hemobridge_hl7::{AckCode, ErrorCode, Header, Issue, Mapping, Severity};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

pub struct Ingest {
    pub normalizer: Arc<Normalizer>,
    pub facilities: FacilityDirectory,
    pub writer: Writer,
    /// Wakes the worker when an accepted message is committed.
    pub wake: Arc<Notify>,
    ack_seq: AtomicU64,
    ack_prefix: String,
    /// Counters for `GET /metrics` (received, ACK codes, processing time).
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What goes back to the sender: one ACK, or two in enhanced mode when
/// MSH-16 asks for an application ACK after the commit ACK.
#[derive(Debug, Clone)]
pub struct Reply {
    pub acks: Vec<Vec<u8>>,
    pub code: AckCode,
    pub message_id: Option<i64>,
    pub duplicate_of: Option<i64>,
}

/// The verdict reached before storing.
struct Verdict {
    status: Status,
    /// Original-mode code (AA / AE / AR); enhanced mode derives CA / CE / CR.
    code: AckCode,
    issues: Vec<Issue>,
    /// The canonical facts of an accepted message, for the worker.
    facts: Option<hemobridge_canonical::Normalized>,
}

impl Ingest {
    pub fn new(
        normalizer: Arc<Normalizer>,
        facilities: FacilityDirectory,
        writer: Writer,
        wake: Arc<Notify>,
    ) -> Self {
        let started = chrono::Utc::now().timestamp();
        Ingest {
            normalizer,
            facilities,
            writer,
            wake,
            ack_seq: AtomicU64::new(0),
            ack_prefix: format!("HB{started:x}"),
            metrics: Arc::default(),
        }
    }

    pub async fn hl7(&self, raw: Vec<u8>, channel: &'static str) -> Reply {
        let cfg = &self.normalizer.hl7;
        let decoded = hemobridge_hl7::decode(&raw, cfg);
        let (header, mut verdict) = match &decoded {
            Ok(d) => (Some(d.header.clone()), self.judge(d).await),
            Err(e) => (
                hemobridge_hl7::header_lossy(&raw, cfg),
                Verdict {
                    status: Status::Error,
                    code: AckCode::AE,
                    issues: vec![e.to_issue()],
                    facts: None,
                },
            ),
        };
        let header = header.unwrap_or_else(|| unknown_header(&raw));
        // MSH-4 names a series only once it is known to be registered (an
        // issue on MSH-4 means it is not, or could not be checked).
        let registered = decoded.is_ok()
            && !verdict
                .issues
                .iter()
                .any(|i| i.segment == "MSH" && i.field == Some(4));
        self.metrics.received(
            registered.then_some(header.sending_facility.as_str()),
            channel,
            &header.message_type(),
        );
        let now = self.now();
        let acks = self.acks_for(&header, &verdict, now);
        let facts = verdict.facts.take();
        let message = NewMessage {
            channel,
            format: "hl7",
            facility: non_empty(&header.sending_facility),
            msg_type: non_empty(&header.message_type()),
            control_id: non_empty(&header.control_id),
            charset: Some(header.charset.name().to_string()),
            raw,
            status: verdict.status,
            ack_code: Some(verdict.code.as_str().to_string()),
            ack: acks.first().cloned().unwrap_or_default(),
            errors: (!verdict.issues.is_empty()).then(|| issues_json(&verdict.issues)),
        };
        match self.writer.store(message).await {
            Ok(receipt) => {
                if verdict.status == Status::Pending && receipt.duplicate_of.is_none() {
                    if let Some(facts) = facts {
                        self.normalizer.handoff.put(receipt.id, facts);
                    }
                    self.wake.notify_one();
                }
                let acks = match receipt.duplicate_of {
                    // The first answer, again.
                    Some(_) if !receipt.ack.is_empty() => vec![receipt.ack],
                    _ => acks,
                };
                self.metrics.acks_sent(&acks);
                Reply {
                    acks,
                    code: verdict.code,
                    message_id: Some(receipt.id),
                    duplicate_of: receipt.duplicate_of,
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "message not stored; answering with a negative ACK");
                let issue = Issue {
                    segment: "MSH".into(),
                    sequence: 1,
                    field: None,
                    component: None,
                    code: ErrorCode::InternalError,
                    severity: Severity::Error,
                    message: "message not stored: the engine cannot commit now; resend later"
                        .into(),
                };
                let verdict = Verdict {
                    status: Status::Error,
                    code: AckCode::AE,
                    issues: vec![issue],
                    facts: None,
                };
                let acks = self.acks_for(&header, &verdict, now);
                self.metrics.acks_sent(&acks);
                Reply {
                    acks,
                    code: AckCode::AE,
                    message_id: None,
                    duplicate_of: None,
                }
            }
        }
    }

    async fn judge(&self, decoded: &hemobridge_hl7::Decoded) -> Verdict {
        let header = &decoded.header;
        let registered = match self
            .facilities
            .is_registered(&header.sending_facility)
            .await
        {
            Ok(registered) => registered,
            Err(e) => {
                tracing::warn!(error = %e, "facility look-up failed");
                return Verdict {
                    status: Status::Error,
                    code: AckCode::AE,
                    issues: vec![Issue {
                        segment: "MSH".into(),
                        sequence: 1,
                        field: Some(4),
                        component: Some(1),
                        code: ErrorCode::InternalError,
                        severity: Severity::Error,
                        message: "the engine cannot check the sending facility now; resend later"
                            .into(),
                    }],
                    facts: None,
                };
            }
        };
        if !registered {
            return Verdict {
                status: Status::Rejected,
                code: AckCode::AR,
                issues: vec![Issue {
                    segment: "MSH".into(),
                    sequence: 1,
                    field: Some(4),
                    component: Some(1),
                    code: ErrorCode::UnknownKey,
                    severity: Severity::Error,
                    message: format!(
                        "sending facility {:?} is not registered",
                        header.sending_facility
                    ),
                }],
                facts: None,
            };
        }
        match hemobridge_hl7::map_message(decoded, &self.normalizer.hl7) {
            Mapping::Mapped(facts) => Verdict {
                status: Status::Pending,
                code: AckCode::AA,
                issues: vec![],
                facts: Some(facts),
            },
            Mapping::Invalid(issues) => Verdict {
                status: Status::Error,
                code: AckCode::AE,
                issues,
                facts: None,
            },
            Mapping::Unsupported(issue) => Verdict {
                status: Status::Rejected,
                code: AckCode::AR,
                issues: vec![issue],
                facts: None,
            },
        }
    }

    /// The ACKs to send. Original mode: one application ACK. Enhanced mode
    /// (MSH-15 set): always a commit ACK (CA / CE / CR), then an
    /// application ACK where MSH-16 asks for one (AL always, ER on error, SU
    /// on success), on the same connection. The commit ACK is sent even
    /// when MSH-15 says NE, ER or SU: MLLP senders wait for a reply, and the
    /// contract is one acknowledgement per message after commit
    /// (`docs/hl7-profile.md`).
    fn acks_for(
        &self,
        header: &Header,
        verdict: &Verdict,
        now: DateTime<FixedOffset>,
    ) -> Vec<Vec<u8>> {
        if !header.enhanced_mode() {
            return vec![self.ack(header, verdict.code, &verdict.issues, now)];
        }
        let success = verdict.code == AckCode::AA;
        let commit = match verdict.code {
            AckCode::AA => AckCode::CA,
            AckCode::AE => AckCode::CE,
            _ => AckCode::CR,
        };
        let mut acks = vec![self.ack(header, commit, &verdict.issues, now)];
        let application_wanted = match header.application_ack_type.as_str() {
            "AL" => true,
            "ER" => !success,
            "SU" => success,
            _ => false,
        };
        if application_wanted {
            acks.push(self.ack(header, verdict.code, &verdict.issues, now));
        }
        acks
    }

    fn ack(
        &self,
        header: &Header,
        code: AckCode,
        issues: &[Issue],
        now: DateTime<FixedOffset>,
    ) -> Vec<u8> {
        let seq = self.ack_seq.fetch_add(1, Ordering::Relaxed);
        let control_id = format!("{}{seq:06}", self.ack_prefix);
        let text = hemobridge_hl7::build_ack(header, code, issues, &control_id, now);
        hemobridge_hl7::encode(&text, header.charset)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        chrono::Utc::now()
            .with_timezone(&self.normalizer.hl7.zone)
            .fixed_offset()
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// A header for bytes that are not HL7 at all, so that the sender still
/// gets an ACK (AE, with an empty MSA-2) rather than silence.
fn unknown_header(_raw: &[u8]) -> Header {
    Header {
        field_separator: '|',
        encoding_characters: "^~\\&".into(),
        sending_application: String::new(),
        sending_facility: String::new(),
        sending_facility_field: String::new(),
        receiving_application: String::new(),
        receiving_facility: String::new(),
        message_code: String::new(),
        trigger_event: String::new(),
        control_id: String::new(),
        processing_id: "P".into(),
        version: "2.5".into(),
        accept_ack_type: String::new(),
        application_ack_type: String::new(),
        charset: hemobridge_hl7::Charset::Utf8,
    }
}
