//! Rows to the hospital document (JSON form): the record kind of each row,
//! its fields through code tables and date formats, patients from their
//! columns, stock and dispatch rows grouped under one parent record. Every
//! row is converted before answering, so that all row errors come back at
//! once.

use crate::error::{quote, ConvertError, RowError, RowErrors, SourceRef};
use crate::profile::{DocumentId, Profile, ELEMENT_NAME};
use crate::read::{self, SourceRow};
use crate::schema::{is_personal, schema, Field, Kind, ValueKind};
use crate::Converted;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) fn convert(
    profile: &Profile,
    bytes: &[u8],
    file_name: Option<&str>,
    facility: &str,
) -> Result<Converted, ConvertError> {
    let names = profile.source_names();
    let rows = read::rows(profile, &names, bytes)?;
    let slot = |name: &str| names.iter().position(|n| n == name);
    let plan = Plan::new(profile, &slot);

    let mut errors = RowErrors::default();
    let mut out = Output::default();
    let mut document_id_cell: Option<(String, SourceRef)> = None;
    for row in &rows {
        if let Some(i) = plan.id_slot {
            check_document_id(row, i, profile, &mut document_id_cell, &mut errors);
        }
        let Some(kind) = plan.kind_of(row, profile, &mut errors) else {
            continue;
        };
        if let Some(patient) = &plan.patient {
            if let Some(record) = patient.record(row, profile, &mut errors, &mut out.patients_seen)
            {
                out.push(record, row.source.clone(), None);
            }
        }
        let Some(mapping) = plan.kinds.get(kind.name.as_str()) else {
            continue;
        };
        let mut parent = Map::new();
        parent.insert("type".into(), Value::String(kind.name.clone()));
        let mut child = Map::new();
        for (target, source) in &mapping.fields {
            let value = match source {
                Source::Cell(i, column) => match &row.cells[*i] {
                    Some(raw) => match transform(profile, target, raw) {
                        Ok(v) => v,
                        Err(problem) => {
                            errors.push(problem.at(&row.source, column, target, raw));
                            continue;
                        }
                    },
                    None => match profile.constants.get(&target.name) {
                        Some(constant) => constant.clone(),
                        None => continue,
                    },
                },
                Source::Constant(v) => v.clone(),
            };
            if kind.field(&target.name).is_some() {
                parent.insert(target.name.clone(), Value::String(value));
            } else {
                child.insert(target.name.clone(), Value::String(value));
            }
        }
        match &kind.child {
            None => out.push(Value::Object(parent), row.source.clone(), None),
            Some((list, _)) => out.push_child(parent, list, child, row.source.clone()),
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_error());
    }

    let document_id = match profile.document.id {
        DocumentId::ContentHash => {
            let digest = Sha256::digest(bytes);
            format!("{facility}-{}", &hex::encode(digest)[..16])
        }
        DocumentId::FileName => {
            let stem = file_name
                .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))
                .map(|f| f.rsplit_once('.').map_or(f, |(stem, _)| stem))
                .unwrap_or("");
            if stem.is_empty() {
                return Err(crate::error::file_error(
                    "缺少文件名，无法生成单据号",
                    "no file name to make the documentId from",
                ));
            }
            let safe: String = stem
                .chars()
                .map(|c| if c.is_ascii_graphic() { c } else { '_' })
                .collect();
            let mut id = format!("{facility}-{safe}");
            id.truncate(64);
            id
        }
        DocumentId::Column => match document_id_cell {
            Some((id, _)) => id,
            None => {
                return Err(crate::error::file_error(
                    "没有任何一行填写单据号",
                    "no row gives the documentId",
                ))
            }
        },
    };
    let document = serde_json::json!({
        "documentId": document_id,
        "facility": facility,
        "records": out.records,
    });
    Ok(Converted {
        document,
        sources: out.sources,
        child_sources: out.child_sources,
        columns: plan.columns,
        kinds: out.kinds,
    })
}

/// Where a field's value comes from.
enum Source {
    /// The cell at this slot, with its column name for errors.
    Cell(usize, String),
    Constant(String),
}

