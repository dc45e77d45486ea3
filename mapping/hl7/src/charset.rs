//! Character sets (MSH-18). Chinese HIS/LIS systems send GB 18030 or GBK as
//! often as UTF-8; the bytes are decoded before any parsing, and the ACK is
//! encoded back into the sender's character set.

use encoding_rs::Encoding;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// The character sets a message may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Charset {
    #[default]
    Utf8,
    Gb18030,
    Gbk,
}

impl Charset {
    /// Reads an MSH-18 value (HL7 table 0211 and the names Chinese systems
    /// actually send), case- and space-insensitively. `None` for an empty or
    /// unknown name.
    ///
    /// `ASCII` maps to UTF-8, of which it is a subset; `GB2312` maps to GBK,
    /// its superset.
    pub fn from_msh18(name: &str) -> Option<Charset> {
        let mut key = [0u8; 24];
        let mut len = 0;
        for b in name.bytes().filter(|b| !matches!(b, b' ' | b'_' | b'\t')) {
            if len == key.len() {
                return None;
            }
            key[len] = b.to_ascii_uppercase();
            len += 1;
        }
        match &key[..len] {
            b"UNICODEUTF-8" | b"UTF-8" | b"UTF8" | b"UNICODEUTF8" | b"ASCII" | b"US-ASCII" => {
                Some(Charset::Utf8)
            }
            b"GB18030-2000" | b"GB18030" | b"GB18030-2005" | b"GB18030-2022" => {
                Some(Charset::Gb18030)
            }
            b"GBK" | b"CP936" | b"GB2312" => Some(Charset::Gbk),
            _ => None,
        }
    }

    /// The HL7 table 0211 name, as written into an ACK's MSH-18. Reading it
    /// back with [`Charset::from_msh18`] gives the same charset.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UNICODE UTF-8",
            Charset::Gb18030 => "GB 18030-2000",
            Charset::Gbk => "GBK",
        }
    }

    pub(crate) fn encoding(self) -> &'static Encoding {
        match self {
            Charset::Utf8 => encoding_rs::UTF_8,
            Charset::Gb18030 => encoding_rs::GB18030,
            Charset::Gbk => encoding_rs::GBK,
        }
    }

    /// Decodes `bytes`, or `None` if they are not valid in this charset.
    /// Valid UTF-8 input is borrowed, not copied.
    pub(crate) fn decode_strict(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        self.encoding()
            .decode_without_bom_handling_and_without_replacement(bytes)
    }

    /// Decodes `bytes`, replacing malformed sequences with U+FFFD.
    pub(crate) fn decode_lossy(self, bytes: &[u8]) -> Cow<'_, str> {
        self.encoding().decode_without_bom_handling(bytes).0
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Charset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Charset::from_msh18(s).ok_or_else(|| format!("unknown character set {s:?}"))
    }
}

/// Encodes `text` (an ACK) into `charset`. A character the charset cannot
/// represent becomes `?`: encoding_rs would write an HTML numeric reference
/// (`&#…;`), whose `&` is the HL7 subcomponent separator.
pub fn encode(text: &str, charset: Charset) -> Vec<u8> {
    if charset == Charset::Utf8 {
        return text.as_bytes().to_vec();
    }
    let encoding = charset.encoding();
    let (bytes, _, unmappable) = encoding.encode(text);
    if !unmappable {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (one, _, unmappable) = encoding.encode(c.encode_utf8(&mut buf));
        if unmappable {
            out.push(b'?');
        } else {
            out.extend_from_slice(&one);
        }
    }
    out
}

/// Decodes stored message bytes for display (a leading UTF-8 byte order
/// mark is dropped, malformed bytes become U+FFFD). Segment terminators are
/// left as they are.
pub fn decode_text(raw: &[u8], charset: Charset) -> String {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    charset.decode_lossy(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msh18_names() {
        for (name, want) in [
            ("UNICODE UTF-8", Some(Charset::Utf8)),
            ("utf-8", Some(Charset::Utf8)),
            ("UTF8", Some(Charset::Utf8)),
            ("ASCII", Some(Charset::Utf8)),
            ("GB 18030-2000", Some(Charset::Gb18030)),
            ("GB18030", Some(Charset::Gb18030)),
            ("gb 18030", Some(Charset::Gb18030)),
            ("GBK", Some(Charset::Gbk)),
            ("GB2312", Some(Charset::Gbk)),
            ("", None),
            ("8859/1", None),
            ("a very long name that is certainly not a charset", None),
        ] {
            assert_eq!(Charset::from_msh18(name), want, "{name}");
        }
    }

    #[test]
    fn names_round_trip() {
        for c in [Charset::Utf8, Charset::Gb18030, Charset::Gbk] {
            assert_eq!(Charset::from_msh18(c.name()), Some(c));
            assert_eq!(c.name().parse::<Charset>(), Ok(c));
        }
    }

    #[test]
    fn encode_and_decode_chinese() {
        let text = "MSA|AE|悬浮少白细胞红细胞";
        for c in [Charset::Utf8, Charset::Gb18030, Charset::Gbk] {
            let bytes = encode(text, c);
            assert_eq!(c.decode_strict(&bytes).unwrap(), text, "{c}");
        }
        assert_ne!(encode(text, Charset::Gbk), text.as_bytes());
    }

    #[test]
    fn unmappable_characters_become_question_marks() {
        // U+1F600 is outside GBK.
        let bytes = encode("A😀|B", Charset::Gbk);
        assert_eq!(bytes, b"A?|B");
    }

    #[test]
    fn invalid_bytes_are_rejected_strictly_and_replaced_lossily() {
        let bad = b"MSH|\xFF\xFE";
        assert!(Charset::Utf8.decode_strict(bad).is_none());
        assert!(Charset::Utf8.decode_lossy(bad).contains('\u{FFFD}'));
        assert_eq!(decode_text(b"\xEF\xBB\xBFMSH", Charset::Utf8), "MSH");
    }
}
