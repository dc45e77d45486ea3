//! Properties over random donors and random sequences of claims, under
//! every shipped rule: money always adds up, nothing beyond the volume used
//! is waived, and consuming the entitlement never takes it below zero.

use chrono::{DateTime, Duration, FixedOffset};
use hemobridge_waivers::{
    decide, entitlement, Claim, ClaimItem, DecisionKind, Donation, DonationKind, DonorHistory,
    Entitlement, Relationship, Rule, SHIPPED,
};
use proptest::prelude::*;

fn base() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2025-06-01T09:00:00+08:00").unwrap()
}

fn relationship() -> impl Strategy<Value = Relationship> {
    prop::sample::select(Relationship::WORDS.map(|(_, r)| r).to_vec())
}

fn donations() -> impl Strategy<Value = Vec<Donation>> {
    let kind = prop::sample::select(DonationKind::WORDS.map(|(_, k)| k).to_vec());
    let one = (
        0i64..6000,
        prop::sample::select(vec![200u32, 300, 400]),
        kind,
    );
    prop::collection::vec(one, 0..8).prop_map(|ds| {
        ds.into_iter()
            .map(|(days_before, volume_ml, kind)| Donation {
                at: base() - Duration::days(days_before),
                volume_ml,
                kind,
            })
            .collect()
    })
}

/// A claim, with a two-line bill sometimes.
fn claim() -> impl Strategy<Value = Claim> {
    (
        relationship(),
        0u32..2500,
        0i64..10_000_000,
        prop::option::of((0u32..=100, 0i64..=100)),
    )
        .prop_map(|(relationship, volume_ml, fee, split)| {
            let blood_fee_fen = if volume_ml == 0 { 0 } else { fee };
            let items = match split {
                Some((p, q)) if volume_ml >= 2 => {
                    let v1 = (volume_ml * p / 100).clamp(1, volume_ml - 1);
                    let f1 = blood_fee_fen * q / 100;
                    vec![
                        ClaimItem {
                            product: "RBC".into(),
                            volume_ml: v1,
                            fee_fen: f1,
                        },
                        ClaimItem {
                            product: "FFP".into(),
                            volume_ml: volume_ml - v1,
                            fee_fen: blood_fee_fen - f1,
                        },
                    ]
                }
                _ => vec![],
            };
            Claim {
                claim_id: String::new(),
                relationship,
                blood_fee_fen,
                volume_ml,
                items,
            }
        })
}

fn rule() -> impl Strategy<Value = Rule> {
    (0..SHIPPED.len()).prop_map(|i| Rule::shipped(SHIPPED[i].id).unwrap())
}

fn remaining(
    rule: &Rule,
    h: &DonorHistory,
    r: Relationship,
    at: DateTime<FixedOffset>,
) -> Option<Option<u64>> {
    entitlement(rule, h, r, at)
        .ok()
        .map(|s| s.entitlement.remaining_ml())
}

