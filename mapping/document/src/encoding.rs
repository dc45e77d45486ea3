//! The character encoding of an XML document, from its byte-order mark and
//! XML declaration, and strict decoding into UTF-8 text.
//!
//! Chinese hospital systems write GB 18030 or GBK as often as UTF-8. The
//! whole document is decoded before parsing, so that the XML reader sees
//! only UTF-8 and a byte that is not valid in the declared encoding fails
//! the document (400) instead of turning into U+FFFD in a patient's name.

use encoding_rs::Encoding;
use std::borrow::Cow;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encodings a document may declare, by name (case-insensitive).
/// GB 2312 is read as GBK, its superset.
fn by_name(name: &str) -> Option<&'static Encoding> {
    match name.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => Some(encoding_rs::UTF_8),
        "GB18030" => Some(encoding_rs::GB18030),
        "GBK" | "GB2312" | "CP936" => Some(encoding_rs::GBK),
        _ => None,
    }
}

/// The encoding of `bytes` and where the markup starts (after a BOM).
pub(crate) fn sniff(bytes: &[u8]) -> Result<(&'static Encoding, usize), String> {
    if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\xFF\xFE") {
        return Err("UTF-16 is not supported; use UTF-8, GB18030 or GBK".into());
    }
    let (bom, start) = if bytes.starts_with(UTF8_BOM) {
        (true, UTF8_BOM.len())
    } else {
        (false, 0)
    };
    let encoding = match declared(&bytes[start..])? {
        None => encoding_rs::UTF_8,
        Some(name) => by_name(name).ok_or_else(|| {
            format!(
                "encoding {:?} is not supported; use UTF-8, GB18030 or GBK",
                name.chars().take(40).collect::<String>()
            )
        })?,
    };
    if bom && encoding != encoding_rs::UTF_8 {
        return Err(format!(
            "a UTF-8 byte-order mark contradicts the declared encoding {}",
            encoding.name()
        ));
    }
    Ok((encoding, start))
}

/// Decodes a whole XML document into text; UTF-8 input is borrowed.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    let (encoding, start) = sniff(bytes)?;
    encoding
        .decode_without_bom_handling_and_without_replacement(&bytes[start..])
        .ok_or_else(|| format!("the bytes are not valid {}", encoding.name()))
}

/// The `encoding` of the XML declaration, if there is a declaration and it
/// names one. The declaration is ASCII in every supported encoding.
fn declared(bytes: &[u8]) -> Result<Option<&str>, String> {
    if !bytes.starts_with(b"<?xml") || !bytes.get(5).is_some_and(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let end = bytes
        .iter()
        .take(512)
        .position(|&b| b == b'>')
        .ok_or("the XML declaration is not closed")?;
    let decl =
        std::str::from_utf8(&bytes[..end]).map_err(|_| "the XML declaration is not ASCII")?;
    let Some(at) = decl.find("encoding") else {
        return Ok(None);
    };
    let rest = decl[at + "encoding".len()..].trim_start();
    let rest = rest
        .strip_prefix('=')
        .ok_or("malformed encoding in the XML declaration")?
        .trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')
        .ok_or("malformed encoding in the XML declaration")?;
    let value = &rest[1..];
    let close = value
        .find(quote)
        .ok_or("malformed encoding in the XML declaration")?;
    Ok(Some(&value[..close]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations() {
        let name = |b: &[u8]| sniff(b).map(|(e, start)| (e.name(), start));
        assert_eq!(name(b"<Report/>"), Ok(("UTF-8", 0)));
        assert_eq!(
            name(b"<?xml version=\"1.0\" encoding=\"gb18030\"?><Report/>"),
            Ok(("gb18030", 0))
        );
        assert_eq!(
            name(b"<?xml version='1.0' encoding = 'GBK' ?><Report/>"),
            Ok(("GBK", 0))
        );
        assert_eq!(
            name(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><Report/>"),
            Ok(("UTF-8", 3))
        );
        assert!(name(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Report/>").is_err());
        assert!(name(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"GBK\"?><R/>").is_err());
        assert!(name(b"\xFF\xFE<\0").is_err());
    }

    #[test]
    fn strict_decoding() {
        let gbk = encoding_rs::GBK
            .encode("<?xml version=\"1.0\" encoding=\"GBK\"?><a b=\"单采血小板\"/>")
            .0;
        assert!(decode(&gbk).unwrap().contains("单采血小板"));
        // GBK bytes without a declaration are read as UTF-8, and fail.
        assert!(decode(b"<a b=\"\xB5\xA5\"/>").is_err());
    }
}
