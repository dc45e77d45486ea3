//! Direct-waiver claims over HTTP (`/api/v1/waivers`), on SQLite and, when
//! configured, PostgreSQL: the Jiangsu cases end to end, cancellation,
//! resends, validation, and no double spending under concurrent claims.

mod common;

use common::{databases, get, register, start, wait_processed};
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use serde_json::{json, Value};

const S: &str = "S3201";
const H: &str = "H3201001";
const DONOR: &str = "320106199002150029";
const DONOR2: &str = "320102198501011234";

async fn post_json(running: &Running, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{}{}", running.http_addr, path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("HTTP request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The station reports one 400 mL whole-blood donation by `donor`.
async fn donate(running: &Running, station_token: &str, donor: &str, din: &str) {
    let doc = json!({
        "documentId": format!("{S}-{din}"),
        "facility": S,
        "generatedAt": "2026-11-21T18:00:00+08:00",
        "records": [{
            "type": "Donation",
            "unit": din,
            "donorKey": format!("D-{din}"),
            "donorIdNumber": donor,
            "donorName": "李芳",
            "kind": "whole-blood",
            "volumeMl": 400,
            "at": "2026-11-20T09:30:00+08:00"
        }]
    });
    let (status, body) = post_json(running, "/api/v1/ingest/json", station_token, &doc).await;
    assert_eq!(status, 202, "{body}");
    wait_processed(running).await;
}

fn claim(claim_id: &str, donor: &str, relationship: &str, ml: u32, fee: f64) -> Value {
    json!({
        "claimId": claim_id,
        "patient": format!("ZY-{claim_id}"),
        "donorIdNumber": donor,
        "donorName": "李芳",
        "relationship": relationship,
        "bloodFee": fee,
        "dischargedAt": "2026-11-25T15:30:00+08:00",
        "unitsUsedMl": ml,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jiangsu_claims_cancel_and_resend() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let running = start(&dir.path().join(l), &db).await;
        let station = register(&running, S, FacilityKind::Station).await;
        let hospital = register(&running, H, FacilityKind::Hospital).await;
        let other = register(&running, "H3201002", FacilityKind::Hospital).await;
        donate(&running, &station, DONOR, "W000026000010").await;

        // Self: 3 × 400 = 1200 mL.
        let (status, d) = post_json(
            &running,
            "/api/v1/waivers",
            &hospital,
            &claim("C-SELF", DONOR, "self", 1200, 1200.0),
        )
        .await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["claimId"], "C-SELF");
        assert_eq!(d["hospital"], H);
        assert_eq!(d["decision"], "full", "[{l}] {d}");
        assert_eq!(d["waivedMl"], 1200);
        assert_eq!(d["waivedYuan"], 1200.0);
        assert_eq!(d["patientPaysYuan"], 0.0);
        assert_eq!(d["remaining"]["selfMl"], 0);
        assert_eq!(d["rule"]["id"], "jiangsu-2025");
        assert!(d["reason"].as_str().is_some_and(|r| !r.is_empty()));
        let text = d.to_string();
        assert!(!text.contains(DONOR) && !text.contains("李芳"), "{text}");

        // Spouse 300 of the relatives' 400.
        let spouse = claim("C-SPOUSE", DONOR, "spouse", 300, 300.0);
        let (status, d) = post_json(&running, "/api/v1/waivers", &hospital, &spouse).await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["decision"], "full", "[{l}] {d}");
        assert_eq!(d["waivedYuan"], 300.0);
        assert_eq!(d["remaining"]["relativesMl"], 100);
        let first_spouse = d.clone();

        // Sister: 100 left → partial.
        let (status, d) = post_json(
            &running,
            "/api/v1/waivers",
            &hospital,
            &claim("C-SISTER", DONOR, "sibling", 300, 300.0),
        )
        .await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["decision"], "partial", "[{l}] {d}");
        assert_eq!(d["waivedMl"], 100);
        assert_eq!(d["waivedYuan"], 100.0);
        assert_eq!(d["patientPaysYuan"], 200.0);
        assert_eq!(d["remaining"]["relativesMl"], 0);

        // Another hospital cannot cancel or read it.
        let (status, _) = post_json(
            &running,
            "/api/v1/waivers/C-SISTER/cancel",
            &other,
            &json!({}),
        )
        .await;
        assert_eq!(status, 404, "[{l}]");
        let (status, _) = get(&running, "/api/v1/waivers/C-SISTER", &other).await;
        assert_eq!(status, 404, "[{l}]");

        // Cancel (twice is fine): the 100 mL come back.
        for _ in 0..2 {
            let (status, d) = post_json(
                &running,
                "/api/v1/waivers/C-SISTER/cancel",
                &hospital,
                &json!({}),
            )
            .await;
            assert_eq!(status, 200, "[{l}] {d}");
            assert_eq!(d["status"], "cancelled");
        }
        let (status, d) = get(&running, "/api/v1/waivers/C-SISTER", &hospital).await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["status"], "cancelled");
        assert_eq!(d["waivedMl"], 100);

        // Resending the spouse's claim: the first decision, nothing consumed.
        let (status, d) = post_json(&running, "/api/v1/waivers", &hospital, &spouse).await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d, first_spouse, "[{l}]");

        // A new claim sees the restored 100 mL.
        let (status, d) = post_json(
            &running,
            "/api/v1/waivers",
            &hospital,
            &claim("C-FATHER", DONOR, "parent", 100, 100.0),
        )
        .await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["decision"], "full", "[{l}] {d}");
        assert_eq!(d["remaining"]["relativesMl"], 0);

        // And now the relatives' share is used up.
        let (status, d) = post_json(
            &running,
            "/api/v1/waivers",
            &hospital,
            &claim("C-CHILD", DONOR, "child", 100, 100.0),
        )
        .await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["decision"], "none", "[{l}] {d}");
        assert_eq!(d["waivedMl"], 0);
        assert_eq!(d["patientPaysYuan"], 100.0);

        // Admin reads with ?hospital=; a regulator may not claim.
        let (status, d) = get(
            &running,
            &format!("/api/v1/waivers/C-SPOUSE?hospital={H}"),
            "test-admin",
        )
        .await;
        assert_eq!(status, 200, "[{l}] {d}");
        assert_eq!(d["waivedMl"], 300);

        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_claims_are_refused_with_paths() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let running = start(&dir.path().join(l), &db).await;
        let hospital = register(&running, H, FacilityKind::Hospital).await;
        let bad_id = "320106199002150028";
        let body = json!({
            "claimId": "C-BAD",
            "patient": "ZY1",
            "donorIdNumber": bad_id,
            "relationship": "cousin",
            "bloodFee": -5,
            "dischargedAt": "2026-11-25T15:30:00+08:00",
            "unitsUsedMl": 0,
        });
        let (status, e) = post_json(&running, "/api/v1/waivers", &hospital, &body).await;
        assert_eq!(status, 422, "[{l}] {e}");
        let paths: Vec<&str> = e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        for p in ["donorIdNumber", "relationship", "bloodFee", "unitsUsedMl"] {
            assert!(paths.contains(&p), "[{l}] {p} missing in {e}");
        }
        assert!(!e.to_string().contains(bad_id), "{e}");

        let (status, e) = post_json(&running, "/api/v1/waivers", &hospital, &json!({})).await;
        assert_eq!(status, 422, "[{l}] {e}");

        // An admin must name the hospital.
        let (status, e) = post_json(
            &running,
            "/api/v1/waivers",
            "test-admin",
            &claim("C-A", DONOR, "self", 100, 100.0),
        )
        .await;
        assert_eq!(status, 422, "[{l}] {e}");
        assert_eq!(e["error"]["details"][0]["path"], "hospital");

        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_spend_twice() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let running = start(&dir.path().join(l), &db).await;
        let station = register(&running, S, FacilityKind::Station).await;
        let mut tokens = Vec::new();
        for i in 1..=5 {
            let code = format!("H320100{i}");
            tokens.push(register(&running, &code, FacilityKind::Hospital).await);
        }
        donate(&running, &station, DONOR2, "W000026000020").await;

        let addr = running.http_addr;
        let relationships = ["spouse", "parent", "child", "sibling"];
        let mut tasks = Vec::new();
        for i in 0..50 {
            let token = tokens[i % tokens.len()].clone();
            let body = claim(
                &format!("CC-{i:03}"),
                DONOR2,
                relationships[i % relationships.len()],
                100,
                100.0,
            );
            tasks.push(tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .post(format!("http://{addr}/api/v1/waivers"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("HTTP request");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }));
        }
        let mut total = 0;
        for t in tasks {
            let (status, d) = t.await.unwrap();
            assert_eq!(status, 200, "[{l}] {d}");
            total += d["waivedMl"].as_i64().expect("waivedMl");
        }
        assert_eq!(total, 400, "[{l}] relatives' 400 mL spent exactly once");

        running.stop().await;
    }
}
