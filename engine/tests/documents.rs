//! Hospital documents over HTTP (`POST /api/v1/ingest/xml` and `/json`), on
//! SQLite and PostgreSQL: accepted documents are traceable, a station's
//! dispatch and a hospital's receipt make one chain, invalid and unreadable
//! documents are kept and change nothing, repeats get the first receipt,
//! tokens send only as their own facility, GB 18030 bodies read right, and
//! stock reports and donations reach their tables.

mod common;

use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use serde_json::Value;
use sqlx::Row;

const H: &str = "H3201001";
const S: &str = "S3201";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../mapping/document/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("UTF-8 fixture")
}

async fn post(running: &Running, syntax: &str, token: &str, body: Vec<u8>) -> (u16, Value) {
    let content_type = match syntax {
        "xml" => "application/xml",
        _ => "application/json",
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
        .expect("HTTP request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A hospital and its station, with a token each.
async fn hospital_and_station(running: &Running) -> (String, String) {
    let hospital = register(running, H, FacilityKind::Hospital).await;
    let station = register(running, S, FacilityKind::Station).await;
    (hospital, station)
}

fn kinds(chain: &Value) -> Vec<String> {
    chain["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn count(running: &Running, sql: &str) -> i64 {
    let row = sqlx::query(sql)
        .fetch_one(running.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.try_get::<i64, _>(0).expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hospital_documents_in_xml_and_json_are_traceable() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;

        let (status, body) = post(&running, "xml", &token, fixture("hospital-day.xml")).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        assert_eq!(body["records"], 13);
        let receipt = body["receipt"].as_i64().expect("receipt id");
        wait_processed(&running).await;

        let (status, chain) = get(&running, "/api/v1/trace/units/W000026000001", &token).await;
        assert_eq!(status, 200, "[{}] {chain}", db.label);
        assert_eq!(chain["unit"]["product"], "RBC-LR");
        assert_eq!(chain["unit"]["abo"], "A");
        assert_eq!(
            kinds(&chain),
            [
                "received",
                "crossmatched",
                "issued",
                "reaction",
                "transfused"
            ]
        );
        let issued = &chain["events"][2];
        assert_eq!(issued["facility"], H);
        assert_eq!(issued["patientKey"], "ZY20261122001");
        assert_eq!(issued["detail"]["ward"], "心内科一病区");
        assert_eq!(issued["source"]["messageId"], receipt);
        assert_eq!(issued["source"]["channel"], "http");

        let (status, message) = get(&running, &format!("/api/v1/messages/{receipt}"), &token).await;
        assert_eq!(status, 200, "{message}");
        assert_eq!(message["status"], "ok");
        assert_eq!(message["type"], "Report");
        assert_eq!(message["controlId"], "H3201001-20261122-0001");
        assert_eq!(message["facility"], H);
        assert!(message["raw"].as_str().unwrap().contains("心内科一病区"));

        // The patient's identity is not in clear in the database.
        let row =
            sqlx::query("SELECT name_enc, id_number_enc FROM patients WHERE patient_key = $1")
                .bind("ZY20261122001")
                .fetch_one(running.store.pool())
                .await
                .unwrap();
        let name: String = row.try_get("name_enc").unwrap();
        assert!(!name.contains("王小明") && name.starts_with("k1:"));

        // The same document as JSON, from another hospital's day (its own
        // documentId: ids are unique per facility).
        let json = fixture_text("hospital-day.json")
            .replace("H3201001-20261122-0001", "H3201001-20261122-JSON")
            .replace("W00002600000100F", "W000026000101")
            .replace("W000026000001", "W000026000101");
        let (status, body) = post(&running, "json", &token, json.into_bytes()).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        assert_eq!(body["records"], 13);
        wait_processed(&running).await;
        let (status, chain) = get(&running, "/api/v1/trace/units/W000026000101", &token).await;
        assert_eq!(status, 200, "{chain}");
        assert_eq!(
            kinds(&chain),
            [
                "received",
                "crossmatched",
                "issued",
                "reaction",
                "transfused"
            ]
        );
        assert_eq!(chain["events"][0]["source"]["messageId"], body["receipt"]);
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_dispatch_and_hospital_receipt_make_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (hospital, station) = hospital_and_station(&running).await;

        // A hospital cannot send a station's donations and dispatches.
        let forged = fixture_text("station-dispatch.xml")
            .replace("facility=\"S3201\"", "facility=\"H3201001\"")
            .replace("S3201-20261121-0007", "H3201001-FORGED");
        let (status, body) = post(&running, "xml", &hospital, forged.into_bytes()).await;
        assert_eq!(status, 422, "[{}] {body}", db.label);
        let paths: Vec<&str> = body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["records[0]", "records[1]", "records[2]"]);
        // Kept as rejected, which reprocessing does not bring back.
        let forged_id = body["error"]["receipt"].clone();
        let reprocessed: Value = reqwest::Client::new()
            .post(format!(
                "http://{}/api/v1/messages/reprocess",
                running.http_addr
            ))
            .bearer_auth(&hospital)
            .json(&serde_json::json!({ "ids": [forged_id] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            reprocessed["results"][0]["status"], "rejected",
            "{reprocessed}"
        );
        wait_processed(&running).await;
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, 0);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM donations").await, 0);

        let (status, body) = post(&running, "xml", &station, fixture("station-dispatch.xml")).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        assert_eq!(body["records"], 3);
        let received = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="urn:hemobridge:report:1" documentId="H3201001-20261121-0100" facility="{H}">
  <Received unit="W000026000010" product="RBC-LR" abo="B" rh="+" volumeMl="400" quantity="2" expires="2026-12-25" from="{S}" at="2026-11-21T17:20:00+08:00"/>
</Report>"#
        );
        let (status, body) = post(&running, "xml", &hospital, received.into_bytes()).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        wait_processed(&running).await;

        let (status, chain) = get(
            &running,
            "/api/v1/trace/units/W000026000010?product=RBC-LR",
            &hospital,
        )
        .await;
        assert_eq!(status, 200, "[{}] {chain}", db.label);
        assert_eq!(kinds(&chain), ["collected", "dispatched", "received"]);
        assert_eq!(chain["donorKey"], "D-7F3A91");
        assert_eq!(chain["unit"]["station"], S);
        assert_eq!(chain["unit"]["hospital"], H);
        assert_eq!(chain["events"][0]["facility"], S);
        assert_eq!(chain["events"][1]["detail"]["to"], H);
        assert_eq!(chain["events"][2]["facility"], H);
        // The plasma of the same donation is its own component.
        let (_, both) = get(&running, "/api/v1/trace/units/W000026000010", "test-admin").await;
        assert_eq!(both["components"].as_array().map(Vec::len), Some(2));

        // Donations are stored with the donor's identity encrypted.
        assert_eq!(count(&running, "SELECT COUNT(*) FROM donations").await, 2);
        let row = sqlx::query(
            "SELECT donor_key, donor_id_mac, donor_id_enc, donor_name_enc, kind, volume_ml, \
             station FROM donations WHERE din = $1",
        )
        .bind("W000026000010")
        .fetch_one(running.store.pool())
        .await
        .unwrap();
        assert_eq!(row.try_get::<String, _>("donor_key").unwrap(), "D-7F3A91");
        assert_eq!(row.try_get::<String, _>("kind").unwrap(), "whole-blood");
        assert_eq!(row.try_get::<i64, _>("volume_ml").unwrap(), 400);
        assert_eq!(row.try_get::<String, _>("station").unwrap(), S);
        let id_enc: String = row.try_get("donor_id_enc").unwrap();
        let name_enc: String = row.try_get("donor_name_enc").unwrap();
        assert!(!id_enc.contains("320106199002150029") && id_enc.starts_with("k1:"));
        assert!(!name_enc.contains("李芳") && name_enc.starts_with("k1:"));
        let mac: String = row.try_get("donor_id_mac").unwrap();
        assert_eq!(mac, running.store.vault().lookup_hash("320106199002150029"));
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_document_is_kept_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;

        for (syntax, name) in [
            ("xml", "invalid-bad-abo.xml"),
            ("json", "invalid-bad-abo.json"),
        ] {
            let (status, body) = post(&running, syntax, &token, fixture(name)).await;
            assert_eq!(status, 422, "[{}] {name}: {body}", db.label);
            assert_eq!(body["error"]["code"], "invalid");
            let details = body["error"]["details"].as_array().unwrap();
            assert_eq!(details.len(), 1, "{body}");
            assert_eq!(details[0]["path"], "records[3].abo");
            assert!(details[0]["message"].as_str().unwrap().contains("\"C\""));

            // Kept, with its errors, as status error.
            let receipt = body["error"]["receipt"].as_i64().expect("receipt");
            let (status, message) =
                get(&running, &format!("/api/v1/messages/{receipt}"), &token).await;
            assert_eq!(status, 200, "{message}");
            assert_eq!(message["status"], "error");
            assert_eq!(message["errors"][0]["path"], "records[3].abo");
            assert!(message["raw"].as_str().unwrap().contains("abo"));
        }
        wait_processed(&running).await;
        // All or nothing: not even the valid records were applied.
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000001", "test-admin").await;
        assert_eq!(status, 404);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, 0);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM patients").await, 0);
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM stock_reports").await,
            0
        );

        // Unreadable: 400, kept as rejected, filed under the caller's own
        // facility so that it can find it.
        let (status, body) = post(&running, "xml", &token, b"this is not XML".to_vec()).await;
        assert_eq!(status, 400, "{body}");
        let receipt = body["error"]["receipt"].as_i64().expect("receipt");
        let (status, message) = get(&running, &format!("/api/v1/messages/{receipt}"), &token).await;
        assert_eq!(status, 200, "{message}");
        assert_eq!(message["status"], "rejected");
        assert_eq!(message["raw"], "this is not XML");
        let (status, body) = post(&running, "json", &token, b"{\"documentId\": ".to_vec()).await;
        assert_eq!(status, 400, "{body}");

        // A document whose encoding is wrong for its bytes is unreadable.
        let declared_gb = fixture_text("hospital-day.xml")
            .replace("encoding=\"UTF-8\"", "encoding=\"GB18030\"")
            .into_bytes();
        let mut broken = declared_gb;
        broken.extend_from_slice(b"<!-- \xFF -->");
        let (status, _) = post(&running, "xml", &token, broken).await;
        assert_eq!(status, 400);

        // An unregistered facility (an admin may send for any): 422 at
        // `facility`, kept as rejected.
        let unknown = fixture_text("transfer-in.xml").replace("H3201002", "H9999999");
        let (status, body) = post(&running, "xml", "test-admin", unknown.into_bytes()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["details"][0]["path"], "facility");
        let receipt = body["error"]["receipt"].as_i64().unwrap();
        let (_, message) = get(
            &running,
            &format!("/api/v1/messages/{receipt}"),
            "test-admin",
        )
        .await;
        assert_eq!(message["status"], "rejected");
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_document_gets_the_first_receipt() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;

        let (status, first) = post(&running, "xml", &token, fixture("hospital-day.xml")).await;
        assert_eq!(status, 202, "[{}] {first}", db.label);
        wait_processed(&running).await;
        let events = count(&running, "SELECT COUNT(*) FROM events").await;
        assert!(events > 0);

        // Again, and once more as JSON: the same documentId from the same
        // facility.
        let (status, again) = post(&running, "xml", &token, fixture("hospital-day.xml")).await;
        assert_eq!(status, 202);
        assert_eq!(again, first);
        let (status, again) = post(&running, "json", &token, fixture("hospital-day.json")).await;
        assert_eq!(status, 202);
        assert_eq!(again, first);
        wait_processed(&running).await;

        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, events);
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM stock_reports").await,
            1
        );
        assert_eq!(count(&running, "SELECT COUNT(*) FROM stock_items").await, 4);
        let (_, found) = get(
            &running,
            "/api/v1/messages?controlId=H3201001-20261122-0001",
            &token,
        )
        .await;
        let statuses: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["duplicate", "duplicate", "ok"]);

        // A replay of the first writes nothing new either.
        let (status, _) = reqwest::Client::new()
            .post(format!(
                "http://{}/api/v1/messages/reprocess",
                running.http_addr
            ))
            .bearer_auth(&token)
            .json(&serde_json::json!({"ids": [first["receipt"]]}))
            .send()
            .await
            .map(|r| (r.status().as_u16(), ()))
            .unwrap();
        assert_eq!(status, 200);
        wait_processed(&running).await;
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, events);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM stock_items").await, 4);
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hospital_token_sends_only_as_its_own_facility() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;
        register(&running, "H3201002", FacilityKind::Hospital).await;

        let (status, body) = post(&running, "xml", &token, fixture("transfer-in.xml")).await;
        assert_eq!(status, 403, "[{}] {body}", db.label);
        assert_eq!(body["error"]["code"], "forbidden");
        let json = br#"{"documentId": "H3201002-J1", "facility": "H3201002", "records": []}"#;
        let (status, _) = post(&running, "json", &token, json.to_vec()).await;
        assert_eq!(status, 403);
        // Refused before storing: nothing to find.
        for control_id in ["H3201002-20261123-0001", "H3201002-J1"] {
            let (_, found) = get(
                &running,
                &format!("/api/v1/messages?controlId={control_id}"),
                "test-admin",
            )
            .await;
            assert_eq!(found["items"].as_array().unwrap().len(), 0, "{found}");
        }
        // An admin token may send for any registered facility.
        let (status, body) = post(&running, "xml", "test-admin", fixture("transfer-in.xml")).await;
        assert_eq!(status, 202, "{body}");
        let (status, _) = post(&running, "xml", "wrong", fixture("hospital-day.xml")).await;
        assert_eq!(status, 401);
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gb18030_document_reads_chinese_right() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;

        let text = fixture_text("hospital-day.xml")
            .replace("encoding=\"UTF-8\"", "encoding=\"GB18030\"")
            .replace("H3201001-20261122-0001", "H3201001-20261122-GB");
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        assert_ne!(bytes.as_ref(), text.as_bytes(), "the body is not UTF-8");
        let (status, body) = post(&running, "xml", &token, bytes.into_owned()).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        let receipt = body["receipt"].as_i64().unwrap();
        wait_processed(&running).await;

        // 悬浮少白细胞红细胞, 冷沉淀凝血因子 and the ward's name came through.
        let (_, chain) = get(&running, "/api/v1/trace/units/W000026000001", &token).await;
        assert_eq!(chain["unit"]["product"], "RBC-LR", "{chain}");
        assert_eq!(chain["events"][2]["detail"]["ward"], "心内科一病区");
        let (_, chain) = get(&running, "/api/v1/trace/units/W000026000004", &token).await;
        assert_eq!(chain["unit"]["product"], "CRYO", "{chain}");
        // The browser shows the body as text.
        let (_, message) = get(&running, &format!("/api/v1/messages/{receipt}"), &token).await;
        assert!(message["raw"]
            .as_str()
            .unwrap()
            .contains("悬浮少白细胞红细胞"));
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_document_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let (token, _) = hospital_and_station(&running).await;

        let stock = |document_id: &str, quantity: &str| {
            format!(
                r#"{{"documentId": "{document_id}", "facility": "{H}", "records": [
                  {{"type": "Stock", "at": "2026-11-23T20:00:00+08:00", "items": [
                    {{"product": "悬浮少白细胞红细胞", "abo": "O", "rh": "-", "quantity": {quantity}, "measure": "U"}},
                    {{"product": "新鲜冰冻血浆", "quantity": "1250.5", "measure": "mL"}}]}}]}}"#
            )
            .into_bytes()
        };
        let (status, body) = post(&running, "json", &token, stock("STOCK-1", "3")).await;
        assert_eq!(status, 202, "[{}] {body}", db.label);
        assert_eq!(body["records"], 1);
        wait_processed(&running).await;

        let rows = sqlx::query(
            "SELECT r.facility, r.at_ms, r.at_text, r.message_id, i.product, i.abo, i.rh, \
             i.quantity, i.measure FROM stock_reports r JOIN stock_items i ON i.report_id = r.id \
             ORDER BY i.product",
        )
        .fetch_all(running.store.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        let first = &rows[0];
        assert_eq!(first.try_get::<String, _>("facility").unwrap(), H);
        assert_eq!(
            first.try_get::<i64, _>("message_id").unwrap(),
            body["receipt"]
        );
        assert_eq!(
            first.try_get::<i64, _>("at_ms").unwrap(),
            chrono::DateTime::parse_from_rfc3339("2026-11-23T20:00:00+08:00")
                .unwrap()
                .timestamp_millis()
        );
        assert_eq!(
            first.try_get::<String, _>("at_text").unwrap(),
            "2026-11-23T20:00:00+08:00"
        );
        let line = |r: &sqlx::any::AnyRow| {
            (
                r.try_get::<String, _>("product").unwrap(),
                r.try_get::<Option<String>, _>("abo").unwrap(),
                r.try_get::<Option<String>, _>("rh").unwrap(),
                r.try_get::<f64, _>("quantity").unwrap(),
                r.try_get::<String, _>("measure").unwrap(),
            )
        };
        assert_eq!(
            line(&rows[0]),
            ("PLS-FFP".into(), None, None, 1250.5, "mL".into())
        );
        assert_eq!(
            line(&rows[1]),
            (
                "RBC-LR".into(),
                Some("O".into()),
                Some("-".into()),
                3.0,
                "U".into()
            )
        );

        // Another document reporting the same moment writes nothing: the
        // first report of a moment is kept.
        let (status, _) = post(&running, "json", &token, stock("STOCK-2", "5")).await;
        assert_eq!(status, 202);
        wait_processed(&running).await;
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM stock_reports").await,
            1
        );
        assert_eq!(count(&running, "SELECT COUNT(*) FROM stock_items").await, 2);
        running.stop().await;
    }
}
