//! The realistic fixtures under tests/fixtures, mapped end to end
//! (bytes → decode → map_message), with every canonical value checked.

mod common;

use chrono::{DateTime, FixedOffset};
use common::{decoded, fixture, mapped};
use hemobridge_canonical::{
    Abo, EventKind, IdType, Measure, Normalized, Product, ReactionCategory, Rh, Sex, UnitEvent,
};
use hemobridge_hl7::{map_message, Charset, Config};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn map_fixture(name: &str) -> Normalized {
    let d = decoded(&fixture(name));
    mapped(map_message(&d, &Config::default()))
}

fn kinds(events: &[UnitEvent]) -> Vec<(EventKind, &str)> {
    events
        .iter()
        .map(|e| (e.kind, e.unit.din.as_str()))
        .collect()
}

#[test]
fn bps_o29_every_dispense_status() {
    let n = map_fixture("bps_o29.hl7");

    assert_eq!(n.patients.len(), 1);
    let p = &n.patients[0];
    assert_eq!(
        (p.facility.as_str(), p.key.as_str()),
        ("H310001", "ZY20260001")
    );
    assert_eq!(p.id_type, Some(IdType::ResidentId));
    assert_eq!(p.id_number.as_ref().unwrap().expose(), "310104198507213217");
    assert_eq!(p.name.as_ref().unwrap().expose(), "王小明");
    assert_eq!(p.sex, Some(Sex::M));

    assert_eq!(
        kinds(&n.events),
        [
            (EventKind::Received, "W000026000001"),
            (EventKind::Crossmatched, "W000026000001"),
            (EventKind::Reserved, "W000026000001"),
            (EventKind::Issued, "W000026000001"),
            (EventKind::Transfused, "W000026000001"),
            (EventKind::Discarded, "W000026000002"),
            (EventKind::Transfused, "W000026000003"),
            (EventKind::Reaction, "W000026000003"),
        ]
    );
    let e = &n.events;
    // CR is general inventory: no patient. Every other step is the patient's.
    assert_eq!(e[0].patient_key, None);
    assert!(e[1..]
        .iter()
        .all(|e| e.patient_key.as_deref() == Some("ZY20260001")));
    assert!(e.iter().all(|e| e.facility == "H310001"));
    assert_eq!(e[0].at, at("2026-11-22T08:00:00+08:00"));
    assert_eq!(e[0].detail.source_status.as_deref(), Some("CR"));
    assert_eq!(e[1].detail.result.as_deref(), Some("compatible"));
    assert_eq!(e[2].detail.source_status.as_deref(), Some("RS"));
    assert_eq!(e[3].detail.ward.as_deref(), Some("W5"));
    assert!(!e[4].detail.presumed);
    assert_eq!(e[5].at, at("2026-11-22T09:30:00+08:00"));
    assert_eq!(e[7].detail.reaction_type.as_deref(), Some("unspecified"));
    assert_eq!(e[7].detail.reaction_category, Some(ReactionCategory::Other));
    assert!(e
        .iter()
        .all(|e| e.unit.product == Product::RbcLr || e.unit.din == "W000026000002"));

    assert_eq!(n.units.len(), 3);
    let red = &n.units[0];
    assert_eq!(
        (red.din.as_str(), red.product),
        ("W000026000001", Product::RbcLr)
    );
    assert_eq!((red.abo, red.rh), (Some(Abo::O), Some(Rh::Pos)));
    assert_eq!((red.quantity, red.measure), (Some(1.0), Measure::U));
    assert_eq!(red.expires, Some(at("2026-12-10T23:59:59+08:00")));
    assert_eq!(red.station, None);
    let plasma = &n.units[1];
    assert_eq!(plasma.product, Product::PlsFfp);
    assert_eq!((plasma.abo, plasma.rh), (Some(Abo::A), Some(Rh::Pos)));
    assert_eq!(
        (plasma.volume_ml, plasma.quantity),
        (Some(200), Some(200.0))
    );
    let third = &n.units[2];
    assert_eq!(
        (third.abo, third.rh, third.quantity),
        (Some(Abo::O), Some(Rh::Pos), Some(2.0))
    );
}

#[test]
fn bts_o31_transfusion_times_and_reactions() {
    let n = map_fixture("bts_o31.hl7");
    assert_eq!(
        kinds(&n.events),
        [
            (EventKind::Transfused, "W000026000001"),
            (EventKind::Transfused, "W000026000003"),
            (EventKind::Reaction, "W000026000003"),
            (EventKind::Reaction, "W000026000003"),
            (EventKind::Returned, "W000026000004"),
        ]
    );
    let e = &n.events;
    // Transfused at the end of the transfusion, with start and end.
    assert_eq!(e[0].at, at("2026-11-22T11:10:00+08:00"));
    assert_eq!(e[0].detail.start, Some(at("2026-11-22T10:10:00+08:00")));
    assert_eq!(e[0].detail.end, Some(at("2026-11-22T11:10:00+08:00")));
    assert_eq!(e[0].detail.source_status.as_deref(), Some("TX"));
    assert_eq!(e[1].at, at("2026-11-22T10:40:00+08:00"));
    assert_eq!(
        e[1].detail.reason.as_deref(),
        Some("出现输血反应，停止输注")
    );
    assert_eq!(e[2].detail.reaction_type.as_deref(), Some("NONHTR1"));
    assert_eq!(
        e[2].detail.reaction_category,
        Some(ReactionCategory::Febrile)
    );
    assert_eq!(e[3].detail.reaction_type.as_deref(), Some("ALLERGIC1"));
    assert_eq!(
        e[3].detail.reaction_category,
        Some(ReactionCategory::Allergic)
    );
    assert_eq!(e[2].at, at("2026-11-22T10:45:00+08:00"));
    assert_eq!(e[4].at, at("2026-11-22T12:00:00+08:00"));
    assert!(!e[4].detail.keep_linked);
    assert!(e
        .iter()
        .all(|e| e.patient_key.as_deref() == Some("ZY20260001")));
    let returned_plasma = n.units.iter().find(|u| u.din == "W000026000004").unwrap();
    assert_eq!(returned_plasma.volume_ml, Some(200));
}

