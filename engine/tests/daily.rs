//! Daily submissions over the real doors, on SQLite and PostgreSQL: a day's
//! fixture (one HL7 message over MLLP, hospital documents over HTTP, events
//! just before and after local midnight, a stock report that disagrees)
//! gives exactly its totals at `GET /api/v1/daily/...`; a late document
//! makes version 2 with the exact changes while `?version=1` keeps the
//! original; the late list names the hospital that sent nothing; the stock
//! view colours and pools by region; hospital tokens stay in their lane.

mod common;

use chrono::{NaiveDate, NaiveTime, Utc};
use common::*;
use hemobridge_canonical::{Facility, FacilityKind};
use hemobridge_engine::daily;
use hemobridge_engine::server::Running;
use hemobridge_engine::store::daily::Threshold;
use serde_json::{json, Value};

const H1: &str = "H3201001";
const H2: &str = "H3205001";
const DAY: &str = "2026-11-20";
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn cutoff() -> NaiveTime {
    NaiveTime::from_hms_opt(2, 0, 0).unwrap()
}

async fn post_json(running: &Running, token: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/ingest/json", running.http_addr))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("HTTP request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn received(din: &str, product: &str, abo: &str, rh: &str, q: u32, at: &str) -> Value {
    json!({"type": "Received", "unit": din, "product": product, "abo": abo, "rh": rh,
           "quantity": q, "from": "S3201", "at": at})
}

fn document(id: &str, records: Vec<Value>) -> Value {
    json!({"documentId": id, "facility": H1, "generatedAt": "2026-11-20T21:00:00+08:00",
           "records": records})
}

/// The day's fixture. RBC-LR O+: received 2 (MLLP, 00:00:30) + 1 + 1 + 1 = 5,
/// crossmatched 1 + 2 = 3, issued 3, transfused 1, returned 2, discarded 1
/// (expired), transferred 1; in stock at the day's end: the unit received at
/// 23:59:30 the day before (1) and the returned one (2) = 3, reported 4.
/// RBC-LR O-: received 1, stock 1, reported 1. PLS-FFP A+: 200 mL received,
/// issued and transfused. Two patients; one allergic reaction, mild. A unit
/// received 10 s after the next midnight counts for neither.
fn day_documents() -> Value {
    document(
        "H1-20261120-1",
        vec![
            received(
                "W000026000100",
                "RBC-LR",
                "O",
                "+",
                1,
                "2026-11-19T23:59:30+08:00",
            ),
            received(
                "W000026000102",
                "RBC-LR",
                "O",
                "+",
                1,
                "2026-11-20T08:00:00+08:00",
            ),
            received(
                "W000026000103",
                "RBC-LR",
                "O",
                "-",
                1,
                "2026-11-20T08:00:00+08:00",
            ),
            received(
                "W000026000104",
                "PLS-FFP",
                "A",
                "+",
                200,
                "2026-11-20T08:00:00+08:00",
            ),
            received(
                "W000026000105",
                "RBC-LR",
                "O",
                "+",
                1,
                "2026-11-20T08:00:00+08:00",
            ),
            received(
                "W000026000107",
                "RBC-LR",
                "O",
                "+",
                1,
                "2026-11-20T08:00:00+08:00",
            ),
            json!({"type": "Crossmatched", "unit": "W000026000102", "product": "RBC-LR",
                   "patient": "P1", "result": "compatible", "at": "2026-11-20T09:00:00+08:00"}),
            json!({"type": "Crossmatched", "unit": "W000026000101", "product": "RBC-LR",
                   "patient": "P2", "result": "compatible", "at": "2026-11-20T09:00:00+08:00"}),
            json!({"type": "Issued", "unit": "W000026000102", "product": "RBC-LR",
                   "patient": "P1", "at": "2026-11-20T10:00:00+08:00"}),
            json!({"type": "Issued", "unit": "W000026000101", "product": "RBC-LR",
                   "patient": "P2", "at": "2026-11-20T10:00:00+08:00"}),
            json!({"type": "Transfused", "unit": "W000026000102", "product": "RBC-LR",
                   "patient": "P1", "start": "2026-11-20T10:30:00+08:00",
                   "end": "2026-11-20T11:30:00+08:00"}),
            json!({"type": "Reaction", "unit": "W000026000102", "product": "RBC-LR",
                   "patient": "P1", "reactionType": "过敏反应", "severity": "mild",
                   "at": "2026-11-20T11:40:00+08:00"}),
            json!({"type": "Returned", "unit": "W000026000101", "product": "RBC-LR",
                   "reason": "未使用", "at": "2026-11-20T12:00:00+08:00"}),
            json!({"type": "Issued", "unit": "W000026000104", "product": "PLS-FFP",
                   "patient": "P2", "at": "2026-11-20T12:15:00+08:00"}),
            json!({"type": "Transfused", "unit": "W000026000104", "product": "PLS-FFP",
                   "patient": "P2", "start": "2026-11-20T12:30:00+08:00",
                   "end": "2026-11-20T13:00:00+08:00"}),
            json!({"type": "Discarded", "unit": "W000026000105", "product": "RBC-LR",
                   "reason": "expired", "at": "2026-11-20T14:00:00+08:00"}),
            json!({"type": "Transferred", "unit": "W000026000107", "product": "RBC-LR",
                   "to": H2, "at": "2026-11-20T15:00:00+08:00"}),
            json!({"type": "Stock", "at": "2026-11-20T20:00:00+08:00", "items": [
                {"product": "RBC-LR", "abo": "O", "rh": "+", "quantity": 4, "measure": "U"},
                {"product": "RBC-LR", "abo": "O", "rh": "-", "quantity": 1, "measure": "U"}]}),
            received(
                "W000026000106",
                "RBC-LR",
                "O",
                "+",
                1,
                "2026-11-21T00:00:10+08:00",
            ),
        ],
    )
}

/// Received into inventory over MLLP, 30 s after local midnight: 2 U.
fn mllp_received() -> String {
    hl7(&[
        "MSH|^~\\&|LIS|H3201001|HEMOBRIDGE|PROVINCE|20261120000030+0800||BPS^O29^BPS_O29|D-0001|P|2.5|||||CHN|UNICODE UTF-8",
        "ORC|SC|ORD001^H3201001",
        "BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||2",
        "BPX|1|CR^Released into inventory^HL70510|F|20261120000030+0800|W000026000101^^^ISBT128|RBC-LR^去白细胞悬浮红细胞^HB|||||5100^O RhD POS^ISBT128||20261220235959+0800|2",
    ])
}

fn line<'a>(day: &'a Value, product: &str, abo: &str, rh: &str) -> &'a Value {
    day["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["product"] == product && l["abo"] == abo && l["rh"] == rh)
        .unwrap_or_else(|| panic!("no line {product} {abo}{rh} in {day}"))
}

