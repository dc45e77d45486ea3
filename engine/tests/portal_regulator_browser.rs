//! The regulator's views in a real browser: Debian's Chromium driven by
//! playwright-core (`engine/tests/browser/regulator.mjs`) against a running
//! engine, on SQLite and PostgreSQL. A regulator logs in, searches a DIN and
//! sees its timeline, opens the completeness table, drills down into a rule
//! and follows a unit to its timeline, and downloads the CSV; this test
//! then checks what the script saw against the API and the query audit log.
//! Screenshots go to a temporary folder; with
//! `HEMOBRIDGE_SCREENSHOTS=docs/images` the SQLite run refreshes the
//! published ones.
//!
//! Same skip/fail rule as `portal_browser.rs`: without node, Chromium or
//! playwright-core it fails under `HEMOBRIDGE_REQUIRE_SERVICES=1` and is
//! skipped with the reason otherwise.

mod common;

use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use hemobridge_engine::store::admin::Role;
use serde_json::{json, Value};
use sqlx::Row;
use std::path::{Path, PathBuf};

const S: &str = "S3201";
const H: &str = "H3201001";
const DIN_DONE: &str = "W000026300001";
const DIN_OPEN: &str = "W000026300002";
const USER: &str = "shengwei";
const PASSWORD: &str = "Regulator-Test-2026";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser test cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !chromium().exists() {
        return Some(format!(
            "{} is missing (apt-get install chromium)",
            chromium().display()
        ));
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is missing (npm ci --prefix engine/tests/browser)".into());
    }
    None
}

fn iso(days_ago: i64, hours: i64) -> String {
    (Utc::now() - Duration::days(days_ago) + Duration::hours(hours))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

async fn post_json(running: &Running, token: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/ingest/json", running.http_addr))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 202, "{}", r.text().await.unwrap());
}

/// A station's dispatch of two units; the hospital transfuses one and
/// leaves the other issued for five days (the 72 h rule).
async fn chain(running: &Running) {
    let station = register(running, S, FacilityKind::Station).await;
    let hospital = register(running, H, FacilityKind::Hospital).await;
    let unit = |din: &str| {
        json!({"unit": din, "product": "RBC-LR", "abo": "A", "rh": "+", "quantity": 1,
               "expires": iso(-20, 0), "collectedAt": iso(12, 0), "donorKey": "D9"})
    };
    post_json(
        running,
        &station,
        json!({"documentId": "S-B1", "facility": S, "records": [
            {"type": "Dispatch", "station": S, "to": H, "at": iso(11, 0),
             "units": [unit(DIN_DONE), unit(DIN_OPEN)]}]}),
    )
    .await;
    post_json(
        running,
        &hospital,
        json!({"documentId": "H-B1", "facility": H, "records": [
            {"type": "Received", "unit": DIN_DONE, "product": "RBC-LR", "abo": "A", "rh": "+", "from": S, "at": iso(10, 0)},
            {"type": "Issued", "unit": DIN_DONE, "product": "RBC-LR", "patient": "P7", "at": iso(9, 0)},
            {"type": "Transfused", "unit": DIN_DONE, "product": "RBC-LR", "patient": "P7", "start": iso(9, 1), "end": iso(9, 2)},
            {"type": "Received", "unit": DIN_OPEN, "product": "RBC-LR", "abo": "A", "rh": "+", "from": S, "at": iso(10, 0)},
            {"type": "Issued", "unit": DIN_OPEN, "product": "RBC-LR", "patient": "P7", "at": iso(5, 0)},
            {"type": "Stock", "at": iso(0, -1), "items": [
                {"product": "RBC-LR", "abo": "A", "rh": "+", "quantity": 3, "measure": "U"}]},
        ]}),
    )
    .await;
    wait_processed(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regulator_searches_audits_and_exports_in_chromium() {
    if let Some(reason) = missing_tools() {
        if std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("HEMOBRIDGE_REQUIRE_SERVICES=1 but the browser test cannot run: {reason}");
        }
        eprintln!("SKIPPED the regulator browser test: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let running = start(&dir.path().join(label), &db).await;
        chain(&running).await;
        running
            .store
            .upsert_user(USER, PASSWORD, Role::Regulator, None)
            .await
            .unwrap();
        let shots = match std::env::var("HEMOBRIDGE_SCREENSHOTS") {
            Ok(published) if label == "sqlite" => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(published),
            _ => dir.path().join(label).join("shots"),
        };
        let base = format!("http://{}", running.http_addr);
        let output = tokio::process::Command::new("node")
            .arg(browser_dir().join("regulator.mjs"))
            .args([base.as_str(), USER, PASSWORD, DIN_DONE])
            .arg(&shots)
            .env("CHROMIUM_PATH", chromium())
            .output()
            .await
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "[{label}] the browser script failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Value = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .expect("the script's JSON summary");
        assert_eq!(summary["ok"], true);

        // What the browser saw is what the API says: half the units
        // finished, and the drill-down found the unit left issued.
        let (status, api) = get(&running, "/api/v1/audit/completeness", "test-admin").await;
        assert_eq!(status, 200);
        assert_eq!(api["unitsReceived"], 2, "[{label}] {api}");
        assert_eq!(summary["share"], "50.0%", "[{label}] {summary}");
        assert_eq!(summary["rule"], "issued-no-transfusion-72h", "[{label}]");
        assert_eq!(summary["drillDin"], DIN_OPEN, "[{label}]");
        assert_eq!(summary["csvFile"], "completeness.csv");
        // Header and one line per registered hospital.
        assert_eq!(summary["csvLines"], 2, "[{label}] {summary}");

        // Each page the regulator opened, and the download, is on record.
        let paths: Vec<(String, Option<String>)> =
            sqlx::query("SELECT path, query FROM query_audit WHERE token_id = $1 ORDER BY id")
                .bind(format!("portal:{USER}"))
                .fetch_all(running.store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get("path").unwrap(), r.try_get("query").unwrap()))
                .collect();
        let has = |path: &str, query_part: &str| {
            paths
                .iter()
                .any(|(p, q)| p == path && q.as_deref().unwrap_or_default().contains(query_part))
        };
        assert!(
            has("/portal/regulator/trace", &format!("din={DIN_DONE}")),
            "[{label}] {paths:?}"
        );
        assert!(has(
            "/portal/regulator/completeness/units",
            "rule=issued-no-transfusion-72h"
        ));
        assert!(has("/portal/regulator/trace", &format!("din={DIN_OPEN}")));
        assert!(has("/portal/regulator/completeness", "format=csv"));
        assert!(has("/portal/regulator/stock", ""));
        for name in ["trace", "completeness", "rule-units", "province", "stock"] {
            assert!(
                shots.join(format!("regulator-{name}.png")).exists(),
                "no {name} screenshot"
            );
        }
        running.stop().await;
    }
}
