//! What the hospital document accepts, read from its published JSON Schema
//! (`docs/schema/report-1.schema.json`), so that a profile is checked
//! against the same statement of the structure that the document reader is
//! tested against, without a second hand-written table that could drift.

use serde_json::Value;
use std::sync::OnceLock;

static SCHEMA_JSON: &str = include_str!("../../../docs/schema/report-1.schema.json");

/// How a field's value is written in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// Free text or a number: passed on as written; the reader checks it.
    Text,
    /// One of a fixed list of words.
    Enum(Vec<String>),
    /// An ISO 8601 date-time (offset optional).
    DateTime,
    /// A calendar date `YYYY-MM-DD`.
    Date,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The JSON name (`reactionType`, not `type`).
    pub name: String,
    pub value: ValueKind,
}

/// A record kind (`Received`, `Stock`, ...) and, for `Dispatch` and
/// `Stock`, the children it holds.
#[derive(Debug, Clone)]
pub(crate) struct Kind {
    pub name: String,
    pub fields: Vec<Field>,
    /// The JSON list (`units`, `items`) and the child's fields.
    pub child: Option<(String, Vec<Field>)>,
}

impl Kind {
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub(crate) fn child_field(&self, name: &str) -> Option<&Field> {
        self.child
            .as_ref()
            .and_then(|(_, fields)| fields.iter().find(|f| f.name == name))
    }

    /// The field, on the record itself or on its child.
    pub(crate) fn any_field(&self, name: &str) -> Option<&Field> {
        self.field(name).or_else(|| self.child_field(name))
    }
}

pub(crate) struct Schema {
    pub kinds: Vec<Kind>,
}

impl Schema {
    pub(crate) fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.name == name)
    }

    pub(crate) fn kind_names(&self) -> Vec<&str> {
        self.kinds.iter().map(|k| k.name.as_str()).collect()
    }
}

/// The schema, parsed once. The file is part of this repository and a test
/// of `hemobridge-document` keeps it in agreement with the reader, so a
/// failure to parse it is a build defect, not an input error.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let json: Value = serde_json::from_str(SCHEMA_JSON).expect("report-1.schema.json is JSON");
        let defs = &json["$defs"];
        let kinds = defs["Record"]["properties"]["type"]["enum"]
            .as_array()
            .expect("Record.type enum")
            .iter()
            .filter_map(Value::as_str)
            .map(|name| {
                let def = &defs[name];
                let mut child = None;
                let mut fields = Vec::new();
                for (field, spec) in def["properties"].as_object().expect("properties") {
                    if field == "type" {
                        continue;
                    }
                    if spec["type"] == "array" {
                        let item = def_name(&spec["items"]);
                        child = Some((field.clone(), fields_of(defs, &defs[item])));
                    } else {
                        fields.push(Field {
                            name: field.clone(),
                            value: value_kind(defs, spec),
                        });
                    }
                }
                Kind {
                    name: name.to_owned(),
                    fields,
                    child,
                }
            })
            .collect();
        Schema { kinds }
    })
}

fn def_name(spec: &Value) -> &str {
    spec["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .unwrap_or("")
}

fn fields_of(defs: &Value, def: &Value) -> Vec<Field> {
    def["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, spec)| Field {
                    name: name.clone(),
                    value: value_kind(defs, spec),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn value_kind(defs: &Value, spec: &Value) -> ValueKind {
    let name = def_name(spec);
    let def = &defs[name];
    if let Some(words) = def["enum"].as_array() {
        return ValueKind::Enum(
            words
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        );
    }
    match name {
        "DateTime" => ValueKind::DateTime,
        "Date" => ValueKind::Date,
        _ => ValueKind::Text,
    }
}

/// Fields that hold personal data: their values are never quoted in an
/// error (names, ID numbers, patient keys, birth dates).
pub(crate) fn is_personal(field: &str) -> bool {
    matches!(
        field,
        "name"
            | "idNumber"
            | "key"
            | "patient"
            | "birthDate"
            | "donorName"
            | "donorIdNumber"
            | "donorKey"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kinds_fields_and_children() {
        let s = schema();
        assert_eq!(s.kinds.len(), 13);
        let received = s.kind("Received").unwrap();
        assert_eq!(
            received.field("abo").unwrap().value,
            ValueKind::Enum(vec!["A".into(), "B".into(), "O".into(), "AB".into()])
        );
        assert_eq!(received.field("at").unwrap().value, ValueKind::DateTime);
        let stock = s.kind("Stock").unwrap();
        assert_eq!(stock.child.as_ref().unwrap().0, "items");
        assert!(stock.child_field("measure").is_some());
        assert!(s.kind("Reaction").unwrap().field("reactionType").is_some());
        assert_eq!(
            s.kind("Patient").unwrap().field("birthDate").unwrap().value,
            ValueKind::Date
        );
    }
}
