//! `GET /metrics` and `/readyz` against a real engine, on SQLite and
//! PostgreSQL: messages over MLLP (accepted, AE, AR, unsupported, duplicate,
//! enhanced mode) and HTTP (HL7 and a document) are counted per label set
//! exactly; the processing histogram counts what the worker committed; the
//! queue drains to 0; outbound deliveries move when a route (a real HTTP
//! receiver started here) accepts; a connection over the MLLP limit is
//! counted as refused; every metric the alert rules use exists; `/readyz`
//! answers 503 naming the database once the engine's pool is closed.

mod common;

use axum::http::StatusCode;
use axum::routing;
use axum::Router;
use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::{self, Running};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const H: &str = "H3201001";
const S: &str = "S3201";
const DAY: &str = "2026-11-20";

fn msh(facility: &str, kind: &str, control_id: &str, tail: &str) -> String {
    format!("MSH|^~\\&|LIS|{facility}|HB|PROV|20261120070000+0800||{kind}|{control_id}|P|2.5{tail}")
}

fn adt(facility: &str, control_id: &str, tail: &str) -> String {
    hl7(&[
        &msh(facility, "ADT^A04", control_id, tail),
        &format!("PID|1||P9^^^{facility}^MR||张^三||19800101|F"),
    ])
}

/// A BPS^O29 whose BPX-11 (blood group) is not one: AE.
fn invalid_bps(control_id: &str) -> String {
    hl7(&[
        &msh(H, "BPS^O29^BPS_O29", control_id, ""),
        &format!("ORC|SC|ORD-{control_id}^{H}"),
        "BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||1",
        "BPX|1|CR^^HL70510|F|20261120080000+0800|W000026000199^^^ISBT128|RBC-LR^去白细胞悬浮红细胞^HB|||||C||20261220235959+0800|1||||WARD7^701",
    ])
}

