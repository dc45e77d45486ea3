//! The profile: a vendor layout described in TOML, checked when loaded so
//! that a mistake in it shows up when the engineer writes it, not as odd
//! row errors in production. Every key is documented in
//! `docs/connectors.md`.

use crate::error::ProfileError;
use crate::schema::{schema, ValueKind};
use hemobridge_canonical::ProductTable;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file formats a profile can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
    Xml,
}

/// How the document's `documentId` is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentId {
    /// `FACILITY-` and the first 16 hex digits of the SHA-256 of the file:
    /// the same file uploaded twice is recognised as a duplicate.
    #[default]
    ContentHash,
    /// `FACILITY-` and the file name without extension (characters other
    /// than printable ASCII become `_`).
    FileName,
    /// The value of `id_column` (the same in every row).
    Column,
}

/// A parsed and checked profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A human name for the layout.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub format: Format,
    /// `utf-8` (default), `gbk`, `gb18030`, any WHATWG label, or `auto`
    /// (UTF-8 if valid, else GB 18030); a UTF-8 byte-order mark always
    /// wins.
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub csv: Option<CsvOptions>,
    #[serde(default)]
    pub xlsx: Option<XlsxOptions>,
    #[serde(default)]
    pub xml: Option<XmlOptions>,
    #[serde(default)]
    pub document: DocumentOptions,
    pub record_type: RecordType,
    #[serde(default)]
    pub dates: Dates,
    /// Document field → source column, for every record kind.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Per record kind, fields that come from another column than in
    /// `columns` (a transfusion's `start` and `end`).
    #[serde(default)]
    pub kind_columns: BTreeMap<String, BTreeMap<String, String>>,
    /// Document field → a fixed value, used where no column gives one.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Patient field → source column: a `Patient` record is emitted for
    /// each new patient key, before the event of that row.
    #[serde(default)]
    pub patients: Option<BTreeMap<String, String>>,
    /// Document field → (source word → document value).
    #[serde(default)]
    pub codes: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    #[serde(default = "comma")]
    pub delimiter: String,
    /// The 1-based row holding the column headers; data follows it.
    #[serde(default = "one")]
    pub header_row: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxOptions {
    /// The worksheet's name; the first sheet if absent.
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default = "one")]
    pub header_row: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmlOptions {
    /// Slash-separated element names from the root to a record element;
    /// `*` matches any name (`LisExport/*`).
    pub records: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentOptions {
    #[serde(default)]
    pub id: DocumentId,
    #[serde(default)]
    pub id_column: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordType {
    /// Every row is this kind (`Received`).
    #[serde(default)]
    pub fixed: Option<String>,
    /// Or: the kind comes from this column, through `codes`.
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default)]
    pub codes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dates {
    /// chrono format strings, tried in order.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
}

impl Default for Dates {
    fn default() -> Self {
        Dates {
            formats: default_formats(),
        }
    }
}

fn default_formats() -> Vec<String> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d",
    ]
    .map(String::from)
    .to_vec()
}

fn comma() -> String {
    ",".into()
}

fn one() -> usize {
    1
}

/// The encoding label for "UTF-8 if the bytes are valid UTF-8, else
/// GB 18030".
pub const AUTO: &str = "auto";

/// The source name that stands for an XML record element's own name.
pub const ELEMENT_NAME: &str = "$element";

