//! Vein to vein across sources and hospitals: a station's dispatch (JSON),
//! a hospital's HL7 messages and XML documents, another hospital's JSON
//! documents, a unit passed from one hospital to the other (调剂). Then the
//! three kinds of trace query, the lookback across hospitals, and every
//! completeness-audit rule with the units it must find.

mod common;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const S: &str = "S3201";
const H1: &str = "H3201001";
const H2: &str = "H3201002";
/// Donation A gives red cells and plasma; donation B red cells: donor D1.
const DIN_A: &str = "W000026100001";
const DIN_B: &str = "W000026100002";

fn at(days_ago: i64, hours: i64) -> DateTime<FixedOffset> {
    (Utc::now() - Duration::days(days_ago) + Duration::hours(hours))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .fixed_offset()
}

fn iso(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339()
}

fn hl7_time(t: DateTime<FixedOffset>) -> String {
    t.format("%Y%m%d%H%M%S%z").to_string()
}

async fn post(running: &Running, syntax: &str, token: &str, body: String) {
    let content_type = if syntax == "xml" {
        "application/xml"
    } else {
        "application/json"
    };
    let r = reqwest::Client::new()
        .post(format!(
            "http://{}/api/v1/ingest/{syntax}",
            running.http_addr
        ))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(status, 202, "{syntax} document refused: {text}");
}

fn bps(
    control_id: &str,
    status: &str,
    t: DateTime<FixedOffset>,
    din: &str,
    patient: Option<&str>,
) -> String {
    let mut segments = vec![format!(
        "MSH|^~\\&|LIS|{H1}|HB|PROV|{}||BPS^O29|{control_id}|P|2.5",
        hl7_time(t)
    )];
    if let Some(p) = patient {
        segments.push(format!("PID|1||{p}^^^{H1}^MR||赵^六||19700101|M"));
    }
    segments.push(format!("ORC|SC|{control_id}"));
    segments.push("BPO|1|RBC-LR||1".into());
    segments.push(format!(
        "BPX|1|{status}|F|{}|{din}|RBC-LR|||||5100||{}|1||||WARD3",
        hl7_time(t),
        hl7_time(at(-20, 0))
    ));
    segments.join("\r") + "\r"
}

fn bts_tx(control_id: &str, t: DateTime<FixedOffset>, din: &str, patient: &str) -> String {
    hl7(&[
        &format!(
            "MSH|^~\\&|LIS|{H1}|HB|PROV|{}||BTS^O31|{control_id}|P|2.5",
            hl7_time(t)
        ),
        &format!("PID|1||{patient}^^^{H1}^MR||赵^六||19700101|M"),
        &format!("ORC|SC|{control_id}"),
        "BPO|1|RBC-LR||1",
        &format!(
            "BTX|1|{din}|RBC-LR|5100||||1|||TX|F|{}|||{}|{}",
            hl7_time(t),
            hl7_time(t - Duration::hours(1)),
            hl7_time(t)
        ),
    ])
}

