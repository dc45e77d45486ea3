//! The daily submission (每日上报): what one hospital did with blood on one
//! local day, as the regulator receives it.
//!
//! This crate is only the shape and its pure rules (ordering, rounding, the
//! difference between two versions). The engine computes a submission from
//! stored events (`engine/src/daily`); the outbound formats render it
//! (provincial JSON, Shanghai XML, FHIR). JSON names follow the contract's
//! `GET /api/v1/daily/{hospital}/{date}`.
//!
//! Quantities are in each product's own measure (U, mL or dose) and are
//! rounded to two decimals, so that a submission computed twice from the same
//! events is byte-for-byte the same.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

/// One hospital's report for one local day, one version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailySubmission {
    /// The hospital's facility code.
    pub hospital: String,
    /// The local day covered (in `timezone`).
    pub date: NaiveDate,
    /// IANA zone that drew the day's boundary (`HEMOBRIDGE_TIMEZONE`).
    pub timezone: String,
    /// 1 for the first submission of the day; each amendment adds one.
    pub version: u32,
    pub status: Status,
    /// When this version was computed.
    pub computed_at: DateTime<FixedOffset>,
    /// One line per (product, ABO, RhD) that saw any activity or holds stock,
    /// sorted by product code, then ABO, then RhD.
    pub lines: Vec<Line>,
    /// Distinct patients who received at least one transfusion that day.
    pub patients_transfused: u64,
    /// Reactions reported that day, by national category and severity.
    pub reactions: Vec<ReactionCount>,
    /// Discards of the day by reason (quantities per product measure).
    pub discards: Vec<DiscardCount>,
    /// The version this one replaces, or `None` for version 1.
    pub amends: Option<u32>,
    /// What differs from the version it amends (empty for version 1).
    pub changes: Vec<Change>,
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The first version, computed at or before the cut-off.
    Submitted,
    /// The first version, computed after the cut-off (the hospital was late).
    Late,
    /// A later version caused by late events.
    Amended,
}

/// The day's movements of one product and blood group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// Product code (`RBC-LR`, ...; see `domain/products.md`).
    pub product: String,
    /// Product category (`red-cells`, `plasma`, ...).
    pub category: String,
    /// `U`, `mL` or `dose`: the measure of every quantity on this line.
    pub measure: String,
    /// `A`, `B`, `O`, `AB`, or `None` where the source did not say.
    pub abo: Option<String>,
    /// `+`, `-`, or `None`.
    pub rh: Option<String>,
    pub received: f64,
    pub crossmatched: f64,
    pub issued: f64,
    pub transfused: f64,
    pub returned: f64,
    pub discarded: f64,
    /// Units passed to another hospital (调剂) that day.
    pub transferred: f64,
    /// End-of-day stock as the events imply it.
    pub stock_computed: f64,
    /// End-of-day stock as the hospital last reported it that day, if it did.
    pub stock_reported: Option<f64>,
    /// `stock_reported - stock_computed`, where a report exists.
    pub stock_difference: Option<f64>,
}

/// Reactions of one national category and severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionCount {
    /// `febrile`, `allergic`, `haemolytic` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `mild`, `moderate`, `severe`, `death`, or `unknown`.
    pub severity: String,
    pub count: u64,
}

/// Discards of one product for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscardCount {
    pub product: String,
    /// `expired`, `damaged`, `hemolysis`, `returned-late`, `other`.
    pub reason: String,
    pub quantity: f64,
}

/// One value that differs between a version and the one it amends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// What changed, as a path: `lines[RBC-LR/O/+].transfused`,
    /// `patientsTransfused`, `reactions[allergic/mild]`,
    /// `discards[PLS-FFP/expired]`.
    pub path: String,
    pub from: Option<f64>,
    pub to: Option<f64>,
}

/// Rounds a quantity to two decimals (the precision every format carries).
pub fn round_quantity(value: f64) -> f64 {
    let rounded = (value * 100.0).round() / 100.0;
    // -0.0 and 0.0 must print the same.
    if rounded == 0.0 {
        0.0
    } else {
        rounded
    }
}

impl Line {
    /// The key that identifies this line within a day.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.product,
            self.abo.as_deref().unwrap_or("?"),
            self.rh.as_deref().unwrap_or("?")
        )
    }

    fn fields(&self) -> [(&'static str, Option<f64>); 9] {
        [
            ("received", Some(self.received)),
            ("crossmatched", Some(self.crossmatched)),
            ("issued", Some(self.issued)),
            ("transfused", Some(self.transfused)),
            ("returned", Some(self.returned)),
            ("discarded", Some(self.discarded)),
            ("transferred", Some(self.transferred)),
            ("stockComputed", Some(self.stock_computed)),
            ("stockReported", self.stock_reported),
        ]
    }
}

impl DailySubmission {
    /// Whether two versions report the same figures (ignoring version,
    /// status, time of computation and the amendment bookkeeping).
    pub fn same_figures(&self, other: &DailySubmission) -> bool {
        self.lines == other.lines
            && self.patients_transfused == other.patients_transfused
            && self.reactions == other.reactions
            && self.discards == other.discards
    }

