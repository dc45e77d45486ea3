//! One decision for a donor with 20 donations and 10 prior waivers: the
//! work the blood-fee window waits for at discharge. The entitlement is
//! recomputed from the whole history on every decision (no stored
//! balance), so this is the cost that grows with a donor's history.

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hemobridge_waivers::{
    decide, Claim, ClaimItem, Donation, DonationKind, DonorHistory, PriorWaiver, Relationship, Rule,
};

fn history(start: DateTime<FixedOffset>) -> DonorHistory {
    let donations = (0..20)
        .map(|i| Donation {
            at: start + Duration::days(120 * i),
            volume_ml: [200, 300, 400][i as usize % 3],
            kind: if i % 5 == 4 {
                DonationKind::ApheresisPlatelets
            } else {
                DonationKind::WholeBlood
            },
        })
        .collect();
    let relationships = [
        Relationship::Spouse,
        Relationship::Parent,
        Relationship::Child,
        Relationship::Sibling,
        Relationship::SpouseParent,
    ];
    let waivers = (0..10)
        .map(|i| PriorWaiver {
            claim_id: format!("prior-{i}"),
            relationship: relationships[i % relationships.len()],
            waived_ml: 100,
            at: start + Duration::days(200 * i as i64 + 30),
        })
        .collect();
    DonorHistory { donations, waivers }
}

fn bench(c: &mut Criterion) {
    let start = DateTime::parse_from_rfc3339("2018-01-10T09:00:00+08:00").unwrap();
    let at = DateTime::parse_from_rfc3339("2025-06-01T15:00:00+08:00").unwrap();
    let h = history(start);
    let claim = Claim {
        claim_id: "bench-1".into(),
        relationship: Relationship::Sibling,
        blood_fee_fen: 150_000,
        volume_ml: 1200,
        items: vec![
            ClaimItem {
                product: "悬浮少白细胞红细胞".into(),
                volume_ml: 800,
                fee_fen: 100_000,
            },
            ClaimItem {
                product: "新鲜冰冻血浆".into(),
                volume_ml: 400,
                fee_fen: 50_000,
            },
        ],
    };
    for id in ["jiangsu-2025", "variant-published"] {
        let rule = Rule::shipped(id).unwrap();
        c.bench_function(&format!("decide/{id}/20-donations-10-waivers"), |b| {
            b.iter(|| decide(black_box(&rule), black_box(&h), black_box(&claim), at))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
