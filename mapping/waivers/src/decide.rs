//! The decision at discharge: how much of this stay's blood fee is waived.
//!
//! Pure: the rule, the donor's history, the claim and the moment in, a
//! decision out. Steps, in order (the first that stops gives the reason):
//! 1. the claim must be consistent (`invalid-claim`);
//! 2. the claimant's relationship must be in a group of the rule
//!    (`relationship-not-covered`);
//! 3. the donor must have donated by then (`no-donation`), and the waiting
//!    period must be over (`waiting-period`);
//! 4. the entitlement of the claimant's group is computed from the history,
//!    leaving out this claim's own earlier waiver (so that deciding a claim
//!    again never counts it twice);
//! 5. the volume waived is the smaller of the volume used and what is
//!    left, taken in the order of the itemised bill; the fee waived is that
//!    volume's share of the fee, and the patient pays the rest.

use crate::claim::Claim;
use crate::history::{standing, DonorHistory, Entitlement, Ineligible};
use crate::money::{share_of_fee, yuan};
use crate::rule::{Group, Rule, WaitingFrom};
use crate::words::Relationship;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub claim_id: String,
    #[serde(rename = "decision")]
    pub kind: DecisionKind,
    /// At most the claim's volume.
    pub waived_ml: u32,
    pub waived_fen: i64,
    /// Always `blood_fee_fen - waived_fen`.
    pub patient_pays_fen: i64,
    pub reason: Reason,
    /// Further facts the window should show, e.g. that the volume was taken
    /// in the bill's order because prices differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Reason>,
    pub rule: RuleRef,
    /// The rule group the claimant drew on, if covered.
    pub group: Option<String>,
    /// After this decision.
    pub remaining: Remaining,
    /// Per bill line, when the claim was itemised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemWaiver>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    /// The whole fee is waived.
    Full,
    /// Part of the volume is waived; the patient pays the rest.
    Partial,
    /// Nothing is waived.
    None,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Full => "full",
            DecisionKind::Partial => "partial",
            DecisionKind::None => "none",
        }
    }
}

/// A stable English code for programs, and a Chinese message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    FreeForLife,
    FreePeriod,
    WithinEntitlement,
    PartlyCovered,
    SelfExhausted,
    RelativesExhausted,
    EntitlementExhausted,
    NoEntitlement,
    RelationshipNotCovered,
    NoDonation,
    WaitingPeriod,
    NothingUsed,
    InvalidClaim,
    /// A note: prices differ, so the volume was waived in the bill's order.
    WaivedInItemOrder,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::FreeForLife => "free-for-life",
            ReasonCode::FreePeriod => "free-period",
            ReasonCode::WithinEntitlement => "within-entitlement",
            ReasonCode::PartlyCovered => "partly-covered",
            ReasonCode::SelfExhausted => "self-exhausted",
            ReasonCode::RelativesExhausted => "relatives-exhausted",
            ReasonCode::EntitlementExhausted => "entitlement-exhausted",
            ReasonCode::NoEntitlement => "no-entitlement",
            ReasonCode::RelationshipNotCovered => "relationship-not-covered",
            ReasonCode::NoDonation => "no-donation",
            ReasonCode::WaitingPeriod => "waiting-period",
            ReasonCode::NothingUsed => "nothing-used",
            ReasonCode::InvalidClaim => "invalid-claim",
            ReasonCode::WaivedInItemOrder => "waived-in-item-order",
        }
    }
}

/// Which rule text decided: recorded on every decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: String,
    pub version: String,
}

/// What is left after this decision, as the contract reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remaining {
    /// The donor's own; `None` for free use (for life or a free period).
    pub self_ml: Option<u64>,
    /// The claimant's relatives' allowance if the claimant is a relative,
    /// otherwise that of the first relative relationship the rule covers
    /// (spouse, parent, child, sibling, spouse's parent); 0 if none.
    pub relatives_ml: Option<u64>,
}

/// One line of an itemised bill, and what of it was waived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemWaiver {
    pub product: String,
    pub volume_ml: u32,
    pub fee_fen: i64,
    pub waived_ml: u32,
    pub waived_fen: i64,
}

