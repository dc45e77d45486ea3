//! Files that hold several messages: one after another, separated by blank
//! lines or not, possibly wrapped in HL7 batch segments (FHS/BHS … BTS/FTS).
//!
//! Splitting works on bytes, before decoding, so that a GB 18030 or GBK
//! file splits as well as a UTF-8 one: CR and LF never occur inside a
//! multi-byte character in those encodings, so every line starts on a
//! character boundary.

/// Splits a file's bytes into messages, each from its MSH segment up to
/// (not including) the next MSH or batch segment. Batch header and trailer
/// segments, anything before the first MSH and blank lines between messages
/// are skipped; a leading UTF-8 byte order mark is ignored. Each message is
/// a slice of `raw` with trailing line breaks trimmed; its segment
/// terminators (`\r`, `\n`, `\r\n`) are left as they are, for
/// [`decode`](crate::decode) accepts them all.
pub fn split_raw_messages(raw: &[u8]) -> Vec<&[u8]> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let mut messages = Vec::new();
    let mut current: Option<usize> = None;
    let mut line_start = 0;
    for line in raw.split_inclusive(|b| matches!(b, b'\r' | b'\n')) {
        let start = line_start;
        line_start += line.len();
        let is_msh = line.starts_with(b"MSH");
        if is_msh || is_batch_segment(line) {
            if let Some(begin) = current.take() {
                push_message(&mut messages, &raw[begin..start]);
            }
            if is_msh {
                current = Some(start);
            }
        }
    }
    if let Some(begin) = current {
        push_message(&mut messages, &raw[begin..]);
    }
    messages
}

/// [`split_raw_messages`] for text already decoded.
pub fn split_messages(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    split_raw_messages(text.as_bytes())
        .into_iter()
        .map(|message| {
            // Messages start after a line break (or at the start) and end
            // before one: ASCII positions, hence character boundaries.
            let start = message.as_ptr() as usize - text.as_ptr() as usize;
            &text[start..start + message.len()]
        })
        .collect()
}

/// FHS, BHS, BTS or FTS as a segment ID (so not the `BTS^O31` message
/// type, whose segments are BTX).
fn is_batch_segment(line: &[u8]) -> bool {
    [b"FHS", b"BHS", b"BTS", b"FTS"].iter().any(|id| {
        line.strip_prefix(*id).is_some_and(|rest| {
            rest.first()
                .is_none_or(|b| b.is_ascii_punctuation() || b.is_ascii_whitespace())
        })
    })
}

fn push_message<'a>(messages: &mut Vec<&'a [u8]>, message: &'a [u8]) {
    let end = message
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    if end > 0 {
        messages.push(&message[..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{encode, Charset};

    #[test]
    fn messages_separated_by_blank_lines_and_batches() {
        let file = "\u{FEFF}FHS|^~\\&|X\r\nBHS|^~\\&|X\r\nMSH|^~\\&|A|1\r\nPID|1\r\n\r\nMSH|^~\\&|A|2\nEVN|A01\nPID|2\nBTS|2\rFTS|1\r\n";
        assert_eq!(
            split_messages(file),
            ["MSH|^~\\&|A|1\r\nPID|1", "MSH|^~\\&|A|2\nEVN|A01\nPID|2"]
        );
    }

    #[test]
    fn text_before_the_first_message_and_no_message() {
        assert_eq!(
            split_messages("note\nMSH|^~\\&|A\rPID|1\r"),
            ["MSH|^~\\&|A\rPID|1"]
        );
        assert!(split_messages("").is_empty());
        assert!(split_messages("no hl7 here\n").is_empty());
    }

    #[test]
    fn btx_segments_are_not_batch_trailers() {
        let msg = "MSH|^~\\&|A|1|||||BTS^O31|1|P|2.5\rBTX|1|W000026000001\rBTS|1";
        assert_eq!(
            split_messages(msg),
            ["MSH|^~\\&|A|1|||||BTS^O31|1|P|2.5\rBTX|1|W000026000001"]
        );
    }

    #[test]
    fn gb18030_files_split_before_decoding() {
        let text = "MSH|^~\\&|红磡|1||||||||||||||GB 18030-2000\r\nPID|1||P1||王^小明\r\n\r\nMSH|^~\\&|红磡|2\r\nPID|2";
        let bytes = encode(text, Charset::Gb18030);
        let messages = split_raw_messages(&bytes);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            &encode(
                "MSH|^~\\&|红磡|1||||||||||||||GB 18030-2000\r\nPID|1||P1||王^小明",
                Charset::Gb18030
            )[..]
        );
        assert!(messages[1].ends_with(b"PID|2"));
    }
}