fn ids(v: &Value, rule: &str) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no rule {rule} in {v}"))["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["din"].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_meet_across_sources_and_hospitals() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let station = register(&running, S, FacilityKind::Station).await;
        let h1 = register(&running, H1, FacilityKind::Hospital).await;
        let h2 = register(&running, H2, FacilityKind::Hospital).await;

        // The station: collected and dispatched, with the donor key.
        let unit = |din: &str, product: &str, abo: &str| {
            json!({"unit": din, "product": product, "abo": abo, "rh": "+", "quantity": 1,
                   "expires": iso(at(-20, 0)), "collectedAt": iso(at(12, 0)), "donorKey": "D1"})
        };
        let dispatch = json!({
            "documentId": "S-1", "facility": S, "generatedAt": iso(at(11, 0)),
            "records": [{"type": "Dispatch", "station": S, "to": H1, "at": iso(at(11, 0)), "units": [
                unit(DIN_A, "RBC-LR", "O"), unit(DIN_A, "新鲜冰冻血浆", "O"), unit(DIN_B, "去白细胞悬浮红细胞", "O"),
            ]}]
        });
        post(&running, "json", &station, dispatch.to_string()).await;

        // Hospital 1 over HL7: DIN A red cells received, issued, transfused to P1.
        let messages = vec![
            bps("V-1", "CR", at(10, 0), DIN_A, None),
            bps("V-2", "DS", at(9, 0), DIN_A, Some("P1")),
            bts_tx("V-3", at(9, 3), DIN_A, "P1"),
            // An issue with nothing after it, 9 days ago: the 72 h rule.
            bps("V-4", "CR", at(10, 0), "W000026100011", None),
            bps("V-5", "DS", at(9, 0), "W000026100011", Some("P1")),
            // An issue 30 hours ago with nothing after it: the 24 h rule.
            bps("V-6", "CR", at(3, 0), "W000026100012", None),
            bps("V-7", "DS", at(1, -6), "W000026100012", Some("P1")),
        ];
        for ack in send_all(&running, &messages).await {
            assert_eq!(msa(&ack).0, "AA", "{ack}");
        }

        // Hospital 1 in XML: plasma of DIN A received and discarded, DIN B
        // received and passed to hospital 2, and one unit per audit rule.
        let t = |d: i64, h: i64| iso(at(d, h));
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="urn:hemobridge:report:1" documentId="H1-XML-1" facility="{H1}">
  <Patient key="P2" idType="resident-id" idNumber="320102199001010010" name="钱七" sex="F" birthDate="1990-01-01" abo="O" rh="+"/>
  <Received unit="{DIN_A}" product="PLS-FFP" abo="O" rh="+" from="{S}" at="{r}"/>
  <Discarded unit="{DIN_A}" product="PLS-FFP" reason="expired" at="{d1}"/>
  <Received unit="{DIN_B}" product="RBC-LR" abo="O" rh="+" from="{S}" at="{r}"/>
  <Transferred unit="{DIN_B}" product="RBC-LR" to="{H2}" at="{d1}"/>
  <Received unit="W000026100010" product="RBC-LR" abo="O" rh="+" from="{S}" at="{r}"/>
  <Received unit="W000026100013" product="RBC-LR" abo="O" rh="+" from="OTHER" at="{r}"/>
  <Transfused unit="W000026100013" product="RBC-LR" patient="P2" start="{s}" end="{e}"/>
  <Received unit="W000026100014" product="RBC-LR" abo="O" rh="+" from="OTHER" at="{r}"/>
  <Transfused unit="W000026100014" product="RBC-LR" patient="P2" start="{s}" end="{e}"/>
  <Issued unit="W000026100014" product="RBC-LR" patient="P2" ward="W5" at="{late}"/>
  <Received unit="W000026100015" product="RBC-LR" abo="O" rh="+" expires="{exp}" from="OTHER" at="{r}"/>
  <Issued unit="W000026100015" product="RBC-LR" patient="P2" ward="W5" at="{i}"/>
  <Transfused unit="W000026100015" product="RBC-LR" patient="P2" start="{s}" end="{e}"/>
  <Received unit="W000026100016" product="RBC-LR" abo="A" rh="+" from="OTHER" at="{r}"/>
  <Issued unit="W000026100016" product="RBC-LR" patient="P2" ward="W5" at="{i}"/>
  <Transfused unit="W000026100016" product="RBC-LR" patient="P2" start="{s}" end="{e}"/>
