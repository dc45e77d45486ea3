//! PID → canonical [`Patient`]. Used by every message type that carries a
//! patient (ADT, OMB, BPS, BTS).
//!
//! - key: PID-3, the first repetition typed MR/PI/PT/PN (CX.5), else the
//!   first repetition that is not an identity document;
//! - resident ID (居民身份证号): a PID-3 repetition typed NNCHN/NI/ID/RI/CZ
//!   or whose assigning authority (CX.4) says 身份证, else PID-19; kept only
//!   when it passes the GB 11643 check;
//! - name: PID-5, first repetition: family (XPN.1.1) and given (XPN.2);
//! - sex: PID-8; birth date: PID-7 (date part).
//!
//! Issue messages name fields, never values: this is where names and ID
//! numbers live.

use crate::reader::{Repetition, Segment};
use crate::{ErrorCode, Issue, Severity};
use chrono::NaiveDate;
use hemobridge_canonical::{ids, IdType, Patient, Sensitive, Sex};

/// The last PID field read (PID-19).
pub(crate) const LAST_FIELD: usize = 19;

/// Identifier types (table 0203) that name the hospital's own patient record.
const PATIENT_RECORD_TYPES: [&str; 4] = ["MR", "PI", "PT", "PN"];
/// Identifier types that mark a national identity number: HL7's NNCHN (and
/// NI, national unique individual identifier) and the local codes Chinese
/// HIS send.
const RESIDENT_ID_TYPES: [&str; 5] = ["NNCHN", "NI", "ID", "RI", "CZ"];
/// Identity documents, never used as the patient key: the key travels in
/// clear in events and traces.
const IDENTITY_DOCUMENT_TYPES: [&str; 7] = ["NNCHN", "NI", "ID", "RI", "CZ", "PPN", "SS"];

/// Reads one PID segment. `None` (with an error) when there is no usable
/// patient key.
pub(crate) fn patient(pid: &Segment, facility: &str, issues: &mut Vec<Issue>) -> Option<Patient> {
    let key = patient_key(pid, issues)?;
    let mut patient = Patient::new(facility, key);
    read_resident_id(pid, &mut patient, issues);
    patient.name = name(pid.field(5).first()).map(Sensitive::new);
    read_sex(pid, &mut patient, issues);
    read_birth_date(pid, &mut patient, issues);
    Some(patient)
}

fn id_type(repetition: &Repetition) -> String {
    repetition.component(5).trim().to_ascii_uppercase()
}

fn is_resident_id(repetition: &Repetition) -> bool {
    RESIDENT_ID_TYPES.contains(&id_type(repetition).as_str())
        || repetition.component_raw(4).contains("身份证")
}

fn patient_key(pid: &Segment, issues: &mut Vec<Issue>) -> Option<String> {
    let ids = pid.field(3);
    if ids.is_empty() {
        issues.push(pid.issue(
            ErrorCode::RequiredFieldMissing,
            3,
            "PID-3 (patient identifier list) is empty",
        ));
        return None;
    }
    let with_value = || ids.repetitions().filter(|r| !r.component(1).is_empty());
    let key = with_value()
        .find(|r| PATIENT_RECORD_TYPES.contains(&id_type(r).as_str()))
        .or_else(|| {
            with_value().find(|r| {
                !IDENTITY_DOCUMENT_TYPES.contains(&id_type(r).as_str()) && !is_resident_id(r)
            })
        });
    match key {
        Some(r) => Some(r.component(1).into_owned()),
        None => {
            issues.push(
                pid.issue(
                    ErrorCode::RequiredFieldMissing,
                    3,
                    "PID-3 holds no patient record identifier (only identity documents or empty IDs)",
                )
                .component(1),
            );
            None
        }
    }
}

/// Candidates in order: typed PID-3 repetitions, then PID-19. The first one
/// that passes GB 11643 is kept; if none does, the type is `Other` and the
/// number is dropped (it may be a foreign document or a typing slip, and an
/// unchecked number must not pass for a resident ID).
fn read_resident_id(pid: &Segment, patient: &mut Patient, issues: &mut Vec<Issue>) {
    let typed: Vec<_> = pid
        .field(3)
        .repetitions()
        .filter(is_resident_id)
        .map(|r| r.component(1))
        .filter(|v| !v.is_empty())
        .collect();
    let pid19 = pid.field(19).text();
    let candidates = typed.iter().chain((!pid19.is_empty()).then_some(&pid19));
    let mut any = false;
    for candidate in candidates {
        any = true;
        if ids::resident_id_valid(candidate) {
            patient.id_type = Some(IdType::ResidentId);
            patient.id_number = Some(Sensitive::new(candidate.to_ascii_uppercase()));
            return;
        }
    }
    if any {
        patient.id_type = Some(IdType::Other);
    }
    // PID-19 is a US social security number in the standard, so only a
    // repetition that says it is a resident ID earns a warning.
    if !typed.is_empty() {
        issues.push(
            pid.issue(
                ErrorCode::DataType,
                3,
                "PID-3 resident ID number fails the GB 11643 check; not kept",
            )
            .severity(Severity::Warning),
        );
    }
}

