//! The two ways a document fails, and the error list that validation fills.
//!
//! The split matters to the caller: a document that cannot be read at all
//! (not XML, not JSON, bytes not in the declared encoding) is answered 400;
//! one that can be read but breaks the rules is answered 422 with every
//! problem named by its path, so the sender can fix them all in one round.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Not well-formed XML or JSON, an unsupported or wrong encoding, or a
    /// DTD. Answered with HTTP 400.
    #[error("the document cannot be read: {0}")]
    Unreadable(String),
    /// Well-formed but invalid: every problem found, in document order.
    /// Answered with HTTP 422.
    #[error("the document is invalid: {}", summary(.0))]
    Invalid(Vec<FieldError>),
}

fn summary(errors: &[FieldError]) -> String {
    match errors {
        [] => "no details".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// One problem, at a path such as `records[3].abo` or
/// `records[2].units[1].product` (indexes are 0-based, in document order).
///
/// Messages may quote coded values (`"C" is not a blood group`) but never
/// names, ID numbers, patient keys or birth dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Where a value sits in the document. Kept as indexes and formatted only
/// when an error is reported, so valid documents pay nothing for paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// The document itself (`Report` attributes, top-level JSON fields).
    Envelope,
    /// `records[i]`.
    Record(usize),
    /// `records[i].units[j]` or `records[i].items[j]`.
    Child {
        record: usize,
        list: &'static str,
        index: usize,
    },
}

impl Path {
    /// The path of a field (attribute) of this element.
    pub(crate) fn field(&self, name: &str) -> String {
        match self {
            Path::Envelope => name.to_owned(),
            _ => format!("{self}.{name}"),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Envelope => f.write_str("document"),
            Path::Record(i) => write!(f, "records[{i}]"),
            Path::Child {
                record,
                list,
                index,
            } => write!(f, "records[{record}].{list}[{index}]"),
        }
    }
}

/// At most this many errors are listed; a document of a million bad records
/// must not produce an answer larger than itself.
pub(crate) const MAX_LISTED: usize = 1000;

/// The errors found so far. Validation never stops at the first one.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    listed: Vec<FieldError>,
    total: usize,
}

impl Errors {
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(FieldError {
                path: path.into(),
                message: message.into(),
            });
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.total
    }

    pub(crate) fn into_result<T>(self, value: T) -> Result<T, ReadError> {
        if self.total == 0 {
            return Ok(value);
        }
        let mut listed = self.listed;
        if self.total > listed.len() {
            listed.push(FieldError {
                path: "document".into(),
                message: format!("{} more errors not listed", self.total - listed.len()),
            });
        }
        Err(ReadError::Invalid(listed))
    }
}

/// Quotes a coded value for an error message, cut short so that a stray
/// megabyte in an attribute does not end up in the answer.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(Path::Envelope.field("facility"), "facility");
        assert_eq!(Path::Record(3).field("abo"), "records[3].abo");
        let child = Path::Child {
            record: 2,
            list: "units",
            index: 1,
        };
        assert_eq!(child.field("abo"), "records[2].units[1].abo");
        assert_eq!(Path::Envelope.to_string(), "document");
    }

    #[test]
    fn error_list_is_capped() {
        let mut errors = Errors::default();
        for i in 0..MAX_LISTED + 5 {
            errors.push(Path::Record(i).field("abo"), "bad");
        }
        let Err(ReadError::Invalid(list)) = errors.into_result(()) else {
            panic!("expected Invalid");
        };
        assert_eq!(list.len(), MAX_LISTED + 1);
        assert_eq!(list.last().unwrap().message, "5 more errors not listed");
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quote("C"), "\"C\"");
        let long = "x".repeat(100);
        assert!(quote(&long).chars().count() < 50);
    }
}
