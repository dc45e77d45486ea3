//! Benchmark: the daily submissions of 1,000 hospitals from 1,000,000
//! events of one day (`docs/performance.md`, section "Daily submissions").
//!
//! Rows are inserted directly with bulk SQL (recursive CTEs), not through
//! ingest, then every hospital's day is computed through
//! `hemobridge_engine::daily::compute` as the routes do. Runs on SQLite
//! (a temporary file) and, when `HEMOBRIDGE_TEST_DATABASE_URL` is set, on a
//! fresh PostgreSQL schema.
//!
//! ```text
//! HEMOBRIDGE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p hemobridge-engine --bench daily
//! ```
//! Sizes: `BENCH_HOSPITALS` (1000), `BENCH_EVENTS` (1000000),
//! `BENCH_CONCURRENCY` (4, days computed at once).

use anyhow::Result;
use chrono::NaiveDate;
use futures_util::stream::{self, StreamExt};
use hemobridge_engine::crypto::Vault;
use hemobridge_engine::daily;
use hemobridge_engine::store::Store;
use std::time::Instant;

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn env_num(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Four events per unit: received, crossmatched (every 50th a reaction
/// instead), issued, then transfused (every 20th discarded as expired,
/// every 7th returned). Unit n belongs to hospital n mod H; product, ABO
/// and RhD vary over n / H, so each hospital has every group.
async fn load(store: &Store, hospitals: i64, events: i64, date: NaiveDate) -> Result<()> {
    let units = events / 4;
    let (start, _) = daily::day::span_ms(ZONE, date);
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO facilities (code, name, kind, region, province, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'H' || CAST(i AS TEXT), 'Hospital ' || CAST(i AS TEXT), 'hospital', '南京', '江苏', 0 FROM n",
    )
    .bind(hospitals)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO units (din, product, abo, rh, volume_ml, quantity, measure, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'B' || CAST(i AS TEXT), \
           CASE (i / $2) % 4 WHEN 3 THEN 'PLS-FFP' WHEN 2 THEN 'PLT-APH' ELSE 'RBC-LR' END, \
           CASE (i / (4 * $2)) % 4 WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'O' ELSE 'AB' END, \
           CASE WHEN (i / $2) % 10 = 0 THEN '-' ELSE '+' END, 200, \
           CASE (i / $2) % 4 WHEN 3 THEN 200.0 ELSE 1.0 END, \
           CASE (i / $2) % 4 WHEN 3 THEN 'mL' WHEN 2 THEN 'dose' ELSE 'U' END, 0 FROM n",
    )
    .bind(units)
    .bind(hospitals)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO events (event_key, din, product, kind, at_ms, at_text, facility, \
           patient_key, detail, message_id, channel, recorded_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1), \
         k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < 4) \
         SELECT CAST(i AS TEXT) || '-' || CAST(j AS TEXT), 'B' || CAST(i AS TEXT), \
           CASE (i / $3) % 4 WHEN 3 THEN 'PLS-FFP' WHEN 2 THEN 'PLT-APH' ELSE 'RBC-LR' END, \
           CASE j WHEN 0 THEN 'received' \
             WHEN 1 THEN CASE WHEN i % 50 = 0 THEN 'reaction' ELSE 'crossmatched' END \
             WHEN 2 THEN 'issued' \
             ELSE CASE WHEN i % 20 = 0 THEN 'discarded' WHEN i % 7 = 0 THEN 'returned' \
               ELSE 'transfused' END END, \
           $2 + (i % 20000) * 4000 + j * 60000, '', 'H' || CAST(i % $3 AS TEXT), \
           CASE WHEN j = 0 THEN NULL ELSE 'P' || CAST(i % 5000 AS TEXT) END, \
           CASE WHEN j = 3 AND i % 20 = 0 THEN '{\"reason\":\"expired\"}' \
             WHEN j = 1 AND i % 50 = 0 THEN '{\"reactionCategory\":\"allergic\",\"severity\":\"mild\"}' \
             ELSE '{}' END, \
           0, 'bench', 0 FROM n, k",
    )
    .bind(units)
    .bind(start)
    .bind(hospitals)
    .execute(pool)
    .await?;
    Ok(())
}

async fn run(label: &str, url: &str) -> Result<()> {
    let hospitals = env_num("BENCH_HOSPITALS", 1000);
    let events = env_num("BENCH_EVENTS", 1_000_000);
    let concurrency = env_num("BENCH_CONCURRENCY", 4) as usize;
    let date = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let store = Store::connect(url, Vault::from_material(&[7u8; 64])).await?;
    store.migrate().await?;
    let t = Instant::now();
    load(&store, hospitals, events, date).await?;
    if store.backend() == hemobridge_engine::store::Backend::Postgres {
        // Steady state: statistics and the visibility map (index-only scans).
        sqlx::query("VACUUM ANALYZE").execute(store.pool()).await?;
    } else {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    eprintln!(
        "[{label}] loaded {hospitals} hospitals, {events} events in {:.1?}",
        t.elapsed()
    );
    let codes = daily::hospitals(&store).await?;
    for round in 1..=3 {
        let t = Instant::now();
        let results: Vec<_> = stream::iter(codes.iter())
            .map(|code| daily::compute(&store, ZONE, code, date))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let elapsed = t.elapsed();
        let mut lines = 0usize;
        let mut received = 0.0;
        for r in results {
            let s = r?;
            lines += s.lines.len();
            received += s.lines.iter().map(|l| l.received).sum::<f64>();
        }
        println!(
            "[{label}] round {round}: {} submissions ({lines} lines, {received} received) in {:.3} s",
            codes.len(),
            elapsed.as_secs_f64()
        );
    }
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // we need, and must stay quick: only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    run(
        "sqlite",
        &format!("sqlite://{}/bench.db", dir.path().display()),
    )
    .await?;
    if let Ok(base) = std::env::var("HEMOBRIDGE_TEST_DATABASE_URL") {
        sqlx::any::install_default_drivers();
        let schema = format!("hbbench_{}", std::process::id());
        let pool = sqlx::AnyPool::connect(&base).await?;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await?;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let outcome = run("postgres", &url).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pool)
            .await?;
        outcome?;
    }
    Ok(())
}
