//! Read access to a decoded message: `hl7-parser` gives the structure
//! (fields, repetitions, components, subcomponents); this module decides
//! which segments to parse, and turns raw values into text with the crate's
//! own unescaping (never `hl7-parser`'s `display()`, which panics on
//! non-ASCII text before an escape sequence).
//!
//! Segments are split on `\r` (decoding has normalised terminators), every
//! segment ID is checked, and only the segments a mapper reads are handed to
//! `hl7-parser`: its structure allocates per field, and a message's NK1, OBX
//! or IN1 segments would be parsed for nothing.

use crate::escape::unescape_in;
use crate::{Charset, Delimiters, ErrorCode, Header, Issue};
use hl7_parser::message::{Field as ParsedField, Repeat};
use std::borrow::Cow;

/// Turns raw values into text: trims, reads HL7's explicit null (`""`) as
/// empty, and decodes escape sequences.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unescaper {
    delimiters: Delimiters,
    charset: Charset,
}

impl Unescaper {
    pub(crate) fn new(delimiters: Delimiters, charset: Charset) -> Self {
        Unescaper {
            delimiters,
            charset,
        }
    }

    pub(crate) fn text<'t>(&self, raw: &'t str) -> Cow<'t, str> {
        let value = raw.trim();
        if value == "\"\"" {
            return Cow::Borrowed("");
        }
        unescape_in(value, &self.delimiters, self.charset)
    }
}

/// A segment a mapper reads, and the last field of it that it reads: the
/// rest of the segment is never handed to `hl7-parser`, whose cost grows
/// with every field (a PID can have 39).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentRead {
    pub id: &'static str,
    pub last_field: usize,
}

impl SegmentRead {
    pub(crate) const fn new(id: &'static str, last_field: usize) -> Self {
        SegmentRead { id, last_field }
    }
}

/// `line` up to (not including) its `nth` field separator, or all of it.
/// Delimiters are ASCII (checked when read from MSH), so a byte search is
/// exact and cannot cut a character.
pub(crate) fn truncate_at_separator(line: &str, separator: char, nth: usize) -> &str {
    if nth == 0 || !separator.is_ascii() {
        return line;
    }
    let separator = separator as u8;
    let position = line
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == separator)
        .nth(nth - 1);
    match position {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

/// The segments of one message that a mapper reads, parsed.
pub(crate) struct Body<'t> {
    /// Every segment ID in message order (MSH first).
    names: Vec<&'t str>,
    parsed: Vec<Segment<'t>>,
}

impl<'t> Body<'t> {
    /// Splits `text` into segments, checks every segment ID and parses the
    /// segments named in `wanted`, up to their last field read (not MSH: the
    /// header has been read). Structural problems come back as issues.
    pub(crate) fn parse(
        text: &'t str,
        header: &Header,
        wanted: &[SegmentRead],
    ) -> (Body<'t>, Vec<Issue>) {
        let delimiters = header.delimiters();
        let separators = delimiters.separators();
        let unescaper = Unescaper::new(delimiters, header.charset);
        let mut issues = Vec::new();
        let mut names = Vec::with_capacity(16);
        let mut parsed = Vec::with_capacity(8);
        for (index, line) in text.split('\r').enumerate() {
            let name_end = line.find(delimiters.field).unwrap_or(line.len());
            let name = &line[..name_end];
            if !is_segment_id(name) {
                // The line's text is not echoed: it may be a piece of a
                // patient's name or address broken by a stray line feed.
                issues.push(Issue::error(
                    ErrorCode::SegmentSequence,
                    "",
                    index + 1,
                    format!(
                        "segment {} does not start with a segment ID (three capital letters or digits)",
                        index + 1
                    ),
                ));
                continue;
            }
            if index > 0 && name == "MSH" {
                // Two messages in one frame (or a file not split): their
                // segments must not be mixed into one set of facts.
                issues.push(Issue::error(
                    ErrorCode::SegmentSequence,
                    "MSH",
                    2,
                    format!(
                        "segment {} starts a second message: send one message at a time",
                        index + 1
                    ),
                ));
            }
            names.push(name);
            let Some(read) = wanted.iter().find(|w| w.id == name).filter(|_| index > 0) else {
                continue;
            };
            let sequence = names.iter().filter(|n| **n == name).count();
            // Field k ends at the segment's (k + 1)-th separator.
            let line = truncate_at_separator(line, delimiters.field, read.last_field + 1);
            let fields = if name_end == line.len() {
                Vec::new()
            } else {
                match hl7_parser::parser::parse_segment_with_separators(line, separators) {
                    Ok(segment) => segment.fields,
                    Err(_) => {
                        issues.push(Issue::error(
                            ErrorCode::SegmentSequence,
                            name,
                            sequence,
                            format!("{name} segment #{sequence} could not be split into fields"),
                        ));
                        continue;
                    }
                }
            };
            parsed.push(Segment {
                name,
                sequence,
                fields,
                unescaper,
            });
        }
        (Body { names, parsed }, issues)
    }

