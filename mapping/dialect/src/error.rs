//! What goes wrong: a profile that does not make sense (for the engineer who
//! wrote it, in English, naming the key), and a file whose rows do not fit
//! the profile (for the hospital user, in Chinese and English, naming the
//! row and column as the user sees them in Excel or in the XML).

use serde::Serialize;
use std::fmt;

/// A profile that cannot be used. The message names the offending key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile: {0}")]
pub struct ProfileError(pub String);

/// Where a document record came from in the vendor file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SourceRef {
    /// A CSV or XLSX row, numbered as a spreadsheet shows it (the first
    /// line of the file is row 1, the header row included).
    Row { row: usize },
    /// An XML record element: its path from the root, its 1-based index
    /// among the record elements, and the line it starts on.
    Element {
        path: String,
        index: usize,
        line: usize,
    },
}

impl SourceRef {
    /// The number shown to the user as "row": the spreadsheet row, or the
    /// record element's index.
    pub fn row(&self) -> usize {
        match self {
            SourceRef::Row { row } => *row,
            SourceRef::Element { index, .. } => *index,
        }
    }

    pub(crate) fn zh(&self) -> String {
        match self {
            SourceRef::Row { row } => format!("第 {row} 行"),
            SourceRef::Element { index, line, .. } => {
                format!("第 {index} 条记录（第 {line} 行）")
            }
        }
    }

    pub(crate) fn en(&self) -> String {
        match self {
            SourceRef::Row { row } => format!("row {row}"),
            SourceRef::Element { path, index, line } => {
                format!("record {index} <{path}> (line {line})")
            }
        }
    }
}

/// One problem in one row (or, with `row` 0, in the file as a whole: not
/// in the declared encoding, not XML, a header without a mapped column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// The spreadsheet row (header = row 1), the XML record's index, or 0.
    pub row: usize,
    /// The source column header (or XML element/attribute name).
    pub column: Option<String>,
    /// The offending value; never set for personal data (names, ID
    /// numbers, patient keys, birth dates).
    pub value: Option<String>,
    /// For the hospital user: `第 3 行：ABO血型 "C" 无效`.
    pub message_zh: String,
    /// The same in English: `row 3: ABO血型 "C" is not valid`.
    pub message_en: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en)
    }
}

/// A file that cannot become a document: every row error found, in file
/// order (at most [`MAX_LISTED`], then one line saying how many more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", summary(.rows))]
pub struct ConvertError {
    pub rows: Vec<RowError>,
}

/// A file of a million bad rows must not give an answer larger than itself.
pub const MAX_LISTED: usize = 1000;

fn summary(rows: &[RowError]) -> String {
    match rows {
        [] => "no details".into(),
        [one] => one.message_en.clone(),
        [first, rest @ ..] => format!("{} (and {} more)", first.message_en, rest.len()),
    }
}

/// Collects row errors without stopping at the first.
#[derive(Debug, Default)]
pub(crate) struct RowErrors {
    listed: Vec<RowError>,
    total: usize,
}

impl RowErrors {
    pub(crate) fn push(&mut self, error: RowError) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(error);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub(crate) fn into_error(mut self) -> ConvertError {
        if self.total > self.listed.len() {
            let more = self.total - self.listed.len();
            self.listed.push(RowError {
                row: 0,
                column: None,
                value: None,
                message_zh: format!("另有 {more} 处错误未列出"),
                message_en: format!("{more} more errors not listed"),
            });
        }
        ConvertError { rows: self.listed }
    }
}

/// A whole-file problem.
pub(crate) fn file_error(zh: impl Into<String>, en: impl Into<String>) -> ConvertError {
    ConvertError {
        rows: vec![RowError {
            row: 0,
            column: None,
            value: None,
            message_zh: format!("文件：{}", zh.into()),
            message_en: format!("file: {}", en.into()),
        }],
    }
}

/// Quotes a value for a message, cut short.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 40;
    match value.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("\"{}…\"", &value[..cut]),
        None => format!("\"{value}\""),
    }
}