struct KindMapping {
    fields: Vec<(Field, Source)>,
}

struct PatientMapping {
    key: usize,
    fields: Vec<(Field, usize, String)>,
    /// `[constants]` that are Patient fields (`idType`).
    constants: Vec<(String, String)>,
}

/// The profile resolved against the source names and the schema, once per
/// file rather than once per row.
struct Plan {
    kind_slot: Option<(usize, String)>,
    id_slot: Option<usize>,
    kinds: HashMap<&'static str, KindMapping>,
    patient: Option<PatientMapping>,
    /// `Kind.field` → source column, for locating document errors.
    columns: BTreeMap<String, String>,
}

impl Plan {
    fn new(profile: &Profile, slot: &dyn Fn(&str) -> Option<usize>) -> Plan {
        let schema = schema();
        let mut columns = BTreeMap::new();
        let mut kinds = HashMap::new();
        for kind_name in profile.kinds() {
            let Some(kind) = schema.kind(kind_name) else {
                continue;
            };
            let own = profile.kind_columns.get(kind_name);
            let mut fields = Vec::new();
            let all = kind
                .fields
                .iter()
                .chain(kind.child.iter().flat_map(|(_, f)| f.iter()));
            for field in all {
                let column = own
                    .and_then(|c| c.get(&field.name))
                    .or_else(|| profile.columns.get(&field.name));
                let source = match column {
                    Some(column) => {
                        columns.insert(format!("{kind_name}.{}", field.name), column.clone());
                        Source::Cell(slot(column).expect("source name"), column.clone())
                    }
                    None => match profile.constants.get(&field.name) {
                        Some(v) => Source::Constant(v.clone()),
                        None => continue,
                    },
                };
                fields.push((field.clone(), source));
            }
            kinds.insert(static_name(kind), KindMapping { fields });
        }
        let patient = profile.patients.as_ref().map(|map| {
            let spec = schema.kind("Patient").expect("Patient");
            let fields = spec
                .fields
                .iter()
                .filter_map(|f| {
                    map.get(&f.name).map(|column| {
                        columns.insert(format!("Patient.{}", f.name), column.clone());
                        (
                            f.clone(),
                            slot(column).expect("source name"),
                            column.clone(),
                        )
                    })
                })
                .collect();
            let constants = profile
                .constants
                .iter()
                .filter(|(f, _)| spec.field(f).is_some() && !map.contains_key(*f))
                .map(|(f, v)| (f.clone(), v.clone()))
                .collect();
            PatientMapping {
                key: slot(&map["key"]).expect("source name"),
                fields,
                constants,
            }
        });
        Plan {
            kind_slot: profile
                .record_type
                .column
                .as_ref()
                .map(|c| (slot(c).expect("source name"), c.clone())),
            id_slot: profile.document.id_column.as_deref().and_then(slot),
            kinds,
            patient,
            columns,
        }
    }

    fn kind_of(
        &self,
        row: &SourceRow,
        profile: &Profile,
        errors: &mut RowErrors,
    ) -> Option<&'static Kind> {
        let schema = schema();
        let name = match (&profile.record_type.fixed, &self.kind_slot) {
            (Some(fixed), _) => fixed.as_str(),
            (None, Some((i, column))) => {
                let column = &if column == ELEMENT_NAME {
                    "元素名 (element name)".to_owned()
                } else {
                    column.clone()
                };
                let Some(word) = &row.cells[*i] else {
                    errors.push(RowError {
                        row: row.source.row(),
                        column: Some(column.clone()),
                        value: None,
                        message_zh: format!("{}：「{column}」为空", row.source.zh()),
                        message_en: format!("{}: {} is empty", row.source.en(), quote(column)),
                    });
                    return None;
                };
                match profile.record_type.codes.get(word) {
                    Some(kind) => kind.as_str(),
                    None => {
                        let words: Vec<&str> = profile
                            .record_type
                            .codes
                            .keys()
                            .map(String::as_str)
                            .collect();
                        errors.push(RowError {
                            row: row.source.row(),
                            column: Some(column.clone()),
                            value: Some(word.clone()),
                            message_zh: format!(
                                "{}：{column} {} 无效（可用：{}）",
                                row.source.zh(),
                                quote(word),
                                words.join("、")
                            ),
                            message_en: format!(
                                "{}: {column} {} is not valid (one of: {})",
                                row.source.en(),
                                quote(word),
                                words.join(", ")
                            ),
                        });
                        return None;
                    }
                }
            }
            (None, None) => return None,
        };
        schema.kind(name)
    }
}

