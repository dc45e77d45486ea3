//! Durable outbound delivery, on SQLite and PostgreSQL, against real HTTP
//! receivers started here that play the provincial store, the Shanghai
//! platform and a FHIR server. The receivers validate every body (the
//! published JSON Schema, the XSD through xmllint) and answer 503 twice per
//! idempotency key before accepting it, so every item goes through the
//! back-off. Checked: each item arrives exactly once; a 400 dead-letters
//! at once; a route that is down for the whole run leaves its items dead
//! with the last error, and retry (API and CLI function) delivers them once
//! the receiver is up; ingest keeps working meanwhile; a waiver claim and
//! its cancellation reach the provincial store; re-queueing is a no-op.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::{databases, register, settings, wait_processed};
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::outbox::cli::{outbox_command, OutboxCommand};
use hemobridge_engine::server::{self, Running};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const S: &str = "S3201";
const H: &str = "H3201001";
/// The provincial store does not know this hospital and answers 400.
const H_UNKNOWN: &str = "H3209999";
const DONOR: &str = "320106199002150029";
const DAY: &str = "2026-11-20";

fn spec(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/specs")
        .join(name)
}

/// What one receiver saw.
#[derive(Default)]
struct Log {
    /// Requests per idempotency key (all answers).
    requests: HashMap<String, u32>,
    /// Bodies accepted, per idempotency key.
    accepted: HashMap<String, Vec<Vec<u8>>>,
    /// Bodies that failed validation, with the reason.
    invalid: Vec<String>,
    /// Message types (provincial) or kinds accepted, in order.
    kinds: Vec<String>,
}

type Validate = fn(&[u8]) -> Result<String, String>;

#[derive(Clone)]
struct Receiver {
    log: Arc<Mutex<Log>>,
    validate: Validate,
    /// Hospitals this receiver refuses with a 400.
    unknown_hospital: Option<&'static str>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut log = r.log.lock().unwrap();
    if key.is_empty() {
        log.invalid.push("no Idempotency-Key".into());
        return (StatusCode::BAD_REQUEST, "Idempotency-Key required".into());
    }
    let kind = match (r.validate)(&body) {
        Ok(kind) => kind,
        Err(e) => {
            log.invalid.push(format!("{key}: {e}"));
            return (StatusCode::BAD_REQUEST, e);
        }
    };
    if let Some(h) = r.unknown_hospital {
        if key.contains(h) {
            return (StatusCode::BAD_REQUEST, format!("unknown hospital {h}"));
        }
    }
    let seen = log.requests.entry(key.clone()).or_default();
    *seen += 1;
    if *seen <= 2 {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy, try later".into());
    }
    if log.accepted.contains_key(&key) {
        // A real store keeps the first and says so.
        return (StatusCode::CONFLICT, "already have it".into());
    }
    log.accepted.insert(key, vec![body.to_vec()]);
    log.kinds.push(kind);
    (StatusCode::OK, "ok".into())
}

async fn start_receiver(
    listener: tokio::net::TcpListener,
    validate: Validate,
    unknown_hospital: Option<&'static str>,
) -> Arc<Mutex<Log>> {
    let log = Arc::new(Mutex::new(Log::default()));
    let app = Router::new()
        .route("/in", post(receive))
        .with_state(Receiver {
            log: log.clone(),
            validate,
            unknown_hospital,
        });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    log
}

fn provincial_validator() -> &'static jsonschema::Validator {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let text = std::fs::read_to_string(spec("provincial.schema.json")).unwrap();
        let schema: Value = serde_json::from_str(&text).unwrap();
        jsonschema::draft202012::new(&schema).expect("the provincial schema compiles")
    })
}

fn validate_provincial(body: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let errors: Vec<String> = provincial_validator()
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(v["messageType"].as_str().unwrap_or("").to_string())
}

