//! What is wrong with a message, located precisely enough for an ERR
//! segment: HL7 table 0357 error codes, table 0516 severities.
//!
//! Issue messages are sent back to the sender and stored beside the message:
//! they name fields and codes, never a patient's name or ID number.

use serde::{Serialize, Serializer};
use std::fmt;

/// HL7 table 0357 (message error condition codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: success; the code of informational notes (a skipped segment).
    MessageAccepted,
    SegmentSequence,
    RequiredFieldMissing,
    DataType,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnsupportedVersionId,
    UnknownKey,
    DuplicateKey,
    RecordLocked,
    InternalError,
}

const ALL_ERROR_CODES: [ErrorCode; 13] = [
    ErrorCode::MessageAccepted,
    ErrorCode::SegmentSequence,
    ErrorCode::RequiredFieldMissing,
    ErrorCode::DataType,
    ErrorCode::TableValueNotFound,
    ErrorCode::UnsupportedMessageType,
    ErrorCode::UnsupportedEventCode,
    ErrorCode::UnsupportedProcessingId,
    ErrorCode::UnsupportedVersionId,
    ErrorCode::UnknownKey,
    ErrorCode::DuplicateKey,
    ErrorCode::RecordLocked,
    ErrorCode::InternalError,
];

impl ErrorCode {
    pub fn code(&self) -> u16 {
        match self {
            ErrorCode::MessageAccepted => 0,
            ErrorCode::SegmentSequence => 100,
            ErrorCode::RequiredFieldMissing => 101,
            ErrorCode::DataType => 102,
            ErrorCode::TableValueNotFound => 103,
            ErrorCode::UnsupportedMessageType => 200,
            ErrorCode::UnsupportedEventCode => 201,
            ErrorCode::UnsupportedProcessingId => 202,
            ErrorCode::UnsupportedVersionId => 203,
            ErrorCode::UnknownKey => 204,
            ErrorCode::DuplicateKey => 205,
            ErrorCode::RecordLocked => 206,
            ErrorCode::InternalError => 207,
        }
    }

    /// The table's own wording, written into ERR-3.2.
    pub fn description(&self) -> &'static str {
        match self {
            ErrorCode::MessageAccepted => "Message accepted",
            ErrorCode::SegmentSequence => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataType => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedEventCode => "Unsupported event code",
            ErrorCode::UnsupportedProcessingId => "Unsupported processing id",
            ErrorCode::UnsupportedVersionId => "Unsupported version id",
            ErrorCode::UnknownKey => "Unknown key identifier",
            ErrorCode::DuplicateKey => "Duplicate key identifier",
            ErrorCode::RecordLocked => "Application record locked",
            ErrorCode::InternalError => "Application internal error",
        }
    }

    pub fn from_code(code: u16) -> Option<ErrorCode> {
        ALL_ERROR_CODES.iter().copied().find(|c| c.code() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// Serialised as the number (`101`), the form senders and the message
/// browser use.
impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.code())
    }
}

/// HL7 table 0516 (error severity). Only `Error` makes a message invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Severity {
    #[serde(rename = "E")]
    Error,
    #[serde(rename = "W")]
    Warning,
    #[serde(rename = "I")]
    Information,
}

impl Severity {
    /// `E`, `W` or `I`, as written into ERR-4.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
        }
    }
}

/// One finding about a message, located at segment, occurrence, field and
/// component (ERR-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Segment ID (`PID`, `BPX`); empty when the segment has no valid ID.
    pub segment: String,
    /// 1-based occurrence of that segment in the message.
    pub sequence: usize,
    pub field: Option<usize>,
    pub component: Option<usize>,
    pub code: ErrorCode,
    pub severity: Severity,
    /// For the sender's staff; free of patient identity.
    pub message: String,
}

impl Issue {
    /// An error on a whole segment occurrence; narrow it with
    /// [`Issue::field`] and [`Issue::component`].
    pub fn error(
        code: ErrorCode,
        segment: &str,
        sequence: usize,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            segment: segment.to_string(),
            sequence,
            field: None,
            component: None,
            code,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn field(mut self, field: usize) -> Issue {
        self.field = Some(field);
        self
    }

    pub fn component(mut self, component: usize) -> Issue {
        self.component = Some(component);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Issue {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `BPX-5`, `BPX-6.2`, `PID`: how the field is named in messages.
    pub fn position(&self) -> String {
        match (self.field, self.component) {
            (Some(f), Some(c)) => format!("{}-{f}.{c}", self.segment),
            (Some(f), None) => format!("{}-{f}", self.segment),
            _ => self.segment.clone(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} [{} {}] {}",
            self.position(),
            self.sequence,
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in ALL_ERROR_CODES {
            assert_eq!(ErrorCode::from_code(code.code()), Some(code));
            assert!(!code.description().is_empty());
        }
        assert_eq!(ErrorCode::TableValueNotFound.code(), 103);
        assert_eq!(ErrorCode::from_code(999), None);
    }

    #[test]
    fn serialises_codes_as_numbers_and_severity_as_letters() {
        let issue = Issue::error(ErrorCode::RequiredFieldMissing, "PID", 1, "PID-3 is empty")
            .field(3)
            .component(1);
        let json = serde_json::to_value(&issue).unwrap();
        assert_eq!(json["code"], 101);
        assert_eq!(json["severity"], "E");
        assert_eq!(json["field"], 3);
        assert_eq!(issue.position(), "PID-3.1");
        assert_eq!(issue.to_string(), "PID-3.1 #1 [E 101] PID-3 is empty");
    }
}