    /// Every figure that differs from `previous`, in a stable order.
    pub fn changes_since(&self, previous: &DailySubmission) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut keys: Vec<String> = previous
            .lines
            .iter()
            .chain(&self.lines)
            .map(Line::key)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let before = previous.lines.iter().find(|l| l.key() == key);
            let after = self.lines.iter().find(|l| l.key() == key);
            for index in 0..9 {
                let name = before.or(after).map(|l| l.fields()[index].0).unwrap_or("");
                let from = before.and_then(|l| l.fields()[index].1);
                let to = after.and_then(|l| l.fields()[index].1);
                if from != to {
                    changes.push(Change {
                        path: format!("lines[{key}].{name}"),
                        from,
                        to,
                    });
                }
            }
        }
        if self.patients_transfused != previous.patients_transfused {
            changes.push(Change {
                path: "patientsTransfused".into(),
                from: Some(previous.patients_transfused as f64),
                to: Some(self.patients_transfused as f64),
            });
        }
        let reaction_key = |r: &ReactionCount| format!("{}/{}", r.kind, r.severity);
        let mut keys: Vec<String> = previous
            .reactions
            .iter()
            .chain(&self.reactions)
            .map(reaction_key)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let find = |list: &[ReactionCount]| {
                list.iter()
                    .find(|r| reaction_key(r) == key)
                    .map(|r| r.count as f64)
            };
            let (from, to) = (find(&previous.reactions), find(&self.reactions));
            if from != to {
                changes.push(Change {
                    path: format!("reactions[{key}]"),
                    from,
                    to,
                });
            }
        }
        let discard_key = |d: &DiscardCount| format!("{}/{}", d.product, d.reason);
        let mut keys: Vec<String> = previous
            .discards
            .iter()
            .chain(&self.discards)
            .map(discard_key)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let find = |list: &[DiscardCount]| {
                list.iter()
                    .find(|d| discard_key(d) == key)
                    .map(|d| d.quantity)
            };
            let (from, to) = (find(&previous.discards), find(&self.discards));
            if from != to {
                changes.push(Change {
                    path: format!("discards[{key}]"),
                    from,
                    to,
                });
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, abo: &str, transfused: f64) -> Line {
        Line {
            product: product.into(),
            category: "red-cells".into(),
            measure: "U".into(),
            abo: Some(abo.into()),
            rh: Some("+".into()),
            received: 2.0,
            crossmatched: 0.0,
            issued: 0.0,
            transfused,
            returned: 0.0,
            discarded: 0.0,
            transferred: 0.0,
            stock_computed: 2.0 - transfused,
            stock_reported: None,
            stock_difference: None,
        }
    }

    fn submission(lines: Vec<Line>, patients: u64) -> DailySubmission {
        DailySubmission {
            hospital: "H1".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            timezone: "Asia/Shanghai".into(),
            version: 1,
            status: Status::Submitted,
            computed_at: DateTime::parse_from_rfc3339("2026-11-25T00:05:00+08:00").unwrap(),
            lines,
            patients_transfused: patients,
            reactions: vec![],
            discards: vec![],
            amends: None,
            changes: vec![],
        }
    }

    #[test]
    fn a_late_transfusion_changes_the_line_the_stock_and_the_patients() {
        let v1 = submission(vec![line("RBC-LR", "O", 1.0)], 1);
        let v2 = submission(vec![line("RBC-LR", "O", 2.0)], 2);
        let changes = v2.changes_since(&v1);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "lines[RBC-LR/O/+].transfused",
                "lines[RBC-LR/O/+].stockComputed",
                "patientsTransfused"
            ]
        );
        assert_eq!(changes[0].from, Some(1.0));
        assert_eq!(changes[0].to, Some(2.0));
        assert!(!v2.same_figures(&v1));
    }

    #[test]
    fn a_new_line_is_reported_field_by_field_from_nothing() {
        let v1 = submission(vec![], 0);
        let v2 = submission(vec![line("PLT-APH", "A", 0.0)], 0);
        let changes = v2.changes_since(&v1);
        assert!(changes
            .iter()
            .any(|c| c.path == "lines[PLT-APH/A/+].received" && c.from.is_none()));
    }

    #[test]
    fn identical_figures_have_no_changes() {
        let v1 = submission(vec![line("RBC-LR", "O", 1.0)], 1);
        let mut v2 = v1.clone();
        v2.version = 2;
        assert!(v2.same_figures(&v1));
        assert!(v2.changes_since(&v1).is_empty());
    }

    #[test]
    fn json_names_follow_the_contract() {
        let mut s = submission(vec![line("RBC-LR", "O", 1.0)], 1);
        s.reactions.push(ReactionCount {
            kind: "allergic".into(),
            severity: "mild".into(),
            count: 1,
        });
        let json = serde_json::to_value(&s).unwrap();
        for key in [
            "hospital",
            "date",
            "version",
            "status",
            "lines",
            "patientsTransfused",
            "reactions",
            "amends",
            "changes",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["lines"][0]["stockComputed"], 2.0 - 1.0);
        assert_eq!(json["reactions"][0]["type"], "allergic");
        assert_eq!(json["date"], "2026-11-24");
    }

    #[test]
    fn rounding_is_stable() {
        assert_eq!(round_quantity(0.1 + 0.2), 0.3);
        assert_eq!(round_quantity(-0.001), 0.0);
        assert_eq!(round_quantity(1.5 + 0.25 + 0.004), 1.75);
    }
}
