//! Rendering a 1,000-line day: the Shanghai envelope of 1,000 records, the
//! Shanghai summary and the provincial daily message of 1,000 lines.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hemobridge_outbound::provincial;
use hemobridge_outbound::shanghai::{self, DayRecords, ShanghaiConfig};
use hemobridge_submission::DailySubmission;

/// 1,000 records: 300 receipts, 300 issues, 300 transfusions, 50 stock
/// lines, 25 reactions, 25 blood users.
fn thousand_records() -> DayRecords {
    let mut day = records(300);
    day.stock = (0..50)
        .map(|i| shanghai::StockLine {
            record_id: format!("S-{i}"),
            ..day.stock[0].clone()
        })
        .collect();
    day.reactions = (0..25)
        .map(|i| shanghai::Reaction {
            record_id: format!("X-{i}"),
            ..day.reactions[0].clone()
        })
        .collect();
    day.identities = (0..25)
        .map(|i| shanghai::BloodUser {
            record_id: format!("U-{i}"),
            ..day.identities[0].clone()
        })
        .collect();
    day
}

fn thousand_lines() -> DailySubmission {
    let mut s = submission_v1();
    s.lines = (0..1000)
        .map(|i| {
            let mut l = line("RBC-LR", Some("O"), Some("+"), 2.0);
            l.product = format!("P-{i:04}");
            l
        })
        .collect();
    s
}

fn bench(c: &mut Criterion) {
    let config = ShanghaiConfig::default();
    let day = thousand_records();
    let submission = thousand_lines();
    let env = envelope("bench");
    let mut group = c.benchmark_group("render_1000");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("shanghai_daily_records", |b| {
        b.iter(|| shanghai::daily(black_box(&day), &config, &env).unwrap())
    });
    group.bench_function("shanghai_daily_summary_lines", |b| {
        b.iter(|| shanghai::daily_summary(black_box(&submission), &config))
    });
    group.bench_function("provincial_daily_lines_to_bytes", |b| {
        b.iter(|| serde_json::to_vec(&provincial::daily(black_box(&submission), &env)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