/// Chinese names are written family-then-given without a space (王 + 小明 →
/// 王小明); others as "given family".
fn name(xpn: Repetition) -> Option<String> {
    let family = xpn.subcomponent(1, 1);
    let given = xpn.component(2);
    let (family, given) = (family.trim(), given.trim());
    match (family.is_empty(), given.is_empty()) {
        (true, true) => None,
        (false, true) => Some(family.to_string()),
        (true, false) => Some(given.to_string()),
        (false, false) if is_cjk(family) || is_cjk(given) => Some(format!("{family}{given}")),
        (false, false) => Some(format!("{given} {family}")),
    }
}

fn is_cjk(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c,
            '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3134F}')
    })
}

fn read_sex(pid: &Segment, patient: &mut Patient, issues: &mut Vec<Issue>) {
    let value = pid.field(8).text();
    if value.is_empty() {
        return;
    }
    patient.sex = Sex::parse(&value);
    if patient.sex.is_none() {
        issues.push(
            pid.issue(
                ErrorCode::TableValueNotFound,
                8,
                "PID-8 (sex) is not an HL7 table 0001 or GB/T 2261.1 code; not kept",
            )
            .severity(Severity::Warning),
        );
    }
}

/// The date part of PID-7. A birth date given to the year or month only is
/// too vague to keep and is dropped silently.
fn read_birth_date(pid: &Segment, patient: &mut Patient, issues: &mut Vec<Issue>) {
    let value = pid.field(7).text();
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    if value.is_empty() || (digits < 8 && digits == value.len()) {
        return;
    }
    let date = (digits >= 8)
        .then(|| NaiveDate::parse_from_str(&value[..8], "%Y%m%d").ok())
        .flatten();
    match date {
        Some(d) => patient.birth_date = Some(d),
        None => issues.push(
            pid.issue(
                ErrorCode::DataType,
                7,
                "PID-7 (birth date) is not a date; not kept",
            )
            .severity(Severity::Warning),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_str;
    use crate::reader::{Body, SegmentRead};

    fn read(pid: &str) -> (Option<Patient>, Vec<Issue>) {
        let decoded = decode_str(&format!("MSH|^~\\&|HIS|H1|||||ADT^A01|1|P|2.5\r{pid}"));
        let (body, _) = Body::parse(
            &decoded.text,
            &decoded.header,
            &[SegmentRead::new("PID", LAST_FIELD)],
        );
        let mut issues = Vec::new();
        let p = patient(body.first("PID").unwrap(), "H1", &mut issues);
        (p, issues)
    }

    #[test]
    fn chinese_patient_with_valid_resident_id() {
        let (p, issues) = read(
            "PID|1||110105194912310021^^^^NNCHN~ZY0001^^^H1^MR||王^小明||19491231000000|F|||||||||||11010519491231002X",
        );
        let p = p.unwrap();
        assert_eq!(p.key, "ZY0001");
        assert_eq!(p.facility, "H1");
        assert_eq!(p.id_type, Some(IdType::ResidentId));
        // The typed repetition fails the check; PID-19 passes.
        assert_eq!(p.id_number.as_ref().unwrap().expose(), "11010519491231002X");
        assert_eq!(p.name.as_ref().unwrap().expose(), "王小明");
        assert_eq!(p.sex, Some(Sex::F));
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31));
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn authority_named_identity_card_and_latin_names() {
        let (p, issues) =
            read("PID|1||P9^^^^XX~11010519491231002X^^^居民身份证||DOE^JANE^Q||1978|X");
        let p = p.unwrap();
        assert_eq!(p.key, "P9");
        assert_eq!(p.id_type, Some(IdType::ResidentId));
        assert_eq!(p.name.unwrap().expose(), "JANE DOE");
        assert_eq!(p.birth_date, None);
        assert_eq!(p.sex, None);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, Some(8));
    }

    #[test]
    fn invalid_ids_become_other_and_missing_keys_are_errors() {
        let (p, issues) = read("PID|1||P1^^^^MR||^明||19491331|M|||||||||||123");
        let p = p.unwrap();
        assert_eq!((p.id_type, p.id_number), (Some(IdType::Other), None));
        assert_eq!(p.name.unwrap().expose(), "明");
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, Some(7));

        let (p, issues) = read("PID|1||P1^^^^MR~110105194912310021^^^^NNCHN");
        assert_eq!(p.unwrap().id_type, Some(IdType::Other));
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].severity, Severity::Warning);
        assert!(!issues[0].message.contains("110105"));

        let (p, issues) = read("PID|1||");
        assert!(p.is_none());
        assert_eq!(issues[0].code, ErrorCode::RequiredFieldMissing);
        let (p, issues) = read("PID|1||11010519491231002X^^^^NNCHN");
        assert!(p.is_none());
        assert_eq!(issues[0].component, Some(1));
    }
}
