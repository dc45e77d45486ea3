//! Acknowledgements (v2.5 ACK). Pure: the caller supplies the ACK's own
//! control id and timestamp, and encodes the text with
//! [`encode`](crate::encode) into the sender's character set.
//!
//! ```text
//! MSH|^~\&|<in MSH-5>|<in MSH-6>|<in MSH-3>|<in MSH-4>|<now>||ACK^<trigger>^ACK|<ack id>|<in MSH-11>|<in MSH-12>|||||||<charset>
//! MSA|<code>|<in MSH-10>|<first issue's message>
//! ERR||<SEG^seq^field^^component>|<code^description^HL70357>|<E/W/I>||||<message>
//! ```

use crate::escape::escape_into;
use crate::{Delimiters, Header, Issue, Mapping};
use chrono::{DateTime, FixedOffset};

/// MSA-1 (table 0008).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// Application accept.
    AA,
    /// Application error.
    AE,
    /// Application reject.
    AR,
    /// Commit accept (enhanced mode).
    CA,
    /// Commit error.
    CE,
    /// Commit reject.
    CR,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::AA => "AA",
            AckCode::AE => "AE",
            AckCode::AR => "AR",
            AckCode::CA => "CA",
            AckCode::CE => "CE",
            AckCode::CR => "CR",
        }
    }

    /// The application code for a mapping outcome: AA mapped, AE invalid,
    /// AR unsupported.
    pub fn for_mapping(mapping: &Mapping) -> AckCode {
        match mapping {
            Mapping::Mapped(_) => AckCode::AA,
            Mapping::Invalid(_) => AckCode::AE,
            Mapping::Unsupported(_) => AckCode::AR,
        }
    }

    /// The enhanced-mode (commit) counterpart: AA→CA, AE→CE, AR→CR.
    pub fn commit(self) -> AckCode {
        match self {
            AckCode::AA | AckCode::CA => AckCode::CA,
            AckCode::AE | AckCode::CE => AckCode::CE,
            AckCode::AR | AckCode::CR => AckCode::CR,
        }
    }

    /// AA or CA.
    pub fn is_accept(self) -> bool {
        matches!(self, AckCode::AA | AckCode::CA)
    }
}

/// Whether MSH-15/MSH-16 (table 0155) asks for an acknowledgement with this
/// outcome: `AL` always, `ER` on error or reject, `SU` on success, `NE` (or
/// anything else) never.
pub fn ack_wanted(condition: &str, accepted: bool) -> bool {
    match condition.trim() {
        "AL" => true,
        "ER" => !accepted,
        "SU" => accepted,
        _ => false,
    }
}

/// Builds the ACK text for `header`'s message. Segments are separated by
/// `\r`, with no trailing terminator (MLLP framing adds its own).
pub fn build_ack(
    header: &Header,
    code: AckCode,
    issues: &[Issue],
    ack_control_id: &str,
    now: DateTime<FixedOffset>,
) -> String {
    let d = header.delimiters();
    let f = d.field;
    let mut out = String::with_capacity(256 + issues.len() * 96);

    // MSH. MSH-3..6 come back swapped, as sent (already encoded with these
    // delimiters).
    out.push_str("MSH");
    out.push(f);
    out.push_str(&header.encoding_characters);
    for raw in [
        &header.receiving_application,
        &header.receiving_facility,
        &header.sending_application,
        &header.sending_facility_field,
    ] {
        out.push(f);
        out.push_str(raw);
    }
    out.push(f);
    out.push_str(&now.format("%Y%m%d%H%M%S%z").to_string());
    out.push(f); // MSH-8 security
    out.push(f);
    out.push_str("ACK");
    if !header.trigger_event.is_empty() {
        out.push(d.component);
        escape_into(&mut out, &header.trigger_event, &d);
        out.push(d.component);
        out.push_str("ACK");
    }
    out.push(f);
    escape_into(&mut out, ack_control_id, &d);
    out.push(f);
    escape_into(&mut out, or_default(&header.processing_id, "P"), &d);
    out.push(f);
    escape_into(&mut out, or_default(&header.version, "2.5"), &d);
    // MSH-13..17 empty; MSH-18 says how the ACK is encoded (the caller
    // encodes it in `header.charset`).
    for _ in 13..=18 {
        out.push(f);
    }
    out.push_str(header.charset.name());

    // MSA.
    out.push_str("\rMSA");
    out.push(f);
    out.push_str(code.as_str());
    out.push(f);
    escape_into(&mut out, &header.control_id, &d);
    if !code.is_accept() {
        if let Some(first) = issues.iter().find(|i| i.is_error()).or(issues.first()) {
            out.push(f);
            escape_into(&mut out, &cut(&first.message, 80), &d);
        }
    }

    for issue in issues {
        write_err(&mut out, issue, &d);
    }
    out
}

