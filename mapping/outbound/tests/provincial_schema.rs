//! Rendered provincial messages agree with the published JSON Schema
//! (`docs/specs/provincial.schema.json`), and a mutated message does not.

mod common;

use common::*;
use hemobridge_outbound::provincial::{self, WaiverClaimMessage};
use hemobridge_waivers::{decide, Claim, Donation, DonationKind, DonorHistory, Relationship, Rule};
use serde_json::{json, Value};
use std::path::PathBuf;

fn validator() -> jsonschema::Validator {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/specs/provincial.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).expect("the JSON Schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, message: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(message)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} must be valid: {errors:#?}\n{message:#}"
    );
}

/// A waiver decided by the real Jiangsu rule: 200 mL donated, 800 mL used.
fn decided_waiver() -> WaiverClaimMessage {
    let rule = Rule::shipped("jiangsu-2025").unwrap();
    let history = DonorHistory {
        donations: vec![Donation {
            at: time("2024-03-01T10:00:00+08:00"),
            volume_ml: 200,
            kind: DonationKind::WholeBlood,
        }],
        waivers: vec![],
    };
    let claim = Claim {
        claim_id: "WV-REAL-1".into(),
        relationship: Relationship::Self_,
        blood_fee_fen: 80_000,
        volume_ml: 800,
        items: vec![],
    };
    let at = time("2026-11-24T17:00:00+08:00");
    let decision = decide(&rule, &history, &claim, at);
    WaiverClaimMessage::from_decision(
        &decision,
        "JS-H001",
        "a3f9c2",
        "self",
        800,
        Some("王*".into()),
        at,
    )
}

fn every_message() -> Vec<(&'static str, Value)> {
    vec![
        (
            "daily v1",
            provincial::daily(&submission_v1(), &envelope("m-1")),
        ),
        (
            "daily amendment",
            provincial::daily(&submission_amendment(), &envelope("m-2")),
        ),
        (
            "empty late day",
            provincial::daily(&empty_submission(), &envelope("m-3")),
        ),
        (
            "stock",
            provincial::stock(&stock_snapshot(), &envelope("m-4")),
        ),
        (
            "waiver",
            provincial::waiver(&waiver_claim(), &envelope("m-5")),
        ),
        (
            "decided waiver",
            provincial::waiver(&decided_waiver(), &envelope("m-6")),
        ),
        (
            "waiver cancel",
            provincial::waiver_cancel(&waiver_cancel(), &envelope("m-7")),
        ),
    ]
}

#[test]
fn every_rendered_message_is_valid() {
    let v = validator();
    for (what, message) in every_message() {
        assert_valid(&v, &message, what);
    }
}

#[test]
fn the_envelope_carries_type_id_and_hospital() {
    let m = provincial::daily(&submission_v1(), &envelope("JS-H001/2026-11-24/v1"));
    assert_eq!(m["specVersion"], "1");
    assert_eq!(m["messageType"], "daily-submission");
    assert_eq!(m["messageId"], "JS-H001/2026-11-24/v1");
    assert_eq!(m["hospital"], "JS-H001");
    assert_eq!(m["sentAt"], "2026-11-25T00:10:00+08:00");
    assert_eq!(m["payload"]["date"], "2026-11-24");
    assert_eq!(m["payload"]["lines"].as_array().unwrap().len(), 2);
    assert_eq!(m["payload"]["lines"][1]["abo"], Value::Null);
    assert_eq!(m["payload"]["lines"][0]["stockDifference"], -0.25);
    assert_eq!(m["payload"]["reactions"][0]["type"], "febrile");
}

#[test]
fn an_amendment_says_what_it_amends_and_what_changed() {
    let s = submission_amendment();
    let m = provincial::daily(&s, &envelope("m"));
    let p = &m["payload"];
    assert_eq!(p["version"], 2);
    assert_eq!(p["status"], "amended");
    assert_eq!(p["amends"], 1);
    let changes = p["changes"].as_array().unwrap();
    assert_eq!(changes.len(), s.changes.len());
    assert!(changes.contains(&json!({"path": "patientsTransfused", "from": 2.0, "to": 3.0})));
    assert!(
        changes.contains(&json!({"path": "lines[RBC-LR/O/+].transfused", "from": 2.0, "to": 3.0}))
    );
}

#[test]
fn a_waiver_from_a_real_decision_carries_its_money_and_rule() {
    let m = provincial::waiver(&decided_waiver(), &envelope("m"));
    let p = &m["payload"];
    // 3 × 200 mL of 800 mL at 1 yuan per mL.
    assert_eq!(p["decision"], "partial");
    assert_eq!(p["waivedMl"], 600);
    assert_eq!(p["bloodFeeYuan"], 800.0);
    assert_eq!(p["waivedYuan"], 600.0);
    assert_eq!(p["patientPaysYuan"], 200.0);
    assert_eq!(p["rule"]["id"], "jiangsu-2025");
    assert_eq!(p["reasonCode"], "partly-covered");
    assert!(
        p["reason"].as_str().unwrap().contains("自付"),
        "{}",
        p["reason"]
    );
    assert_eq!(p["donorKey"], "a3f9c2");
    assert_eq!(p["remaining"]["selfMl"], 0);
}

