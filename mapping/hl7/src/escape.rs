//! HL7 escape sequences, decoded and encoded by this crate rather than by
//! `hl7-parser`: its decoder slices strings at char positions as if they
//! were byte positions (a panic on `王小明\T\张三`) and knows only `\X0A\` and
//! `\X0D\` among hex escapes. Everything here walks byte offsets that come
//! from `str::find`, so non-ASCII text before, between and after escape
//! sequences is safe.
//!
//! Decoding (`unescape`):
//! - `\F\ \S\ \T\ \R\ \E\` → the field, component, subcomponent, repetition
//!   and escape characters;
//! - `\Xhh…\` → the bytes in hex (any number of pairs; adjacent hex escapes
//!   are joined so that a multi-byte character split across them survives),
//!   decoded in the message's character set;
//! - `\.br\` and `\.sp\` → a line break (`\n`); other formatting commands
//!   (`\.in…\`, `\.ti…\`, `\.ce\`, …) and `\H\ \N\` (highlighting) are dropped;
//! - `\Cxxyy\` and `\Mxxyyzz\` (character-set switches) are dropped;
//! - anything else, and an escape character without a closing one, is kept
//!   literally: a value is never lost for being oddly written.

use crate::{Charset, Delimiters};
use std::borrow::Cow;

/// Writes `text` with every delimiter, and CR/LF, escaped so that it can be
/// placed in one field (or component, or subcomponent) of a message that
/// uses `delimiters`.
pub fn escape(text: &str, delimiters: &Delimiters) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text, delimiters);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, text: &str, d: &Delimiters) {
    for c in text.chars() {
        let code = if c == d.field {
            "F"
        } else if c == d.component {
            "S"
        } else if c == d.subcomponent {
            "T"
        } else if c == d.repetition {
            "R"
        } else if c == d.escape {
            "E"
        } else if c == '\r' {
            "X0D"
        } else if c == '\n' {
            "X0A"
        } else {
            out.push(c);
            continue;
        };
        out.push(d.escape);
        out.push_str(code);
        out.push(d.escape);
    }
}

/// Decodes the escape sequences in one value (a subcomponent's raw text);
/// hex escapes are read as UTF-8. Borrows when there is nothing to decode.
pub fn unescape<'a>(raw: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    unescape_in(raw, delimiters, Charset::Utf8)
}

/// [`unescape`], reading hex escapes as bytes of `charset`.
pub fn unescape_in<'a>(raw: &'a str, d: &Delimiters, charset: Charset) -> Cow<'a, str> {
    let Some(first) = raw.find(d.escape) else {
        return Cow::Borrowed(raw);
    };
    let esc_len = d.escape.len_utf8();
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    // Bytes of consecutive hex escapes, decoded together when text follows.
    let mut hex = Vec::new();
    let mut rest = &raw[first..];
    while let Some(start) = rest.find(d.escape) {
        let before = &rest[..start];
        if !before.is_empty() {
            flush_hex(&mut out, &mut hex, charset);
            out.push_str(before);
        }
        let after_open = &rest[start + esc_len..];
        let Some(len) = after_open.find(d.escape) else {
            // Unterminated: keep the rest as it is.
            flush_hex(&mut out, &mut hex, charset);
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        let sequence = &after_open[..len];
        if let Some(bytes) = hex_bytes(sequence) {
            hex.extend(bytes);
        } else {
            flush_hex(&mut out, &mut hex, charset);
            match sequence {
                "F" => out.push(d.field),
                "S" => out.push(d.component),
                "T" => out.push(d.subcomponent),
                "R" => out.push(d.repetition),
                "E" => out.push(d.escape),
                "H" | "N" => {}
                s if s == ".br" || s.starts_with(".sp") => out.push('\n'),
                s if is_formatting_command(s) || is_charset_switch(s) => {}
                _ => {
                    // Unknown (or locally defined `\Z…\`): keep it verbatim.
                    out.push(d.escape);
                    out.push_str(sequence);
                    out.push(d.escape);
                }
            }
        }
        rest = &after_open[len + esc_len..];
    }
    flush_hex(&mut out, &mut hex, charset);
    out.push_str(rest);
    Cow::Owned(out)
}

