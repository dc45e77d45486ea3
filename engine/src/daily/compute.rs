//! A day's figures from the store's aggregates: lines per (product, ABO,
//! RhD), distinct patients, reactions and discards, all sorted and rounded
//! so that the same events always give the same submission.

use super::day;
use crate::store::daily::{DiscardRow, GroupQuantity, MovementRow, ReactionRow};
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hemobridge_canonical::event::{DiscardReason, ReactionCategory};
use hemobridge_canonical::Product;
use hemobridge_submission::{
    round_quantity, DailySubmission, DiscardCount, Line, ReactionCount, Status,
};
use std::collections::BTreeMap;

type GroupKey = (String, Option<String>, Option<String>);

/// Computes version 0 (not recorded) of `hospital`'s day.
pub async fn compute(
    store: &Store,
    zone: Tz,
    hospital: &str,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DailySubmission> {
    let (start, end) = day::span_ms(zone, date);
    let movements = store.daily_movements(hospital, start, end).await?;
    let reported = store.reported_stock(hospital, start, end).await?;
    let patients_transfused = store.patients_transfused(hospital, start, end).await?;
    let reactions = store.daily_reactions(hospital, start, end).await?;
    let discards = store.daily_discards(hospital, start, end).await?;
    Ok(DailySubmission {
        hospital: hospital.to_string(),
        date,
        timezone: zone.name().to_string(),
        version: 0,
        status: Status::Submitted,
        computed_at: now.with_timezone(&zone).fixed_offset(),
        lines: lines(movements, reported),
        patients_transfused,
        reactions: reaction_counts(reactions),
        discards: discard_counts(discards),
        amends: None,
        changes: Vec::new(),
    })
}

/// Merges movements (with the computed stock) and the reported stock into
/// one line per group. A group appears when it moved, holds stock, or was
/// reported.
pub fn lines(movements: Vec<MovementRow>, reported: Option<Vec<GroupQuantity>>) -> Vec<Line> {
    let movements: Vec<MovementRow> = movements
        .into_iter()
        .filter(|m| {
            [
                m.received,
                m.crossmatched,
                m.issued,
                m.transfused,
                m.returned,
                m.discarded,
                m.transferred,
                m.stock,
            ]
            .iter()
            .any(|v| round_quantity(*v) != 0.0)
        })
        .collect();
    let mut by_key: BTreeMap<GroupKey, Line> = BTreeMap::new();
    let mut entry = |product: &str, abo: &Option<String>, rh: &Option<String>| -> GroupKey {
        let key = (product.to_string(), abo.clone(), rh.clone());
        by_key
            .entry(key.clone())
            .or_insert_with(|| empty_line(product, abo, rh));
        key
    };
    let mut keys_m = Vec::new();
    for m in &movements {
        keys_m.push(entry(&m.product, &m.abo, &m.rh));
    }
    let reported = reported.unwrap_or_default();
    let keys_r: Vec<GroupKey> = reported
        .iter()
        .map(|r| entry(&r.product, &r.abo, &r.rh))
        .collect();
    for (key, m) in keys_m.iter().zip(&movements) {
        let line = by_key.get_mut(key).expect("entered above");
        line.received += m.received;
        line.crossmatched += m.crossmatched;
        line.issued += m.issued;
        line.transfused += m.transfused;
        line.returned += m.returned;
        line.discarded += m.discarded;
        line.transferred += m.transferred;
        line.stock_computed += m.stock;
    }
    for (key, r) in keys_r.iter().zip(&reported) {
        let line = by_key.get_mut(key).expect("entered above");
        line.stock_reported = Some(line.stock_reported.unwrap_or(0.0) + r.quantity);
    }
    by_key
        .into_values()
        .map(|mut l| {
            for v in [
                &mut l.received,
                &mut l.crossmatched,
                &mut l.issued,
                &mut l.transfused,
                &mut l.returned,
                &mut l.discarded,
                &mut l.transferred,
                &mut l.stock_computed,
            ] {
                *v = round_quantity(*v);
            }
            l.stock_reported = l.stock_reported.map(round_quantity);
            l.stock_difference = l
                .stock_reported
                .map(|r| round_quantity(r - l.stock_computed));
            l
        })
        .collect()
}

fn empty_line(product: &str, abo: &Option<String>, rh: &Option<String>) -> Line {
    let known = Product::from_code(product);
    Line {
        product: product.to_string(),
        category: known
            .map(|p| p.category().as_str().to_string())
            .unwrap_or_else(|| "other".into()),
        measure: known
            .map(|p| p.measure().as_str().to_string())
            .unwrap_or_else(|| "U".into()),
        abo: abo.clone(),
        rh: rh.clone(),
        received: 0.0,
        crossmatched: 0.0,
        issued: 0.0,
        transfused: 0.0,
        returned: 0.0,
        discarded: 0.0,
        transferred: 0.0,
        stock_computed: 0.0,
        stock_reported: None,
        stock_difference: None,
    }
}

/// Reactions by national category (classified from the source's type where
/// the category was not stored) and severity, sorted.
pub fn reaction_counts(rows: Vec<ReactionRow>) -> Vec<ReactionCount> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in rows {
        let category = match r.category.as_deref() {
            Some(c @ ("febrile" | "allergic" | "haemolytic" | "other")) => c.to_string(),
            _ => category_name(ReactionCategory::classify(
                r.source_type.as_deref().unwrap_or(""),
            )),
        };
        let severity = r.severity.unwrap_or_else(|| "unknown".into());
        *counts.entry((category, severity)).or_default() += r.count.max(0) as u64;
    }
    counts
        .into_iter()
        .map(|((kind, severity), count)| ReactionCount {
            kind,
            severity,
            count,
        })
        .collect()
}

