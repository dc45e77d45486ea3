//! HL7 over HTTP: the same rules as MLLP, and a hospital token may send only
//! as its own facility.

mod common;

use common::*;
use hemobridge_canonical::FacilityKind;

fn adt(facility: &str, control_id: &str) -> String {
    hl7(&[
        &format!(
            "MSH|^~\\&|HIS|{facility}|HB|PROV|20261122070000+0800||ADT^A04|{control_id}|P|2.5"
        ),
        &format!("PID|1||P9^^^{facility}^MR||张^三||19800101|F"),
    ])
}

async fn post(
    running: &hemobridge_engine::server::Running,
    token: &str,
    body: String,
) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/ingest/hl7", running.http_addr))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hl7_over_http_keeps_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let token = register(&running, "H1", FacilityKind::Hospital).await;
        register(&running, "H2", FacilityKind::Hospital).await;

        let (status, ack) = post(&running, &token, adt("H1", "HTTP-1")).await;
        assert_eq!(status, 200, "[{}] {ack}", db.label);
        assert_eq!(msa(&ack), ("AA".into(), "HTTP-1".into()));

        // Sending as another hospital is refused before anything is stored.
        let (status, body) = post(&running, &token, adt("H2", "HTTP-2")).await;
        assert_eq!(status, 403, "{body}");
        let (_, found) = get(&running, "/api/v1/messages?controlId=HTTP-2", "test-admin").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 0);

        // An admin token may send for any registered facility.
        let (status, ack) = post(&running, "test-admin", adt("H2", "HTTP-3")).await;
        assert_eq!(status, 200);
        assert_eq!(msa(&ack).0, "AA");

        let (status, _) = post(&running, "wrong", adt("H1", "HTTP-4")).await;
        assert_eq!(status, 401);

        let (status, body) = get(&running, "/readyz", "").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["database"], "up");

        // A hospital token's message search is limited to its own.
        let (status, _) = get(&running, "/api/v1/messages?facility=H2", &token).await;
        assert_eq!(status, 403);
        let (_, own) = get(&running, "/api/v1/messages", &token).await;
        assert!(own["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["facility"] == "H1"));
        running.stop().await;
    }
}
