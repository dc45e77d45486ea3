//! The element names of the Shanghai messages, as data.
//!
//! The official names are not public, so the renderer reads every element
//! name from this table. The default is `mappings/shanghai-2017.toml`
//! (compiled in); [`ShanghaiMapping::from_toml`] reads a replacement. Every
//! key is required and unknown keys are errors, so a typo in a replacement
//! file is caught when it is loaded, not when a message is rendered.

use serde::Deserialize;

/// The default table, compiled in.
pub const DEFAULT_MAPPING_TOML: &str = include_str!("../../mappings/shanghai-2017.toml");

/// Why a mapping table was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    /// Not TOML, a missing key or an unknown key (the message names it).
    #[error("shanghai mapping: {0}")]
    Toml(String),
    /// A value that cannot be an XML element name.
    #[error("shanghai mapping: {key} = {value:?} is not an XML element name")]
    NotAName { key: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShanghaiMapping {
    pub meta: Meta,
    pub envelope: EnvelopeNames,
    pub data_sets: DataSetNames,
    pub fields: FieldNames,
    pub summary: SummaryNames,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Written as the root's `specVersion` attribute.
    pub spec_version: String,
    /// The elements' XML namespace; empty for none.
    #[serde(default)]
    pub namespace: String,
}

/// Declares a struct of element names, and the list of (key, name) pairs
/// that validation walks, from one list of fields.
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($field:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(pub $field: String,)*
        }

        impl $name {
            fn pairs(&self) -> Vec<(&'static str, &str)> {
                vec![$((stringify!($field), self.$field.as_str()),)*]
            }
        }
    };
}

names!(
    /// `[envelope]`: the daily envelope and its header.
    EnvelopeNames {
        root, header, message_id, hospital, report_date, sender, sent_at, counts,
        receipt_count, issue_count, stock_count, transfusion_count, reaction_count,
        identity_count,
    }
);

names!(
    /// `[data_sets]`: each data set's container and record element.
    DataSetNames {
        receipts, receipt, issues, issue, stock, stock_line, transfusions,
        transfusion, reactions, reaction, identities, identity,
    }
);

names!(
    /// `[fields]`: the fields of the records.
    FieldNames {
        hospital, record_id, action, din, product_code, product_name, abo, rh,
        quantity, measure, volume_ml, received_at, issued_at, stock_at, started_at,
        ended_at, occurred_at, expires, station, ward, patient_key, diagnosis_icd10,
        diagnosis_name, reaction_type, severity, description, name_masked,
        id_number_hash, id_type, sex, donor_key, relationship,
    }
);

names!(
    /// `[summary]`: the day's aggregate figures.
    SummaryNames {
        root, version, status, amends, computed_at, timezone, lines, line, category,
        received, crossmatched, issued, transfused, returned, discarded, transferred,
        stock_computed, stock_reported, stock_difference, patients_transfused,
        reaction_counts, reaction_count, count, discards, discard, reason, changes,
        change, path, from, to,
    }
);

impl Default for ShanghaiMapping {
    fn default() -> Self {
        ShanghaiMapping::from_toml(DEFAULT_MAPPING_TOML)
            .expect("the compiled-in Shanghai mapping is valid (tested)")
    }
}

impl ShanghaiMapping {
    /// Reads and checks a mapping table.
    pub fn from_toml(text: &str) -> Result<ShanghaiMapping, MappingError> {
        let mapping: ShanghaiMapping =
            toml::from_str(text).map_err(|e| MappingError::Toml(e.message().to_owned()))?;
        let sections = [
            ("envelope", mapping.envelope.pairs()),
            ("data_sets", mapping.data_sets.pairs()),
            ("fields", mapping.fields.pairs()),
            ("summary", mapping.summary.pairs()),
        ];
        for (section, pairs) in sections {
            for (key, value) in pairs {
                if !is_xml_name(value) {
                    return Err(MappingError::NotAName {
                        key: format!("{section}.{key}"),
                        value: value.to_owned(),
                    });
                }
            }
        }
        Ok(mapping)
    }
}

/// An element name without a prefix (XML 1.0 NCName, approximated with
/// Unicode classes: a letter or `_` first, then letters, digits, `_ - .`).
/// Names starting with `xml` in any case are reserved.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_loads() {
        let m = ShanghaiMapping::default();
        assert_eq!(m.envelope.root, "BloodUseDailyReport");
        assert_eq!(m.fields.diagnosis_icd10, "PrincipalDiagnosisICD10");
    }

    #[test]
    fn a_missing_key_is_named() {
        let text = DEFAULT_MAPPING_TOML.replace("ward = \"Ward\"\n", "");
        let err = ShanghaiMapping::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("ward"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let text = DEFAULT_MAPPING_TOML.replace("ward = \"Ward\"", "ward = \"Ward\"\nwrad = \"W\"");
        let err = ShanghaiMapping::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("wrad"), "{err}");
    }

    #[test]
    fn a_value_that_is_not_a_name_is_refused() {
        for bad in ["", "Ward Name", "1Ward", "a<b", "xmlWard", "ns:Ward"] {
            let text = DEFAULT_MAPPING_TOML.replace("ward = \"Ward\"", &format!("ward = {bad:?}"));
            assert_eq!(
                ShanghaiMapping::from_toml(&text),
                Err(MappingError::NotAName {
                    key: "fields.ward".into(),
                    value: bad.into()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn chinese_names_are_names() {
        let text = DEFAULT_MAPPING_TOML.replace("ward = \"Ward\"", "ward = \"科室\"");
        assert_eq!(
            ShanghaiMapping::from_toml(&text).unwrap().fields.ward,
            "科室"
        );
    }
}
