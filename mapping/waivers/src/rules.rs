//! The rule file format (TOML) and its checks: text → [`Rule`].
//!
//! Two layers, so that every error names the key at fault:
//! - serde with `deny_unknown_fields` catches syntax, types, missing and
//!   unknown keys (a typo is an error, not a silently ignored line); the
//!   TOML parser's message names the key and shows its line;
//! - [`validate`] then checks what types cannot say (a key that does not
//!   belong to the allowance's kind, windows out of order, a relationship
//!   in two groups) and names the key by its path, e.g.
//!   `group.relatives.allowance[1].ml`.
//!
//! The format is documented with an annotated example in `docs/waivers.md`.

use crate::rule::{
    Allowance, AllowanceKind, CountAsMl, Group, MeasuredFrom, Rule, RuleStatus, Waiting,
    WaitingFrom, Window,
};
use crate::words::{DonationKind, Relationship};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashSet;

/// Longest period, in years or days, that a rule may state: far beyond any
/// real rule, and it keeps date arithmetic away from chrono's range.
const MAX_YEARS: u32 = 200;
const MAX_DAYS: u32 = 3650;

/// Why a rule file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Not TOML, or a key unknown, missing or of the wrong type. The text is
    /// the TOML parser's, which names the key and quotes its line.
    #[error("rule file: {0}")]
    Syntax(String),
    /// Well-formed but inconsistent; `key` is the path of the offending key.
    #[error("rule file: `{key}`: {message}")]
    Invalid { key: String, message: String },
    /// No rule with this id is shipped with the crate.
    #[error("no shipped rule {0:?}")]
    UnknownId(String),
}

impl RuleError {
    fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Reads and checks a rule file's text.
pub fn parse(text: &str) -> Result<Rule, RuleError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Syntax(e.to_string()))?;
    validate(file)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    version: String,
    province: String,
    #[serde(default)]
    name: Option<String>,
    source: String,
    /// A TOML date, or the string "unknown".
    effective_from: toml::Value,
    status: RuleStatus,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    count_as_ml: CountAsMlFile,
    #[serde(default)]
    waiting: Option<WaitingFile>,
    #[serde(default, rename = "group")]
    groups: Vec<GroupFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CountAsMlFile {
    whole_blood: Option<u32>,
    apheresis_platelets: Option<u32>,
    apheresis_plasma: Option<u32>,
    stem_cell: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitingFile {
    days: u32,
    from: WaitingFrom,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    id: String,
    #[serde(default)]
    name: Option<String>,
    relationships: Vec<Relationship>,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default, rename = "allowance")]
    allowances: Vec<AllowanceFile>,
}

/// Flat on purpose: one struct for every kind keeps serde's unknown-key
/// errors precise (an internally tagged enum would lose the line), and
/// [`allowance`] then refuses keys that do not belong to the kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowanceFile {
    kind: KindWord,
    #[serde(default)]
    only_if_donated: Vec<DonationKind>,
    #[serde(default)]
    note: Option<String>,
    // multiple
    windows: Option<Vec<WindowFile>>,
    measured_from: Option<MeasuredFrom>,
    // threshold
    min_ml: Option<u32>,
    accumulated_within_years: Option<u32>,
    free_for_years: Option<u32>,
    // fixed
    ml: Option<u32>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum KindWord {
    Multiple,
    Threshold,
    Fixed,
    Unlimited,
}

