//! Deterministic FHIR ids.
//!
//! A resource's id is a pure function of its natural key, so that exporting
//! the same fact twice gives the same id and a transaction `PUT` is
//! idempotent. FHIR ids are `[A-Za-z0-9\-\.]{1,64}`: a key that fits is kept
//! readable (`bdp-W000026000001-RBC-LR`); one that does not (Chinese text,
//! `/`, too long) gets its invalid characters replaced and a SHA-256 suffix of
//! the original, so that two different keys never share an id.

use sha2::{Digest, Sha256};

/// The longest id FHIR allows.
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` is a valid FHIR id.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Joins `parts` with `-` and makes the result a valid FHIR id.
pub fn fhir_id(parts: &[&str]) -> String {
    let joined = parts.join("-");
    if is_valid_id(&joined) {
        return joined;
    }
    let cleaned: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let digest = hex::encode(Sha256::digest(joined.as_bytes()));
    // 47 readable characters, a dash, 16 hex digits of the hash: 64.
    let keep: String = cleaned.chars().take(MAX_ID_LEN - 17).collect();
    format!("{keep}-{}", &digest[..16])
}

/// `Patient`: the hospital's own patient key, scoped by the hospital.
pub fn patient_id(facility: &str, patient_key: &str) -> String {
    fhir_id(&["pat", facility, patient_key])
}

/// `Organization`: a hospital or blood station by its facility code.
pub fn organization_id(facility: &str) -> String {
    fhir_id(&["org", facility])
}

/// `BiologicallyDerivedProduct`: one component (DIN + product code).
pub fn product_id(din: &str, product: &str) -> String {
    fhir_id(&["bdp", din, product])
}

/// `BiologicallyDerivedProductDispense`: one allocation, issue or return
/// event, by the event's natural key.
pub fn dispense_id(event_key: &str) -> String {
    fhir_id(&["bdpd", event_key])
}

/// `Procedure`: one transfusion event.
pub fn procedure_id(event_key: &str) -> String {
    fhir_id(&["tx", event_key])
}

/// `AdverseEvent`: one reaction event.
pub fn adverse_event_id(event_key: &str) -> String {
    fhir_id(&["ae", event_key])
}

/// `Claim`: one direct-waiver claim of a hospital.
pub fn claim_id(hospital: &str, claim_id: &str) -> String {
    fhir_id(&["waiver", hospital, claim_id])
}

/// `MeasureReport`: a hospital's daily submission (every version of a day
/// shares the id, so an amendment replaces the earlier version).
pub fn daily_report_id(hospital: &str, date: &str) -> String {
    fhir_id(&["daily", hospital, date])
}

/// The ways an id built from `prefix-a-b` may split back into `(a, b)`,
/// for keys that themselves contain `-`. The caller checks each candidate
/// against the store and against the id function (a hashed id matches no
/// candidate, and is then not resolvable: see `docs/fhir.md`).
pub fn split_candidates<'a>(id: &'a str, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let Some(rest) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return Vec::new();
    };
    rest.match_indices('-')
        .map(|(i, _)| (&rest[..i], &rest[i + 1..]))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect()
}

/// The single key after `prefix-` (event keys, facility codes).
pub fn strip_prefix<'a>(id: &'a str, prefix: &str) -> Option<&'a str> {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_keys_stay_readable() {
        assert_eq!(
            product_id("W000026000001", "RBC-LR"),
            "bdp-W000026000001-RBC-LR"
        );
        assert_eq!(patient_id("H310001", "P123"), "pat-H310001-P123");
    }

    #[test]
    fn invalid_keys_become_valid_and_distinct() {
        let a = patient_id("H1", "住院/0001");
        let b = patient_id("H1", "住院/0002");
        assert!(is_valid_id(&a), "{a}");
        assert!(is_valid_id(&b), "{b}");
        assert_ne!(a, b);
        let long = "x".repeat(200);
        let id = patient_id("H1", &long);
        assert_eq!(id.len(), MAX_ID_LEN);
        assert!(is_valid_id(&id));
        assert_ne!(id, patient_id("H1", &"x".repeat(201)));
    }

    #[test]
    fn ids_are_deterministic() {
        assert_eq!(claim_id("H1", "C/1"), claim_id("H1", "C/1"));
    }

    #[test]
    fn split_candidates_cover_every_dash() {
        let c = split_candidates("bdp-W000026000001-RBC-LR", "bdp");
        assert!(c.contains(&("W000026000001", "RBC-LR")));
        assert!(c.contains(&("W000026000001-RBC", "LR")));
        assert!(split_candidates("pat-H1-P1", "bdp").is_empty());
        assert_eq!(strip_prefix("tx-abc", "tx"), Some("abc"));
        assert_eq!(strip_prefix("tx-", "tx"), None);
    }
}