impl Profile {
    /// Parses and checks a profile. Unknown keys, unknown record kinds,
    /// document fields that do not exist and code tables whose values the
    /// document would refuse are errors naming the key.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError(e.to_string()))?;
        profile.check()?;
        Ok(profile)
    }

    /// The record kinds rows can become.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = match &self.record_type.fixed {
            Some(kind) => vec![kind.as_str()],
            None => self
                .record_type
                .codes
                .values()
                .map(String::as_str)
                .collect(),
        };
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// The CSV/XLSX header row (1-based).
    pub(crate) fn header_row(&self) -> usize {
        match self.format {
            Format::Csv => self.csv.as_ref().map_or(1, |c| c.header_row),
            Format::Xlsx => self.xlsx.as_ref().map_or(1, |x| x.header_row),
            Format::Xml => 0,
        }
    }

    /// Every source name the profile reads, without repeats, in a fixed
    /// order: readers fill cells in this order.
    pub(crate) fn source_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: &String| {
            if !names.contains(name) {
                names.push(name.clone());
            }
        };
        self.record_type.column.iter().for_each(&mut add);
        self.document.id_column.iter().for_each(&mut add);
        self.columns.values().for_each(&mut add);
        self.kind_columns
            .values()
            .flat_map(BTreeMap::values)
            .for_each(&mut add);
        self.patients
            .iter()
            .flat_map(BTreeMap::values)
            .for_each(&mut add);
        names
    }

    fn check(&self) -> Result<(), ProfileError> {
        let err = |m: String| Err(ProfileError(m));
        let schema = schema();
        // Format-specific sections.
        for (section, given, format) in [
            ("csv", self.csv.is_some(), Format::Csv),
            ("xlsx", self.xlsx.is_some(), Format::Xlsx),
            ("xml", self.xml.is_some(), Format::Xml),
        ] {
            if given && self.format != format {
                return err(format!(
                    "[{section}] does not apply to format = \"{}\"",
                    format_name(self.format)
                ));
            }
        }
        if self.format == Format::Xml && self.xml.is_none() {
            return err("format = \"xml\" needs [xml] records = \"Root/Record\"".into());
        }
        if let Some(xml) = &self.xml {
            if xml.records.split('/').any(str::is_empty) {
                return err(format!(
                    "[xml] records = {:?} has an empty step",
                    xml.records
                ));
            }
        }
        if self.format == Format::Xlsx && self.encoding.is_some() {
            return err("encoding does not apply to format = \"xlsx\"".into());
        }
        if let Some(label) = &self.encoding {
            if label != AUTO && encoding_rs::Encoding::for_label(label.as_bytes()).is_none() {
                return err(format!("encoding = {label:?} is not a known encoding"));
            }
        }
        if let Some(csv) = &self.csv {
            if csv.delimiter.len() != 1 || !csv.delimiter.is_ascii() {
                return err(format!(
                    "[csv] delimiter = {:?} must be one ASCII character",
                    csv.delimiter
                ));
            }
        }
        if self.header_row() == 0 && self.format != Format::Xml {
            return err("header_row counts from 1".into());
        }
        if (self.document.id == DocumentId::Column) != self.document.id_column.is_some() {
            return err("[document] id = \"column\" and id_column go together".into());
        }

        // Record kinds.
        match (&self.record_type.fixed, &self.record_type.column) {
            (Some(_), None) if self.record_type.codes.is_empty() => {}
            (None, Some(_)) if !self.record_type.codes.is_empty() => {}
            _ => {
                return err(
                    "[record_type] needs either fixed = \"Kind\", or column = \"...\" with [record_type.codes]"
                        .into(),
                )
            }
        }
        let kinds = self.kinds();
        for kind in &kinds {
            if schema.kind(kind).is_none() {
                return err(format!(
                    "[record_type]: {kind:?} is not a record kind ({})",
                    schema.kind_names().join(", ")
                ));
            }
        }
        if kinds.contains(&"Patient") && self.patients.is_some() {
            return err("[patients] cannot be used when rows are Patient records".into());
        }

        // Target fields.
        for field in self.columns.keys().chain(self.constants.keys()) {
            let section = if self.columns.contains_key(field) {
                "columns"
            } else {
                "constants"
            };
            if field == "type" {
                return err(format!(
                    "[{section}] type: the record type comes from [record_type]"
                ));
            }
            let patient_field = section == "constants"
                && self.patients.is_some()
                && schema
                    .kind("Patient")
                    .is_some_and(|k| k.field(field).is_some());
            if !patient_field
                && !kinds
                    .iter()
                    .filter_map(|k| schema.kind(k))
                    .any(|k| k.any_field(field).is_some())
            {
                return err(format!(
                    "[{section}] {field}: no record of kind {} has a field {field:?}",
                    kinds.join(", ")
                ));
            }
        }
        for (kind, fields) in &self.kind_columns {
            let Some(spec) = schema.kind(kind).filter(|_| kinds.contains(&kind.as_str())) else {
                return err(format!(
                    "[kind_columns.{kind}]: rows never become {kind:?} (kinds: {})",
                    kinds.join(", ")
                ));
            };
            for field in fields.keys() {
                if spec.any_field(field).is_none() {
                    return err(format!(
                        "[kind_columns.{kind}] {field}: {kind} has no field {field:?}"
                    ));
                }
            }
        }
        if let Some(patients) = &self.patients {
            let spec = schema.kind("Patient").expect("Patient kind");
            if !patients.contains_key("key") {
                return err("[patients] needs key = \"<patient id column>\"".into());
            }
            for field in patients.keys() {
                if spec.field(field).is_none() {
                    return err(format!(
                        "[patients] {field}: Patient has no field {field:?}"
                    ));
                }
            }
        }

        // Constants and code tables must hold values the document accepts.
        let products = ProductTable::default();
        let check_value = |section: &str, field: &str, value: &str| -> Result<(), ProfileError> {
            let kind = field_kind(field, &kinds);
            match kind {
                Some(ValueKind::Enum(words)) if !words.iter().any(|w| w == value) => {
                    Err(ProfileError(format!(
                        "[{section}] {value:?} is not a valid {field} ({})",
                        words.join(", ")
                    )))
                }
                _ if field == "product" && products.lookup(value).is_none() => Err(ProfileError(
                    format!("[{section}] {value:?} is not a known product code or name"),
                )),
                _ => Ok(()),
            }
        };
        for (field, value) in &self.constants {
            check_value("constants", field, value)?;
        }
        for (field, table) in &self.codes {
            let known = kinds
                .iter()
                .chain(self.patients.as_ref().map(|_| &"Patient"))
                .filter_map(|k| schema.kind(k))
                .any(|k| k.any_field(field).is_some());
            if !known {
                return err(format!(
                    "[codes.{field}]: no record of kind {} has a field {field:?}",
                    kinds.join(", ")
                ));
            }
            for (word, value) in table {
                check_value(&format!("codes.{field}.{word:?}"), field, value)?;
            }
        }

        // Date formats must be valid chrono formats.
        if self.dates.formats.is_empty() {
            return err("[dates] formats must list at least one format".into());
        }
        for format in &self.dates.formats {
            use chrono::format::{Item, StrftimeItems};
            if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
                return err(format!("[dates] {format:?} is not a chrono format string"));
            }
        }
        Ok(())
    }
}

