//! Label sets and the bounds on their values.
//!
//! MSH-4 and MSH-9 are whatever the sender writes, so a label taken from
//! them as is would let one misconfigured (or hostile) sender create series
//! without end. A facility is named only once it is known to be
//! registered, a message type only when it looks like one, and past
//! [`MAX_RECEIVED_SERIES`] every new combination folds into
//! `unknown` / `other`.

use prometheus_client::encoding::EncodeLabelSet;

/// MSA-1 codes, in the order of [`super::Metrics`]'s handles.
pub const ACK_CODES: [&str; 6] = ["AA", "AE", "AR", "CA", "CE", "CR"];

/// Distinct (facility, channel, type) series kept before folding.
pub const MAX_RECEIVED_SERIES: usize = 2_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReceivedLabels {
    pub facility: String,
    pub channel: &'static str,
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AckLabels {
    pub code: &'static str,
}

/// The label set to count a received payload under (before the cap on
/// series, which [`super::Metrics::received`] applies).
pub fn received(facility: Option<&str>, channel: &'static str, msg_type: &str) -> ReceivedLabels {
    ReceivedLabels {
        facility: facility
            .filter(|f| is_code(f, 32))
            .unwrap_or("unknown")
            .to_string(),
        channel,
        r#type: if is_code(msg_type, 16) {
            msg_type.to_string()
        } else {
            "other".to_string()
        },
    }
}

/// Where every payload counts once the cap on series is reached.
pub fn overflow(channel: &'static str) -> ReceivedLabels {
    ReceivedLabels {
        facility: "unknown".into(),
        channel,
        r#type: "other".into(),
    }
}

/// A short code of ASCII letters, digits and `^ _ - .` (facility codes,
/// `BPS^O29`, `Report`).
fn is_code(value: &str, max_len: usize) -> bool {
    !value.is_empty()
        && value.len() <= max_len
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'^' | b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_text_is_bounded() {
        let l = received(Some("H001"), "mllp", "BPS^O29");
        assert_eq!(
            (l.facility.as_str(), l.r#type.as_str()),
            ("H001", "BPS^O29")
        );
        let l = received(None, "mllp", "张三 ^x");
        assert_eq!(
            (l.facility.as_str(), l.r#type.as_str()),
            ("unknown", "other")
        );
        let l = received(Some("H001\"}x"), "http", &"A".repeat(17));
        assert_eq!(
            (l.facility.as_str(), l.r#type.as_str()),
            ("unknown", "other")
        );
    }
}
