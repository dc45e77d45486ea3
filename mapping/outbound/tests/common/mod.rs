//! Fixtures shared by the tests: a hospital day with every data set, the
//! submission of that day (v1 and an amendment), stock and waivers, with
//! Chinese text and characters XML must escape.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, NaiveDate};
use hemobridge_outbound::provincial::{
    RemainingEntitlement, StockItem, StockSnapshot, WaiverCancel, WaiverClaimMessage, WaiverRule,
};
use hemobridge_outbound::shanghai::{
    Action, BloodUser, DayRecords, Reaction, StockLine, Transfusion, UnitMovement,
};
use hemobridge_outbound::Envelope;
use hemobridge_submission::{Change, DailySubmission, DiscardCount, Line, ReactionCount, Status};

pub fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

pub fn envelope(id: &str) -> Envelope {
    Envelope {
        message_id: id.into(),
        sender: "hemobridge-test".into(),
        sent_at: time("2026-11-25T00:10:00+08:00"),
    }
}

/// A product name that needs escaping, in Chinese.
pub const TRICKY_NAME: &str = "去白细胞悬浮红细胞 <辐照> & \"特殊\" 'A'";

pub fn receipt(i: usize) -> UnitMovement {
    UnitMovement {
        record_id: format!("R-{i}"),
        action: Action::New,
        din: format!("W12342612{i:04}"),
        product: "RBC-LR".into(),
        product_name: Some(TRICKY_NAME.into()),
        abo: Some("O".into()),
        rh: Some("+".into()),
        quantity: 2.0,
        measure: "U".into(),
        volume_ml: Some(400),
        at: time("2026-11-24T09:00:00+08:00"),
        station: Some("SH-BC".into()),
        ward: None,
        patient_key: None,
        expires: Some(time("2026-12-29T23:59:59+08:00")),
    }
}

pub fn issue(i: usize) -> UnitMovement {
    UnitMovement {
        record_id: format!("I-{i}"),
        action: if i % 3 == 2 {
            Action::Update
        } else {
            Action::New
        },
        station: None,
        ward: Some("心胸外科 3病区".into()),
        patient_key: Some(format!("P-{i}")),
        at: time("2026-11-24T11:30:00+08:00"),
        ..receipt(i)
    }
}

pub fn transfusion(i: usize) -> Transfusion {
    Transfusion {
        record_id: format!("T-{i}"),
        action: Action::New,
        din: format!("W12342612{i:04}"),
        product: "PLS-FFP".into(),
        product_name: Some("新鲜冰冻血浆".into()),
        abo: Some("AB".into()),
        rh: Some("-".into()),
        quantity: 200.0,
        measure: "mL".into(),
        volume_ml: Some(200),
        started_at: time("2026-11-24T14:00:00+08:00"),
        ended_at: Some(time("2026-11-24T15:10:00+08:00")),
        patient_key: format!("P-{i}"),
        ward: Some("血液科".into()),
        // Alternately a plain ICD-10 code and one of the Chinese clinical
        // edition.
        diagnosis_icd10: Some(["D50.0", "C34.900x001"][i % 2].into()),
        diagnosis_name: Some("缺铁性贫血".into()),
    }
}

pub fn records(n: usize) -> DayRecords {
    DayRecords {
        hospital: "SH-H001".into(),
        date: day(),
        receipts: (0..n).map(receipt).collect(),
        issues: (0..n).map(issue).collect(),
        stock: vec![
            StockLine {
                record_id: "S-RBC-LR-O+".into(),
                action: Action::New,
                product: "RBC-LR".into(),
                product_name: Some("去白细胞悬浮红细胞".into()),
                abo: Some("O".into()),
                rh: Some("+".into()),
                quantity: 12.5,
                measure: "U".into(),
                at: time("2026-11-24T23:59:59+08:00"),
            },
            StockLine {
                record_id: "S-PLT-APH-?".into(),
                action: Action::New,
                product: "PLT-APH".into(),
                product_name: None,
                abo: None,
                rh: None,
                quantity: 0.0,
                measure: "dose".into(),
                at: time("2026-11-24T23:59:59+08:00"),
            },
        ],
        transfusions: (0..n).map(transfusion).collect(),
        reactions: vec![Reaction {
            record_id: "X-1".into(),
            action: Action::Cancel,
            din: Some("W123426120001".into()),
            product: Some("PLS-FFP".into()),
            patient_key: "P-1".into(),
            at: time("2026-11-24T14:20:00+08:00"),
            category: "allergic".into(),
            severity: "mild".into(),
            description: Some("皮疹、瘙痒 <30 min> & 发热".into()),
        }],
        identities: vec![BloodUser {
            record_id: "U-1".into(),
            action: Action::New,
            patient_key: "P-1".into(),
            name_masked: Some("王*明".into()),
            id_number_hash: Some("9f2c4e0a".into()),
            id_type: Some("resident-id".into()),
            sex: Some("female".into()),
            abo: Some("AB".into()),
            rh: Some("-".into()),
            donor_key: Some("d7e1".into()),
            relationship: Some("spouse".into()),
        }],
    }
}

