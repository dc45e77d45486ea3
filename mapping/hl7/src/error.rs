//! Why a message could not be decoded at all (before any mapping). Each
//! reason converts to an [`Issue`] on MSH so that an AE can still be built,
//! with [`header_lossy`](crate::header_lossy) supplying MSA-2.

use crate::{Charset, ErrorCode, Issue};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error("the message does not start with an MSH segment")]
    NotHl7,
    #[error("the MSH segment is too short to hold the delimiters")]
    MshTooShort,
    #[error("MSH-1/MSH-2 delimiters are unusable: {0}")]
    BadDelimiters(&'static str),
    #[error("MSH-18 character set {0:?} is not supported (UNICODE UTF-8, GB 18030-2000, GBK)")]
    UnknownCharset(String),
    #[error("the message bytes are not valid {}", .0.name())]
    InvalidBytes(Charset),
}

impl Hl7Error {
    /// The error as an ERR-ready issue on the MSH segment.
    pub fn to_issue(&self) -> Issue {
        let (code, field) = match self {
            Hl7Error::NotHl7 => (ErrorCode::SegmentSequence, None),
            Hl7Error::MshTooShort => (ErrorCode::RequiredFieldMissing, Some(2)),
            Hl7Error::BadDelimiters(_) => (ErrorCode::DataType, Some(2)),
            Hl7Error::UnknownCharset(_) => (ErrorCode::TableValueNotFound, Some(18)),
            Hl7Error::InvalidBytes(_) => (ErrorCode::DataType, Some(18)),
        };
        let issue = Issue::error(code, "MSH", 1, self.to_string());
        match field {
            Some(f) => issue.field(f),
            None => issue,
        }
    }
}

impl From<&Hl7Error> for Issue {
    fn from(e: &Hl7Error) -> Issue {
        e.to_issue()
    }
}

impl From<Hl7Error> for Issue {
    fn from(e: Hl7Error) -> Issue {
        e.to_issue()
    }
}