</Report>"#,
            r = t(10, 1),
            d1 = t(8, 0),
            i = t(7, 0),
            s = t(7, 1),
            e = t(7, 2),
            late = t(7, 5),
            exp = t(7, -1),
        );
        post(&running, "xml", &h1, xml).await;

        // Hospital 2 in JSON: receives DIN B from hospital 1, issues and
        // transfuses it to its patient Q1.
        let h2_doc = json!({
            "documentId": "H2-JSON-1", "facility": H2,
            "records": [
                {"type": "Received", "unit": DIN_B, "product": "RBC-LR", "abo": "O", "rh": "+", "from": H1, "at": t(8, 2)},
                {"type": "Issued", "unit": DIN_B, "product": "RBC-LR", "patient": "Q1", "ward": "ICU", "at": t(7, 0)},
                {"type": "Transfused", "unit": DIN_B, "product": "RBC-LR", "patient": "Q1", "start": t(7, 1), "end": t(7, 2)},
            ]
        });
        post(&running, "json", &h2, h2_doc.to_string()).await;
        wait_processed(&running).await;

        // The unit that moved: one chain from the donor to hospital 2's patient.
        let (status, b) = get(
            &running,
            &format!("/api/v1/trace/units/{DIN_B}"),
            "test-admin",
        )
        .await;
        assert_eq!(status, 200, "[{}] {b}", db.label);
        let kinds: Vec<&str> = b["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "collected",
                "dispatched",
                "received",
                "transferred",
                "received",
                "issued",
                "transfused"
            ],
            "[{}] {b}",
            db.label
        );
        assert_eq!(b["complete"], true, "{b}");
        assert_eq!(b["donorKey"], "D1");
        assert_eq!(b["unit"]["station"], S);
        assert_eq!(b["unit"]["hospital"], H2);
        // Both hospitals see it; a hospital that never held it does not.
        let (status, _) = get(&running, &format!("/api/v1/trace/units/{DIN_B}"), &h1).await;
        assert_eq!(status, 200);

        // A DIN with two components answers with both.
        let (_, a) = get(
            &running,
            &format!("/api/v1/trace/units/{DIN_A}"),
            "test-admin",
        )
        .await;
        assert_eq!(a["components"].as_array().unwrap().len(), 2, "{a}");

        // By patient: hospital 2's patient got DIN B.
        let (status, q1) = get(&running, "/api/v1/trace/patients/Q1", &h2).await;
        assert_eq!(status, 200, "{q1}");
        assert_eq!(q1["units"][0]["unit"]["din"], DIN_B);

        // Lookback: every component of both donations, across hospitals.
        let (status, donor) = get(&running, "/api/v1/trace/donors/D1", "test-admin").await;
        assert_eq!(status, 200, "{donor}");
        let ends: BTreeSet<(String, String, String)> = donor["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                let last = u["events"].as_array().unwrap().last().unwrap();
                (
                    format!(
                        "{}/{}",
                        u["unit"]["din"].as_str().unwrap(),
                        u["unit"]["product"].as_str().unwrap()
                    ),
                    last["facility"].as_str().unwrap().to_string(),
                    u["state"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String, String)> = [
            (format!("{DIN_A}/PLS-FFP"), H1, "discarded"),
            (format!("{DIN_A}/RBC-LR"), H1, "transfused"),
            (format!("{DIN_B}/RBC-LR"), H2, "transfused"),
        ]
        .into_iter()
        .map(|(u, f, s)| (u, f.to_string(), s.to_string()))
        .collect();
        assert_eq!(ends, expected, "[{}] {donor}", db.label);
        let recipients: BTreeSet<String> = donor["units"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|u| u["events"].as_array().unwrap().iter())
            .filter(|e| e["kind"] == "transfused")
            .map(|e| {
                format!(
                    "{}:{}",
                    e["facility"].as_str().unwrap(),
                    e["patientKey"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(recipients, set(&["H3201001:P1", "H3201002:Q1"]));

        // The completeness audit of hospital 1: each rule finds its unit.
        let from = iso(at(30, 0));
        let path = format!(
            "/api/v1/audit/completeness?hospital={H1}&from={}",
            from.replace('+', "%2B")
        );
        let (status, audit) = get(&running, &path, "test-admin").await;
        assert_eq!(status, 200, "{audit}");
        let h1_audit = &audit["hospitals"][0];
        assert_eq!(
            ids(h1_audit, "issued-no-transfusion-72h"),
            set(&["W000026100011"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "issued-no-transfusion-24h"),
            set(&["W000026100012"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "transfused-without-issue"),
            set(&["W000026100013"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "received-without-dispatch"),
            set(&["W000026100010"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "out-of-order"),
            set(&["W000026100014"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "expired-transfused"),
            set(&["W000026100015"]),
            "{h1_audit}"
        );
        assert_eq!(
            ids(h1_audit, "abo-rh-mismatch"),
            set(&["W000026100016"]),
            "{h1_audit}"
        );
        // Received at H1: A (2 components), B, 10 and 13..16 in XML, 11 and 12
        // over HL7 = 10;
        // final: A/RBC transfused, A/FFP discarded, B transferred,
        // 13, 15, 16 transfused (14 ends issued, out of order) = 6.
        assert_eq!(h1_audit["unitsReceived"], 10, "{h1_audit}");
        assert_eq!(h1_audit["withFinalDisposition"], 6, "{h1_audit}");

        // Hospital 2's audit is clean, and its token cannot audit hospital 1.
        let (_, h2_audit) = get(
            &running,
            &format!(
                "/api/v1/audit/completeness?from={}",
                from.replace('+', "%2B")
            ),
            &h2,
        )
        .await;
        let h2_report = &h2_audit["hospitals"][0];
        assert_eq!(h2_report["hospital"], H2);
        assert_eq!(h2_report["unitsReceived"], 1);
        assert_eq!(h2_report["withFinalDisposition"], 1);
        assert!(
            h2_report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["count"] == 0),
            "{h2_report}"
        );
        let (status, _) = get(
            &running,
            &format!("/api/v1/audit/completeness?hospital={H1}"),
            &h2,
        )
        .await;
        assert_eq!(status, 403);
        running.stop().await;
    }
}