/// `X` followed by an even, non-zero number of hex digits.
fn hex_bytes(sequence: &str) -> Option<impl Iterator<Item = u8> + '_> {
    let digits = sequence.strip_prefix('X')?.as_bytes();
    if digits.is_empty() || digits.len() % 2 != 0 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    Some(
        digits
            .chunks_exact(2)
            .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1])),
    )
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

fn flush_hex(out: &mut String, hex: &mut Vec<u8>, charset: Charset) {
    if !hex.is_empty() {
        out.push_str(&charset.decode_lossy(hex));
        hex.clear();
    }
}

/// `.in±n`, `.ti±n`, `.sk n`, `.ce`, `.fi`, `.nf`: layout hints for
/// formatted text (FT), meaningless in the values we keep.
fn is_formatting_command(s: &str) -> bool {
    ["in", "ti", "sk", "ce", "fi", "nf"]
        .iter()
        .any(|cmd| s.strip_prefix('.').is_some_and(|r| r.starts_with(cmd)))
}

/// `\Cxxyy\` (single-byte set switch) and `\Mxxyyzz\` (multi-byte).
fn is_charset_switch(s: &str) -> bool {
    let hex_len = |r: &str| r.bytes().all(|b| b.is_ascii_hexdigit()) && !r.is_empty();
    match s.as_bytes().first() {
        Some(b'C') => s.len() == 5 && hex_len(&s[1..]),
        Some(b'M') => (s.len() == 5 || s.len() == 7) && hex_len(&s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(raw: &str) -> String {
        unescape(raw, &Delimiters::default()).into_owned()
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(un(r"a\F\b\S\c\T\d\R\e\E\f"), "a|b^c&d~e\\f");
    }

    #[test]
    fn chinese_text_before_between_and_after_escapes() {
        // The input that makes hl7-parser's decoder panic.
        assert_eq!(un(r"王小明\T\张三"), "王小明&张三");
        assert_eq!(un(r"\T\张三"), "&张三");
        assert_eq!(un(r"王小明\T\"), "王小明&");
        assert_eq!(
            un(r"输血科\S\二楼\.br\北院\X0D0A\备注"),
            "输血科^二楼\n北院\r\n备注"
        );
        assert_eq!(un(r"甲\H\乙\N\丙"), "甲乙丙");
    }

    #[test]
    fn hex_escapes_decode_in_the_message_charset() {
        assert_eq!(un(r"\X0D\"), "\r");
        assert_eq!(un(r"a\X0D0A\b"), "a\r\nb");
        // 王 in UTF-8 is E7 8E 8B; split across two escapes it still joins.
        assert_eq!(un(r"\XE78E\\X8B\先生"), "王先生");
        // 王 in GB 18030 is CD F5.
        let d = Delimiters::default();
        assert_eq!(unescape_in(r"\XCDF5\", &d, Charset::Gb18030), "王");
        // Not hex: kept as written.
        assert_eq!(un(r"\XZZ\"), r"\XZZ\");
        assert_eq!(un(r"\X0\"), r"\X0\");
    }

    #[test]
    fn unknown_unterminated_and_switches() {
        assert_eq!(un(r"abc\Zlocal\def"), r"abc\Zlocal\def");
        assert_eq!(un(r"未结束\T"), r"未结束\T");
        assert_eq!(un(r"a\C2842\b\M2442\c"), "abc");
        assert_eq!(un(r"a\.in+4\b\.sp2\c"), "ab\nc");
        assert_eq!(un(r"\\"), r"\\");
    }

    #[test]
    fn plain_values_are_borrowed() {
        assert!(matches!(
            unescape("悬浮少白细胞红细胞", &Delimiters::default()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escape_covers_every_delimiter_and_line_breaks() {
        let d = Delimiters::default();
        assert_eq!(
            escape("王|小^明&~\\\r\n", &d),
            r"王\F\小\S\明\T\\R\\E\\X0D\\X0A\"
        );
        assert_eq!(un(&escape("王|小^明&~\\\r\n", &d)), "王|小^明&~\\\r\n");
    }

    #[test]
    fn other_delimiters() {
        let d = Delimiters::parse('#', "$*/!").unwrap();
        assert_eq!(unescape(r"a/F/b/S/c/E/", &d), "a#b$c/");
        assert_eq!(escape("a#b$c/", &d), "a/F/b/S/c/E/");
    }
}
