//! Benchmark: trace queries (by unit, by patient, by donor) over a
//! province-sized store (`docs/performance.md`, section "Trace queries at
//! province scale").
//!
//! Rows are inserted directly with bulk SQL (recursive CTEs), not through
//! ingest, then random traces are answered through the same store reads and
//! `build_chain` the API handlers in `engine/src/api/trace.rs` use (the unit
//! trace through `api::trace::unit_trace` itself). Runs on SQLite (a
//! temporary file) and, when `HEMOBRIDGE_TEST_DATABASE_URL` is set, on a
//! fresh PostgreSQL schema that is dropped at the end.
//!
//! ```text
//! HEMOBRIDGE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p hemobridge-engine --bench trace
//! ```
//! Sizes: `BENCH_UNITS` (1000000; five events each), `BENCH_DONORS`
//! (300000), `BENCH_PATIENTS` (600000), `BENCH_HOSPITALS` (1000),
//! `BENCH_QUERIES` (2000 per kind).

use anyhow::Result;
use hemobridge_engine::api::trace::unit_trace;
use hemobridge_engine::crypto::Vault;
use hemobridge_engine::store::{Backend, Store};
use hemobridge_engine::trace::build_chain;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Sizes {
    units: i64,
    donors: i64,
    patients: i64,
    hospitals: i64,
    queries: usize,
}

impl Sizes {
    fn from_env() -> Sizes {
        Sizes {
            units: env_num("BENCH_UNITS", 1_000_000),
            donors: env_num("BENCH_DONORS", 300_000),
            patients: env_num("BENCH_PATIENTS", 600_000),
            hospitals: env_num("BENCH_HOSPITALS", 1000),
            queries: env_num("BENCH_QUERIES", 2000) as usize,
        }
    }
}

/// Unit i is component `i mod 2` (red cells or plasma) of donation
/// `B<i/2>`, given by donor `D<(i/2) mod donors>`: with the defaults a
/// donor has two to four components. It is transfused to patient
/// `P<i mod patients>` of hospital `H<(i mod patients) mod hospitals>`, so
/// a patient's units are all at one hospital.
///
/// Five events per unit: dispatched by a station, received, crossmatched,
/// issued, transfused; every 40th unit is instead transferred to the next
/// hospital and received there, every 50th ends in a reaction rather than
/// a plain transfusion.
async fn load(store: &Store, s: &Sizes) -> Result<()> {
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO facilities (code, name, kind, region, province, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'H' || CAST(i AS TEXT), 'Hospital ' || CAST(i AS TEXT), 'hospital', '南京', '江苏', 0 FROM n",
    )
    .bind(s.hospitals)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO patients (facility, patient_key, sex, abo, rh, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'H' || CAST(i % $2 AS TEXT), 'P' || CAST(i AS TEXT), \
           CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END, 'O', '+', 0 FROM n",
    )
    .bind(s.patients)
    .bind(s.hospitals)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO units (din, product, abo, rh, volume_ml, quantity, measure, station, \
           donor_key, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
         SELECT 'B' || CAST(i / 2 AS TEXT), \
           CASE i % 2 WHEN 0 THEN 'RBC-LR' ELSE 'PLS-FFP' END, \
           CASE (i / 2) % 4 WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'O' ELSE 'AB' END, \
           '+', 200, CASE i % 2 WHEN 0 THEN 1.0 ELSE 200.0 END, \
           CASE i % 2 WHEN 0 THEN 'U' ELSE 'mL' END, 'S' || CAST((i / 2) % 13 AS TEXT), \
           'D' || CAST((i / 2) % $2 AS TEXT), 0 FROM n",
    )
    .bind(s.units)
    .bind(s.donors)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO events (event_key, din, product, kind, at_ms, at_text, facility, \
           patient_key, detail, message_id, channel, recorded_at) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1), \
         k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < 5) \
         SELECT CAST(i AS TEXT) || '-' || CAST(j AS TEXT), 'B' || CAST(i / 2 AS TEXT), \
           CASE i % 2 WHEN 0 THEN 'RBC-LR' ELSE 'PLS-FFP' END, \
           CASE j WHEN 0 THEN 'dispatched' WHEN 1 THEN 'received' \
             WHEN 2 THEN CASE WHEN i % 40 = 1 THEN 'transferred' ELSE 'crossmatched' END \
             WHEN 3 THEN CASE WHEN i % 40 = 1 THEN 'received' ELSE 'issued' END \
             ELSE CASE WHEN i % 50 = 0 THEN 'reaction' ELSE 'transfused' END END, \
           1763600000000 + i * 1000 + j * 60000, '', \
           CASE WHEN j = 0 THEN 'S' || CAST((i / 2) % 13 AS TEXT) \
             WHEN j = 3 AND i % 40 = 1 THEN 'H' || CAST(((i % $2) % $3 + 1) % $3 AS TEXT) \
             ELSE 'H' || CAST((i % $2) % $3 AS TEXT) END, \
           CASE WHEN j >= 2 AND i % 40 <> 1 THEN 'P' || CAST(i % $2 AS TEXT) END, \
           CASE WHEN j = 4 AND i % 50 = 0 \
             THEN '{\"reactionCategory\":\"allergic\",\"severity\":\"mild\"}' ELSE '{}' END, \
           0, 'bench', 0 FROM n, k",
    )
    .bind(s.units)
    .bind(s.patients)
    .bind(s.hospitals)
    .execute(pool)
    .await?;
    Ok(())
}