/// Decides `claim` under `rule`, against the donor's `history`, at `at`
/// (the discharge or decision time, given so that the crate reads no clock).
///
/// `history` must hold every non-cancelled waiver granted against this
/// donor through any channel; it may hold `claim`'s own earlier waiver,
/// which is not counted against it.
pub fn decide(
    rule: &Rule,
    history: &DonorHistory,
    claim: &Claim,
    at: DateTime<FixedOffset>,
) -> Decision {
    let mut d = Decision {
        claim_id: claim.claim_id.clone(),
        kind: DecisionKind::None,
        waived_ml: 0,
        waived_fen: 0,
        patient_pays_fen: claim.blood_fee_fen,
        reason: Reason {
            code: ReasonCode::NothingUsed,
            message: String::new(),
        },
        notes: Vec::new(),
        rule: RuleRef {
            id: rule.id.clone(),
            version: rule.version.clone(),
        },
        group: rule.group_of(claim.relationship).map(|g| g.id.clone()),
        remaining: Remaining {
            self_ml: Some(0),
            relatives_ml: Some(0),
        },
        items: Vec::new(),
    };
    waive(rule, history, claim, at, &mut d);
    d.remaining = remaining_after(rule, history, claim, at, d.waived_ml);
    d
}

/// Fills in `d`: the waiver, or the reason for "none" (its default).
fn waive(
    rule: &Rule,
    history: &DonorHistory,
    claim: &Claim,
    at: DateTime<FixedOffset>,
    d: &mut Decision,
) {
    let mut deny = |code, message: String| {
        d.reason = Reason { code, message };
    };
    if let Err(e) = claim.check() {
        return deny(ReasonCode::InvalidClaim, format!("申请数据有误：{e}"));
    }
    let standing = match standing(rule, history, claim.relationship, at, Some(&claim.claim_id)) {
        Ok(s) => s,
        Err(Ineligible::NotCovered) => {
            return deny(
                ReasonCode::RelationshipNotCovered,
                format!("{}不在本规则的减免范围内", claim.relationship.zh()),
            )
        }
        Err(Ineligible::NoDonation) => {
            return deny(
                ReasonCode::NoDonation,
                "未找到该献血者在用血前的献血记录".to_owned(),
            )
        }
        Err(Ineligible::Waiting { until }) => {
            let (days, after) = rule.waiting.map_or((0, "献血"), |w| match w.from {
                WaitingFrom::FirstDonation => (w.days, "首次献血"),
                WaitingFrom::EachDonation => (w.days, "献血"),
            });
            return deny(
                ReasonCode::WaitingPeriod,
                format!(
                    "{after}后{days}天内不享受减免，{}起可减免",
                    until.format("%Y-%m-%d")
                ),
            );
        }
    };
    if claim.volume_ml == 0 {
        return deny(
            ReasonCode::NothingUsed,
            "本次未使用血液制品，无可减免费用".to_owned(),
        );
    }
    let side = Side::of(standing.group);
    let left = standing.entitlement.remaining_ml();
    let waived_ml = left.map_or(claim.volume_ml, |l| {
        u32::try_from(l.min(u64::from(claim.volume_ml))).unwrap_or(claim.volume_ml)
    });
    if waived_ml == 0 {
        return match standing.entitlement {
            Entitlement::Limited { allowance_ml, .. } if allowance_ml > 0 => {
                let (code, who) = side.exhausted();
                deny(code, format!("{who}用血额度已用完"))
            }
            _ => deny(
                ReasonCode::NoEntitlement,
                "按本规则当前无可减免的用血额度（如已超出献血后的减免期限）".to_owned(),
            ),
        };
    }
    allocate(claim, waived_ml, d);
    d.kind = if waived_ml == claim.volume_ml {
        DecisionKind::Full
    } else {
        DecisionKind::Partial
    };
    let money = yuan(d.waived_fen);
    d.reason = match (standing.entitlement, d.kind) {
        (Entitlement::Unlimited { until: None }, _) => Reason {
            code: ReasonCode::FreeForLife,
            message: format!("{}终身免费用血，全额减免{money}元", side.who()),
        },
        (Entitlement::Unlimited { until: Some(u) }, _) => Reason {
            code: ReasonCode::FreePeriod,
            message: format!(
                "{}在免费用血期内（至{}），全额减免{money}元",
                side.who(),
                u.format("%Y-%m-%d")
            ),
        },
        (Entitlement::Limited { .. }, DecisionKind::Full) => Reason {
            code: ReasonCode::WithinEntitlement,
            message: format!(
                "在{}用血额度内，减免{waived_ml}毫升，计{money}元",
                side.who()
            ),
        },
        (Entitlement::Limited { .. }, _) => Reason {
            code: ReasonCode::PartlyCovered,
            message: format!(
                "{}剩余额度{}毫升，本次用血{}毫升：减免{waived_ml}毫升，计{money}元，其余{}元由患者自付",
                side.who(),
                left.unwrap_or(0),
                claim.volume_ml,
                yuan(d.patient_pays_fen)
            ),
        },
    };
}

