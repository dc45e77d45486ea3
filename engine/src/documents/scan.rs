//! Cheap looks at a document's raw bytes for what the reader does not hand
//! back: the declared character set (so that the message browser shows a
//! GB 18030 body as text) and the kind of each record by index (so that a
//! refusal the engine adds can name `records[i]` like the reader's own).
//!
//! Both run on bodies the reader has already judged, so they may assume
//! well-formed input and fall back quietly otherwise. The XML scan works on
//! bytes: markup is ASCII in UTF-8, GB 18030 and GBK alike, and no
//! multi-byte sequence of those encodings contains `<`, `>`, `/`, `"` or `'`.

use super::Syntax;
use hemobridge_hl7::Charset;

/// The character set a body is written in: the XML declaration's, else
/// UTF-8 (JSON is always UTF-8).
pub(super) fn charset(syntax: Syntax, raw: &[u8]) -> Charset {
    match syntax {
        Syntax::Xml => declared_encoding(raw)
            .and_then(Charset::from_msh18)
            .unwrap_or(Charset::Utf8),
        Syntax::Json => Charset::Utf8,
    }
}

fn declared_encoding(raw: &[u8]) -> Option<&str> {
    let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    if !body.starts_with(b"<?xml") {
        return None;
    }
    let end = body.iter().take(512).position(|&b| b == b'>')?;
    let decl = std::str::from_utf8(&body[..end]).ok()?;
    let rest = decl[decl.find("encoding")? + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    Some(&value[..value.find(quote)?])
}

/// The record kinds of a document in order (`Received`, `Dispatch`, …):
/// element names under the root in XML, `type` in JSON.
pub(super) fn record_kinds(syntax: Syntax, raw: &[u8]) -> Vec<String> {
    match syntax {
        Syntax::Xml => xml_record_kinds(raw),
        Syntax::Json => json_record_kinds(raw),
    }
}

fn json_record_kinds(raw: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Top {
        records: Vec<Record>,
    }
    #[derive(serde::Deserialize)]
    struct Record {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    serde_json::from_slice::<Top>(raw)
        .map(|top| {
            top.records
                .into_iter()
                .map(|r| r.kind.unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// Local names (prefix dropped) of the elements at depth 1.
fn xml_record_kinds(raw: &[u8]) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(open) = find(raw, at, b"<") {
        let tag = open + 1;
        at = match raw.get(tag) {
            Some(b'?') => end_of(raw, tag, b"?>"),
            Some(b'!') if raw[tag..].starts_with(b"!--") => end_of(raw, tag, b"-->"),
            Some(b'!') if raw[tag..].starts_with(b"![CDATA[") => end_of(raw, tag, b"]]>"),
            Some(b'/') => {
                depth = depth.saturating_sub(1);
                end_of(raw, tag, b">")
            }
            Some(_) => {
                let name_end = raw[tag..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
                    .map_or(raw.len(), |n| tag + n);
                let (end, empty) = start_tag_end(raw, name_end);
                if depth == 1 {
                    let name = String::from_utf8_lossy(&raw[tag..name_end]);
                    let local = name.rsplit(':').next().unwrap_or_default();
                    kinds.push(local.to_string());
                }
                if !empty {
                    depth += 1;
                }
                end
            }
            None => raw.len(),
        };
    }
    kinds
}

fn find(raw: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    raw.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

/// Just past the next `terminator` at or after `from` (the end if none).
fn end_of(raw: &[u8], from: usize, terminator: &[u8]) -> usize {
    find(raw, from, terminator).map_or(raw.len(), |n| n + terminator.len())
}

/// Just past the `>` that closes a start tag (a quoted attribute value may
/// hold `>`), and whether the tag is empty (`/>`).
fn start_tag_end(raw: &[u8], from: usize) -> (usize, bool) {
    let mut quote = None;
    for (i, &b) in raw.iter().enumerate().skip(from) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return (i + 1, i > 0 && raw[i - 1] == b'/'),
            (None, _) => {}
        }
    }
    (raw.len(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_records_by_index() {
        let xml = br#"<?xml version="1.0" encoding="GB18030"?>
<!-- a <comment> -->
<r:Report xmlns:r="urn:hemobridge:report:1" documentId="D1" facility="S1">
  <r:Donation unit="W1" note="a > b"/>
  <r:Dispatch station="S1" to="H1" at="2026-11-21T15:00:00+08:00">
    <r:Unit unit="W1" product="RBC-LR"/>
  </r:Dispatch>
  <?pi ignored?>
  <r:Stock at="2026-11-21T15:00:00+08:00"></r:Stock>
  <r:Received unit='W2' from="S1"/>
</r:Report>"#;
        assert_eq!(
            xml_record_kinds(xml),
            ["Donation", "Dispatch", "Stock", "Received"]
        );
        assert_eq!(charset(Syntax::Xml, xml), Charset::Gb18030);
        assert_eq!(charset(Syntax::Xml, b"<Report/>"), Charset::Utf8);
    }

    #[test]
    fn json_records_by_index() {
        let json = br#"{"documentId": "D1", "records": [{"type": "Donation", "unit": "W1"},
            {"type": "Dispatch", "units": []}]}"#;
        assert_eq!(json_record_kinds(json), ["Donation", "Dispatch"]);
        assert!(json_record_kinds(b"not json").is_empty());
    }
}