    /// Whether the message holds a segment with this ID (parsed or not).
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// The parsed segments with this ID, in message order.
    pub(crate) fn segments<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Segment<'t>> + 's {
        self.parsed.iter().filter(move |s| s.name == name)
    }

    pub(crate) fn first(&self, name: &str) -> Option<&Segment<'t>> {
        self.parsed.iter().find(|s| s.name == name)
    }
}

fn is_segment_id(name: &str) -> bool {
    name.len() == 3
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// One parsed segment occurrence.
pub(crate) struct Segment<'t> {
    pub name: &'t str,
    /// 1-based occurrence of this segment ID in the message.
    pub sequence: usize,
    fields: Vec<ParsedField<'t>>,
    unescaper: Unescaper,
}

impl<'t> Segment<'t> {
    /// Field `n` (1-based); an absent field reads as empty.
    pub(crate) fn field(&self, n: usize) -> Field<'_, 't> {
        Field {
            parsed: n.checked_sub(1).and_then(|i| self.fields.get(i)),
            unescaper: &self.unescaper,
        }
    }

    /// An error located at field `n` of this segment.
    pub(crate) fn issue(&self, code: ErrorCode, field: usize, message: impl Into<String>) -> Issue {
        Issue::error(code, self.name, self.sequence, message).field(field)
    }
}

/// One field of a segment (all its repetitions).
#[derive(Clone, Copy)]
pub(crate) struct Field<'s, 't> {
    parsed: Option<&'s ParsedField<'t>>,
    unescaper: &'s Unescaper,
}

impl<'s, 't> Field<'s, 't> {
    /// The field as sent.
    pub(crate) fn raw(&self) -> &'t str {
        self.parsed.map_or("", ParsedField::raw_value)
    }

    /// Absent, empty, blank, or HL7's explicit null `""`.
    pub(crate) fn is_empty(&self) -> bool {
        let raw = self.raw().trim();
        raw.is_empty() || raw == "\"\""
    }

    /// The first repetition.
    pub(crate) fn first(&self) -> Repetition<'s, 't> {
        Repetition {
            parsed: self.parsed.and_then(|f| f.repeats.first()),
            unescaper: self.unescaper,
        }
    }

    /// Component `c` of the first repetition, as text.
    pub(crate) fn component(&self, c: usize) -> Cow<'t, str> {
        self.first().component(c)
    }

    /// The first component of the first repetition, as text: the value of a
    /// simple field, the code of a coded one.
    pub(crate) fn text(&self) -> Cow<'t, str> {
        self.component(1)
    }

    pub(crate) fn repetitions(&self) -> impl Iterator<Item = Repetition<'s, 't>> + 's {
        let unescaper = self.unescaper;
        self.parsed
            .into_iter()
            .flat_map(|f| f.repeats.iter())
            .map(move |r| Repetition {
                parsed: Some(r),
                unescaper,
            })
    }
}

/// One repetition of a field.
#[derive(Clone, Copy)]
pub(crate) struct Repetition<'s, 't> {
    parsed: Option<&'s Repeat<'t>>,
    unescaper: &'s Unescaper,
}