/// `ERR||location|code^description^HL70357|severity||||message`.
fn write_err(out: &mut String, issue: &Issue, d: &Delimiters) {
    let (f, c) = (d.field, d.component);
    out.push_str("\rERR");
    out.push(f); // ERR-1, the v2.4 location, superseded by ERR-2
    out.push(f);
    // ERR-2 (ERL): segment ^ sequence ^ field ^ repetition ^ component.
    escape_into(out, &issue.segment, d);
    out.push(c);
    out.push_str(&issue.sequence.to_string());
    if let Some(field) = issue.field {
        out.push(c);
        out.push_str(&field.to_string());
        if let Some(component) = issue.component {
            out.push(c);
            out.push(c);
            out.push_str(&component.to_string());
        }
    }
    out.push(f);
    out.push_str(&issue.code.code().to_string());
    out.push(c);
    escape_into(out, issue.code.description(), d);
    out.push(c);
    out.push_str("HL70357");
    out.push(f);
    out.push_str(issue.severity.as_str());
    // ERR-5..7 empty, ERR-8 user message.
    for _ in 5..=8 {
        out.push(f);
    }
    escape_into(out, &cut(&issue.message, 250), d);
}

fn or_default<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() {
        default
    } else {
        value
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Charset, ErrorCode};

    fn header() -> Header {
        Header::from_msh_line(
            "MSH|^~\\&|BIS|H310001^医院^L|HB|SH|20261122083015||BPS^O29^BPS_O29|MSG0001|P|2.5|||AL|NE||GB 18030-2000",
            Charset::Gb18030,
        )
        .unwrap()
    }

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T08:30:15+08:00").unwrap()
    }

    #[test]
    fn accept_has_no_text_and_no_err() {
        let ack = build_ack(&header(), AckCode::AA, &[], "ACK1", now());
        let segments: Vec<_> = ack.split('\r').collect();
        assert_eq!(
            segments,
            [
                "MSH|^~\\&|HB|SH|BIS|H310001^医院^L|20261122083015+0800||ACK^O29^ACK|ACK1|P|2.5||||||GB 18030-2000",
                "MSA|AA|MSG0001",
            ]
        );
    }

    #[test]
    fn errors_are_located_and_escaped() {
        let issues = [
            Issue::error(ErrorCode::DataType, "BPX", 2, "BPX-5 bad | id ^ here").field(5),
            Issue::error(ErrorCode::RequiredFieldMissing, "PID", 1, "PID-3 is empty")
                .field(3)
                .component(1),
        ];
        let ack = build_ack(&header(), AckCode::AE, &issues, "ACK2", now());
        let segments: Vec<_> = ack.split('\r').collect();
        assert_eq!(segments.len(), 4);
        assert_eq!(segments[1], "MSA|AE|MSG0001|BPX-5 bad \\F\\ id \\S\\ here");
        assert_eq!(
            segments[2],
            "ERR||BPX^2^5|102^Data type error^HL70357|E||||BPX-5 bad \\F\\ id \\S\\ here"
        );
        assert_eq!(
            segments[3],
            "ERR||PID^1^3^^1|101^Required field missing^HL70357|E||||PID-3 is empty"
        );
    }

    #[test]
    fn commit_codes_and_conditions() {
        assert_eq!(AckCode::AA.commit(), AckCode::CA);
        assert_eq!(AckCode::AE.commit(), AckCode::CE);
        assert_eq!(AckCode::AR.commit(), AckCode::CR);
        assert!(ack_wanted("AL", true) && ack_wanted("AL", false));
        assert!(ack_wanted("ER", false) && !ack_wanted("ER", true));
        assert!(ack_wanted("SU", true) && !ack_wanted("SU", false));
        assert!(!ack_wanted("NE", false) && !ack_wanted("", false));
    }

    #[test]
    fn missing_trigger_processing_id_and_version_fall_back() {
        let mut h = header();
        h.trigger_event.clear();
        h.processing_id.clear();
        h.version.clear();
        let ack = build_ack(&h, AckCode::AR, &[], "A|3", now());
        assert!(ack.starts_with(
            "MSH|^~\\&|HB|SH|BIS|H310001^医院^L|20261122083015+0800||ACK|A\\F\\3|P|2.5|"
        ));
    }
}