impl KindWord {
    fn as_str(self) -> &'static str {
        match self {
            KindWord::Multiple => "multiple",
            KindWord::Threshold => "threshold",
            KindWord::Fixed => "fixed",
            KindWord::Unlimited => "unlimited",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    #[serde(default)]
    within_years: Option<u32>,
    times: u32,
}

fn validate(f: RuleFile) -> Result<Rule, RuleError> {
    if f.id.is_empty()
        || !f
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(RuleError::invalid(
            "id",
            "must be lowercase letters, digits and '-' (it names the rule in configuration)",
        ));
    }
    for (key, value) in [
        ("version", &f.version),
        ("province", &f.province),
        ("source", &f.source),
    ] {
        if value.trim().is_empty() {
            return Err(RuleError::invalid(key, "must not be empty"));
        }
    }
    let effective_from = effective_from(&f.effective_from)?;
    let waiting = f.waiting.map(|w| waiting(&w)).transpose()?;
    if f.groups.is_empty() {
        return Err(RuleError::invalid(
            "group",
            "at least one [[group]] is needed: nobody would qualify",
        ));
    }
    let mut ids = HashSet::new();
    let mut seen: Vec<(Relationship, String)> = Vec::new();
    let mut groups = Vec::with_capacity(f.groups.len());
    for (i, g) in f.groups.into_iter().enumerate() {
        let group = group(i, g)?;
        if !ids.insert(group.id.clone()) {
            return Err(RuleError::invalid(
                format!("group[{i}].id"),
                format!("{:?} is used by two groups", group.id),
            ));
        }
        for r in &group.relationships {
            if let Some((_, other)) = seen.iter().find(|(s, _)| s == r) {
                return Err(RuleError::invalid(
                    format!("group.{}.relationships", group.id),
                    format!(
                        "{r:?} is already in group {other:?}: a relationship belongs to one group"
                    ),
                ));
            }
            seen.push((*r, group.id.clone()));
        }
        groups.push(group);
    }
    let c = f.count_as_ml;
    Ok(Rule {
        id: f.id,
        version: f.version,
        province: f.province,
        name: f.name,
        source: f.source,
        effective_from,
        status: f.status,
        notes: f.notes,
        count_as_ml: CountAsMl {
            whole_blood: c.whole_blood,
            apheresis_platelets: c.apheresis_platelets,
            apheresis_plasma: c.apheresis_plasma,
            stem_cell: c.stem_cell,
        },
        waiting,
        groups,
    })
}

