//! Converting a 1,000-row portal CSV: the profile step alone, and the
//! profile step plus the document reader (what an upload costs).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hemobridge_dialect::Profile;
use std::path::Path;

const ROWS: usize = 1000;

fn portal() -> (Profile, Vec<u8>) {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hospital-connectors/portal-standard");
    let profile =
        Profile::from_toml(&std::fs::read_to_string(dir.join("profile.toml")).unwrap()).unwrap();
    let good = std::fs::read_to_string(dir.join("fixtures/good.csv")).unwrap();
    let mut lines = good.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap();
    // Stock rows would merge into one record; keep the unit events and
    // give each copy its own DINs.
    let rows: Vec<&str> = lines.filter(|l| !l.starts_with("库存")).collect();
    let mut csv = format!("{header}\n");
    for i in 0..ROWS {
        let row = rows[i % rows.len()];
        let copy = i / rows.len();
        csv.push_str(&row.replace("W0427260000", &format!("W04272{:05}", copy * 100)));
        csv.push('\n');
    }
    (profile, csv.into_bytes())
}

fn bench(c: &mut Criterion) {
    let (profile, csv) = portal();
    let cfg = hemobridge_document::Config::default();
    // The input must be valid, or the benchmark measures error paths.
    let (doc, _) = profile.to_document(&csv, None, "H3201001", &cfg).unwrap();
    assert!(doc.records >= ROWS);
    let mut group = c.benchmark_group("dialect");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("convert 1000-row csv", |b| {
        b.iter(|| profile.convert(&csv, None, "H3201001").unwrap())
    });
    group.bench_function("convert + read_json 1000-row csv", |b| {
        b.iter(|| profile.to_document(&csv, None, "H3201001", &cfg).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