/// The patient trace exactly as `api::trace::patient` answers it.
async fn patient_trace(store: &Store, patient_key: &str, hospital: &str) -> Result<Value> {
    let keys = store.patient_units(patient_key, Some(hospital)).await?;
    let mut units = Vec::new();
    for (din, product) in keys {
        for u in store.units_by_din(&din, Some(&product)).await? {
            let events = store.unit_events(&u.din, &u.product).await?;
            units.push(serde_json::to_value(build_chain(&u, &events))?);
        }
    }
    anyhow::ensure!(!units.is_empty(), "no units for patient {patient_key}");
    Ok(json!({"patientKey": patient_key, "hospital": hospital, "units": units}))
}

/// The donor (lookback) trace exactly as `api::trace::donor` answers it
/// for an unscoped (regulator) token.
async fn donor_trace(store: &Store, donor_key: &str) -> Result<Value> {
    let mut units = Vec::new();
    for u in store.units_by_donor(donor_key).await? {
        let events = store.unit_events(&u.din, &u.product).await?;
        units.push(serde_json::to_value(build_chain(&u, &events))?);
    }
    anyhow::ensure!(!units.is_empty(), "no units for donor {donor_key}");
    Ok(json!({"donorKey": donor_key, "units": units}))
}

/// splitmix64: reproducible query keys without a dependency.
struct Keys(u64);

impl Keys {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as i64
    }
}

fn report(label: &str, kind: &str, mut times: Vec<Duration>, rows: usize) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "[{label}] {kind:<7} {} queries ({rows} chains): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*times.last().expect("at least one query"))
    );
}

async fn run(label: &str, url: &str) -> Result<()> {
    let s = Sizes::from_env();
    let store = Store::connect(url, Vault::from_material(&[7u8; 64])).await?;
    store.migrate().await?;
    let t = Instant::now();
    load(&store, &s).await?;
    let loaded = t.elapsed();
    // Steady state: statistics and, on PostgreSQL, the visibility map
    // (index-only scans); only our tables, not the whole database.
    if store.backend() == Backend::Postgres {
        sqlx::query("VACUUM ANALYZE units, events, patients")
            .execute(store.pool())
            .await?;
    } else {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    eprintln!(
        "[{label}] loaded {} units, {} events, {} patients, {} hospitals in {:.1?} (+ analyze {:.1?})",
        s.units,
        s.units * 5,
        s.patients,
        s.hospitals,
        loaded,
        t.elapsed() - loaded
    );
    let mut keys = Keys(42);

    let (mut times, mut chains) = (Vec::with_capacity(s.queries), 0);
    for _ in 0..s.queries {
        let din = format!("B{}", keys.below(s.units / 2));
        let t = Instant::now();
        let answer = unit_trace(&store, &din, None, None).await?;
        times.push(t.elapsed());
        let answer = answer.ok_or_else(|| anyhow::anyhow!("no trace for {din}"))?;
        chains += answer["components"].as_array().map_or(1, Vec::len);
    }
    report(label, "unit", times, chains);

    let (mut times, mut chains) = (Vec::with_capacity(s.queries), 0);
    for _ in 0..s.queries {
        // Transferred units (every 40th) carry no patient key.
        let mut p = 1;
        while p % 40 == 1 {
            p = keys.below(s.patients.min(s.units));
        }
        let (key, hospital) = (format!("P{p}"), format!("H{}", p % s.hospitals));
        let t = Instant::now();
        let answer = patient_trace(&store, &key, &hospital).await?;
        times.push(t.elapsed());
        chains += answer["units"].as_array().map_or(0, Vec::len);
    }
    report(label, "patient", times, chains);

    let (mut times, mut chains) = (Vec::with_capacity(s.queries), 0);
    for _ in 0..s.queries {
        let donor = format!("D{}", keys.below(s.donors.min(s.units / 2)));
        let t = Instant::now();
        let answer = donor_trace(&store, &donor).await?;
        times.push(t.elapsed());
        chains += answer["units"].as_array().map_or(0, Vec::len);
    }
    report(label, "donor", times, chains);

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
        let schema = format!("hbtrace_{}", std::process::id());
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
