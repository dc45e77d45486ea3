//! Bad records are refused before rendering, with every bad field named by
//! its path.

mod common;

use common::*;
use hemobridge_outbound::shanghai::{self, ShanghaiConfig};

fn paths(day: &hemobridge_outbound::shanghai::DayRecords) -> Vec<String> {
    match shanghai::daily(day, &ShanghaiConfig::default(), &envelope("c")) {
        Ok(_) => vec![],
        Err(e) => e.0.into_iter().map(|f| f.path).collect(),
    }
}

#[test]
fn a_good_day_has_no_errors() {
    assert_eq!(paths(&records(4)), Vec::<String>::new());
    assert_eq!(paths(&empty_records()), Vec::<String>::new());
}

#[test]
fn every_bad_field_is_named() {
    let mut day = records(3);
    day.receipts[1].din = " ".into();
    day.receipts[2].abo = Some("C".into());
    day.issues[0].quantity = f64::NAN;
    day.issues[1].measure = "bag".into();
    day.stock[0].quantity = -1.0;
    day.transfusions[0].diagnosis_icd10 = Some("缺铁性贫血".into());
    day.transfusions[1].ended_at = Some(time("2026-11-24T13:00:00+08:00"));
    day.transfusions[2].record_id = day.transfusions[0].record_id.clone();
    day.reactions[0].severity = "slight".into();
    day.identities[0].relationship = Some("cousin-in-law".into());
    day.identities[0].name_masked = Some("王\u{1}明".into());
    assert_eq!(
        paths(&day),
        [
            "receipts[1].din",
            "receipts[2].abo",
            "issues[0].quantity",
            "issues[1].measure",
            "stock[0].quantity",
            "transfusions[0].diagnosisIcd10",
            "transfusions[1].endedAt",
            "transfusions[2].recordId",
            "reactions[0].severity",
            "identities[0].nameMasked",
            "identities[0].relationship",
        ]
    );
}

#[test]
fn the_error_says_what_is_wrong() {
    let mut day = records(1);
    day.transfusions[0].diagnosis_icd10 = Some("D5".into());
    let err = shanghai::daily(&day, &ShanghaiConfig::default(), &envelope("c")).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert!(err.0[0].message.contains("ICD-10"), "{}", err.0[0].message);
    assert!(
        err.to_string().contains("transfusions[0].diagnosisIcd10"),
        "{err}"
    );
}

#[test]
fn a_record_id_may_repeat_across_data_sets() {
    let mut day = records(1);
    day.issues[0].record_id = day.receipts[0].record_id.clone();
    assert_eq!(paths(&day), Vec::<String>::new());
}
