//! Helpers shared by the integration tests: dates, donations, claims, and a
//! runner for sequences of claims against one donor.

#![allow(dead_code)] // each test binary uses a different part

use chrono::{DateTime, FixedOffset};
use hemobridge_waivers::{
    decide, Claim, ClaimItem, Decision, DecisionKind, Donation, DonationKind, DonorHistory,
    ReasonCode, Relationship, Rule,
};

/// `"2024-03-01"` → that day at 09:00 in China.
pub fn day(d: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{d}T09:00:00+08:00")).unwrap()
}

pub fn donation(d: &str, ml: u32, kind: DonationKind) -> Donation {
    Donation {
        at: day(d),
        volume_ml: ml,
        kind,
    }
}

pub fn whole(d: &str, ml: u32) -> Donation {
    donation(d, ml, DonationKind::WholeBlood)
}

/// A claim at 1 yuan per mL (100 fen), the table's prices.
pub fn claim(id: &str, r: Relationship, ml: u32) -> Claim {
    Claim {
        claim_id: id.into(),
        relationship: r,
        blood_fee_fen: i64::from(ml) * 100,
        volume_ml: ml,
        items: vec![],
    }
}

pub fn item(product: &str, ml: u32, yuan: i64) -> ClaimItem {
    ClaimItem {
        product: product.into(),
        volume_ml: ml,
        fee_fen: yuan * 100,
    }
}

/// What one step of a case expects.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub kind: DecisionKind,
    pub waived_ml: u32,
    pub waived_fen: i64,
    pub pays_fen: i64,
    pub code: ReasonCode,
    /// `None`: free use.
    pub self_ml: Option<u64>,
    pub relatives_ml: Option<u64>,
}

/// One step against a donor: a claim decided at a moment (and recorded in
/// the history), a cancellation, or a claim sent again.
pub enum Step {
    Claim(Claim, &'static str, Expect),
    Cancel(&'static str),
    /// The same claim again: the decision must be the first one's, and
    /// recording it must not consume anything twice.
    Again(&'static str, &'static str),
}

/// Runs the steps in order, checking each decision, and returns the
/// history at the end.
pub fn run(case: &str, rule: &Rule, donations: Vec<Donation>, steps: Vec<Step>) -> DonorHistory {
    let mut h = DonorHistory {
        donations,
        waivers: vec![],
    };
    let mut decided: Vec<(Claim, Decision)> = Vec::new();
    for (i, step) in steps.into_iter().enumerate() {
        match step {
            Step::Claim(c, at, e) => {
                let d = decide(rule, &h, &c, day(at));
                check(&format!("{case}, step {i}"), &c, &d, &e);
                h.record(&c, &d, day(at));
                decided.push((c, d));
            }
            Step::Cancel(id) => {
                assert!(h.cancel(id), "{case}: nothing to cancel for {id}");
            }
            Step::Again(id, at) => {
                let (c, first) = decided
                    .iter()
                    .find(|(c, _)| c.claim_id == id)
                    .cloned()
                    .unwrap();
                let before = h.clone();
                let d = decide(rule, &h, &c, day(at));
                assert_eq!(
                    d, first,
                    "{case}, step {i}: a repeated claim is decided alike"
                );
                h.record(&c, &d, day(at));
                let used = |h: &DonorHistory| h.waivers.iter().map(|w| w.waived_ml).sum::<u32>();
                assert_eq!(used(&h), used(&before), "{case}: nothing consumed twice");
            }
        }
    }
    h
}

pub fn check(case: &str, c: &Claim, d: &Decision, e: &Expect) {
    let got = (
        d.kind,
        d.waived_ml,
        d.waived_fen,
        d.patient_pays_fen,
        d.reason.code,
        d.remaining.self_ml,
        d.remaining.relatives_ml,
    );
    let want = (
        e.kind,
        e.waived_ml,
        e.waived_fen,
        e.pays_fen,
        e.code,
        e.self_ml,
        e.relatives_ml,
    );
    assert_eq!(got, want, "{case}: {}", d.reason.message);
    assert_eq!(d.waived_fen + d.patient_pays_fen, c.blood_fee_fen, "{case}");
    assert!(!d.reason.message.is_empty(), "{case}: a reason is given");
}

pub fn full(ml: u32, code: ReasonCode, self_ml: Option<u64>, relatives_ml: Option<u64>) -> Expect {
    Expect {
        kind: DecisionKind::Full,
        waived_ml: ml,
        waived_fen: i64::from(ml) * 100,
        pays_fen: 0,
        code,
        self_ml,
        relatives_ml,
    }
}

pub fn partial(used: u32, waived: u32, self_ml: Option<u64>, relatives_ml: Option<u64>) -> Expect {
    Expect {
        kind: DecisionKind::Partial,
        waived_ml: waived,
        waived_fen: i64::from(waived) * 100,
        pays_fen: i64::from(used - waived) * 100,
        code: ReasonCode::PartlyCovered,
        self_ml,
        relatives_ml,
    }
}

pub fn none(
    used: u32,
    code: ReasonCode,
    self_ml: Option<u64>,
    relatives_ml: Option<u64>,
) -> Expect {
    Expect {
        kind: DecisionKind::None,
        waived_ml: 0,
        waived_fen: 0,
        pays_fen: i64::from(used) * 100,
        code,
        self_ml,
        relatives_ml,
    }
}
