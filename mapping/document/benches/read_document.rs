//! Reading speed: a 1000-record hospital document (mostly receipts, issues
//! and transfusions), XML and JSON. The target is 100,000 records/s or more
//! on one core for XML; criterion reports the rate as elements/s.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hemobridge_document::{read_json, read_xml, Config};
use std::fmt::Write;

const RECORDS: usize = 1000;

/// A day of `RECORDS` records: for each unit a receipt, an issue and a
/// transfusion, with a crossmatch every tenth unit.
fn records() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let products = ["悬浮少白细胞红细胞", "新鲜冰冻血浆", "单采血小板", "RBC-LR"];
    let groups = ["A", "B", "O", "AB"];
    let mut out = Vec::with_capacity(RECORDS);
    let mut n = 0usize;
    while out.len() < RECORDS {
        let din = format!("W0000260{n:05}");
        let product = products[n % products.len()].to_owned();
        let patient = format!("ZY2026{:06}", n / 3);
        let minute = |m: usize| format!("2026-11-22T{:02}:{:02}:00+08:00", 8 + m / 60 % 12, m % 60);
        out.push((
            "Received",
            vec![
                ("unit", din.clone()),
                ("product", product.clone()),
                ("abo", groups[n % 4].into()),
                ("rh", "+".into()),
                ("volumeMl", "200".into()),
                ("quantity", "1".into()),
                ("expires", "2026-12-20".into()),
                ("from", "S3201".into()),
                ("at", minute(n)),
            ],
        ));
        if n % 10 == 9 {
            out.push((
                "Crossmatched",
                vec![
                    ("unit", din.clone()),
                    ("product", product.clone()),
                    ("patient", patient.clone()),
                    ("result", "compatible".into()),
                    ("at", minute(n + 1)),
                ],
            ));
        }
        out.push((
            "Issued",
            vec![
                ("unit", din.clone()),
                ("product", product.clone()),
                ("patient", patient.clone()),
                ("ward", "心内科一病区".into()),
                ("at", minute(n + 2)),
            ],
        ));
        out.push((
            "Transfused",
            vec![
                ("unit", din),
                ("product", product),
                ("patient", patient),
                ("start", minute(n + 3)),
                ("end", minute(n + 4)),
                ("volumeMl", "200".into()),
                ("diagnosis", "I21.9".into()),
            ],
        ));
        n += 1;
    }
    out.truncate(RECORDS);
    out
}

fn xml_document() -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Report xmlns=\"urn:hemobridge:report:1\" documentId=\"BENCH-1\" facility=\"H3201001\">\n",
    );
    for (kind, fields) in records() {
        write!(s, "  <{kind}").unwrap();
        for (k, v) in fields {
            write!(s, " {k}=\"{v}\"").unwrap();
        }
        s.push_str("/>\n");
    }
    s.push_str("</Report>\n");
    s.into_bytes()
}

fn json_document() -> Vec<u8> {
    let records: Vec<serde_json::Value> = records()
        .into_iter()
        .map(|(kind, fields)| {
            let mut map = serde_json::Map::new();
            map.insert("type".into(), kind.into());
            for (k, v) in fields {
                map.insert(k.into(), v.into());
            }
            map.into()
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "documentId": "BENCH-1", "facility": "H3201001", "records": records
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let cfg = Config::default();
    let xml = xml_document();
    let json = json_document();
    assert_eq!(read_xml(&xml, &cfg).unwrap().records, RECORDS);
    assert_eq!(read_json(&json, &cfg).unwrap().records, RECORDS);

    let mut group = c.benchmark_group("read_document");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("xml_1000_records", |b| {
        b.iter(|| read_xml(black_box(&xml), &cfg).unwrap())
    });
    group.bench_function("json_1000_records", |b| {
        b.iter(|| read_json(black_box(&json), &cfg).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
