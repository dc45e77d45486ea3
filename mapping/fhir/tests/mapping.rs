//! The pure mapping: ids, codes and systems, and that no patient name or ID
//! number can reach the output.

use chrono::{DateTime, NaiveDate};
use hemobridge_canonical::{
    Abo, BloodUnit, EventKind, Facility, FacilityKind, Patient, Product, ReactionCategory, Rh,
    Sensitive, Severity, Sex, UnitEvent, UnitKey,
};
use hemobridge_fhir::resources as map;
use hemobridge_fhir::{ids, systems, to_json};
use hemobridge_submission::{DailySubmission, DiscardCount, Line, ReactionCount, Status};
use serde_json::Value;

const NAME: &str = "王小明";
const ID_NUMBER: &str = "320102199001010010";

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn unit() -> BloodUnit {
    let mut u = BloodUnit::new("W000026000101", Product::RbcLr);
    u.abo = Some(Abo::O);
    u.rh = Some(Rh::Pos);
    u.quantity = Some(1.5);
    u.volume_ml = Some(300);
    u.expires = Some(at("2026-12-20T23:59:59+08:00"));
    u.station = Some("S3200".into());
    u.modifiers.irradiated = true;
    u
}

fn event(kind: EventKind, when: &str) -> UnitEvent {
    let mut e = UnitEvent::new(
        kind,
        at(when),
        "H1",
        UnitKey {
            din: "W000026000101".into(),
            product: Product::RbcLr,
        },
    );
    e.patient_key = Some("P0001".into());
    e
}

fn json<T: serde::Serialize>(r: &T) -> Value {
    to_json(r).unwrap()
}