fn validate_shanghai(body: &[u8]) -> Result<String, String> {
    let mut child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(spec("shanghai.xsd"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("xmllint: {e}"))?;
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok("daily-xml".into())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn validate_fhir(body: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if v["resourceType"] != "Bundle" || v["type"] != "transaction" {
        return Err(format!(
            "not a transaction Bundle: {} {}",
            v["resourceType"], v["type"]
        ));
    }
    let entries = v["entry"].as_array().map_or(0, Vec::len);
    if entries == 0 {
        return Err("a transaction Bundle without entries".into());
    }
    Ok("fhir-bundle".into())
}

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

fn day_document(hospital: &str, id: &str, day: &str, dins: &[&str]) -> Value {
    let records: Vec<Value> = dins
        .iter()
        .enumerate()
        .map(|(i, din)| {
            json!({"type": "Received", "unit": din, "product": "RBC-LR", "abo": "O", "rh": "+",
                   "quantity": 1, "from": S, "at": format!("{day}T0{}:15:00+08:00", i + 8)})
        })
        .collect();
    json!({"documentId": id, "facility": hospital, "generatedAt": format!("{day}T21:00:00+08:00"),
           "records": records})
}

async fn donate(running: &Running, station_token: &str) {
    let doc = json!({
        "documentId": "S3201-DON-1",
        "facility": S,
        "generatedAt": "2026-11-21T18:00:00+08:00",
        "records": [{
            "type": "Donation", "unit": "W000026000010", "donorKey": "D-1",
            "donorIdNumber": DONOR, "donorName": "李芳", "kind": "whole-blood",
            "volumeMl": 400, "at": "2026-11-20T09:30:00+08:00"
        }]
    });
    let (status, body) = post_json(running, "/api/v1/ingest/json", station_token, &doc).await;
    assert_eq!(status, 202, "{body}");
    wait_processed(running).await;
}

/// (route, status) → count.
async fn counts(running: &Running) -> HashMap<(String, String), i64> {
    running
        .store
        .outbox_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|(r, s, n)| ((r, s), n))
        .collect()
}

async fn wait_until(
    running: &Running,
    what: &str,
    done: impl Fn(&HashMap<(String, String), i64>) -> bool,
) {
    for _ in 0..600 {
        let c = counts(running).await;
        if done(&c) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: not reached in 30 s; outbox: {:?}",
        counts(running).await
    );
}

fn n(c: &HashMap<(String, String), i64>, route: &str, status: &str) -> i64 {
    c.get(&(route.to_string(), status.to_string()))
        .copied()
        .unwrap_or(0)
}

/// Asserts every accepted key was accepted once, after two 503s.
fn assert_exactly_once(label: &str, name: &str, log: &Log, expected_keys: usize) {
    assert!(
        log.invalid.is_empty(),
        "{label} {name}: invalid bodies: {:?}",
        log.invalid
    );
    assert_eq!(
        log.accepted.len(),
        expected_keys,
        "{label} {name}: {:?}",
        log.accepted.keys()
    );
    for (key, bodies) in &log.accepted {
        assert_eq!(bodies.len(), 1, "{label} {name}: {key} accepted twice");
        assert_eq!(
            log.requests[key], 3,
            "{label} {name}: {key}: 2 × 503, then 200"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_deliver_exactly_once_through_failures() {
    if Command::new("xmllint").arg("--version").output().is_err() {
        if std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("xmllint is not on PATH (apt-get install libxml2-utils)");
        }
        println!("SKIPPED: xmllint is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let provincial_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shanghai_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provincial_url = format!("http://{}/in", provincial_listener.local_addr().unwrap());
        let shanghai_url = format!("http://{}/in", shanghai_listener.local_addr().unwrap());
        let provincial =
            start_receiver(provincial_listener, validate_provincial, Some(H_UNKNOWN)).await;
        let shanghai = start_receiver(shanghai_listener, validate_shanghai, None).await;
        // The FHIR server is down: nobody listens on this port until later.
        let fhir_addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let fhir_url = format!("http://{fhir_addr}/in");

        let s = settings(
            &dir.path().join(l),
            &db.url,
            &[
                ("HEMOBRIDGE_PROVINCIAL_URL", provincial_url.as_str()),
                ("HEMOBRIDGE_SHANGHAI_URL", shanghai_url.as_str()),
                ("HEMOBRIDGE_FHIR_URL", fhir_url.as_str()),
                ("HEMOBRIDGE_OUTBOX_RETRY_BASE_MS", "5"),
                ("HEMOBRIDGE_OUTBOX_RETRY_CAP_MS", "40"),
                ("HEMOBRIDGE_OUTBOX_MAX_ATTEMPTS", "4"),
                ("HEMOBRIDGE_OUTBOX_TIMEOUT_MS", "2000"),
                // The rounds are called by hand below.
                ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
            ],
        );
        let running = server::start(&s).await.expect("engine starts");
        let station = register(&running, S, FacilityKind::Station).await;
        let hospital = register(&running, H, FacilityKind::Hospital).await;
        let unknown = register(&running, H_UNKNOWN, FacilityKind::Hospital).await;

        let (status, body) = post_json(
            &running,
            "/api/v1/ingest/json",
            &hospital,
            &day_document(H, "H-DAY-1", DAY, &["W000026000102", "W000026000103"]),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        let (status, body) = post_json(
            &running,
            "/api/v1/ingest/json",
            &unknown,
            &day_document(H_UNKNOWN, "HU-DAY-1", DAY, &["W000026000104"]),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        wait_processed(&running).await;

        // The day of both hospitals, on all three routes.
        let date = chrono::NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
        let queued = running.scheduler.submit_day(date, None).await.unwrap();
        assert_eq!(queued.len(), 6, "{l}: {queued:?}");
        assert!(
            queued.iter().all(|q| q.new && q.version == 1),
            "{l}: {queued:?}"
        );

        // A waiver claim and its cancellation go to the provincial store.
        donate(&running, &station).await;
        let claim = json!({
            "claimId": "C-1", "patient": "ZY-1", "donorIdNumber": DONOR, "donorName": "李芳",
            "relationship": "self", "bloodFee": 300.0,
            "dischargedAt": "2026-11-25T15:30:00+08:00", "unitsUsedMl": 300,
        });
        let (status, decision) = post_json(&running, "/api/v1/waivers", &hospital, &claim).await;
        assert_eq!(status, 200, "{l}: {decision}");
        // The same claim again: its first decision, no second message.
        let (status, _) = post_json(&running, "/api/v1/waivers", &hospital, &claim).await;
        assert_eq!(status, 200);
        let (status, body) = post_json(
            &running,
            "/api/v1/waivers/C-1/cancel",
            &hospital,
            &json!({}),
        )
        .await;
        assert_eq!(status, 200, "{l}: {body}");

        // Provincial: 2 daily (one refused) + claim + cancel; Shanghai: 2.
        wait_until(&running, "provincial and shanghai settle", |c| {
            n(c, "provincial", "delivered") == 3
                && n(c, "provincial", "dead") == 1
                && n(c, "shanghai", "delivered") == 2
                && n(c, "fhir", "dead") == 2
        })
        .await;

        // Ingest keeps working while the FHIR route is down.
        let (status, body) = post_json(
            &running,
            "/api/v1/ingest/json",
            &hospital,
            &day_document(H, "H-DAY-2", "2026-11-22", &["W000026000105"]),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        wait_processed(&running).await;

        {
            let p = provincial.lock().unwrap();
            assert_exactly_once(l, "provincial", &p, 3);
            let mut kinds = p.kinds.clone();
            kinds.sort();
            assert_eq!(
                kinds,
                ["daily-submission", "waiver-cancel", "waiver-claim"],
                "{l}"
            );
            let claim_body: Value =
                serde_json::from_slice(&p.accepted["waiver-claim:H3201001:C-1"][0]).unwrap();
            assert_eq!(
                claim_body["payload"]["waivedMl"], decision["waivedMl"],
                "{l}: {claim_body}"
            );
            // No identity in clear leaves the engine.
            let all: Vec<String> = p
                .accepted
                .values()
                .map(|b| String::from_utf8_lossy(&b[0]).into_owned())
                .collect();
            assert!(
                all.iter()
                    .all(|b| !b.contains(DONOR) && !b.contains("李芳")),
                "{l}"
            );
            // The refused hospital was tried once, never accepted.
            assert!(p.accepted.keys().all(|k| !k.contains(H_UNKNOWN)), "{l}");
            let s = shanghai.lock().unwrap();
            assert_exactly_once(l, "shanghai", &s, 2);
        }

        // The dead-letters, as the API shows them.
        let admin = "test-admin";
        let (status, list) = common::get(
            &running,
            "/api/v1/outbox?status=dead&route=provincial",
            admin,
        )
        .await;
        assert_eq!(status, 200, "{l}: {list}");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{l}: {list}");
        assert_eq!(items[0]["hospital"], H_UNKNOWN);
        assert!(items[0]["bodyBytes"].as_u64().unwrap() > 100, "{l}: {list}");
        assert_eq!(items[0]["attempts"], 1, "{l}: a 400 is not retried");
        assert_eq!(
            items[0]["lastError"], "HTTP 400: unknown hospital H3209999",
            "{l}"
        );

        let (_, list) = common::get(&running, "/api/v1/outbox?status=dead&route=fhir", admin).await;
        let fhir_dead: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(fhir_dead.len(), 2, "{l}: {list}");
        let (status, one) =
            common::get(&running, &format!("/api/v1/outbox/{}", fhir_dead[0]), admin).await;
        assert_eq!(status, 200);
        assert_eq!(one["attempts"].as_array().unwrap().len(), 4, "{l}: {one}");
        assert!(
            one["lastError"]
                .as_str()
                .unwrap()
                .starts_with("connection failed"),
            "{l}: {one}"
        );
        assert_eq!(
            one["body"].as_str().map(|b| b.contains("\"Bundle\"")),
            Some(true)
        );
        let (status, _) = common::get(&running, "/api/v1/outbox?status=lost", admin).await;
        assert_eq!(status, 400);
        let (status, _) = common::get(&running, "/api/v1/outbox", &hospital).await;
        assert_eq!(status, 403, "{l}: hospitals do not see the outbox");

        // The FHIR server comes up; one item retried by the API, the rest
        // by the CLI's function.
        let fhir_listener = tokio::net::TcpListener::bind(fhir_addr).await.unwrap();
        let fhir = start_receiver(fhir_listener, validate_fhir, None).await;
        let r = reqwest::Client::new()
            .post(format!(
                "http://{}/api/v1/outbox/{}/retry",
                running.http_addr, fhir_dead[0]
            ))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        wait_until(&running, "first FHIR item delivered", |c| {
            n(c, "fhir", "delivered") == 1
        })
        .await;
        let lines = outbox_command(
            &running.store,
            OutboxCommand::Retry {
                ids: vec![],
                all_dead: true,
            },
        )
        .await
        .unwrap();
        // The other FHIR item and the refused provincial one.
        assert_eq!(lines.len(), 2, "{l}: {lines:?}");
        wait_until(&running, "everything settles again", |c| {
            n(c, "fhir", "delivered") == 2
                && n(c, "provincial", "dead") == 1
                && n(c, "provincial", "pending") == 0
        })
        .await;
        assert_exactly_once(l, "fhir", &fhir.lock().unwrap(), 2);

        // Queueing the same versions again is a no-op.
        let again = running.scheduler.submit_day(date, None).await.unwrap();
        assert!(again.iter().all(|q| !q.new), "{l}: {again:?}");
        let c = counts(&running).await;
        assert_eq!(c.values().sum::<i64>(), 8, "{l}: {c:?}");

        // The counters for /metrics agree with the outbox.
        let stats = running.routes.stats();
        assert_eq!(stats.get("provincial", "delivered"), 3, "{l}");
        assert_eq!(
            stats.get("provincial", "rejected"),
            2,
            "{l}: once before the retry, once after"
        );
        assert_eq!(stats.get("shanghai", "retry"), 4, "{l}");
        assert_eq!(stats.get("fhir", "dead"), 2, "{l}");
        running.stop().await;
    }
}

/// Runs the `hemobridge` binary on the test's database; its stdout lines.
fn cli(
    data_dir: &std::path::Path,
    db_url: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_hemobridge"))
        .args(args)
        .env("HEMOBRIDGE_DATA_DIR", data_dir)
        .env("HEMOBRIDGE_DATABASE_URL", db_url)
        .envs(extra.iter().copied())
        .output()
        .expect("hemobridge runs");
    assert!(
        out.status.success(),
        "hemobridge {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_submit_amendments_stock_and_xml_summary() {
    if Command::new("xmllint").arg("--version").output().is_err() {
        if std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("xmllint is not on PATH (apt-get install libxml2-utils)");
        }
        println!("SKIPPED: xmllint is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let data_dir = dir.path().join(l);
        let provincial_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shanghai_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provincial_url = format!("http://{}/in", provincial_listener.local_addr().unwrap());
        let shanghai_url = format!("http://{}/in", shanghai_listener.local_addr().unwrap());
        let provincial = start_receiver(provincial_listener, validate_provincial, None).await;
        let shanghai = start_receiver(shanghai_listener, validate_shanghai, None).await;
        let routes = [
            ("HEMOBRIDGE_PROVINCIAL_URL", provincial_url.as_str()),
            ("HEMOBRIDGE_SHANGHAI_URL", shanghai_url.as_str()),
        ];
        let mut env = routes.to_vec();
        env.extend([
            ("HEMOBRIDGE_OUTBOX_RETRY_BASE_MS", "5"),
            ("HEMOBRIDGE_OUTBOX_RETRY_CAP_MS", "40"),
            ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
        ]);
        let running = server::start(&settings(&data_dir, &db.url, &env))
            .await
            .expect("engine starts");
        register(&running, S, FacilityKind::Station).await;
        let hospital = register(&running, H, FacilityKind::Hospital).await;
        let (status, body) = post_json(
            &running,
            "/api/v1/ingest/json",
            &hospital,
            &day_document(H, "H-DAY-1", DAY, &["W000026000102", "W000026000103"]),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        wait_processed(&running).await;

        // `hemobridge submit daily` records and queues; the running engine
        // delivers (without a wake-up from the other process: by its timer).
        let lines = cli(
            &data_dir,
            &db.url,
            &["submit", "daily", "--date", DAY, "--hospital", H],
            &routes,
        );
        let queued: Vec<Value> = lines
            .iter()
            .map(|x| serde_json::from_str(x).unwrap())
            .collect();
        assert_eq!(queued.len(), 2, "{l}: {lines:?}");
        let mut queued_routes: Vec<&str> = queued
            .iter()
            .map(|q| q["route"].as_str().unwrap())
            .collect();
        queued_routes.sort();
        assert_eq!(queued_routes, ["provincial", "shanghai"]);
        assert!(
            queued.iter().all(|q| q["version"] == 1
                && q["new"] == true
                && q["key"] == "daily:H3201001:2026-11-20:v1"),
            "{l}: {lines:?}"
        );
        wait_until(&running, "version 1 delivered", |c| {
            n(c, "provincial", "delivered") == 1 && n(c, "shanghai", "delivered") == 1
        })
        .await;

        // A late event: the amendment round queues version 2 on both routes.
        let since = hemobridge_engine::store::now_ms();
        let (status, body) = post_json(
            &running,
            "/api/v1/ingest/json",
            &hospital,
            &day_document(H, "H-DAY-LATE", DAY, &["W000026000104"]),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        wait_processed(&running).await;
        let amended = running.scheduler.amend_once(since).await.unwrap();
        assert_eq!(amended.len(), 2, "{l}: {amended:?}");
        assert!(
            amended.iter().all(|q| q.version == 2 && q.new),
            "{l}: {amended:?}"
        );
        // The same round again finds nothing new.
        assert!(running
            .scheduler
            .amend_once(since)
            .await
            .unwrap()
            .iter()
            .all(|q| !q.new));

        // Stock: one snapshot for the hospital with new events, then none.
        let mut marks = hemobridge_engine::routing::scheduler::StockMarks {
            events_since_ms: since,
            last_report_id: 0,
        };
        let stock = running.scheduler.stock_once(&mut marks).await.unwrap();
        assert_eq!(stock.len(), 1, "{l}");
        assert_eq!(stock[0].hospital.as_deref(), Some(H));
        assert!(
            running
                .scheduler
                .stock_once(&mut marks)
                .await
                .unwrap()
                .is_empty(),
            "{l}"
        );

        wait_until(&running, "amendment and stock delivered", |c| {
            n(c, "provincial", "delivered") == 3 && n(c, "shanghai", "delivered") == 2
        })
        .await;
        {
            let p = provincial.lock().unwrap();
            assert_exactly_once(l, "provincial", &p, 3);
            let v2: Value =
                serde_json::from_slice(&p.accepted["daily:H3201001:2026-11-20:v2"][0]).unwrap();
            assert_eq!(v2["payload"]["amends"], 1, "{l}: {v2}");
            let mut kinds = p.kinds.clone();
            kinds.sort();
            assert_eq!(
                kinds,
                ["daily-submission", "daily-submission", "stock-snapshot"]
            );
            let s = shanghai.lock().unwrap();
            assert_exactly_once(l, "shanghai", &s, 2);
            // Version 2 re-sends the two earlier receipts and the stock line
            // as updates, and the late receipt as new.
            let v2 =
                String::from_utf8(s.accepted["daily:H3201001:2026-11-20:v2"][0].clone()).unwrap();
            assert_eq!(v2.matches("<Action>new</Action>").count(), 1, "{l}: {v2}");
            assert_eq!(
                v2.matches("<Action>update</Action>").count(),
                3,
                "{l}: {v2}"
            );
            let v1 =
                String::from_utf8(s.accepted["daily:H3201001:2026-11-20:v1"][0].clone()).unwrap();
            assert_eq!(v1.matches("<Action>new</Action>").count(), 3, "{l}: {v1}");
        }

        // The Shanghai summary form of the day, valid against the XSD.
        let r = reqwest::Client::new()
            .get(format!(
                "http://{}/api/v1/daily/{H}/{DAY}?format=xml",
                running.http_addr
            ))
            .bearer_auth(&hospital)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml"));
        let xml = r.text().await.unwrap();
        validate_shanghai(xml.as_bytes()).unwrap_or_else(|e| panic!("{l}: {e}\n{xml}"));

        // `hemobridge outbox list`.
        let listed = cli(
            &data_dir,
            &db.url,
            &[
                "outbox",
                "list",
                "--status",
                "delivered",
                "--route",
                "provincial",
            ],
            &[],
        );
        assert_eq!(listed.len(), 3, "{l}: {listed:?}");
        let first: Value = serde_json::from_str(&listed[0]).unwrap();
        assert_eq!(first["status"], "delivered");
        assert_eq!(first["kind"], "stock", "{l}: newest first");
        running.stop().await;
    }
}

/// A backlog is delivered in bounded batches, each item exactly once; prints
/// the rate (items/s) for docs/performance.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_drains_exactly_once() {
    const ITEMS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let app = Router::new().route(
            "/in",
            post({
                let seen = seen.clone();
                move |headers: HeaderMap| async move {
                    let key = headers["idempotency-key"].to_str().unwrap().to_string();
                    *seen.lock().unwrap().entry(key).or_default() += 1;
                    StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/in", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let s = settings(
            &dir.path().join(l),
            &db.url,
            &[
                ("HEMOBRIDGE_PROVINCIAL_URL", url.as_str()),
                ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
            ],
        );
        let running = server::start(&s).await.expect("engine starts");
        let items: Vec<_> = (0..ITEMS)
            .map(|i| hemobridge_engine::store::outbox::NewItem {
                route: "provincial".into(),
                kind: "stock".into(),
                key: format!("stock:H{i:05}:1"),
                hospital: Some(format!("H{i:05}")),
                content_type: "application/json".into(),
                body: format!("{{\"n\":{i}}}").into_bytes(),
            })
            .collect();
        let started = std::time::Instant::now();
        running.store.enqueue(&items).await.unwrap();
        // Queued again: nothing new.
        let again = running.store.enqueue(&items[..10]).await.unwrap();
        assert!(again.iter().all(Option::is_none), "{l}");
        wait_until(&running, "backlog delivered", |c| {
            n(c, "provincial", "delivered") == ITEMS as i64
        })
        .await;
        let elapsed = started.elapsed();
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), ITEMS, "{l}");
            assert!(
                seen.values().all(|n| *n == 1),
                "{l}: an item was sent twice"
            );
        }
        println!(
            "[{l}] {ITEMS} items delivered in {:.2} s ({:.0} items/s, one route)",
            elapsed.as_secs_f64(),
            ITEMS as f64 / elapsed.as_secs_f64()
        );
        running.stop().await;
    }
}
