//! Field-level checks of the day's records before they are rendered: what
//! the XSD would refuse (and what the platform could not use) is named here,
//! path by path, instead of surfacing as a rejected delivery.

use super::records::{BloodUser, DayRecords, Reaction, StockLine, Transfusion, UnitMovement};
use std::collections::HashSet;

/// One bad field: `transfusions[2].diagnosisIcd10` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// Every bad field of a day's records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s), first: {}: {}", .0.len(), .0[0].path, .0[0].message)]
pub struct InvalidRecords(pub Vec<FieldError>);

struct Checker {
    errors: Vec<FieldError>,
}

const MEASURES: [&str; 3] = ["U", "mL", "dose"];
const ABO: [&str; 4] = ["A", "B", "O", "AB"];
const RH: [&str; 2] = ["+", "-"];
const REACTION_TYPES: [&str; 4] = ["febrile", "allergic", "haemolytic", "other"];
const SEVERITIES: [&str; 5] = ["mild", "moderate", "severe", "death", "unknown"];
const SEXES: [&str; 3] = ["male", "female", "unknown"];
const RELATIONSHIPS: [&str; 7] = [
    "self",
    "spouse",
    "parent",
    "child",
    "sibling",
    "spouse-parent",
    "other",
];

impl Checker {
    fn fail(&mut self, path: String, message: impl Into<String>) {
        self.errors.push(FieldError {
            path,
            message: message.into(),
        });
    }

    /// Text XML 1.0 can carry (no C0 controls but tab and line breaks).
    fn text(&mut self, path: String, value: &str, required: bool) {
        if required && value.trim().is_empty() {
            self.fail(path, "required, must not be empty");
        } else if value.chars().any(|c| {
            (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
        }) {
            self.fail(path, "contains a control character XML cannot carry");
        }
    }

    fn opt_text(&mut self, path: String, value: Option<&str>) {
        if let Some(v) = value {
            self.text(path, v, true);
        }
    }

    fn one_of(&mut self, path: String, value: Option<&str>, allowed: &[&str]) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.fail(path, format!("{v:?} is not one of {}", allowed.join(", ")));
            }
        }
    }

    fn quantity(&mut self, path: String, value: f64) {
        if !value.is_finite() || value < 0.0 {
            self.fail(
                path,
                format!("{value} is not a quantity (finite, not negative)"),
            );
        }
    }

    fn icd10(&mut self, path: String, value: Option<&str>) {
        if let Some(code) = value {
            if !is_icd10(code) {
                self.fail(
                    path,
                    format!("{code:?} is not an ICD-10 code (a letter, two digits, optionally a dot and up to 10 more characters)"),
                );
            }
        }
    }

    /// The fields every record has.
    fn record(&mut self, at: &str, record_id: &str, ids: &mut HashSet<String>) {
        self.text(format!("{at}.recordId"), record_id, true);
        if !ids.insert(record_id.to_owned()) {
            self.fail(
                format!("{at}.recordId"),
                format!("{record_id:?} appears twice in this data set; send the latest state once"),
            );
        }
    }

    /// Product, group and quantity, shared by movements, stock and transfusions.
    #[allow(clippy::too_many_arguments)]
    fn product(
        &mut self,
        at: &str,
        product: &str,
        name: Option<&str>,
        abo: Option<&str>,
        rh: Option<&str>,
        quantity: f64,
        measure: &str,
    ) {
        self.text(format!("{at}.product"), product, true);
        self.opt_text(format!("{at}.productName"), name);
        self.one_of(format!("{at}.abo"), abo, &ABO);
        self.one_of(format!("{at}.rh"), rh, &RH);
        self.quantity(format!("{at}.quantity"), quantity);
        self.one_of(format!("{at}.measure"), Some(measure), &MEASURES);
    }

    fn movement(&mut self, at: &str, m: &UnitMovement, ids: &mut HashSet<String>) {
        self.record(at, &m.record_id, ids);
        self.text(format!("{at}.din"), &m.din, true);
        self.product(
            at,
            &m.product,
            m.product_name.as_deref(),
            m.abo.as_deref(),
            m.rh.as_deref(),
            m.quantity,
            &m.measure,
        );
        self.opt_text(format!("{at}.station"), m.station.as_deref());
        self.opt_text(format!("{at}.ward"), m.ward.as_deref());
        self.opt_text(format!("{at}.patientKey"), m.patient_key.as_deref());
    }

    fn stock(&mut self, at: &str, s: &StockLine, ids: &mut HashSet<String>) {
        self.record(at, &s.record_id, ids);
        self.product(
            at,
            &s.product,
            s.product_name.as_deref(),
            s.abo.as_deref(),
            s.rh.as_deref(),
            s.quantity,
            &s.measure,
        );
    }

    fn transfusion(&mut self, at: &str, t: &Transfusion, ids: &mut HashSet<String>) {
        self.record(at, &t.record_id, ids);
        self.text(format!("{at}.din"), &t.din, true);
        self.product(
            at,
            &t.product,
            t.product_name.as_deref(),
            t.abo.as_deref(),
            t.rh.as_deref(),
            t.quantity,
            &t.measure,
        );
        self.text(format!("{at}.patientKey"), &t.patient_key, true);
        self.opt_text(format!("{at}.ward"), t.ward.as_deref());
        self.icd10(format!("{at}.diagnosisIcd10"), t.diagnosis_icd10.as_deref());
        self.opt_text(format!("{at}.diagnosisName"), t.diagnosis_name.as_deref());
        if let Some(end) = t.ended_at {
            if end < t.started_at {
                self.fail(format!("{at}.endedAt"), "ends before it starts");
            }
        }
    }

    fn reaction(&mut self, at: &str, r: &Reaction, ids: &mut HashSet<String>) {
        self.record(at, &r.record_id, ids);
        self.opt_text(format!("{at}.din"), r.din.as_deref());
        self.opt_text(format!("{at}.product"), r.product.as_deref());
        self.text(format!("{at}.patientKey"), &r.patient_key, true);
        self.one_of(format!("{at}.category"), Some(&r.category), &REACTION_TYPES);
        self.one_of(format!("{at}.severity"), Some(&r.severity), &SEVERITIES);
        if let Some(d) = &r.description {
            self.text(format!("{at}.description"), d, false);
        }
    }

    fn identity(&mut self, at: &str, u: &BloodUser, ids: &mut HashSet<String>) {
        self.record(at, &u.record_id, ids);
        self.text(format!("{at}.patientKey"), &u.patient_key, true);
        self.opt_text(format!("{at}.nameMasked"), u.name_masked.as_deref());
        self.opt_text(format!("{at}.idNumberHash"), u.id_number_hash.as_deref());
        self.opt_text(format!("{at}.idType"), u.id_type.as_deref());
        self.one_of(format!("{at}.sex"), u.sex.as_deref(), &SEXES);
        self.one_of(format!("{at}.abo"), u.abo.as_deref(), &ABO);
        self.one_of(format!("{at}.rh"), u.rh.as_deref(), &RH);
        self.opt_text(format!("{at}.donorKey"), u.donor_key.as_deref());
        self.one_of(
            format!("{at}.relationship"),
            u.relationship.as_deref(),
            &RELATIONSHIPS,
        );
    }
}

