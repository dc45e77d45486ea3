//! Direct waivers of clinical blood fees (临床用血费用直接减免), decided
//! from provincial rules kept as data.
//!
//! Donors, and some of their relatives, are entitled to have the fee of the
//! blood products they use waived, within limits that every province sets
//! differently and changes over time. So the rule is a TOML file, not code:
//! a regulator corrects it without a release, and its id and version are
//! recorded on every decision. Three rules are shipped (Jiangsu's, the
//! default; Zhejiang's 2012 rule from a press report; an unnamed published
//! variant); see `docs/waivers.md`.
//!
//! The crate is pure: it parses rule text handed to it (the engine reads the
//! files), reads no clock (the decision time is an input) and keeps no
//! state. The entitlement is recomputed from the donor's history on every
//! decision, so a cancelled claim restores what it took by leaving the
//! history. Money is in whole fen, never floats.
//!
//! - [`rule`]: a validated rule, what decisions read.
//! - [`rules`]: the file format and its checks (errors name the key).
//! - [`shipped`]: the rule files embedded in the crate.
//! - [`history`]: donations, prior waivers, and the entitlement they give.
//! - [`claim`]: a claim at discharge.
//! - [`decide`](mod@decide): the decision.
//! - [`money`]: fee shares in fen, rounded once.
//! - [`words`]: relationships and donation kinds (the document's words).
//!
//! ```
//! use chrono::DateTime;
//! use hemobridge_waivers::{decide, Claim, DecisionKind, Donation, DonationKind, DonorHistory,
//!                          Relationship, Rule};
//!
//! let rule = Rule::default_rule(); // Jiangsu
//! let history = DonorHistory {
//!     donations: vec![Donation {
//!         at: DateTime::parse_from_rfc3339("2024-03-01T09:00:00+08:00").unwrap(),
//!         volume_ml: 400,
//!         kind: DonationKind::WholeBlood,
//!     }],
//!     waivers: vec![],
//! };
//! let claim = Claim {
//!     claim_id: "H3201001-2025-0001".into(),
//!     relationship: Relationship::Spouse,
//!     blood_fee_fen: 30_000, // 300 yuan
//!     volume_ml: 300,
//!     items: vec![],
//! };
//! let at = DateTime::parse_from_rfc3339("2025-06-01T15:00:00+08:00").unwrap();
//! let d = decide(&rule, &history, &claim, at);
//! assert_eq!(d.kind, DecisionKind::Full);
//! assert_eq!((d.waived_fen, d.patient_pays_fen), (30_000, 0));
//! assert_eq!(d.remaining.relatives_ml, Some(100));
//! ```

pub mod claim;
pub mod decide;
pub mod history;
pub mod money;
pub mod rule;
pub mod rules;
pub mod shipped;
pub mod words;

pub use claim::{Claim, ClaimError, ClaimItem};
pub use decide::{
    decide, Decision, DecisionKind, ItemWaiver, Reason, ReasonCode, Remaining, RuleRef,
};
pub use history::{
    entitlement, Donation, DonorHistory, Entitlement, Ineligible, PriorWaiver, Standing,
};
pub use rule::{Rule, RuleStatus};
pub use rules::RuleError;
pub use shipped::{ShippedRule, DEFAULT_RULE_ID, SHIPPED};
pub use words::{DonationKind, Relationship};
