//! Shared test harness: a real engine on ephemeral ports over a fresh
//! database, on SQLite always and on PostgreSQL when
//! `HEMOBRIDGE_TEST_DATABASE_URL` is set (required when
//! `HEMOBRIDGE_REQUIRE_SERVICES=1`, as in CI).
#![allow(dead_code)]

use hemobridge_engine::config::{FileConfig, Settings};
use hemobridge_engine::server::{self, Running};
use hemobridge_engine::store::admin::Role;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

pub struct TestDb {
    pub label: &'static str,
    pub url: String,
}

static SCHEMA_SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The databases to run a test against: a new SQLite file in `dir`, and a
/// new PostgreSQL schema when a server is configured.
pub async fn databases(dir: &Path) -> Vec<TestDb> {
    let mut out = vec![TestDb {
        label: "sqlite",
        url: format!("sqlite://{}/hemobridge.db", dir.display()),
    }];
    if let Some(url) = postgres_url().await {
        out.push(TestDb {
            label: "postgres",
            url,
        });
    }
    out
}

/// A fresh, empty schema on the test PostgreSQL server, selected through
/// the connection's search_path.
pub async fn postgres_url() -> Option<String> {
    let base = match std::env::var("HEMOBRIDGE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            if std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("HEMOBRIDGE_REQUIRE_SERVICES=1 but HEMOBRIDGE_TEST_DATABASE_URL is not set");
            }
            eprintln!(
                "SKIPPED the PostgreSQL half of this test: HEMOBRIDGE_TEST_DATABASE_URL is not set"
            );
            return None;
        }
    };
    sqlx::any::install_default_drivers();
    let schema = format!(
        "hbtest_{}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        SCHEMA_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let pool = sqlx::AnyPool::connect(&base).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at HEMOBRIDGE_TEST_DATABASE_URL is not reachable: {e}")
    });
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

pub fn settings(data_dir: &Path, database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("HEMOBRIDGE_DATA_DIR".into(), data_dir.display().to_string());
    env.insert("HEMOBRIDGE_DATABASE_URL".into(), database_url.into());
    env.insert("HEMOBRIDGE_MLLP_ADDR".into(), "127.0.0.1:0".into());
    env.insert("HEMOBRIDGE_HTTP_ADDR".into(), "127.0.0.1:0".into());
    env.insert("HEMOBRIDGE_BOOTSTRAP_TOKEN".into(), "test-admin".into());
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    Settings::resolve(FileConfig::default(), |k| env.get(k).cloned()).expect("settings")
}

pub async fn start(data_dir: &Path, db: &TestDb) -> Running {
    server::start(&settings(data_dir, &db.url, &[]))
        .await
        .expect("engine starts")
}

/// Registers a facility and returns a hospital token for it.
pub async fn register(
    running: &Running,
    code: &str,
    kind: hemobridge_canonical::FacilityKind,
) -> String {
    running
        .store
        .upsert_facility(&hemobridge_canonical::Facility {
            code: code.into(),
            name: format!("{code} 测试"),
            kind,
            region: Some("南京".into()),
            province: Some("江苏".into()),
        })
        .await
        .unwrap();
    let token = hemobridge_engine::store::admin::new_token();
    running
        .store
        .insert_token(&token, Role::Hospital, Some(code), "test")
        .await
        .unwrap();
    token
}

pub async fn get(running: &Running, path: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("http://{}{}", running.http_addr, path))
        .bearer_auth(token)
        .send()
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Sends each message over one MLLP connection and returns the ACK texts.
pub async fn send_all(running: &Running, messages: &[String]) -> Vec<String> {
    let mut client = hemobridge_mllp::Client::connect(
        &running.mllp_addr.to_string(),
        std::time::Duration::from_secs(5),
    )
    .await
    .expect("MLLP connect");
    let mut acks = Vec::new();
    for m in messages {
        let ack = client.send(m.as_bytes()).await.expect("ACK");
        acks.push(String::from_utf8_lossy(&ack).into_owned());
    }
    acks
}

/// MSA-1 and MSA-2 of an ACK.
pub fn msa(ack: &str) -> (String, String) {
    let seg = ack
        .split(['\r', '\n'])
        .find(|s| s.starts_with("MSA"))
        .unwrap_or_else(|| panic!("no MSA in {ack:?}"));
    let fields: Vec<&str> = seg.split('|').collect();
    (
        fields.get(1).unwrap_or(&"").to_string(),
        fields.get(2).unwrap_or(&"").to_string(),
    )
}

/// Waits until the worker has taken every accepted message.
pub async fn wait_processed(running: &Running) {
    for _ in 0..500 {
        let counts = running.store.count_by_status().await.unwrap();
        if !counts.iter().any(|(s, n)| s == "pending" && *n > 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("messages still pending after 10 s");
}

/// An HL7 message from segments (joined with CR).
pub fn hl7(segments: &[&str]) -> String {
    segments.join("\r") + "\r"
}
