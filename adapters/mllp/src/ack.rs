//! Minimal reading of an HL7 v2 acknowledgement: just the MSA segment.
//!
//! Senders (the `send` command, the load generator) only need to know the
//! acknowledgement code (MSA-1) and which message was acknowledged (MSA-2).
//! Pulling in a full HL7 parser for that would couple the transport to HL7
//! content, so this module reads the field separator from MSH (the byte right
//! after `MSH`) and splits the MSA segment on it, nothing more. Segments may
//! be separated by `\r`, `\n` or `\r\n`.

/// MSA-1 and MSA-2 of an acknowledgement, borrowed from the ACK bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsaFields<'a> {
    /// MSA-1: `AA`, `AE`, `AR` (original mode) or `CA`, `CE`, `CR` (commit).
    pub acknowledgment_code: &'a [u8],
    /// MSA-2: the control id (MSH-10) of the acknowledged message.
    pub control_id: &'a [u8],
}

/// Returns the MSA segment of `ack` (without its terminator), if any.
pub fn find_msa_segment(ack: &[u8]) -> Option<&[u8]> {
    let separator = field_separator(ack)?;
    segments(ack).find(|segment| {
        segment.len() >= 4 && segment.starts_with(b"MSA") && segment[3] == separator
    })
}

/// Reads MSA-1 and MSA-2 from `ack`. `None` when `ack` does not start with
/// an MSH segment or has no MSA segment.
pub fn parse_msa(ack: &[u8]) -> Option<MsaFields<'_>> {
    let separator = field_separator(ack)?;
    let segment = find_msa_segment(ack)?;
    let mut fields = segment.split(|byte| *byte == separator).skip(1);
    let acknowledgment_code = fields.next().unwrap_or_default();
    let control_id = fields.next().unwrap_or_default();
    Some(MsaFields {
        acknowledgment_code,
        control_id,
    })
}

/// True for the codes that mean the message was accepted: `AA` and `CA`.
pub fn is_accept_code(code: &[u8]) -> bool {
    code == b"AA" || code == b"CA"
}

/// The field separator: the byte after `MSH` at the very start of the message.
fn field_separator(message: &[u8]) -> Option<u8> {
    match message {
        [b'M', b'S', b'H', separator, ..] => Some(*separator),
        _ => None,
    }
}

fn segments(message: &[u8]) -> impl Iterator<Item = &[u8]> {
    message
        .split(|byte| *byte == b'\r' || *byte == b'\n')
        .filter(|segment| !segment.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: &[u8] = b"MSH|^~\\&|HEMOBRIDGE|HB|LIS|H001|20250101120000||ACK^O29^ACK|A1|P|2.5.1\rMSA|AA|MSG0001\r";

    #[test]
    fn reads_code_and_control_id() {
        let msa = parse_msa(ACK).unwrap();
        assert_eq!(msa.acknowledgment_code, b"AA");
        assert_eq!(msa.control_id, b"MSG0001");
        assert_eq!(find_msa_segment(ACK).unwrap(), b"MSA|AA|MSG0001");
    }

    #[test]
    fn honours_a_custom_field_separator_and_newlines() {
        let ack = b"MSH#^~\\&#A\r\nERR#x\r\nMSA#AE#42#bad\n";
        let msa = parse_msa(ack).unwrap();
        assert_eq!(msa.acknowledgment_code, b"AE");
        assert_eq!(msa.control_id, b"42");
    }

    #[test]
    fn missing_fields_are_empty() {
        let msa = parse_msa(b"MSH|^~\\&\rMSA|CR").unwrap();
        assert_eq!(msa.acknowledgment_code, b"CR");
        assert_eq!(msa.control_id, b"");
    }

    #[test]
    fn rejects_what_is_not_an_ack() {
        assert_eq!(parse_msa(b"garbage"), None);
        assert_eq!(parse_msa(b"MSH|^~\\&\rPID|1"), None);
        assert_eq!(parse_msa(b"MSH|^~\\&\rMSAX|AA|1"), None);
    }

    #[test]
    fn accept_codes() {
        assert!(is_accept_code(b"AA"));
        assert!(is_accept_code(b"CA"));
        assert!(!is_accept_code(b"AE"));
        assert!(!is_accept_code(b"CR"));
    }
}