fn effective_from(v: &toml::Value) -> Result<Option<NaiveDate>, RuleError> {
    let bad = || {
        RuleError::invalid(
            "effective_from",
            "expected a date such as 2025-04-01, or the string \"unknown\"",
        )
    };
    match v {
        toml::Value::String(s) if s == "unknown" => Ok(None),
        toml::Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                .map(Some)
                .ok_or_else(bad),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn waiting(w: &WaitingFile) -> Result<Waiting, RuleError> {
    if w.days > MAX_DAYS {
        return Err(RuleError::invalid(
            "waiting.days",
            format!("at most {MAX_DAYS}"),
        ));
    }
    Ok(Waiting {
        days: w.days,
        from: w.from,
    })
}

fn group(i: usize, g: GroupFile) -> Result<Group, RuleError> {
    if g.id.trim().is_empty() {
        return Err(RuleError::invalid(
            format!("group[{i}].id"),
            "must not be empty",
        ));
    }
    let at = |key: &str| format!("group.{}.{key}", g.id);
    if g.relationships.is_empty() {
        return Err(RuleError::invalid(at("relationships"), "must not be empty"));
    }
    if g.relationships.contains(&Relationship::Other) {
        return Err(RuleError::invalid(
            at("relationships"),
            "\"other\" cannot qualify: it says nothing about who the claimant is",
        ));
    }
    let distinct: HashSet<_> = g.relationships.iter().collect();
    if distinct.len() != g.relationships.len() {
        return Err(RuleError::invalid(
            at("relationships"),
            "lists a relationship twice",
        ));
    }
    let shared = match g.shared {
        Some(s) => s,
        None if g.relationships.len() == 1 => true,
        None => {
            return Err(RuleError::invalid(
                at("shared"),
                "required when a group has several relationships: true if they draw on one \
                 allowance together, false if each has its own",
            ))
        }
    };
    if g.allowances.is_empty() {
        return Err(RuleError::invalid(
            at("allowance"),
            "at least one [[group.allowance]] is needed",
        ));
    }
    let allowances = g
        .allowances
        .iter()
        .enumerate()
        .map(|(j, a)| allowance(&at(&format!("allowance[{j}]")), a))
        .collect::<Result<_, _>>()?;
    Ok(Group {
        id: g.id,
        name: g.name,
        relationships: g.relationships,
        shared,
        allowances,
    })
}

fn allowance(path: &str, a: &AllowanceFile) -> Result<Allowance, RuleError> {
    let key = |k: &str| format!("{path}.{k}");
    // Keys that belong to another kind: refused, so that a rule never says
    // more than it does (e.g. `free_for_years` on a `multiple`).
    let present = [
        ("windows", a.windows.is_some(), KindWord::Multiple),
        (
            "measured_from",
            a.measured_from.is_some(),
            KindWord::Multiple,
        ),
        ("min_ml", a.min_ml.is_some(), KindWord::Threshold),
        (
            "accumulated_within_years",
            a.accumulated_within_years.is_some(),
            KindWord::Threshold,
        ),
        (
            "free_for_years",
            a.free_for_years.is_some(),
            KindWord::Threshold,
        ),
        ("ml", a.ml.is_some(), KindWord::Fixed),
    ];
    if let Some((k, _, _)) = present
        .iter()
        .find(|(_, on, owner)| *on && *owner != a.kind)
    {
        return Err(RuleError::invalid(
            key(k),
            format!("not a key of kind \"{}\"", a.kind.as_str()),
        ));
    }
    let required =
        |k: &str| RuleError::invalid(key(k), format!("required for kind \"{}\"", a.kind.as_str()));
    let years = |k: &str, v: Option<u32>| match v {
        Some(0) => Err(RuleError::invalid(key(k), "must be at least 1")),
        Some(y) if y > MAX_YEARS => Err(RuleError::invalid(key(k), format!("at most {MAX_YEARS}"))),
        _ => Ok(v),
    };
    let kind = match a.kind {
        KindWord::Multiple => {
            let windows = a.windows.as_ref().ok_or_else(|| required("windows"))?;
            AllowanceKind::Multiple {
                windows: windows_of(&key("windows"), windows)?,
                measured_from: a.measured_from.unwrap_or_default(),
            }
        }
        KindWord::Threshold => {
            let min_ml = a.min_ml.ok_or_else(|| required("min_ml"))?;
            if min_ml == 0 {
                return Err(RuleError::invalid(
                    key("min_ml"),
                    "must be at least 1 (for free use without threshold, use kind = \"unlimited\")",
                ));
            }
            AllowanceKind::Threshold {
                min_ml,
                accumulated_within_years: years(
                    "accumulated_within_years",
                    a.accumulated_within_years,
                )?,
                free_for_years: years("free_for_years", a.free_for_years)?,
            }
        }
        KindWord::Fixed => {
            let ml = a.ml.ok_or_else(|| required("ml"))?;
            if ml == 0 {
                return Err(RuleError::invalid(key("ml"), "must be at least 1"));
            }
            AllowanceKind::Fixed { ml }
        }
        KindWord::Unlimited => AllowanceKind::Unlimited,
    };
    Ok(Allowance {
        kind,
        only_if_donated: a.only_if_donated.clone(),
        note: a.note.clone(),
    })
}

fn windows_of(path: &str, ws: &[WindowFile]) -> Result<Vec<Window>, RuleError> {
    if ws.is_empty() {
        return Err(RuleError::invalid(path, "must not be empty"));
    }
    let mut last = 0;
    for (i, w) in ws.iter().enumerate() {
        let key = format!("{path}[{i}].within_years");
        match w.within_years {
            None if i + 1 != ws.len() => {
                return Err(RuleError::invalid(
                    key,
                    "only the last window may be open-ended (no within_years)",
                ))
            }
            None => {}
            Some(y) if y <= last => {
                return Err(RuleError::invalid(
                    key,
                    "windows must be in ascending order of within_years, each at least 1",
                ))
            }
            Some(y) if y > MAX_YEARS => {
                return Err(RuleError::invalid(key, format!("at most {MAX_YEARS}")))
            }
            Some(y) => last = y,
        }
    }
    Ok(ws
        .iter()
        .map(|w| Window {
            within_years: w.within_years,
            times: w.times,
        })
        .collect())
}