fn static_name(kind: &'static Kind) -> &'static str {
    kind.name.as_str()
}

impl PatientMapping {
    fn record(
        &self,
        row: &SourceRow,
        profile: &Profile,
        errors: &mut RowErrors,
        seen: &mut HashSet<String>,
    ) -> Option<Value> {
        let key = row.cells[self.key].as_ref()?;
        if !seen.insert(key.clone()) {
            return None;
        }
        let mut record = Map::new();
        record.insert("type".into(), Value::String("Patient".into()));
        let mut ok = true;
        for (field, i, column) in &self.fields {
            let Some(raw) = &row.cells[*i] else { continue };
            match transform(profile, field, raw) {
                Ok(v) => {
                    record.insert(field.name.clone(), Value::String(v));
                }
                Err(problem) => {
                    ok = false;
                    errors.push(problem.at(&row.source, column, field, raw));
                }
            }
        }
        for (field, value) in &self.constants {
            record
                .entry(field.clone())
                .or_insert_with(|| Value::String(value.clone()));
        }
        ok.then_some(Value::Object(record))
    }
}

fn check_document_id(
    row: &SourceRow,
    slot: usize,
    profile: &Profile,
    seen: &mut Option<(String, SourceRef)>,
    errors: &mut RowErrors,
) {
    let column = profile.document.id_column.as_deref().unwrap_or_default();
    let Some(id) = &row.cells[slot] else { return };
    match seen {
        None => *seen = Some((id.clone(), row.source.clone())),
        Some((first, _)) if first == id => {}
        Some((first, source)) => errors.push(RowError {
            row: row.source.row(),
            column: Some(column.to_owned()),
            value: Some(id.clone()),
            message_zh: format!(
                "{}：{column} {} 与{}的 {} 不同，一个文件只能是一个单据",
                row.source.zh(),
                quote(id),
                source.zh(),
                quote(first)
            ),
            message_en: format!(
                "{}: {column} {} differs from {} in {}; one file is one document",
                row.source.en(),
                quote(id),
                quote(first),
                source.en()
            ),
        }),
    }
}

/// Why one value could not be converted.
enum Problem {
    /// Not in the code table and not a valid value either.
    NotValid(Vec<String>),
    /// No date format fits.
    NotADate,
}

impl Problem {
    fn at(&self, source: &SourceRef, column: &str, field: &Field, raw: &str) -> RowError {
        let personal = is_personal(&field.name);
        let shown = if personal {
            String::new()
        } else {
            format!(" {}", quote(raw))
        };
        let (zh, en) = match self {
            Problem::NotValid(words) if words.is_empty() => (
                format!("{column}{shown} 无效"),
                format!("{column}{shown} is not valid"),
            ),
            Problem::NotValid(words) => (
                format!("{column}{shown} 无效（可用：{}）", words.join("、")),
                format!(
                    "{column}{shown} is not valid (one of: {})",
                    words.join(", ")
                ),
            ),
            Problem::NotADate => (
                format!("{column}{shown} 不是可识别的日期时间"),
                format!("{column}{shown} is not a date-time in a known format"),
            ),
        };
        RowError {
            row: source.row(),
            column: Some(column.to_owned()),
            value: (!personal).then(|| raw.to_owned()),
            message_zh: format!("{}：{zh}", source.zh()),
            message_en: format!("{}: {en}", source.en()),
        }
    }
}

/// One cell to its document value: through the field's code table, then
/// checked against the field's word list or date formats.
fn transform(profile: &Profile, field: &Field, raw: &str) -> Result<String, Problem> {
    let table = profile.codes.get(&field.name);
    let value = table.and_then(|t| t.get(raw)).map_or(raw, String::as_str);
    match &field.value {
        ValueKind::Enum(words) => {
            if words.iter().any(|w| w == value) {
                Ok(value.to_owned())
            } else {
                // Offer the words the file is expected to use.
                let offered = match table {
                    Some(t) => t.keys().cloned().collect(),
                    None => words.clone(),
                };
                Err(Problem::NotValid(offered))
            }
        }
        ValueKind::DateTime => date_time(&profile.dates.formats, value).ok_or(Problem::NotADate),
        ValueKind::Date => date(&profile.dates.formats, value).ok_or(Problem::NotADate),
        ValueKind::Text => Ok(value.to_owned()),
    }
}

/// The first format that reads the value, written as ISO 8601: with its
/// offset when the format has one, otherwise without, so that the document
/// reader applies the site's zone.
fn date_time(formats: &[String], value: &str) -> Option<String> {
    formats.iter().find_map(|f| {
        if let Ok(t) = DateTime::parse_from_str(value, f) {
            return Some(t.format("%Y-%m-%dT%H:%M:%S%:z").to_string());
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(value, f) {
            return Some(t.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        NaiveDate::parse_from_str(value, f)
            .ok()
            .map(|d| d.format("%Y-%m-%d").to_string())
    })
}

fn date(formats: &[String], value: &str) -> Option<String> {
    formats.iter().find_map(|f| {
        NaiveDate::parse_from_str(value, f)
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(value, f)
                    .ok()
                    .map(|t| t.date())
            })
            .map(|d| d.format("%Y-%m-%d").to_string())
    })
}

/// The records being built, and where each came from.
#[derive(Default)]
struct Output {
    records: Vec<Value>,
    sources: Vec<SourceRef>,
    child_sources: Vec<Vec<SourceRef>>,
    kinds: Vec<String>,
    patients_seen: HashSet<String>,
    /// A parent record's own fields (serialized) → its index, so that rows
    /// of one stock count or one dispatch become one record.
    parents: HashMap<String, usize>,
}

impl Output {
    fn push(&mut self, record: Value, source: SourceRef, children: Option<Vec<SourceRef>>) {
        self.kinds
            .push(record["type"].as_str().unwrap_or_default().to_owned());
        self.records.push(record);
        self.sources.push(source);
        self.child_sources.push(children.unwrap_or_default());
    }

    fn push_child(
        &mut self,
        parent: Map<String, Value>,
        list: &str,
        child: Map<String, Value>,
        source: SourceRef,
    ) {
        let key = Value::Object(parent.clone()).to_string();
        let index = match self.parents.get(&key) {
            Some(&i) => i,
            None => {
                let mut record = parent;
                record.insert(list.to_owned(), Value::Array(Vec::new()));
                self.push(Value::Object(record), source.clone(), Some(Vec::new()));
                self.parents.insert(key, self.records.len() - 1);
                self.records.len() - 1
            }
        };
        if let Some(Value::Array(items)) = self.records[index].get_mut(list) {
            items.push(Value::Object(child));
        }
        self.child_sources[index].push(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_vendor_formats() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let formats = f(&["%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S%:z"]);
        assert_eq!(
            date_time(&formats, "2026/11/24 08:30").unwrap(),
            "2026-11-24T08:30:00"
        );
        assert_eq!(
            date_time(&formats, "20261124083005").unwrap(),
            "2026-11-24T08:30:05"
        );
        assert_eq!(
            date_time(&formats, "2026-11-24T08:30:00+08:00").unwrap(),
            "2026-11-24T08:30:00+08:00"
        );
        assert_eq!(date_time(&formats, "2026/13/24 08:30"), None);
        assert_eq!(date(&f(&["%Y%m%d"]), "19810229"), None);
        assert_eq!(date(&f(&["%Y%m%d"]), "19800301").unwrap(), "1980-03-01");
    }
}