impl<'t> Repetition<'_, 't> {
    /// Component `c` (1-based), first subcomponent, as text.
    pub(crate) fn component(&self, c: usize) -> Cow<'t, str> {
        self.subcomponent(c, 1)
    }

    /// Subcomponent `s` of component `c` (both 1-based), as text.
    pub(crate) fn subcomponent(&self, c: usize, s: usize) -> Cow<'t, str> {
        let raw = self
            .parsed
            .and_then(|r| r.components.get(c.checked_sub(1)?))
            .and_then(|comp| comp.subcomponents.get(s.checked_sub(1)?))
            .map_or("", |sub| sub.value);
        self.unescaper.text(raw)
    }

    /// Component `c` as sent, subcomponents and escapes included.
    pub(crate) fn component_raw(&self, c: usize) -> &'t str {
        self.parsed
            .and_then(|r| r.components.get(c.checked_sub(1)?))
            .map_or("", |comp| comp.raw_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_str;

    fn body(text: &str, wanted: &[SegmentRead]) -> (Vec<String>, Vec<Issue>) {
        let decoded = decode_str(text);
        let (body, issues) = Body::parse(&decoded.text, &decoded.header, wanted);
        let pid = body.first("PID").expect("PID parsed");
        let values = vec![
            pid.field(3).component(1).into_owned(),
            pid.field(3).component(5).into_owned(),
            pid.field(5).first().subcomponent(1, 1).into_owned(),
            pid.field(5).component(2).into_owned(),
            pid.field(3).repetitions().count().to_string(),
            pid.field(8).text().into_owned(),
            pid.field(9).text().into_owned(),
        ];
        (values, issues)
    }

    #[test]
    fn reads_components_repetitions_and_decodes_chinese_escapes() {
        let (values, issues) = body(
            "MSH|^~\\&|A|H1|||||ADT^A01|1|P|2.5\rPID|1||P001^^^H1^MR~110105194912310021^^^^NNCHN||王\\T\\李&&x^小明||19491231|\"\"|beyond",
            &[SegmentRead::new("PID", 8)],
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(values, ["P001", "MR", "王&李", "小明", "2", "", ""]);
    }

    #[test]
    fn bad_segment_ids_are_issues_without_the_text() {
        let (_, issues) = body(
            "MSH|^~\\&|A|H1|||||ADT^A01|1|P|2.5\rPID|1||P001\r张三的地址|x\rzz1|y",
            &[SegmentRead::new("PID", 8)],
        );
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].sequence, 3);
        assert_eq!(issues[0].code, ErrorCode::SegmentSequence);
        assert!(!issues[0].message.contains("张三"));
    }

    #[test]
    fn segments_without_fields_and_unwanted_segments() {
        let decoded = decode_str(
            "MSH|^~\\&|A|H1|||||BPS^O29|1|P|2.5\rPID|1||P1\rORC\rBPX|1|DS\rBPX|2|TX\rNTE|1||x",
        );
        let wanted = [
            SegmentRead::new("PID", 3),
            SegmentRead::new("ORC", 1),
            SegmentRead::new("BPX", 2),
        ];
        let (body, issues) = Body::parse(&decoded.text, &decoded.header, &wanted);
        assert!(issues.is_empty());
        assert!(body.contains("NTE"));
        assert!(body.first("NTE").is_none());
        assert!(body.first("ORC").unwrap().field(1).is_empty());
        let bpx: Vec<_> = body
            .segments("BPX")
            .map(|s| (s.sequence, s.field(2).text().into_owned()))
            .collect();
        assert_eq!(bpx, [(1, "DS".to_string()), (2, "TX".to_string())]);
    }

    #[test]
    fn a_second_message_in_the_same_text_is_an_error() {
        let (_, issues) = body(
            "MSH|^~\\&|A|H1|||||ADT^A01|1|P|2.5\rPID|1||P1\rMSH|^~\\&|A|H1|||||ADT^A01|2|P|2.5\rPID|1||P2",
            &[SegmentRead::new("PID", 3)],
        );
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].segment.as_str(), issues[0].sequence), ("MSH", 2));
    }

    #[test]
    fn truncation_keeps_whole_fields() {
        assert_eq!(truncate_at_separator("BPX|1|DS|F", '|', 3), "BPX|1|DS");
        assert_eq!(truncate_at_separator("BPX|1|DS|F", '|', 9), "BPX|1|DS|F");
        assert_eq!(truncate_at_separator("BPX|1", '|', 0), "BPX|1");
        assert_eq!(truncate_at_separator("王|小|明", '|', 2), "王|小");
    }
}
