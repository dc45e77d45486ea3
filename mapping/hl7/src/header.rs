//! The MSH fields the engine needs, even for a message whose body is bad:
//! who sent it (MSH-3/4, for the facility check and the ACK), what it is
//! (MSH-9), its control id (MSH-10, echoed in MSA-2), and how it wants to be
//! acknowledged (MSH-15/16).

use crate::reader::{truncate_at_separator, Unescaper};
use crate::{Charset, Delimiters, Hl7Error};
use hl7_parser::message::Field;

/// MSH fields the engine needs even when the body is bad.
///
/// The "whole field" members keep the field exactly as sent (components and
/// escape sequences included), because they are echoed into the ACK, which
/// uses the same delimiters. The other members are decoded values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// MSH-1.
    pub field_separator: char,
    /// MSH-2 as sent (`^~\&`, or with v2.7's truncation character).
    pub encoding_characters: String,
    /// MSH-3, whole field.
    pub sending_application: String,
    /// MSH-4.1: the facility code looked up among registered facilities.
    pub sending_facility: String,
    /// MSH-4, whole field (echoed in the ACK's MSH-6).
    pub sending_facility_field: String,
    /// MSH-5, whole field.
    pub receiving_application: String,
    /// MSH-6, whole field.
    pub receiving_facility: String,
    /// MSH-9.1, e.g. `BPS` (upper-cased).
    pub message_code: String,
    /// MSH-9.2, e.g. `O29` (upper-cased).
    pub trigger_event: String,
    /// MSH-10.
    pub control_id: String,
    /// MSH-11.1 (`P`, `T`, `D`).
    pub processing_id: String,
    /// MSH-12.1 (`2.5`).
    pub version: String,
    /// MSH-15 (`AL`, `ER`, `NE`, `SU`; empty in original mode).
    pub accept_ack_type: String,
    /// MSH-16.
    pub application_ack_type: String,
    /// From MSH-18, or the configured default when MSH-18 is empty.
    pub charset: Charset,
}

impl Header {
    /// `BPS^O29` (or just `ADT` when there is no trigger event).
    pub fn message_type(&self) -> String {
        if self.trigger_event.is_empty() {
            self.message_code.clone()
        } else {
            format!("{}^{}", self.message_code, self.trigger_event)
        }
    }

    /// Enhanced acknowledgement mode: MSH-15 is set.
    pub fn enhanced_mode(&self) -> bool {
        !self.accept_ack_type.trim().is_empty()
    }

    /// The message's delimiters; the defaults for any that MSH-1/2 do not
    /// give usably (a header built by hand, or from damaged bytes).
    pub fn delimiters(&self) -> Delimiters {
        Delimiters::parse(self.field_separator, &self.encoding_characters).unwrap_or_default()
    }

    /// Reads the header from the MSH segment (one line, without its
    /// terminator), in a text already decoded from `charset`.
    pub(crate) fn from_msh_line(line: &str, charset: Charset) -> Result<Header, Hl7Error> {
        let rest = line.strip_prefix("MSH").ok_or(Hl7Error::NotHl7)?;
        let mut chars = rest.chars();
        let field_separator = chars.next().ok_or(Hl7Error::MshTooShort)?;
        let encoding_characters = chars.as_str().split(field_separator).next().unwrap_or("");
        if encoding_characters.is_empty() {
            return Err(Hl7Error::MshTooShort);
        }
        let delimiters = Delimiters::parse(field_separator, encoding_characters)
            .map_err(Hl7Error::BadDelimiters)?;
        // MSH-18 is the last field read; it ends at the 18th separator.
        let line = truncate_at_separator(line, field_separator, 18);
        let segment =
            hl7_parser::parser::parse_segment_with_separators(line, delimiters.separators())
                .map_err(|_| Hl7Error::MshTooShort)?;
        let unescaper = Unescaper::new(delimiters, charset);
        // The parser counts MSH-2 as the segment's first field (MSH-1 is the
        // separator itself), so MSH-n sits at index n - 2.
        let field = |n: usize| segment.fields.get(n - 2);
        let raw = |n: usize| field(n).map_or("", Field::raw_value).to_string();
        let component = |n: usize, c: usize| {
            let value = field(n)
                .and_then(|f| f.repeats.first())
                .and_then(|r| r.components.get(c - 1))
                .and_then(|c| c.subcomponents.first())
                .map_or("", |s| s.value);
            unescaper.text(value).into_owned()
        };
        let code = |n: usize, c: usize| component(n, c).to_ascii_uppercase();
        Ok(Header {
            field_separator,
            encoding_characters: encoding_characters.to_string(),
            sending_application: raw(3),
            sending_facility: component(4, 1),
            sending_facility_field: raw(4),
            receiving_application: raw(5),
            receiving_facility: raw(6),
            message_code: code(9, 1),
            trigger_event: code(9, 2),
            // MSH-10 is a plain string: read the whole field.
            control_id: unescaper
                .text(field(10).map_or("", Field::raw_value))
                .into_owned(),
            processing_id: code(11, 1),
            version: component(12, 1),
            accept_ack_type: code(15, 1),
            application_ack_type: code(16, 1),
            charset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSH: &str = "MSH|^~\\&|BIS^1.2.3^ISO|H310001^上海某医院^L|HEMOBRIDGE|SHBLOOD|20261122083015+0800||bps^o29^BPS_O29|MSG\\T\\0001|P^T|2.5^CHN|||al| NE ||UNICODE UTF-8";

    #[test]
    fn reads_every_field() {
        let h = Header::from_msh_line(MSH, Charset::Utf8).unwrap();
        assert_eq!(h.field_separator, '|');
        assert_eq!(h.encoding_characters, "^~\\&");
        assert_eq!(h.sending_application, "BIS^1.2.3^ISO");
        assert_eq!(h.sending_facility, "H310001");
        assert_eq!(h.sending_facility_field, "H310001^上海某医院^L");
        assert_eq!(h.receiving_application, "HEMOBRIDGE");
        assert_eq!(h.receiving_facility, "SHBLOOD");
        assert_eq!(h.message_type(), "BPS^O29");
        assert_eq!(h.control_id, "MSG&0001");
        assert_eq!(h.processing_id, "P");
        assert_eq!(h.version, "2.5");
        assert_eq!(h.accept_ack_type, "AL");
        assert_eq!(h.application_ack_type, "NE");
        assert!(h.enhanced_mode());
    }

    #[test]
    fn short_and_old_headers() {
        let h = Header::from_msh_line("MSH|^~\\&|A|F|||||ADT^A01|1|P|2.3", Charset::Utf8).unwrap();
        assert_eq!(h.message_type(), "ADT^A01");
        assert!(!h.enhanced_mode());
        let h = Header::from_msh_line("MSH|^~\\&", Charset::Utf8).unwrap();
        assert_eq!(h.control_id, "");
        assert_eq!(h.message_type(), "");
        assert_eq!(
            Header::from_msh_line("MSH|", Charset::Utf8),
            Err(Hl7Error::MshTooShort)
        );
        assert_eq!(
            Header::from_msh_line("PID|1", Charset::Utf8),
            Err(Hl7Error::NotHl7)
        );
    }

    #[test]
    fn v27_truncation_character_does_not_shift_fields() {
        let h = Header::from_msh_line(
            "MSH|^~\\&#|APP|FAC|||20260101||ADT^A04|X1|P|2.7",
            Charset::Utf8,
        )
        .unwrap();
        assert_eq!(h.encoding_characters, "^~\\&#");
        assert_eq!(h.sending_facility, "FAC");
        assert_eq!(h.control_id, "X1");
    }
}