/// Splits `waived_ml` over the bill: the fee of the waived volume, line by
/// line in the hospital's order where the claim is itemised.
fn allocate(claim: &Claim, waived_ml: u32, d: &mut Decision) {
    d.waived_ml = waived_ml;
    if claim.items.is_empty() {
        d.waived_fen = share_of_fee(claim.blood_fee_fen, waived_ml, claim.volume_ml);
    } else {
        let mut left = waived_ml;
        for item in &claim.items {
            let w = left.min(item.volume_ml);
            left -= w;
            d.items.push(ItemWaiver {
                product: item.product.clone(),
                volume_ml: item.volume_ml,
                fee_fen: item.fee_fen,
                waived_ml: w,
                waived_fen: share_of_fee(item.fee_fen, w, item.volume_ml),
            });
        }
        d.waived_fen = d.items.iter().map(|i| i.waived_fen).sum();
        let first = &claim.items[0];
        let prices_differ = claim.items.iter().any(|i| {
            i128::from(i.fee_fen) * i128::from(first.volume_ml)
                != i128::from(first.fee_fen) * i128::from(i.volume_ml)
        });
        if prices_differ && waived_ml < claim.volume_ml {
            let order = d
                .items
                .iter()
                .filter(|i| i.waived_ml > 0)
                .map(|i| format!("{} {}毫升", i.product, i.waived_ml))
                .collect::<Vec<_>>()
                .join("、");
            d.notes.push(Reason {
                code: ReasonCode::WaivedInItemOrder,
                message: format!("各血液制品单价不同，按医院所列顺序减免：{order}"),
            });
        }
    }
    d.patient_pays_fen = claim.blood_fee_fen - d.waived_fen;
}

/// What is left for the donor and for the relatives once this claim has
/// taken `waived_ml`.
fn remaining_after(
    rule: &Rule,
    history: &DonorHistory,
    claim: &Claim,
    at: DateTime<FixedOffset>,
    waived_ml: u32,
) -> Remaining {
    let left = |r: Relationship| -> Option<u64> {
        match standing(rule, history, r, at, Some(&claim.claim_id)) {
            Err(_) => Some(0),
            Ok(s) => s.entitlement.remaining_ml().map(|l| {
                if s.group.pool_of(r).contains(&claim.relationship) {
                    l.saturating_sub(u64::from(waived_ml))
                } else {
                    l
                }
            }),
        }
    };
    let covered = |r: &Relationship| rule.group_of(*r).is_some();
    let relative = Some(claim.relationship)
        .filter(|r| RELATIVES.contains(r) && covered(r))
        .or_else(|| RELATIVES.iter().copied().find(covered));
    Remaining {
        self_ml: left(Relationship::Self_),
        relatives_ml: relative.map_or(Some(0), left),
    }
}

const RELATIVES: [Relationship; 5] = [
    Relationship::Spouse,
    Relationship::Parent,
    Relationship::Child,
    Relationship::Sibling,
    Relationship::SpouseParent,
];

/// Whose allowance a group is, for reason codes and messages.
#[derive(Clone, Copy)]
enum Side {
    Donor,
    Relatives,
    Both,
}

impl Side {
    fn of(g: &Group) -> Side {
        let has_self = g.covers(Relationship::Self_);
        match (has_self, g.relationships.len()) {
            (true, 1) => Side::Donor,
            (true, _) => Side::Both,
            (false, _) => Side::Relatives,
        }
    }

    fn who(self) -> &'static str {
        match self {
            Side::Donor => "献血者本人",
            Side::Relatives => "亲属",
            Side::Both => "献血者及亲属",
        }
    }

    fn exhausted(self) -> (ReasonCode, &'static str) {
        match self {
            Side::Donor => (ReasonCode::SelfExhausted, "本人"),
            Side::Relatives => (ReasonCode::RelativesExhausted, "亲属"),
            Side::Both => (ReasonCode::EntitlementExhausted, ""),
        }
    }
}
