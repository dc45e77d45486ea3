//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hemobridge_hl7::{decode, map_message, Config, Decoded, Issue, Mapping};
use std::path::PathBuf;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn decoded(raw: &[u8]) -> Decoded {
    decode(raw, &Config::default()).unwrap_or_else(|e| panic!("decode failed: {e}"))
}

/// Decodes and maps UTF-8 text (segments may be separated by `\r` or `\n`).
pub fn map_text(text: &str) -> Mapping {
    map_message(&decoded(text.as_bytes()), &Config::default())
}

pub fn mapped(mapping: Mapping) -> hemobridge_canonical::Normalized {
    match mapping {
        Mapping::Mapped(n) => n,
        other => panic!("expected Mapped, got {other:#?}"),
    }
}

pub fn invalid(mapping: Mapping) -> Vec<Issue> {
    match mapping {
        Mapping::Invalid(issues) => issues,
        other => panic!("expected Invalid, got {other:#?}"),
    }
}

/// `(segment, sequence, field, code)` of each issue, for compact asserts.
pub fn locations(issues: &[Issue]) -> Vec<(String, usize, Option<usize>, u16)> {
    issues
        .iter()
        .map(|i| (i.segment.clone(), i.sequence, i.field, i.code.code()))
        .collect()
}

pub const MSH_BPS: &str =
    "MSH|^~\\&|BIS|H310001|HEMOBRIDGE|SHBLOOD|20261122103015+0800||BPS^O29^BPS_O29|C1|P|2.5";
pub const MSH_BTS: &str =
    "MSH|^~\\&|BIS|H310001|HEMOBRIDGE|SHBLOOD|20261122103015+0800||BTS^O31^BTS_O31|C2|P|2.5";
