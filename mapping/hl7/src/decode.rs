//! Bytes to text. MSH-18 names the character set, but it sits inside the
//! bytes to be decoded, so it is found first by a scan of the raw MSH
//! segment; then the whole message is decoded, and segment terminators are
//! normalised so that everything downstream splits on `\r` alone.

use crate::{Charset, Config, Header, Hl7Error};

/// The decoded text of a message plus its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Segments separated by `\r`, no empty segments, no trailing `\r`.
    pub text: String,
    pub header: Header,
}

impl Decoded {
    /// The segments, MSH first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('\r')
    }
}

/// Decodes one message. Accepts `\r`, `\n` or `\r\n` between segments, a
/// UTF-8 (or GB 18030) byte order mark and blank lines before MSH.
pub fn decode(raw: &[u8], cfg: &Config) -> Result<Decoded, Hl7Error> {
    let raw = skip_preamble(raw);
    let msh = first_segment(raw);
    check_msh_start(msh)?;
    let charset = match declared_charset(msh)? {
        Some(name) => Charset::from_msh18(name).ok_or_else(|| unknown_charset(name))?,
        None => cfg.default_charset,
    };
    let decoded = charset
        .decode_strict(raw)
        .ok_or(Hl7Error::InvalidBytes(charset))?;
    let text = normalize_segments(&decoded);
    let header = Header::from_msh_line(text.split('\r').next().unwrap_or(""), charset)?;
    Ok(Decoded { text, header })
}

/// A best-effort header for bytes that [`decode`] rejects, read from the MSH
/// segment alone with malformed bytes replaced, so that the sender still
/// gets an ACK with the right MSA-2. An unknown MSH-18 falls back to the
/// configured default charset. `None` when there is no usable MSH segment.
pub fn header_lossy(raw: &[u8], cfg: &Config) -> Option<Header> {
    let raw = skip_preamble(raw);
    let msh = first_segment(raw);
    check_msh_start(msh).ok()?;
    let charset = declared_charset(msh)
        .ok()
        .flatten()
        .and_then(Charset::from_msh18)
        .unwrap_or(cfg.default_charset);
    let line = charset.decode_lossy(msh);
    Header::from_msh_line(&line, charset).ok()
}

/// Drops byte order marks (UTF-8 `EF BB BF`, GB 18030 `84 31 95 33`) and
/// whitespace before MSH.
fn skip_preamble(raw: &[u8]) -> &[u8] {
    let raw = raw
        .strip_prefix(b"\xEF\xBB\xBF")
        .or_else(|| raw.strip_prefix(b"\x84\x31\x95\x33"))
        .unwrap_or(raw);
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(raw.len());
    &raw[start..]
}

/// The bytes of the first segment. CR and LF are never part of a multi-byte
/// character in UTF-8, GBK or GB 18030, so this is safe before decoding.
fn first_segment(raw: &[u8]) -> &[u8] {
    let end = raw
        .iter()
        .position(|b| matches!(b, b'\r' | b'\n'))
        .unwrap_or(raw.len());
    &raw[..end]
}

/// `MSH`, a field separator and at least the four encoding characters.
fn check_msh_start(msh: &[u8]) -> Result<(), Hl7Error> {
    if !msh.starts_with(b"MSH") {
        return Err(Hl7Error::NotHl7);
    }
    if msh.len() < 8 {
        return Err(Hl7Error::MshTooShort);
    }
    if !msh[3].is_ascii_punctuation() {
        return Err(Hl7Error::BadDelimiters("MSH-1 must be ASCII punctuation"));
    }
    Ok(())
}

/// MSH-18 (first repetition, first component) from the raw MSH bytes, or
/// `None` when it is empty.
fn declared_charset(msh: &[u8]) -> Result<Option<&str>, Hl7Error> {
    let Some(field) = raw_msh_field(msh, 18) else {
        return Ok(None);
    };
    let (component, repetition) = (msh[4], msh[5]);
    let end = field
        .iter()
        .position(|&b| b == component || b == repetition)
        .unwrap_or(field.len());
    let value = field[..end].trim_ascii();
    if value.is_empty() {
        return Ok(None);
    }
    std::str::from_utf8(value)
        .ok()
        .filter(|s| s.is_ascii())
        .map(Some)
        .ok_or_else(|| unknown_charset(&String::from_utf8_lossy(value)))
}

/// Field `n` of the raw MSH segment. The field separator is ASCII, but in
/// GBK and GB 18030 the second byte of a two-byte character may equal it
/// (`|` is 0x7C, a valid trail byte), so where the segment is not valid
/// UTF-8 (in UTF-8 no byte of a multi-byte character is ASCII) a lead byte
/// takes its trail byte with it.
fn raw_msh_field(msh: &[u8], n: usize) -> Option<&[u8]> {
    let separator = msh[3];
    let double_byte = std::str::from_utf8(msh).is_err();
    // MSH-1 is the separator at index 3; MSH-2 starts right after it.
    let mut field = 2;
    let mut start = 4;
    let mut i = 4;
    while i < msh.len() {
        let b = msh[i];
        if b == separator {
            if field == n {
                return Some(&msh[start..i]);
            }
            field += 1;
            start = i + 1;
        } else if double_byte
            && (0x81..=0xFE).contains(&b)
            && msh.get(i + 1).is_some_and(|t| *t >= 0x40)
        {
            i += 1;
        }
        i += 1;
    }
    (field == n).then(|| &msh[start..])
}