fn category_name(c: ReactionCategory) -> String {
    match c {
        ReactionCategory::Febrile => "febrile",
        ReactionCategory::Allergic => "allergic",
        ReactionCategory::Haemolytic => "haemolytic",
        ReactionCategory::Other => "other",
    }
    .to_string()
}

/// Discards by product and normalized reason (an unknown reason is
/// `other`), sorted and rounded.
pub fn discard_counts(rows: Vec<DiscardRow>) -> Vec<DiscardCount> {
    let mut sums: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in rows {
        let reason = match r.reason.as_deref().and_then(DiscardReason::parse) {
            Some(DiscardReason::Expired) => "expired",
            Some(DiscardReason::Damaged) => "damaged",
            Some(DiscardReason::Hemolysis) => "hemolysis",
            Some(DiscardReason::ReturnedLate) => "returned-late",
            Some(DiscardReason::Other) | None => "other",
        };
        *sums.entry((r.product, reason.to_string())).or_default() += r.quantity;
    }
    sums.into_iter()
        .map(|((product, reason), quantity)| DiscardCount {
            product,
            reason,
            quantity: round_quantity(quantity),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(product: &str, abo: &str, rh: &str, q: f64) -> GroupQuantity {
        GroupQuantity {
            facility: "H1".into(),
            product: product.into(),
            abo: Some(abo.into()),
            rh: Some(rh.into()),
            quantity: q,
        }
    }

    #[test]
    fn lines_merge_movements_stock_and_report_with_the_difference() {
        let movements = vec![
            MovementRow {
                product: "RBC-LR".into(),
                abo: Some("O".into()),
                rh: Some("+".into()),
                received: 2.0,
                transfused: 0.5,
                stock: 1.5,
                ..MovementRow::default()
            },
            MovementRow {
                product: "PLS-FFP".into(),
                abo: Some("A".into()),
                rh: Some("+".into()),
                stock: 200.0,
                ..MovementRow::default()
            },
            // A unit that left before the day: no line.
            MovementRow {
                product: "PLT-APH".into(),
                ..MovementRow::default()
            },
        ];
        let reported = Some(vec![group("RBC-LR", "O", "+", 1.0)]);
        let lines = lines(movements, reported);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].product, "PLS-FFP");
        assert_eq!(lines[0].measure, "mL");
        assert_eq!(lines[0].stock_reported, None);
        assert_eq!(lines[1].received, 2.0);
        assert_eq!(lines[1].stock_computed, 1.5);
        assert_eq!(lines[1].stock_reported, Some(1.0));
        assert_eq!(lines[1].stock_difference, Some(-0.5));
    }

    #[test]
    fn reactions_without_a_stored_category_are_classified() {
        let rows = vec![
            ReactionRow {
                category: None,
                source_type: Some("过敏反应".into()),
                severity: Some("mild".into()),
                count: 2,
            },
            ReactionRow {
                category: Some("allergic".into()),
                source_type: None,
                severity: Some("mild".into()),
                count: 1,
            },
        ];
        let counts = reaction_counts(rows);
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].count, 3);
        assert_eq!(counts[0].kind, "allergic");
    }

    #[test]
    fn discard_reasons_are_normalized() {
        let rows = vec![
            DiscardRow {
                product: "RBC-LR".into(),
                reason: Some("过期".into()),
                quantity: 1.0,
            },
            DiscardRow {
                product: "RBC-LR".into(),
                reason: Some("expired".into()),
                quantity: 1.5,
            },
            DiscardRow {
                product: "RBC-LR".into(),
                reason: None,
                quantity: 1.0,
            },
        ];
        let counts = discard_counts(rows);
        assert_eq!(counts.len(), 2);
        assert_eq!(
            (counts[0].reason.as_str(), counts[0].quantity),
            ("expired", 2.5)
        );
        assert_eq!(counts[1].reason, "other");
    }
}