pub fn empty_records() -> DayRecords {
    DayRecords {
        hospital: "SH-H002".into(),
        date: day(),
        ..DayRecords::default()
    }
}

pub fn line(product: &str, abo: Option<&str>, rh: Option<&str>, transfused: f64) -> Line {
    Line {
        product: product.into(),
        category: "red-cells".into(),
        measure: "U".into(),
        abo: abo.map(Into::into),
        rh: rh.map(Into::into),
        received: 4.0,
        crossmatched: 3.0,
        issued: 2.5,
        transfused,
        returned: 0.0,
        discarded: 0.5,
        transferred: 0.0,
        stock_computed: 1.25,
        stock_reported: Some(1.0),
        stock_difference: Some(-0.25),
    }
}

pub fn submission_v1() -> DailySubmission {
    DailySubmission {
        hospital: "JS-H001".into(),
        date: day(),
        timezone: "Asia/Shanghai".into(),
        version: 1,
        status: Status::Submitted,
        computed_at: time("2026-11-25T00:05:00+08:00"),
        lines: vec![
            line("RBC-LR", Some("O"), Some("+"), 2.0),
            line("RBC-LR", None, None, 0.0),
        ],
        patients_transfused: 2,
        reactions: vec![ReactionCount {
            kind: "febrile".into(),
            severity: "moderate".into(),
            count: 1,
        }],
        discards: vec![DiscardCount {
            product: "RBC-LR".into(),
            reason: "expired".into(),
            quantity: 0.5,
        }],
        amends: None,
        changes: vec![],
    }
}

pub fn submission_amendment() -> DailySubmission {
    let v1 = submission_v1();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.status = Status::Amended;
    v2.amends = Some(1);
    v2.computed_at = time("2026-11-25T09:00:00+08:00");
    v2.lines[0].transfused = 3.0;
    v2.patients_transfused = 3;
    v2.changes = v2.changes_since(&v1);
    assert!(!v2.changes.is_empty());
    v2
}

pub fn empty_submission() -> DailySubmission {
    DailySubmission {
        hospital: "JS-H002".into(),
        status: Status::Late,
        lines: vec![],
        patients_transfused: 0,
        reactions: vec![],
        discards: vec![],
        ..submission_v1()
    }
}

pub fn change(path: &str, from: Option<f64>, to: Option<f64>) -> Change {
    Change {
        path: path.into(),
        from,
        to,
    }
}

pub fn stock_snapshot() -> StockSnapshot {
    StockSnapshot {
        hospital: "JS-H001".into(),
        at: time("2026-11-24T16:00:00+08:00"),
        items: vec![
            StockItem {
                product: "RBC-LR".into(),
                category: "red-cells".into(),
                abo: Some("O".into()),
                rh: Some("-".into()),
                quantity: 3.0,
                measure: "U".into(),
            },
            StockItem {
                product: "PLS-FFP".into(),
                category: "plasma".into(),
                abo: None,
                rh: None,
                quantity: 1200.0,
                measure: "mL".into(),
            },
        ],
        last_reported_at: Some(time("2026-11-24T08:00:00+08:00")),
    }
}

pub fn waiver_claim() -> WaiverClaimMessage {
    WaiverClaimMessage {
        claim_id: "WV-2026-0001".into(),
        hospital: "JS-H001".into(),
        decision: "partial".into(),
        waived_ml: 600,
        blood_fee_fen: 80_000,
        waived_fen: 60_000,
        patient_pays_fen: 20_000,
        reason_code: "partly-covered".into(),
        reason: "献血者本人累计献血200毫升，可免费用血600毫升".into(),
        rule: WaiverRule {
            id: "jiangsu-2025".into(),
            version: "2025-04".into(),
        },
        donor_key: "a3f9c2".into(),
        relationship: "self".into(),
        patient_name_masked: Some("欧**明".into()),
        units_used_ml: 800,
        decided_at: time("2026-11-24T17:45:12+08:00"),
        remaining: RemainingEntitlement {
            self_ml: Some(0),
            relatives_ml: 200,
        },
    }
}

pub fn waiver_cancel() -> WaiverCancel {
    WaiverCancel {
        claim_id: "WV-2026-0001".into(),
        hospital: "JS-H001".into(),
        cancelled_at: time("2026-11-24T18:00:00+08:00"),
        reason: Some("录入错误".into()),
    }
}