fn unknown_charset(name: &str) -> Hl7Error {
    Hl7Error::UnknownCharset(name.chars().take(32).collect())
}

/// Segments separated by `\r` only; blank segments (from `\r\n`, blank
/// lines, trailing terminators) dropped.
fn normalize_segments(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    for segment in text.split(['\r', '\n']) {
        // Segments start with their ID: the full trim is rarely needed.
        let starts_with_id = segment
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric);
        if !starts_with_id && segment.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\r');
        }
        out.push_str(segment);
    }
    out
}

/// Test helper: decodes UTF-8 text with the default configuration.
#[cfg(test)]
pub(crate) fn decode_str(text: &str) -> Decoded {
    decode(text.as_bytes(), &Config::default()).expect("test message decodes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::encode;

    const MSH: &str = "MSH|^~\\&|LIS|H1|HB|SH|20261122||ADT^A01|C1|P|2.5";

    #[test]
    fn normalises_terminators_and_drops_blank_segments() {
        let raw = format!("\u{FEFF}\r\n{MSH}\r\nEVN|A01\n\nPID|1||P1\r\r\n \n");
        let d = decode(raw.as_bytes(), &Config::default()).unwrap();
        assert_eq!(d.text, format!("{MSH}\rEVN|A01\rPID|1||P1"));
        assert_eq!(d.segments().count(), 3);
        assert_eq!(d.header.control_id, "C1");
        assert_eq!(d.header.charset, Charset::Utf8);
    }

    #[test]
    fn gb18030_with_separator_valued_trail_bytes_in_msh() {
        // 磡 is 0xB4 0x7C in GBK/GB 18030: its trail byte is `|`.
        let text = "MSH|^~\\&|LIS|红磡医院|HB|SH|20261122||BPS^O29|C2|P|2.5|||||CHN|GB 18030-2000\rPID|1||P1||王^小明";
        let bytes = encode(text, Charset::Gb18030);
        assert!(bytes.windows(2).any(|w| w == [0xB4, 0x7C]));
        let d = decode(&bytes, &Config::default()).unwrap();
        assert_eq!(d.header.charset, Charset::Gb18030);
        assert_eq!(d.text, text);
        assert_eq!(d.header.sending_facility, "红磡医院");
    }

    #[test]
    fn default_charset_applies_when_msh18_is_empty() {
        let text = format!("{MSH}\rPID|1||P1||王^小明");
        let cfg = Config {
            default_charset: Charset::Gbk,
            ..Config::default()
        };
        let d = decode(&encode(&text, Charset::Gbk), &cfg).unwrap();
        assert_eq!(d.header.charset, Charset::Gbk);
        assert!(d.text.contains("王^小明"));
        // The same GBK bytes are not UTF-8.
        assert_eq!(
            decode(&encode(&text, Charset::Gbk), &Config::default()),
            Err(Hl7Error::InvalidBytes(Charset::Utf8))
        );
    }

    #[test]
    fn decode_errors() {
        let cfg = Config::default();
        assert_eq!(decode(b"", &cfg), Err(Hl7Error::NotHl7));
        assert_eq!(decode(b"PID|1", &cfg), Err(Hl7Error::NotHl7));
        assert_eq!(decode(b"MSH|^~", &cfg), Err(Hl7Error::MshTooShort));
        assert!(matches!(
            decode(b"MSHA^~\\&|", &cfg),
            Err(Hl7Error::BadDelimiters(_))
        ));
        assert_eq!(
            decode(format!("{MSH}||||||EBCDIC").as_bytes(), &cfg),
            Err(Hl7Error::UnknownCharset("EBCDIC".into()))
        );
        let err = decode(b"MSH|^~\\&|A|\xFF|||||ADT^A01|C9|P|2.5", &cfg).unwrap_err();
        assert_eq!(err, Hl7Error::InvalidBytes(Charset::Utf8));
        let issue = err.to_issue();
        assert_eq!((issue.segment.as_str(), issue.field), ("MSH", Some(18)));
    }

    #[test]
    fn lossy_header_still_has_the_control_id() {
        let cfg = Config::default();
        let raw = b"MSH|^~\\&|A|H\xFF1|||||ADT^A01|C9|P|2.5||||||EBCDIC\rPID|\xFE";
        assert!(decode(raw, &cfg).is_err());
        let h = header_lossy(raw, &cfg).unwrap();
        assert_eq!(h.control_id, "C9");
        assert_eq!(h.charset, Charset::Utf8);
        assert!(header_lossy(b"garbage", &cfg).is_none());
    }

    #[test]
    fn msh18_repetitions_and_components() {
        let text = format!("{MSH}||||||GB 18030-2000~UNICODE UTF-8");
        let d = decode(&encode(&text, Charset::Gb18030), &Config::default()).unwrap();
        assert_eq!(d.header.charset, Charset::Gb18030);
    }
}