/// How a field is written, from the first of the given kinds that has it
/// (the schema gives a field name one meaning across kinds).
fn field_kind(field: &str, kinds: &[&str]) -> Option<ValueKind> {
    let schema = schema();
    kinds
        .iter()
        .chain(std::iter::once(&"Patient"))
        .filter_map(|k| schema.kind(k))
        .find_map(|k| k.any_field(field))
        .map(|f| f.value.clone())
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Xlsx => "xlsx",
        Format::Xml => "xml",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
format = "csv"
[record_type]
fixed = "Received"
[columns]
unit = "血袋号"
"#;

    #[test]
    fn minimal_profile_loads() {
        let p = Profile::from_toml(MINIMAL).unwrap();
        assert_eq!(p.kinds(), ["Received"]);
        assert_eq!(p.source_names(), ["血袋号"]);
    }

    #[test]
    fn wrong_sections_and_values_are_named() {
        let cases = [
            (format!("{MINIMAL}[xml]\nrecords = \"A/B\"\n"), "[xml]"),
            (
                MINIMAL.replace("fixed = \"Received\"", "fixed = \"Recieved\""),
                "\"Recieved\" is not a record kind",
            ),
            (
                format!("{MINIMAL}[codes.abo]\n\"O型\" = \"0\"\n"),
                "\"0\" is not a valid abo",
            ),
            (
                format!("{MINIMAL}[codes.product]\n\"红悬\" = \"RBC-XX\"\n"),
                "\"RBC-XX\" is not a known product",
            ),
            (
                format!("{MINIMAL}[dates]\nformats = []\n"),
                "at least one format",
            ),
            (
                format!("{MINIMAL}[kind_columns.Issued]\nward = \"病区\"\n"),
                "[kind_columns.Issued]",
            ),
            (
                format!("encoding2 = \"gbk\"\n{MINIMAL}"),
                "unknown field `encoding2`",
            ),
        ];
        for (text, want) in cases {
            let e = Profile::from_toml(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }
}