/// `D50`, `D50.0`, `C34.900x001` (the Chinese clinical edition's extension).
fn is_icd10(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_digit()
    {
        return false;
    }
    match &b[3..] {
        [] => true,
        [b'.', rest @ ..] => {
            (1..=10).contains(&rest.len()) && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        _ => false,
    }
}

/// Checks every record; all errors at once, or nothing.
pub fn check(day: &DayRecords) -> Result<(), InvalidRecords> {
    let mut c = Checker { errors: Vec::new() };
    c.text("hospital".into(), &day.hospital, true);
    let mut ids = HashSet::new();
    for (i, m) in day.receipts.iter().enumerate() {
        c.movement(&format!("receipts[{i}]"), m, &mut ids);
    }
    let mut ids = HashSet::new();
    for (i, m) in day.issues.iter().enumerate() {
        c.movement(&format!("issues[{i}]"), m, &mut ids);
    }
    let mut ids = HashSet::new();
    for (i, s) in day.stock.iter().enumerate() {
        c.stock(&format!("stock[{i}]"), s, &mut ids);
    }
    let mut ids = HashSet::new();
    for (i, t) in day.transfusions.iter().enumerate() {
        c.transfusion(&format!("transfusions[{i}]"), t, &mut ids);
    }
    let mut ids = HashSet::new();
    for (i, r) in day.reactions.iter().enumerate() {
        c.reaction(&format!("reactions[{i}]"), r, &mut ids);
    }
    let mut ids = HashSet::new();
    for (i, u) in day.identities.iter().enumerate() {
        c.identity(&format!("identities[{i}]"), u, &mut ids);
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(InvalidRecords(c.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::is_icd10;

    #[test]
    fn icd10_codes() {
        for good in ["D50", "D50.0", "C34.900x001", "O72.1"] {
            assert!(is_icd10(good), "{good}");
        }
        for bad in [
            "",
            "d50",
            "D5",
            "D50.",
            "D500",
            "D50.0 ",
            "缺铁性贫血",
            "D50.12345678901",
        ] {
            assert!(!is_icd10(bad), "{bad}");
        }
    }
}