#[test]
fn omb_o27_yields_the_patient_only() {
    let n = map_fixture("omb_o27.hl7");
    assert_eq!(n.patients.len(), 1);
    assert_eq!(n.patients[0].key, "ZY20260001");
    assert!(n.units.is_empty() && n.events.is_empty());
}

#[test]
fn adt_a01_chinese_patient() {
    let raw = fixture("adt_a01.hl7");
    let d = decoded(&raw);
    assert_eq!(d.header.message_type(), "ADT^A01");
    let n = mapped(map_message(&d, &Config::default()));
    assert_eq!(n.patients.len(), 1);
    let p = &n.patients[0];
    assert_eq!(p.key, "ZY20260001");
    assert_eq!(p.id_type, Some(IdType::ResidentId));
    assert_eq!(p.id_number.as_ref().unwrap().expose(), "310104198507213217");
    assert_eq!(p.name.as_ref().unwrap().expose(), "王小明");
    assert_eq!(p.birth_date, chrono::NaiveDate::from_ymd_opt(1985, 7, 21));
    // The patient's identity never shows in debug output.
    let debug = format!("{n:?}");
    assert!(!debug.contains("王小明") && !debug.contains("310104198507213217"));
}

#[test]
fn gb18030_fixture_with_chinese_product_names() {
    let raw = fixture("bps_o29_gb18030.hl7");
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the fixture must be GB 18030 bytes"
    );
    let d = decoded(&raw);
    assert_eq!(d.header.charset, Charset::Gb18030);
    assert_eq!(d.header.sending_facility, "H310002");
    assert_eq!(d.header.sending_facility_field, "H310002^红磡医院^L");
    let n = mapped(map_message(&d, &Config::default()));
    assert_eq!(n.patients[0].name.as_ref().unwrap().expose(), "欧阳晓峰");
    assert_eq!(
        kinds(&n.events),
        [
            (EventKind::Issued, "W000026000011"),
            (EventKind::Received, "W000026000012"),
        ]
    );
    assert_eq!(n.events[0].detail.ward.as_deref(), Some("W7"));
    // RI: received for a specified patient.
    assert_eq!(n.events[1].patient_key.as_deref(), Some("ZY0002"));
    let red = &n.units[0];
    assert_eq!((red.product, red.quantity), (Product::RbcLr, Some(1.0)));
    let plasma = &n.units[1];
    assert_eq!(plasma.product, Product::PlsVi);
    assert_eq!((plasma.abo, plasma.rh), (Some(Abo::AB), Some(Rh::Neg)));
    assert_eq!(
        (plasma.volume_ml, plasma.quantity),
        (Some(150), Some(150.0))
    );
}

#[test]
fn gbk_fixture() {
    let raw = fixture("adt_a01_gbk.hl7");
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the fixture must be GBK bytes"
    );
    let d = decoded(&raw);
    assert_eq!(d.header.charset, Charset::Gbk);
    let n = mapped(map_message(&d, &Config::default()));
    let p = &n.patients[0];
    assert_eq!(p.key, "MZ0003");
    assert_eq!(p.name.as_ref().unwrap().expose(), "张三丰");
    assert_eq!(p.sex, Some(Sex::M));
    assert_eq!(p.id_type, Some(IdType::ResidentId));
}

#[test]
fn gb18030_written_by_encoding_rs_in_the_test() {
    let text = "MSH|^~\\&|BIS|H1|||20261122||BPS^O29|G1|P|2.5||||||GB18030\r\
                BPX|1|CR|F|20261122080000|W000026000021|^洗涤红细胞|||||B型Rh阳性||||||";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let n = mapped(map_message(&decoded(&bytes), &Config::default()));
    assert_eq!(n.units[0].product, Product::RbcWash);
    assert_eq!(
        (n.units[0].abo, n.units[0].rh),
        (Some(Abo::B), Some(Rh::Pos))
    );
}

#[test]
fn events_serialise_in_the_trace_shape() {
    let n = map_fixture("bts_o31.hl7");
    let json = serde_json::to_value(&n.events[2]).unwrap();
    assert_eq!(json["kind"], "reaction");
    assert_eq!(json["patientKey"], "ZY20260001");
    assert_eq!(json["detail"]["reactionCategory"], "febrile");
    assert_eq!(json["unit"]["product"], "RBC-LR");
}