#[test]
fn patient_carries_the_hospital_key_and_no_identity() {
    let mut p = Patient::new("H1", "P0001");
    p.name = Some(Sensitive::new(NAME));
    p.id_number = Some(Sensitive::new(ID_NUMBER));
    p.birth_date = NaiveDate::from_ymd_opt(1990, 1, 1);
    p.sex = Some(Sex::F);
    let v = json(&map::patient(&p).unwrap());
    let text = v.to_string();
    for secret in [NAME, ID_NUMBER, "1990"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(v["resourceType"], "Patient");
    assert_eq!(v["id"], "pat-H1-P0001");
    assert_eq!(v["identifier"][0]["system"], systems::patient_system("H1"));
    assert_eq!(v["identifier"][0]["value"], "P0001");
    assert_eq!(v["gender"], "female");
    assert!(v.get("name").is_none() && v.get("birthDate").is_none());
}

#[test]
fn organization_kinds() {
    let station = Facility {
        code: "S3200".into(),
        name: "江苏省血液中心".into(),
        kind: FacilityKind::Station,
        region: None,
        province: None,
    };
    let v = json(&map::organization(&station).unwrap());
    assert_eq!(v["id"], "org-S3200");
    assert_eq!(v["name"], "江苏省血液中心");
    assert_eq!(v["type"][0]["text"], "血站");
    assert_eq!(v["identifier"][0]["system"], systems::FACILITY);
}

#[test]
fn product_codes_group_status_and_properties() {
    let events = [
        event(EventKind::Collected, "2026-11-20T08:00:00+08:00"),
        event(EventKind::Received, "2026-11-21T08:00:00+08:00"),
        event(EventKind::Issued, "2026-11-22T10:00:00+08:00"),
    ];
    let v = json(&map::biologically_derived_product(&unit(), &events).unwrap());
    assert_eq!(v["id"], "bdp-W000026000101-RBC-LR");
    assert_eq!(v["productCategory"]["code"], "cells");
    assert_eq!(v["productCode"]["coding"][0]["system"], systems::PRODUCT);
    assert_eq!(
        v["productCode"]["coding"][0]["display"],
        "去白细胞悬浮红细胞"
    );
    assert_eq!(v["productStatus"]["code"], "unavailable");
    assert_eq!(v["expirationDate"], "2026-12-20T23:59:59+08:00");
    assert_eq!(
        v["collection"]["collectedDateTime"],
        "2026-11-20T08:00:00+08:00"
    );
    assert_eq!(
        v["processingFacility"][0]["reference"],
        "Organization/org-S3200"
    );
    let props = v["property"].as_array().unwrap();
    let code = |p: &Value| p["type"]["coding"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(props[0]["valueCodeableConcept"]["coding"][0]["code"], "O+");
    let quantity = props.iter().find(|p| code(p) == "quantity").unwrap();
    assert_eq!(quantity["valueQuantity"]["value"], 1.5);
    assert_eq!(quantity["valueQuantity"]["unit"], "U");
    assert_eq!(quantity["valueQuantity"]["system"], systems::MEASURE);
    let volume = props.iter().find(|p| code(p) == "volume").unwrap();
    assert_eq!(volume["valueQuantity"]["system"], systems::UCUM);
    assert!(props.iter().any(|p| code(p) == "irradiated"));

    let plasma = BloodUnit::new("12345", Product::PlsFfp);
    let v = json(&map::biologically_derived_product(&plasma, &[]).unwrap());
    assert_eq!(v["productCategory"]["code"], "fluid");
    assert!(v.get("productStatus").is_none());
    assert_eq!(
        v["property"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "unknown"
    );
}

#[test]
fn final_statuses() {
    let v = |kind| {
        json(
            &map::biologically_derived_product(
                &unit(),
                &[
                    event(EventKind::Received, "2026-11-21T08:00:00+08:00"),
                    event(kind, "2026-11-22T08:00:00+08:00"),
                ],
            )
            .unwrap(),
        )["productStatus"]["code"]
            .clone()
    };
    assert_eq!(v(EventKind::Transfused), "applied");
    assert_eq!(v(EventKind::Discarded), "discarded");
    assert_eq!(v(EventKind::Returned), "available");
}

#[test]
fn dispense_statuses() {
    let status = |kind| {
        map::dispense(
            &event(kind, "2026-11-22T10:00:00+08:00"),
            "k1",
            Some((1.0, "U")),
        )
        .unwrap()
        .map(|d| json(&d)["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        status(EventKind::Crossmatched).as_deref(),
        Some("allocated")
    );
    assert_eq!(status(EventKind::Reserved).as_deref(), Some("allocated"));
    assert_eq!(status(EventKind::Issued).as_deref(), Some("issued"));
    assert_eq!(status(EventKind::Returned).as_deref(), Some("returned"));
    assert_eq!(status(EventKind::Transfused), None);
    let issued = json(
        &map::dispense(
            &event(EventKind::Issued, "2026-11-22T10:00:00+08:00"),
            "k1",
            None,
        )
        .unwrap()
        .unwrap(),
    );
    assert_eq!(issued["id"], "bdpd-k1");
    assert_eq!(issued["whenHandedOver"], "2026-11-22T10:00:00+08:00");
    assert_eq!(issued["patient"]["reference"], "Patient/pat-H1-P0001");
    assert_eq!(
        issued["product"]["reference"],
        "BiologicallyDerivedProduct/bdp-W000026000101-RBC-LR"
    );
}

#[test]
fn transfusion_procedure() {
    let mut e = event(EventKind::Transfused, "2026-11-22T12:00:00+08:00");
    e.detail.start = Some(at("2026-11-22T10:30:00+08:00"));
    e.detail.end = Some(at("2026-11-22T11:30:00+08:00"));
    let v = json(&map::transfusion(&e, "k2").unwrap().unwrap());
    assert_eq!(v["id"], "tx-k2");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["code"]["coding"][0]["system"], systems::SNOMED);
    assert_eq!(v["code"]["coding"][0]["code"], "116859006");
    assert_eq!(v["occurrencePeriod"]["start"], "2026-11-22T10:30:00+08:00");
    assert_eq!(v["occurrencePeriod"]["end"], "2026-11-22T11:30:00+08:00");
    assert_eq!(v["subject"]["reference"], "Patient/pat-H1-P0001");
    assert_eq!(
        v["used"][0]["reference"]["reference"],
        "BiologicallyDerivedProduct/bdp-W000026000101-RBC-LR"
    );
    assert!(
        map::transfusion(&event(EventKind::Issued, "2026-11-22T12:00:00+08:00"), "k")
            .unwrap()
            .is_none()
    );
}

#[test]
fn reaction_adverse_event() {
    let mut e = event(EventKind::Reaction, "2026-11-22T13:00:00+08:00");
    e.detail.reaction_type = Some("ACUTHEHTR".into());
    e.detail.reaction_category = Some(ReactionCategory::Haemolytic);
    e.detail.severity = Some(Severity::Severe);
    let v = json(&map::adverse_event(&e, "k3").unwrap().unwrap());
    assert_eq!(v["actuality"], "actual");
    assert_eq!(v["code"]["coding"][0]["code"], "82545002");
    assert_eq!(v["code"]["coding"][1]["code"], "ACUTHEHTR");
    assert_eq!(
        v["category"][0]["coding"][0]["system"],
        systems::REACTION_CATEGORY_CN
    );
    assert_eq!(v["category"][0]["coding"][0]["code"], "3");
    assert_eq!(v["category"][1]["coding"][0]["code"], "severe");
    assert_eq!(v["seriousness"]["coding"][0]["code"], "serious");
    assert_eq!(
        v["suspectEntity"][0]["instanceReference"]["reference"],
        "BiologicallyDerivedProduct/bdp-W000026000101-RBC-LR"
    );
}

#[test]
fn claim_money_in_cny() {
    let c = map::WaiverClaim {
        hospital: "H1".into(),
        claim_id: "C/7".into(),
        patient_key: None,
        status: "cancelled".into(),
        blood_fee_fen: 50_005,
        waived_fen: 50_005,
        patient_pays_fen: 0,
        waived_ml: 400,
        decided_at: at("2026-11-22T16:00:00+08:00"),
    };
    let v = json(&map::claim(&c).unwrap());
    assert!(ids::is_valid_id(v["id"].as_str().unwrap()), "{v}");
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["use"], "claim");
    assert_eq!(v["total"]["value"], 500.05);
    assert_eq!(v["total"]["currency"], "CNY");
    assert_eq!(v["item"][0]["net"]["value"], 500.05);
    assert_eq!(v["provider"]["reference"], "Organization/org-H1");
    assert_eq!(v["identifier"][0]["value"], "H1/C/7");
    assert!(v["patient"]["display"].is_string());
}

fn submission(version: u32, transfused: f64) -> DailySubmission {
    DailySubmission {
        hospital: "H1".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        timezone: "Asia/Shanghai".into(),
        version,
        status: Status::Submitted,
        computed_at: at("2026-11-23T01:00:00+08:00"),
        lines: vec![
            Line {
                product: "PLS-FFP".into(),
                category: "plasma".into(),
                measure: "mL".into(),
                abo: Some("A".into()),
                rh: None,
                received: 400.0,
                crossmatched: 0.0,
                issued: 200.0,
                transfused: 200.0,
                returned: 0.0,
                discarded: 0.0,
                transferred: 0.0,
                stock_computed: 200.0,
                stock_reported: None,
                stock_difference: None,
            },
            Line {
                product: "RBC-LR".into(),
                category: "red-cells".into(),
                measure: "U".into(),
                abo: Some("O".into()),
                rh: Some("+".into()),
                received: 2.0,
                crossmatched: 1.0,
                issued: 1.5,
                transfused,
                returned: 0.0,
                discarded: 0.0,
                transferred: 0.0,
                stock_computed: 0.5,
                stock_reported: Some(1.0),
                stock_difference: Some(0.5),
            },
        ],
        patients_transfused: 1,
        reactions: vec![ReactionCount {
            kind: "allergic".into(),
            severity: "mild".into(),
            count: 1,
        }],
        discards: vec![DiscardCount {
            product: "PLS-FFP".into(),
            reason: "expired".into(),
            quantity: 200.0,
        }],
        amends: None,
        changes: vec![],
    }
}

#[test]
fn daily_bundle_is_an_idempotent_transaction() {
    let s = submission(1, 1.5);
    let v = hemobridge_fhir::daily_bundle_json(&s).unwrap();
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "transaction");
    let entry = &v["entry"][0];
    assert_eq!(entry["request"]["method"], "PUT");
    assert_eq!(entry["request"]["url"], "MeasureReport/daily-H1-2026-11-22");
    let report = &entry["resource"];
    assert_eq!(report["id"], "daily-H1-2026-11-22");
    assert_eq!(report["status"], "complete");
    assert_eq!(report["type"], "summary");
    assert_eq!(report["period"]["start"], "2026-11-22");
    assert_eq!(report["identifier"][1]["value"], "H1/2026-11-22/1");
    // Same submission, same bytes; an amended version keeps the id.
    assert_eq!(v, hemobridge_fhir::daily_bundle_json(&s).unwrap());
    let amended = hemobridge_fhir::daily_bundle_json(&submission(2, 2.0)).unwrap();
    assert_eq!(
        amended["entry"][0]["request"]["url"],
        entry["request"]["url"]
    );
    assert_ne!(amended, v);
}

#[test]
fn daily_figures_by_product_movement_and_group() {
    let report =
        hemobridge_fhir::to_json(&hemobridge_fhir::measure_report(&submission(1, 1.5)).unwrap())
            .unwrap();
    let groups = report["group"].as_array().unwrap();
    let group = |id: &str| groups.iter().find(|g| g["linkId"] == id).unwrap().clone();
    let rbc = group("RBC-LR");
    assert_eq!(rbc["code"]["coding"][0]["code"], "RBC-LR");
    let stratifier = |g: &Value, name: &str| {
        g["stratifier"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"]["coding"][0]["code"] == name)
            .cloned()
    };
    let transfused = stratifier(&rbc, "transfused").unwrap();
    let stratum = &transfused["stratum"][0];
    assert_eq!(stratum["measureScoreQuantity"]["value"], 1.5);
    assert_eq!(stratum["measureScoreQuantity"]["unit"], "U");
    assert_eq!(
        stratum["component"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "O"
    );
    assert_eq!(
        stratum["component"][1]["valueCodeableConcept"]["coding"][0]["code"],
        "+"
    );
    assert_eq!(
        stratifier(&rbc, "stock-reported").unwrap()["stratum"][0]["measureScoreQuantity"]["value"],
        1.0
    );
    let plasma = group("PLS-FFP");
    assert!(
        stratifier(&plasma, "stock-reported").is_none(),
        "no report, no stratum"
    );
    let plasma_received = stratifier(&plasma, "received").unwrap();
    assert_eq!(
        plasma_received["stratum"][0]["measureScoreQuantity"]["system"],
        systems::UCUM
    );
    assert_eq!(
        plasma_received["stratum"][0]["component"][1]["valueCodeableConcept"]["coding"][0]["code"],
        "unknown"
    );
    assert_eq!(group("patients-transfused")["population"][0]["count"], 1);
    let reactions = group("reactions");
    assert_eq!(reactions["population"][0]["count"], 1);
    assert_eq!(
        reactions["stratifier"][0]["stratum"][0]["population"][0]["count"],
        1
    );
    assert_eq!(
        group("discards")["stratifier"][0]["stratum"][0]["measureScoreQuantity"]["value"],
        200.0
    );
}

#[test]
fn rest_answers() {
    let now = at("2026-11-22T00:00:00+08:00");
    let c = json(&hemobridge_fhir::rest::capability_statement("0.1.0", &now).unwrap());
    assert_eq!(c["fhirVersion"], "5.0.0");
    assert_eq!(c["kind"], "instance");
    let resources = c["rest"][0]["resource"].as_array().unwrap();
    assert_eq!(
        resources.len(),
        hemobridge_fhir::rest::SUPPORTED_TYPES.len()
    );
    for r in resources {
        assert_eq!(r["interaction"][0]["code"], "read");
        assert_eq!(r["interaction"][1]["code"], "search-type");
        assert_eq!(r["searchParam"][0]["name"], "identifier");
        assert_eq!(r["searchParam"][0]["type"], "token");
    }
    let o = json(
        &hemobridge_fhir::rest::operation_outcome(
            hemobridge_fhir::rest::IssueType::NotFound,
            "Patient/x is not known",
            Some("id"),
        )
        .unwrap(),
    );
    assert_eq!(o["issue"][0]["severity"], "error");
    assert_eq!(o["issue"][0]["code"], "not-found");
    let p = map::patient(&Patient::new("H1", "P1")).unwrap();
    let b = json(&hemobridge_fhir::rest::searchset("http://h/fhir", vec![p.into()]).unwrap());
    assert_eq!(b["type"], "searchset");
    assert_eq!(b["total"], 1);
    assert_eq!(b["entry"][0]["fullUrl"], "http://h/fhir/Patient/pat-H1-P1");
    assert_eq!(b["entry"][0]["search"]["mode"], "match");
}
