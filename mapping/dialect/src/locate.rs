//! From a document error back to the user's file: `records[2].patient`
//! becomes "row 4, column 患者编号", so that what the document reader finds
//! (a missing patient, a bad DIN check character) is reported on the row
//! the user can fix.

use crate::error::{ConvertError, RowError, RowErrors, SourceRef};
use crate::{Converted, Profile};
use hemobridge_document::{Document, FieldError, ReadError};

/// A parsed document path.
struct DocPath<'p> {
    record: usize,
    child: Option<usize>,
    field: Option<&'p str>,
}

fn parse(path: &str) -> Option<DocPath<'_>> {
    let rest = path.strip_prefix("records[")?;
    let (index, rest) = rest.split_once(']')?;
    let record = index.parse().ok()?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    if rest.is_empty() {
        return Some(DocPath {
            record,
            child: None,
            field: None,
        });
    }
    // `units[1].abo` / `items[0].product` or just `abo`.
    if let Some((list, after)) = rest.split_once('[') {
        if list == "units" || list == "items" {
            let (index, after) = after.split_once(']')?;
            let field = after.strip_prefix('.').filter(|f| !f.is_empty());
            return Some(DocPath {
                record,
                child: Some(index.parse().ok()?),
                field,
            });
        }
    }
    Some(DocPath {
        record,
        child: None,
        field: Some(rest),
    })
}

impl Converted {
    /// The source row or element of a document path (`records[2].abo`,
    /// `records[0].items[3].quantity`).
    pub fn locate(&self, record_path: &str) -> Option<&SourceRef> {
        let path = parse(record_path)?;
        match path.child {
            None => self.sources.get(path.record),
            Some(child) => self.child_sources.get(path.record)?.get(child),
        }
    }

    /// The source column a document path's field was read from.
    pub fn column(&self, record_path: &str) -> Option<&str> {
        let path = parse(record_path)?;
        let kind = self.kinds.get(path.record)?;
        self.columns
            .get(&format!("{kind}.{}", path.field?))
            .map(String::as_str)
    }

    /// A document reader's error, on the user's row and column, in Chinese
    /// and English. The reader's message never quotes personal data, so it
    /// can be shown as it is.
    pub fn explain(&self, error: &FieldError) -> RowError {
        let source = self.locate(&error.path);
        let column = self.column(&error.path).map(str::to_owned);
        let field = parse(&error.path).and_then(|p| p.field).unwrap_or("");
        let label = column.clone().unwrap_or_else(|| field.to_owned());
        let message = &error.message;
        let zh_problem = translate(message);
        let (zh_at, en_at) = match source {
            Some(s) => (s.zh(), s.en()),
            None => ("文件".to_owned(), "file".to_owned()),
        };
        let (zh, en) = if label.is_empty() {
            (
                format!("{zh_at}：{zh_problem}"),
                format!("{en_at}: {message}"),
            )
        } else {
            (
                format!("{zh_at}：「{label}」{zh_problem}"),
                format!("{en_at}, {label}: {message}"),
            )
        };
        RowError {
            row: source.map_or(0, SourceRef::row),
            column,
            value: None,
            message_zh: zh,
            message_en: en,
        }
    }

    /// Every error of a refused document, explained; an unreadable one
    /// (which a converted document should never be) as a file error.
    pub fn explain_all(&self, error: &ReadError) -> ConvertError {
        match error {
            ReadError::Unreadable(reason) => crate::error::file_error(
                format!("转换结果无法读取（{reason}）"),
                format!("the converted document cannot be read: {reason}"),
            ),
            ReadError::Invalid(list) => {
                let mut rows = RowErrors::default();
                list.iter().for_each(|e| rows.push(self.explain(e)));
                rows.into_error()
            }
        }
    }
}

/// The reader's common messages in Chinese; anything else keeps its
/// English detail after a Chinese lead.
fn translate(message: &str) -> String {
    if message == "is required" {
        return "不能为空".into();
    }
    if message.ends_with("is not a known blood product") {
        return "不是可识别的血液品种".into();
    }
    if message == "check character does not match" {
        return "校验位不正确".into();
    }
    if message.starts_with("must be 1 to 64 printable ASCII") {
        return "只能是 1 到 64 个半角字母、数字或符号，不能有空格".into();
    }
    if message.contains("is not a whole number") {
        return "必须是 1 到 999999999 的整数".into();
    }
    if message.contains("is not a decimal number") {
        return "必须是数字".into();
    }
    if message.contains("must not be before") || message.contains("before") {
        return format!("时间先后不对（{message}）");
    }
    format!("无效（{message}）")
}

impl Profile {
    /// Converts a vendor file and reads the result as a hospital document:
    /// the one call a portal upload needs. Errors of either step come back
    /// as row errors in Chinese and English.
    pub fn to_document(
        &self,
        bytes: &[u8],
        file_name: Option<&str>,
        facility: &str,
        cfg: &hemobridge_document::Config,
    ) -> Result<(Document, Converted), ConvertError> {
        let converted = self.convert(bytes, file_name, facility)?;
        match hemobridge_document::read_json(&converted.to_json_bytes(), cfg) {
            Ok(document) => Ok((document, converted)),
            Err(e) => Err(converted.explain_all(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let p = parse("records[12].abo").unwrap();
        assert_eq!((p.record, p.child, p.field), (12, None, Some("abo")));
        let p = parse("records[2].items[3].quantity").unwrap();
        assert_eq!((p.record, p.child, p.field), (2, Some(3), Some("quantity")));
        let p = parse("records[1]").unwrap();
        assert_eq!((p.record, p.child, p.field), (1, None, None));
        assert!(parse("documentId").is_none());
    }
}
