//! From a decoded message to its canonical form: which message types are
//! handled, what is checked before any segment is read, and the
//! all-or-nothing rule (one error anywhere makes the whole message invalid,
//! so that a message is either applied entirely or not at all).

use crate::datatypes::ProductMemo;
use crate::reader::{Body, SegmentRead};
use crate::{adt, bps, bts, omb, Config, Decoded, ErrorCode, Header, Issue};
use hemobridge_canonical::Normalized;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The outcome of mapping one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    /// A handled type, valid: its canonical content (may be empty, e.g. an
    /// order).
    Mapped(Normalized),
    /// A handled type with parse or validation errors (every issue found,
    /// warnings included): answer AE (CE).
    Invalid(Vec<Issue>),
    /// A type this engine does not handle: answer AR (CR) with this issue
    /// (200 unsupported message type, 201 event, 202 processing id,
    /// 203 version).
    Unsupported(Issue),
}

/// Maps a decoded message to canonical form. Never panics: a panic inside
/// the mapping (a bug) becomes an `Invalid` with code 207.
pub fn map_message(decoded: &Decoded, cfg: &Config) -> Mapping {
    map_message_with_notes(decoded, cfg).0
}

/// [`map_message`], also returning the warnings and informational notes of a
/// `Mapped` or `Unsupported` message (a BPX marked W and skipped, a sex code
/// not understood), which an AA may carry as ERR segments. For `Invalid`,
/// every issue is inside the `Invalid` and the notes are empty.
pub fn map_message_with_notes(decoded: &Decoded, cfg: &Config) -> (Mapping, Vec<Issue>) {
    catch_unwind(AssertUnwindSafe(|| map_unguarded(decoded, cfg))).unwrap_or_else(|_| {
        let issue = Issue::error(
            ErrorCode::InternalError,
            "MSH",
            1,
            "internal error while mapping the message; it is stored and can be reprocessed",
        );
        (Mapping::Invalid(vec![issue]), Vec::new())
    })
}

/// What the mappers share while reading one message.
pub(crate) struct Context<'a, 't> {
    pub header: &'a Header,
    pub cfg: &'a Config,
    pub body: &'a Body<'t>,
    pub issues: Vec<Issue>,
    pub products: ProductMemo<'t>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `known`: a trigger that must carry a PID.
    Adt {
        known: bool,
    },
    Omb,
    Bps,
    Bts,
}

impl Kind {
    fn of(header: &Header) -> Result<Kind, Issue> {
        let (code, trigger) = (header.message_code.as_str(), header.trigger_event.as_str());
        match (code, trigger) {
            ("ADT", _) => Ok(Kind::Adt {
                known: adt::is_known_trigger(trigger),
            }),
            ("OMB", "O27") => Ok(Kind::Omb),
            ("BPS", "O29") => Ok(Kind::Bps),
            ("BTS", "O31") => Ok(Kind::Bts),
            ("OMB" | "BPS" | "BTS", _) => Err(Issue::error(
                ErrorCode::UnsupportedEventCode,
                "MSH",
                1,
                format!(
                    "event {} is not handled for {code} (OMB^O27, BPS^O29, BTS^O31)",
                    cut(trigger)
                ),
            )
            .field(9)
            .component(2)),
            _ => Err(Issue::error(
                ErrorCode::UnsupportedMessageType,
                "MSH",
                1,
                format!(
                    "message type {} is not handled (ADT, OMB^O27, BPS^O29, BTS^O31)",
                    cut(&header.message_type())
                ),
            )
            .field(9)),
        }
    }

    fn segments(self) -> &'static [SegmentRead] {
        match self {
            Kind::Adt { .. } => adt::SEGMENTS,
            Kind::Omb => omb::SEGMENTS,
            Kind::Bps => bps::SEGMENTS,
            Kind::Bts => bts::SEGMENTS,
        }
    }
}

fn map_unguarded(decoded: &Decoded, cfg: &Config) -> (Mapping, Vec<Issue>) {
    let header = &decoded.header;
    if header.message_code.is_empty() {
        let issue = Issue::error(
            ErrorCode::RequiredFieldMissing,
            "MSH",
            1,
            "MSH-9 (message type) is empty",
        )
        .field(9);
        return (Mapping::Invalid(vec![issue]), Vec::new());
    }
    if let Some(issue) = unsupported_version(header).or_else(|| unsupported_processing_id(header)) {
        return (Mapping::Unsupported(issue), Vec::new());
    }
    let kind = match Kind::of(header) {
        Ok(kind) => kind,
        Err(issue) => return (Mapping::Unsupported(issue), Vec::new()),
    };
    let (body, mut issues) = Body::parse(&decoded.text, header, kind.segments());
    if kind == (Kind::Adt { known: false }) && !body.contains("PID") {
        let issue = Issue::error(
            ErrorCode::UnsupportedEventCode,
            "MSH",
            1,
            format!(
                "ADT event {} without a PID segment is not handled",
                cut(&header.trigger_event)
            ),
        )
        .field(9)
        .component(2);
        return (Mapping::Unsupported(issue), Vec::new());
    }
    if header.control_id.is_empty() {
        issues.push(
            Issue::error(
                ErrorCode::RequiredFieldMissing,
                "MSH",
                1,
                "MSH-10 (message control id) is empty",
            )
            .field(10),
        );
    }
    let mut cx = Context {
        header,
        cfg,
        body: &body,
        issues,
        products: ProductMemo::default(),
    };
    let normalized = match kind {
        Kind::Adt { .. } => adt::map(&mut cx),
        Kind::Omb => omb::map(&mut cx),
        Kind::Bps => bps::map(&mut cx),
        Kind::Bts => bts::map(&mut cx),
    };
    if cx.issues.iter().any(Issue::is_error) {
        (Mapping::Invalid(cx.issues), Vec::new())
    } else {
        (Mapping::Mapped(normalized), cx.issues)
    }
}

/// HL7 v2 only (any 2.x; empty is tolerated, as old senders leave it out).
fn unsupported_version(header: &Header) -> Option<Issue> {
    let version = header.version.trim();
    (!version.is_empty() && !version.starts_with("2.")).then(|| {
        Issue::error(
            ErrorCode::UnsupportedVersionId,
            "MSH",
            1,
            format!("version {} is not HL7 v2.x", cut(version)),
        )
        .field(12)
    })
}

/// Production, training and debugging messages are all processed (the
/// engine may route them differently); anything else is not a table 0103
/// value.
fn unsupported_processing_id(header: &Header) -> Option<Issue> {
    let id = header.processing_id.as_str();
    (!matches!(id, "" | "P" | "T" | "D")).then(|| {
        Issue::error(
            ErrorCode::UnsupportedProcessingId,
            "MSH",
            1,
            format!("processing id {} is not P, T or D", cut(id)),
        )
        .field(11)
    })
}

/// A header value quoted in a message, cut to a sane length.
fn cut(value: &str) -> String {
    format!("{:?}", value.chars().take(20).collect::<String>())
}
