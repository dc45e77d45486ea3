//! decode + map_message of whole messages, as the engine runs them for each
//! message received. Throughput is in messages per second.
//!
//! `cargo bench -p hemobridge-hl7 --bench parse_normalize -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hemobridge_hl7::{build_ack, decode, map_message, AckCode, Config, Mapping};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_normalize(c: &mut Criterion) {
    let cfg = Config::default();
    let mut group = c.benchmark_group("decode+map");
    group.throughput(Throughput::Elements(1));
    for (label, name) in [
        ("BPS^O29 (6 BPX, 1.1 KB)", "bps_o29.hl7"),
        ("BTS^O31 (3 BTX, 0.8 KB)", "bts_o31.hl7"),
        ("ADT^A01 (0.5 KB)", "adt_a01.hl7"),
        ("BPS^O29 GB 18030 (0.5 KB)", "bps_o29_gb18030.hl7"),
    ] {
        let raw = fixture(name);
        // Guard against benchmarking an error path.
        let decoded = decode(&raw, &cfg).expect("fixture decodes");
        assert!(matches!(map_message(&decoded, &cfg), Mapping::Mapped(_)));
        group.bench_function(label, |b| {
            b.iter(|| {
                let decoded = decode(black_box(&raw), &cfg).unwrap();
                black_box(map_message(&decoded, &cfg))
            })
        });
    }
    group.finish();

    let decoded = decode(&fixture("bps_o29.hl7"), &cfg).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:30:16+08:00").unwrap();
    let mut group = c.benchmark_group("ack");
    group.throughput(Throughput::Elements(1));
    group.bench_function("build_ack AA", |b| {
        b.iter(|| black_box(build_ack(&decoded.header, AckCode::AA, &[], "HB0001", now)))
    });
    group.finish();
}

criterion_group!(benches, parse_normalize);
criterion_main!(benches);
