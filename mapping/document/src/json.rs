//! The JSON syntax: the same document as `{"documentId", "facility",
//! "generatedAt", "records": [{"type": "Received", ...}]}`, with a
//! `Dispatch`'s units in `units` and a `Stock`'s items in `items`.
//!
//! The body is parsed into a small borrowed tree (strings without escapes
//! are not copied) that keeps every key in order, repeats included, so that
//! a repeated key is an error rather than a silent "last one wins", and
//! errors come out in document order. The tree is then cut into the same
//! [`RawRecord`]s the XML reader makes.

use crate::build::Builder;
use crate::error::{quote, Path, ReadError};
use crate::raw::{RawField, RawRecord, Value};
use crate::shape::{self, Shape, Syntax};
use crate::{Config, Document};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Reads a whole JSON document (UTF-8, as RFC 8259 requires).
pub(crate) fn read(bytes: &[u8], cfg: &Config) -> Result<Document, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let tree: Json<'_> = serde_json::from_slice(bytes)
        .map_err(|err| ReadError::Unreadable(format!("not JSON: {err}")))?;
    let mut builder = Builder::new(cfg, Syntax::Json);
    let Json::Object(top) = tree else {
        builder.errors.push(
            "document",
            format!("must be an object, not {}", tree.what()),
        );
        return builder.finish();
    };
    let mut envelope = RawRecord::default();
    let mut records = None;
    for (key, value) in top {
        if key == "records" {
            if records.is_some() {
                builder.errors.push("records", "repeated field");
            }
            records = Some(value);
        } else {
            envelope.fields.push(field(key, value));
        }
    }
    builder.envelope(&envelope);
    match records {
        None => builder.errors.push("records", "is required"),
        Some(Json::Array(items)) => {
            for (index, item) in items.into_iter().enumerate() {
                record(&mut builder, index, item);
            }
        }
        Some(other) => builder
            .errors
            .push("records", format!("must be an array, not {}", other.what())),
    }
    builder.finish()
}

/// Reads only the top-level `documentId` and `facility`.
pub(crate) fn peek(bytes: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "documentId")]
        document_id: Option<String>,
        facility: Option<String>,
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let peek: Peek = serde_json::from_slice(bytes).ok()?;
    Some((peek.document_id?, peek.facility?))
}

fn record(builder: &mut Builder<'_>, index: usize, item: Json<'_>) {
    let path = Path::Record(index);
    let Json::Object(entries) = item else {
        builder.skipped(index);
        builder.errors.push(
            path.to_string(),
            format!("must be an object, not {}", item.what()),
        );
        return;
    };
    let Some(shape) = record_type(builder, path, &entries) else {
        builder.skipped(index);
        return;
    };
    let child = shape.child.as_ref();
    let mut raw = RawRecord::default();
    let mut children_seen = false;
    for (key, value) in entries {
        if key == "type" {
            continue;
        }
        match child {
            Some(child) if key == child.json => {
                if children_seen {
                    builder.errors.push(path.field(&key), "repeated field");
                    continue;
                }
                children_seen = true;
                raw.children = children(builder, index, child.json, value);
            }
            _ => raw.fields.push(field(key, value)),
        }
    }
    builder.record(index, shape, &raw);
}

/// The record's `type`, which says how to read the rest.
fn record_type(
    builder: &mut Builder<'_>,
    path: Path,
    entries: &[(Cow<'_, str>, Json<'_>)],
) -> Option<&'static Shape> {
    let mut types = entries.iter().filter(|(k, _)| k == "type").map(|(_, v)| v);
    let first = types.next();
    if types.next().is_some() {
        builder.errors.push(path.field("type"), "repeated field");
        return None;
    }
    match first {
        None => builder.errors.push(path.field("type"), "is required"),
        Some(Json::String(name)) => match shape::record(name) {
            Some(shape) => return Some(shape),
            None => builder.errors.push(
                path.field("type"),
                format!("{} is not a record type", quote(name)),
            ),
        },
        Some(other) => builder.errors.push(
            path.field("type"),
            format!("must be a string, not {}", other.what()),
        ),
    }
    None
}

fn children<'a>(
    builder: &mut Builder<'_>,
    record: usize,
    list: &'static str,
    value: Json<'a>,
) -> Vec<Option<RawRecord<'a>>> {
    let Json::Array(items) = value else {
        builder.errors.push(
            Path::Record(record).field(list),
            format!("must be an array, not {}", value.what()),
        );
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Json::Object(entries) => Some(RawRecord {
                fields: entries.into_iter().map(|(k, v)| field(k, v)).collect(),
                children: Vec::new(),
            }),
            other => {
                let path = Path::Child {
                    record,
                    list,
                    index,
                };
                builder.errors.push(
                    path.to_string(),
                    format!("must be an object, not {}", other.what()),
                );
                None
            }
        })
        .collect()
}

fn field<'a>(name: Cow<'a, str>, value: Json<'a>) -> RawField<'a> {
    let value = match value {
        Json::String(s) => Value::Text(s),
        Json::Number(n) => Value::Number(n),
        other => Value::Other(other.what()),
    };
    RawField { name, value }
}

/// A JSON value borrowing its strings from the input where it can; objects
/// keep their keys in order, repeats included.
#[derive(Debug)]
enum Json<'a> {
    Null,
    Bool,
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl Json<'_> {
    /// What it is, for "must be a string, not an object".
    fn what(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool)
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json<'de>, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Json::Object(entries))
    }
}

/// An object key, borrowed where it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let tree: Json<'_> = serde_json::from_str(r#"{"a": "x", "b\n": "y\n"}"#).unwrap();
        let Json::Object(entries) = tree else {
            panic!()
        };
        assert!(matches!(entries[0].0, Cow::Borrowed("a")));
        assert!(matches!(entries[0].1, Json::String(Cow::Borrowed("x"))));
        assert!(matches!(entries[1].1, Json::String(Cow::Owned(_))));
    }
}