proptest! {
    #[test]
    fn claims_over_time_never_overdraw(
        rule in rule(),
        donations in donations(),
        claims in prop::collection::vec((claim(), 0i64..400), 1..12),
    ) {
        let mut h = DonorHistory { donations, waivers: vec![] };
        let mut at = base();
        for (i, (mut c, gap)) in claims.into_iter().enumerate() {
            c.claim_id = format!("c{i}");
            at += Duration::days(gap);
            let before = remaining(&rule, &h, c.relationship, at);
            let d = decide(&rule, &h, &c, at);

            prop_assert_eq!(d.waived_fen + d.patient_pays_fen, c.blood_fee_fen);
            prop_assert!(0 <= d.waived_fen && d.waived_fen <= c.blood_fee_fen);
            prop_assert!(d.waived_ml <= c.volume_ml);
            prop_assert_eq!(d.kind == DecisionKind::None, d.waived_ml == 0);
            prop_assert_eq!(d.kind == DecisionKind::Full, d.waived_ml > 0 && d.waived_ml == c.volume_ml);
            prop_assert_eq!(&d.rule.id, &rule.id);
            match before {
                None => prop_assert_eq!(d.waived_ml, 0, "ineligible: nothing waived"),
                Some(Some(left)) => prop_assert!(u64::from(d.waived_ml) <= left),
                Some(None) => prop_assert_eq!(d.waived_ml, c.volume_ml, "free use"),
            }
            if !c.items.is_empty() {
                let items_fen: i64 = d.items.iter().map(|i| i.waived_fen).sum();
                prop_assert_eq!(items_fen, d.waived_fen);
            }

            h.record(&c, &d, at);
            let after = remaining(&rule, &h, c.relationship, at);
            if let (Some(Some(b)), Some(Some(a))) = (before, after) {
                prop_assert_eq!(a, b - u64::from(d.waived_ml), "consumed exactly");
            }
            if c.relationship == Relationship::Self_ {
                prop_assert_eq!(Some(d.remaining.self_ml), after.or(Some(Some(0))));
            }
            // Sent again: the same decision, and nothing consumed twice.
            let again = decide(&rule, &h, &c, at);
            prop_assert_eq!(&again, &d);
            h.record(&c, &again, at);
            prop_assert_eq!(remaining(&rule, &h, c.relationship, at), after);
        }
    }

    #[test]
    fn claims_at_one_moment_stay_within_the_allowance(
        rule in rule(),
        donations in donations(),
        claims in prop::collection::vec(claim(), 1..12),
    ) {
        let mut h = DonorHistory { donations, waivers: vec![] };
        let at = base();
        for (i, mut c) in claims.into_iter().enumerate() {
            c.claim_id = format!("c{i}");
            let d = decide(&rule, &h, &c, at);
            h.record(&c, &d, at);
        }
        for (_, r) in Relationship::WORDS {
            if let Ok(s) = entitlement(&rule, &h, r, at) {
                if let Entitlement::Limited { allowance_ml, used_ml } = s.entitlement {
                    prop_assert!(used_ml <= allowance_ml, "{r}: used {used_ml} of {allowance_ml}");
                }
            }
        }
    }

    #[test]
    fn cancelling_every_claim_restores_the_entitlement(
        rule in rule(),
        donations in donations(),
        claims in prop::collection::vec(claim(), 1..8),
    ) {
        let fresh = DonorHistory { donations, waivers: vec![] };
        let mut h = fresh.clone();
        let at = base();
        for (i, mut c) in claims.into_iter().enumerate() {
            c.claim_id = format!("c{i}");
            let d = decide(&rule, &h, &c, at);
            h.record(&c, &d, at);
        }
        let ids: Vec<String> = h.waivers.iter().map(|w| w.claim_id.clone()).collect();
        for id in ids {
            prop_assert!(h.cancel(&id));
        }
        for (_, r) in Relationship::WORDS {
            prop_assert_eq!(remaining(&rule, &h, r, at), remaining(&rule, &fresh, r, at));
        }
    }
}

/// Our words are the hospital document's, so the engine maps by name.
#[test]
fn vocabularies_match_the_document() {
    assert_eq!(
        Relationship::WORDS.len(),
        hemobridge_document::Relationship::WORDS.len()
    );
    for (w, theirs) in hemobridge_document::Relationship::WORDS {
        let ours: Relationship = w.parse().unwrap();
        assert_eq!(
            serde_json::to_value(ours).unwrap(),
            serde_json::to_value(theirs).unwrap()
        );
    }
    assert_eq!(
        DonationKind::WORDS.len(),
        hemobridge_document::DonationKind::WORDS.len()
    );
    for (w, theirs) in hemobridge_document::DonationKind::WORDS {
        let ours: DonationKind = w.parse().unwrap();
        assert_eq!(
            serde_json::to_value(ours).unwrap(),
            serde_json::to_value(theirs).unwrap()
        );
    }
}