async fn register_hospitals(running: &Running) -> (String, String) {
    let t1 = register(running, H1, FacilityKind::Hospital).await;
    let t2 = register(running, H2, FacilityKind::Hospital).await;
    running
        .store
        .upsert_facility(&Facility {
            code: H2.into(),
            name: "苏州测试医院".into(),
            kind: FacilityKind::Hospital,
            region: Some("苏州市".into()),
            province: Some("江苏".into()),
        })
        .await
        .unwrap();
    register(running, "S3201", FacilityKind::Station).await;
    (t1, t2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_gives_its_totals_and_a_late_event_an_amendment() {
    let dir = tempfile::tempdir().unwrap();
    let date = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let running = start(&dir.path().join(label), &db).await;
        let (t1, t2) = register_hospitals(&running).await;

        let acks = send_all(&running, &[mllp_received()]).await;
        assert_eq!(msa(&acks[0]).0, "AA", "[{label}] {}", acks[0]);
        let (status, body) = post_json(&running, &t1, &day_documents()).await;
        assert_eq!(status, 202, "[{label}] {body}");
        wait_processed(&running).await;

        // First read of a finished day records version 1.
        let path = format!("/api/v1/daily/{H1}/{DAY}");
        let (status, v1) = get(&running, &path, "test-admin").await;
        assert_eq!(status, 200, "[{label}] {v1}");
        assert_eq!(v1["version"], 1);
        // Everything arrived days after the cut-off.
        assert_eq!(v1["status"], "late");
        assert_eq!(v1["amends"], Value::Null);
        assert_eq!(v1["timezone"], "Asia/Shanghai");
        let o_pos = line(&v1, "RBC-LR", "O", "+");
        for (field, want) in [
            ("received", 5.0),
            ("crossmatched", 3.0),
            ("issued", 3.0),
            ("transfused", 1.0),
            ("returned", 2.0),
            ("discarded", 1.0),
            ("transferred", 1.0),
            ("stockComputed", 3.0),
            ("stockReported", 4.0),
            ("stockDifference", 1.0),
        ] {
            assert_eq!(
                o_pos[field].as_f64(),
                Some(want),
                "[{label}] {field}: {o_pos}"
            );
        }
        assert_eq!(o_pos["category"], "red-cells");
        assert_eq!(o_pos["measure"], "U");
        let o_neg = line(&v1, "RBC-LR", "O", "-");
        assert_eq!(o_neg["received"].as_f64(), Some(1.0));
        assert_eq!(o_neg["stockComputed"].as_f64(), Some(1.0));
        assert_eq!(o_neg["stockDifference"].as_f64(), Some(0.0));
        let plasma = line(&v1, "PLS-FFP", "A", "+");
        assert_eq!(plasma["measure"], "mL");
        for field in ["received", "issued", "transfused"] {
            assert_eq!(plasma[field].as_f64(), Some(200.0), "[{label}] {plasma}");
        }
        assert_eq!(plasma["stockComputed"].as_f64(), Some(0.0));
        assert_eq!(plasma["stockReported"], Value::Null);
        assert_eq!(v1["lines"].as_array().unwrap().len(), 3, "[{label}] {v1}");
        assert_eq!(v1["patientsTransfused"], 2);
        assert_eq!(
            v1["reactions"],
            json!([{"type": "allergic", "severity": "mild", "count": 1}])
        );
        assert_eq!(
            v1["discards"],
            json!([{"product": "RBC-LR", "reason": "expired", "quantity": 1.0}])
        );

        // Reading again, and recording again, change nothing.
        let (_, again) = get(&running, &path, "test-admin").await;
        assert_eq!(again, v1, "[{label}]");
        let now = Utc::now();
        let none = daily::record(&running.store, ZONE, cutoff(), H1, date, now)
            .await
            .unwrap();
        assert!(
            none.is_none(),
            "[{label}] same figures must not make a version"
        );
        let a = daily::compute(&running.store, ZONE, H1, date)
            .await
            .unwrap();
        let b = daily::compute(&running.store, ZONE, H1, date)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_string(&a.lines).unwrap(),
            serde_json::to_string(&b.lines).unwrap()
        );

        // The hospital reads its own day, not another's.
        let (status, own) = get(&running, &path, &t1).await;
        assert_eq!(status, 200, "[{label}] {own}");
        let (status, _) = get(&running, &path, &t2).await;
        assert_eq!(status, 403, "[{label}]");
        // The Shanghai XML form (wired by routing) is there for the owner only.
        let (status, _) = get(&running, &format!("{path}?format=xml"), &t1).await;
        assert_eq!(status, 200, "[{label}]");
        let (status, _) = get(&running, &format!("{path}?format=xml"), &t2).await;
        assert_eq!(status, 403, "[{label}]");
        let (status, err) = get(&running, &format!("/api/v1/daily/{H1}/2026-13-01"), &t1).await;
        assert_eq!(status, 400, "[{label}]");
        assert_eq!(err["error"]["details"][0]["path"], "date");

        // A late document: the returned unit is issued and transfused to P3.
        let since = Utc::now().timestamp_millis() - 1;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let late = document(
            "H1-20261120-2",
            vec![
                json!({"type": "Issued", "unit": "W000026000101", "product": "RBC-LR",
                       "patient": "P3", "at": "2026-11-20T16:00:00+08:00"}),
                json!({"type": "Transfused", "unit": "W000026000101", "product": "RBC-LR",
                       "patient": "P3", "start": "2026-11-20T16:30:00+08:00",
                       "end": "2026-11-20T17:00:00+08:00"}),
            ],
        );
        let (status, body) = post_json(&running, &t1, &late).await;
        assert_eq!(status, 202, "[{label}] {body}");
        wait_processed(&running).await;
        let amended = daily::amend_changed(&running.store, ZONE, cutoff(), since, Utc::now())
            .await
            .unwrap();
        assert_eq!(amended.len(), 1, "[{label}] {amended:?}");
        let v2 = serde_json::to_value(&amended[0]).unwrap();
        assert_eq!(v2["version"], 2);
        assert_eq!(v2["status"], "amended");
        assert_eq!(v2["amends"], 1);
        assert_eq!(
            v2["changes"],
            json!([
                {"path": "lines[RBC-LR/O/+].issued", "from": 3.0, "to": 5.0},
                {"path": "lines[RBC-LR/O/+].transfused", "from": 1.0, "to": 3.0},
                {"path": "lines[RBC-LR/O/+].stockComputed", "from": 3.0, "to": 1.0},
                {"path": "patientsTransfused", "from": 2.0, "to": 3.0},
            ]),
            "[{label}]"
        );
        // Nothing new since: no further amendment.
        let nothing = daily::amend_changed(
            &running.store,
            ZONE,
            cutoff(),
            Utc::now().timestamp_millis(),
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(nothing.is_empty(), "[{label}]");

        let (_, latest) = get(&running, &path, "test-admin").await;
        assert_eq!(latest, v2, "[{label}]");
        let (status, original) = get(&running, &format!("{path}?version=1"), "test-admin").await;
        assert_eq!(status, 200);
        assert_eq!(original, v1, "[{label}] version 1 must never change");
        let (status, _) = get(&running, &format!("{path}?version=3"), "test-admin").await;
        assert_eq!(status, 404);

        // The late list: today the silent hospital is late, the busy one not.
        let today = chrono::Utc::now().with_timezone(&ZONE).date_naive();
        let (status, list) = get(
            &running,
            &format!("/api/v1/daily/late?date={today}"),
            "test-admin",
        )
        .await;
        assert_eq!(status, 200, "[{label}] {list}");
        assert_eq!(list["hospitals"], json!([H2]), "[{label}] {list}");
        let (status, _) = get(&running, &format!("/api/v1/daily/late?date={today}"), &t1).await;
        assert_eq!(status, 403);
        // For the fixture's day, both sent nothing in time.
        let late = daily::late(&running.store, ZONE, date, cutoff())
            .await
            .unwrap();
        assert_eq!(late, [H1, H2]);

        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stock_view_colours_and_pools_rh_negative_by_region() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let running = start(&dir.path().join(label), &db).await;
        let (t1, t2) = register_hospitals(&running).await;
        let (status, body) = post_json(&running, &t1, &day_documents()).await;
        assert_eq!(status, 202, "[{label}] {body}");
        let acks = send_all(&running, &[mllp_received()]).await;
        assert_eq!(msa(&acks[0]).0, "AA");
        wait_processed(&running).await;
        running
            .store
            .set_stock_threshold(&Threshold {
                facility: H1.into(),
                category: "red-cells".into(),
                low: 2.0,
                high: 4.0,
            })
            .await
            .unwrap();

        let (status, view) = get(&running, "/api/v1/stock", "test-admin").await;
        assert_eq!(status, 200, "[{label}] {view}");
        let hospitals = view["hospitals"].as_array().unwrap();
        assert_eq!(hospitals.len(), 2);
        let h1 = hospitals.iter().find(|h| h["hospital"] == H1).unwrap();
        assert_eq!(h1["jiangsuRegion"], 1);
        assert_eq!(h1["lastReportAt"], "2026-11-20T20:00:00+08:00");
        let item = |abo: &str, rh: &str| {
            h1["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["product"] == "RBC-LR" && i["abo"] == abo && i["rh"] == rh)
                .cloned()
                .unwrap_or_else(|| panic!("no {abo}{rh} in {h1}"))
        };
        // Now: 100 (1), 101 returned (2) and 106 (1) on the shelf = 4 U.
        let o_pos = item("O", "+");
        assert_eq!(o_pos["quantity"].as_f64(), Some(4.0), "[{label}] {o_pos}");
        assert_eq!(o_pos["reported"].as_f64(), Some(4.0));
        assert_eq!(o_pos["level"], "high");
        let o_neg = item("O", "-");
        assert_eq!(o_neg["quantity"].as_f64(), Some(1.0));
        assert_eq!(o_neg["level"], "low");
        let h2 = hospitals.iter().find(|h| h["hospital"] == H2).unwrap();
        assert_eq!(h2["jiangsuRegion"], 2);
        assert_eq!(h2["items"], json!([]));
        assert_eq!(h2["lastReportAt"], Value::Null);
        let regions = view["rhNegativeRegions"].as_array().unwrap();
        assert_eq!(regions.len(), 3);
        assert_eq!(
            regions[0]["items"],
            json!([{"product": "RBC-LR", "abo": "O", "measure": "U", "quantity": 1.0}])
        );
        assert_eq!(regions[1]["items"], json!([]));
        assert_eq!(regions[1]["hospitals"], 1);

        // Filters, and a hospital's own view.
        let (_, neg) = get(
            &running,
            "/api/v1/stock?rh=neg&product=RBC-LR",
            "test-admin",
        )
        .await;
        let h1 = neg["hospitals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hospital"] == H1)
            .unwrap()
            .clone();
        assert_eq!(h1["items"].as_array().unwrap().len(), 1, "[{label}] {h1}");
        let (status, own) = get(&running, "/api/v1/stock", &t2).await;
        assert_eq!(status, 200);
        assert_eq!(own["hospitals"].as_array().unwrap().len(), 1);
        assert_eq!(own["hospitals"][0]["hospital"], H2);
        let (status, _) = get(&running, &format!("/api/v1/stock?hospital={H1}"), &t2).await;
        assert_eq!(status, 403);
        let (status, err) = get(&running, "/api/v1/stock?abo=Q", "test-admin").await;
        assert_eq!(status, 400);
        assert_eq!(err["error"]["details"][0]["path"], "abo");

        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_daily_prints_the_recorded_version_once() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let data = dir.path().join(label);
        let running = start(&data, &db).await;
        let (t1, _) = register_hospitals(&running).await;
        let (status, body) = post_json(&running, &t1, &day_documents()).await;
        assert_eq!(status, 202, "[{label}] {body}");
        wait_processed(&running).await;
        let report = || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_hemobridge"))
                .args(["report", "daily", "--hospital", H1, "--date", DAY])
                .env("HEMOBRIDGE_DATA_DIR", &data)
                .env("HEMOBRIDGE_DATABASE_URL", &db.url)
                .output()
                .expect("run hemobridge");
            assert!(out.status.success(), "[{label}] {out:?}");
            serde_json::from_slice::<Value>(&out.stdout).expect("JSON on stdout")
        };
        let first = report();
        assert_eq!(first["version"], 1, "[{label}] {first}");
        assert_eq!(
            line(&first, "RBC-LR", "O", "+")["received"].as_f64(),
            Some(3.0)
        );
        // Printed again: the stored version, not a new one.
        assert_eq!(report(), first, "[{label}]");
        let (_, api) = get(&running, &format!("/api/v1/daily/{H1}/{DAY}"), "test-admin").await;
        assert_eq!(api, first, "[{label}]");
        running.stop().await;
    }
}