#[test]
fn fen_become_yuan_with_two_decimals() {
    let mut w = waiver_claim();
    w.blood_fee_fen = 123_457;
    w.waived_fen = 123_456;
    w.patient_pays_fen = 1;
    let m = provincial::waiver(&w, &envelope("m"));
    let text = serde_json::to_string(&m).unwrap();
    assert!(text.contains("\"waivedYuan\":1234.56"), "{text}");
    assert!(text.contains("\"patientPaysYuan\":0.01"), "{text}");
    assert!(text.contains("\"bloodFeeYuan\":1234.57"), "{text}");
}

#[test]
fn chinese_text_survives_serialization() {
    let m = provincial::waiver(&waiver_claim(), &envelope("消息-1"));
    let text = serde_json::to_string(&m).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, m);
    assert_eq!(back["payload"]["reason"], waiver_claim().reason);
    assert_eq!(back["payload"]["patientNameMasked"], "欧**明");
    assert_eq!(back["messageId"], "消息-1");
}

/// Edits of valid messages that the schema must refuse.
fn mutations() -> Vec<(&'static str, Value)> {
    let daily = provincial::daily(&submission_v1(), &envelope("m"));
    let amendment = provincial::daily(&submission_amendment(), &envelope("m"));
    let stock = provincial::stock(&stock_snapshot(), &envelope("m"));
    let waiver = provincial::waiver(&waiver_claim(), &envelope("m"));
    let cancel = provincial::waiver_cancel(&waiver_cancel(), &envelope("m"));
    let edit = |base: &Value, f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    vec![
        (
            "unknown message type",
            edit(&daily, &|v| v["messageType"] = json!("daily")),
        ),
        (
            "wrong spec version",
            edit(&daily, &|v| v["specVersion"] = json!("2")),
        ),
        (
            "no message id",
            edit(&daily, &|v| {
                v.as_object_mut().unwrap().remove("messageId");
            }),
        ),
        (
            "blank hospital",
            edit(&daily, &|v| v["hospital"] = json!("  ")),
        ),
        (
            "time without offset",
            edit(&daily, &|v| v["sentAt"] = json!("2026-11-25T00:10:00")),
        ),
        (
            "unknown envelope field",
            edit(&daily, &|v| v["extra"] = json!(1)),
        ),
        (
            "negative quantity",
            edit(&daily, &|v| {
                v["payload"]["lines"][0]["transfused"] = json!(-1)
            }),
        ),
        (
            "quantity as text",
            edit(&daily, &|v| {
                v["payload"]["lines"][0]["received"] = json!("4")
            }),
        ),
        (
            "unknown ABO",
            edit(&daily, &|v| v["payload"]["lines"][0]["abo"] = json!("C")),
        ),
        (
            "v1 that amends",
            edit(&daily, &|v| v["payload"]["amends"] = json!(1)),
        ),
        (
            "amendment without amends",
            edit(&amendment, &|v| v["payload"]["amends"] = json!(null)),
        ),
        (
            "amendment not amended",
            edit(&amendment, &|v| v["payload"]["status"] = json!("submitted")),
        ),
        (
            "reaction of unknown type",
            edit(&daily, &|v| {
                v["payload"]["reactions"][0]["type"] = json!("rash")
            }),
        ),
        (
            "daily payload under stock type",
            edit(&daily, &|v| v["messageType"] = json!("stock-snapshot")),
        ),
        (
            "stock without items",
            edit(&stock, &|v| {
                v["payload"].as_object_mut().unwrap().remove("items");
            }),
        ),
        (
            "stock in bottles",
            edit(&stock, &|v| {
                v["payload"]["items"][0]["measure"] = json!("bottle")
            }),
        ),
        (
            "waiver with a clear name",
            edit(&waiver, &|v| {
                v["payload"]["patientNameMasked"] = json!("欧阳小明")
            }),
        ),
        (
            "waiver decision unknown",
            edit(&waiver, &|v| v["payload"]["decision"] = json!("half")),
        ),
        (
            "waiver negative money",
            edit(&waiver, &|v| v["payload"]["waivedYuan"] = json!(-5)),
        ),
        (
            "waiver without rule version",
            edit(&waiver, &|v| {
                v["payload"]["rule"]
                    .as_object_mut()
                    .unwrap()
                    .remove("version");
            }),
        ),
        (
            "waiver with the ID number",
            edit(&waiver, &|v| {
                v["payload"]["donorIdNumber"] = json!("320102199001010019")
            }),
        ),
        (
            "cancel without claim id",
            edit(&cancel, &|v| {
                v["payload"].as_object_mut().unwrap().remove("claimId");
            }),
        ),
    ]
}

#[test]
fn mutated_messages_are_refused() {
    let v = validator();
    for (what, message) in mutations() {
        assert!(
            !v.is_valid(&message),
            "{what} must be refused:\n{message:#}"
        );
    }
}