/// Samples of one scrape: `name{k="v",...}` (labels sorted) → value.
struct Scrape {
    text: String,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("value in {line:?}"));
            let key = match series.split_once('{') {
                None => series.to_string(),
                Some((name, labels)) => {
                    let mut pairs: Vec<&str> = labels
                        .trim_end_matches('}')
                        .split("\",")
                        .map(|p| p.trim_end_matches('"'))
                        .filter(|p| !p.is_empty())
                        .collect();
                    pairs.sort();
                    let pairs: Vec<String> = pairs
                        .iter()
                        .map(|p| {
                            let (k, v) = p.split_once("=\"").expect("label");
                            format!("{k}=\"{v}\"")
                        })
                        .collect();
                    format!("{name}{{{}}}", pairs.join(","))
                }
            };
            samples.insert(key, value);
        }
        Scrape { text, samples }
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        pairs.sort();
        let key = if pairs.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", pairs.join(","))
        };
        self.samples.get(&key).copied()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in\n{}", self.text))
    }

    /// Every series of `name`, for exact comparisons of a whole family.
    fn family(&self, name: &str) -> BTreeMap<String, f64> {
        self.samples
            .iter()
            .filter(|(k, _)| k.split('{').next() == Some(name))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

async fn scrape(running: &Running) -> Scrape {
    let r = reqwest::get(format!("http://{}/metrics", running.http_addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(r.text().await.unwrap())
}

/// Polls the scrape until `done` holds (counts read at scrape time or
/// observed after a commit may lag the request that caused them a little).
async fn scrape_until(running: &Running, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..200 {
        let s = scrape(running).await;
        if done(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: not reached in 10 s:\n{}",
        scrape(running).await.text
    );
}

async fn post(running: &Running, path: &str, token: &str, body: Vec<u8>) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("http://{}{path}", running.http_addr))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A provincial store that accepts everything: 200 to each POST.
async fn accepting_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/in", routing::post(|| async { StatusCode::OK }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/in")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happened_and_readyz_sees_the_database() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let l = db.label;
        let provincial = accepting_receiver().await;
        let s = settings(
            &dir.path().join(l),
            &db.url,
            &[
                ("HEMOBRIDGE_PROVINCIAL_URL", provincial.as_str()),
                ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
                ("HEMOBRIDGE_MLLP_MAX_CONNECTIONS", "1"),
            ],
        );
        let running = server::start(&s).await.expect("engine starts");
        let token = register(&running, H, FacilityKind::Hospital).await;
        register(&running, S, FacilityKind::Station).await;

        let acks = send_all(
            &running,
            &[
                adt(H, "M-1", ""),
                invalid_bps("M-2"),
                adt("NOBODY", "M-3", ""),
                hl7(&[&msh(H, "ORU^R01^ORU_R01", "M-4", ""), "PID|1||X2"]),
                adt(H, "M-1", ""),
                // Enhanced mode: MSH-15 AL, MSH-16 NE: one commit ACK.
                adt(H, "M-5", "|||AL|NE"),
            ],
        )
        .await;
        let codes: Vec<String> = acks.iter().map(|a| msa(a).0).collect();
        assert_eq!(codes, ["AA", "AE", "AR", "AR", "AA", "CA"], "{l}");

        let (status, ack) = post(
            &running,
            "/api/v1/ingest/hl7",
            &token,
            adt(H, "HTTP-1", "").into_bytes(),
        )
        .await;
        assert_eq!((status, msa(&ack).0.as_str()), (200, "AA"), "{l}: {ack}");
        let document = json!({"documentId": "DOC-1", "facility": H,
            "generatedAt": format!("{DAY}T21:00:00+08:00"),
            "records": [{"type": "Received", "unit": "W000026000102", "product": "RBC-LR",
                "abo": "O", "rh": "+", "quantity": 1, "from": S,
                "at": format!("{DAY}T08:15:00+08:00")}]});
        let (status, body) = post(
            &running,
            "/api/v1/ingest/json",
            &token,
            document.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 202, "{l}: {body}");
        wait_processed(&running).await;

        // The worker committed 4 messages (M-1, M-5, HTTP-1, DOC-1).
        let m = scrape_until(&running, "histogram count", |m| {
            m.get("hemobridge_message_processing_seconds_count", &[]) == Some(4.0)
        })
        .await;
        let received = |facility: &str, channel: &str, ty: &str| {
            format!(
                "hemobridge_messages_received_total{{channel=\"{channel}\",facility=\"{facility}\",type=\"{ty}\"}}"
            )
        };
        let expected: BTreeMap<String, f64> = [
            (received(H, "mllp", "ADT^A04"), 3.0),
            (received(H, "mllp", "BPS^O29"), 1.0),
            (received(H, "mllp", "ORU^R01"), 1.0),
            (received("unknown", "mllp", "ADT^A04"), 1.0),
            (received(H, "http", "ADT^A04"), 1.0),
            (received(H, "http", "Report"), 1.0),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            m.family("hemobridge_messages_received_total"),
            expected,
            "{l}"
        );
        for (code, n) in [
            ("AA", 3.0),
            ("AE", 1.0),
            ("AR", 2.0),
            ("CA", 1.0),
            ("CE", 0.0),
            ("CR", 0.0),
        ] {
            assert_eq!(
                m.value("hemobridge_acks_total", &[("code", code)]),
                n,
                "{l}: {code}"
            );
        }
        let ok = running
            .store
            .count_by_status()
            .await
            .unwrap()
            .into_iter()
            .find(|(s, _)| s == "ok")
            .map_or(0, |(_, n)| n);
        assert_eq!(ok, 4, "{l}");
        assert_eq!(
            m.value("hemobridge_message_processing_seconds_count", &[]),
            4.0
        );
        assert_eq!(
            m.value(
                "hemobridge_message_processing_seconds_bucket",
                &[("le", "+Inf")]
            ),
            4.0
        );
        assert!(m.value("hemobridge_message_processing_seconds_sum", &[]) > 0.0);
        assert_eq!(m.value("hemobridge_queue_depth", &[]), 0.0, "{l}");
        assert_eq!(m.value("hemobridge_parked_messages", &[]), 1.0, "{l}");
        // No patient data in any label: the name in the messages is absent.
        assert!(
            !m.text.contains("张") && !m.text.contains("P9"),
            "{}",
            m.text
        );

        // The late list of the last closed day, as the daily module computes it.
        let zone = chrono_tz::Asia::Shanghai;
        let cutoff = hemobridge_engine::daily::default_cutoff();
        let date =
            hemobridge_engine::daily::late::last_closed_day(zone, cutoff, chrono::Utc::now());
        let late = hemobridge_engine::daily::late::late(&running.store, zone, date, cutoff)
            .await
            .unwrap();
        assert_eq!(
            m.value("hemobridge_late_hospitals", &[("date", &date.to_string())]),
            late.len() as f64,
            "{l}"
        );

        // Outbound: the day's submission goes to the provincial route.
        let day = chrono::NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
        let queued = running.scheduler.submit_day(day, None).await.unwrap();
        assert!(!queued.is_empty(), "{l}");
        let n = queued.len() as f64;
        let route = [("route", "provincial"), ("outcome", "delivered")];
        let m = scrape_until(&running, "deliveries", |m| {
            m.get("hemobridge_outbound_deliveries_total", &route) == Some(n)
                && m.get(
                    "hemobridge_outbox_items",
                    &[("route", "provincial"), ("status", "delivered")],
                ) == Some(n)
        })
        .await;
        assert_eq!(
            m.get(
                "hemobridge_outbound_deliveries_total",
                &[("route", "provincial"), ("outcome", "retry")]
            ),
            None,
            "{l}"
        );

        // The connection limit is 1: a second connection is refused and counted.
        // (Once the server has closed the connection `send_all` used.)
        scrape_until(&running, "no open connection", |m| {
            m.get("hemobridge_mllp_connections", &[]) == Some(0.0)
        })
        .await;
        let held = hemobridge_mllp::Client::connect(
            &running.mllp_addr.to_string(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        scrape_until(&running, "one open connection", |m| {
            m.get("hemobridge_mllp_connections", &[]) == Some(1.0)
        })
        .await;
        let mut refused = hemobridge_mllp::Client::connect(
            &running.mllp_addr.to_string(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert!(
            refused.send(adt(H, "M-6", "").as_bytes()).await.is_err(),
            "{l}"
        );
        let m = scrape_until(&running, "refused", |m| {
            m.get("hemobridge_mllp_connections_refused_total", &[]) == Some(1.0)
        })
        .await;
        drop(held);

        // Every metric the shipped alert rules use exists.
        let alerts = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/alerts.yml"),
        )
        .unwrap();
        let names = metric_names(&alerts);
        assert!(names.len() >= 5, "{names:?}");
        for name in &names {
            assert!(
                m.samples
                    .keys()
                    .any(|k| k.split('{').next() == Some(name.as_str())),
                "{l}: alerts.yml uses {name}, which /metrics does not export"
            );
        }

        let (status, body) = get(&running, "/readyz", "").await;
        assert_eq!((status, &body["down"]), (200, &json!([])), "{l}: {body}");
        // The engine's pool closed: the database is unreachable for it.
        running.store.close().await;
        let (status, body) = get(&running, "/readyz", "").await;
        assert_eq!(status, 503, "{l}: {body}");
        assert!(
            body["down"]
                .as_array()
                .unwrap()
                .contains(&json!("database")),
            "{body}"
        );
        // The counters are still served while the database is down.
        let m = scrape(&running).await;
        assert_eq!(
            m.value("hemobridge_acks_total", &[("code", "AA")]),
            3.0,
            "{l}"
        );
        assert_eq!(m.get("hemobridge_queue_depth", &[]), None, "{l}");
        running.stop().await;
    }
}

/// The `hemobridge_*` metric names in alert rules, histogram series mapped
/// to the name they are exported under.
fn metric_names(rules: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for (i, _) in rules.match_indices("hemobridge_") {
        let name: String = rules[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        names.insert(name);
    }
    names
}
