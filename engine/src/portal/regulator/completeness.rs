//! The completeness table (追溯完整性), the units one rule found, and the
//! province table (全省概览) with the late list of a day.
//!
//! The figures are those of `GET /api/v1/audit/completeness`: the same
//! store rows through the same pure audit ([`crate::audit`]).

use super::access::{allowed, recorded};
use super::render::{csv_link, csv_response, page, Format, Table};
use crate::api::AppState;
use crate::audit::{audit_hospital, HospitalAudit, RULES};
use crate::portal::pages::{self, frame};
use crate::portal::session::PortalUser;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use hemobridge_canonical::{Facility, FacilityKind};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Without `from`, the period is the 30 days before `to` (as in the API).
const DEFAULT_DAYS: i64 = 30;
/// The province table's colours: green from 95 %, amber from 80 %, red
/// below (`docs/portal.md`).
pub const GREEN_FROM: f64 = 0.95;
pub const AMBER_FROM: f64 = 0.80;

/// The colour class of a completeness share.
pub fn colour(share: Option<f64>) -> &'static str {
    match share {
        None => "none",
        Some(s) if s >= GREEN_FROM => "green",
        Some(s) if s >= AMBER_FROM => "amber",
        Some(_) => "red",
    }
}

/// Chinese titles of the audit rules (`docs/traceability.md`).
pub fn rule_zh(rule: &str) -> &'static str {
    match rule {
        "issued-no-transfusion-24h" => "发血超24小时无结局",
        "issued-no-transfusion-72h" => "发血超72小时无结局",
        "transfused-without-issue" => "输血无发血记录",
        "received-without-dispatch" => "入库无血站发出记录",
        "out-of-order" => "环节顺序错乱",
        "expired-transfused" => "过期后输注",
        "abo-rh-mismatch" => "ABO/RhD 不相容",
        _ => "未知规则",
    }
}

fn percent(share: Option<f64>) -> String {
    share
        .map(|s| format!("{:.1}%", s * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A period boundary: a date (`YYYY-MM-DD`, the local day's start; for
/// `to`, the next day's start so the day is included) or an ISO time.
fn boundary(text: &str, zone: Tz, end_of_day: bool) -> Result<i64, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if end_of_day {
            day + chrono::Days::new(1)
        } else {
            day
        };
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        return zone
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| format!("{text} 不是有效日期"));
    }
    hemobridge_canonical::time::parse_iso(text, zone)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("应为日期 YYYY-MM-DD，收到 {text:?}"))
}

/// The period asked for, or the field errors (`开始日期 (from)：…`).
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    zone: Tz,
    now_ms: i64,
) -> Result<(i64, i64), Vec<String>> {
    let mut errors = Vec::new();
    let from = from.map(str::trim).filter(|s| !s.is_empty());
    let to = to.map(str::trim).filter(|s| !s.is_empty());
    let to_ms = match to.map(|t| boundary(t, zone, true)).transpose() {
        Ok(t) => t.unwrap_or(now_ms),
        Err(e) => {
            errors.push(format!("结束日期 (to)：{e}"));
            now_ms
        }
    };
    let from_ms = match from.map(|t| boundary(t, zone, false)).transpose() {
        Ok(t) => t.unwrap_or(to_ms - DEFAULT_DAYS * 86_400_000),
        Err(e) => {
            errors.push(format!("开始日期 (from)：{e}"));
            to_ms
        }
    };
    if errors.is_empty() && from_ms >= to_ms {
        errors.push("开始日期 (from)：必须早于结束日期".into());
    }
    if errors.is_empty() {
        Ok((from_ms, to_ms))
    } else {
        Err(errors)
    }
}

/// The audit of every hospital (or one) for a period.
async fn audits(
    state: &AppState,
    hospital: Option<&str>,
    from_ms: i64,
    to_ms: i64,
) -> anyhow::Result<Vec<(Facility, HospitalAudit)>> {
    let facilities = state.store.facilities().await?;
    let stations: HashSet<String> = facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::Station)
        .map(|f| f.code.clone())
        .collect();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut out = Vec::new();
    for f in facilities {
        if f.kind != FacilityKind::Hospital || hospital.is_some_and(|h| h != f.code) {
            continue;
        }
        let rows = state.store.audit_rows(&f.code, from_ms, to_ms).await?;
        let report = audit_hospital(&f.code, &rows, &stations, now_ms);
        out.push((f, report));
    }
    Ok(out)
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    hospital: Option<String>,
    rule: Option<String>,
    date: Option<String>,
    #[serde(flatten)]
    format: Format,
}

impl Params {
    /// The period as given, for links that keep it.
    fn period_query(&self) -> String {
        let pairs = [
            ("from", self.from.as_deref().unwrap_or_default()),
            ("to", self.to.as_deref().unwrap_or_default()),
        ];
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct RuleCell {
    rule: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct HospitalRow {
    code: String,
    name: String,
    city: String,
    received: usize,
    finalised: usize,
    share: String,
    colour: &'static str,
    rules: Vec<RuleCell>,
}

fn hospital_row(f: &Facility, a: &HospitalAudit) -> HospitalRow {
    HospitalRow {
        code: f.code.clone(),
        name: f.name.clone(),
        city: f.region.clone().unwrap_or_default(),
        received: a.units_received,
        finalised: a.with_final_disposition,
        share: percent(a.share),
        colour: colour(a.share),
        rules: RULES
            .iter()
            .map(|(rule, _)| RuleCell {
                rule,
                count: a
                    .findings
                    .iter()
                    .find(|f| f.rule == *rule)
                    .map(|f| f.count)
                    .unwrap_or(0),
            })
            .collect(),
    }
}

fn local_date(ms: i64, zone: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `GET /portal/regulator/completeness?from=&to=&hospital=`.
pub async fn table(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<Params>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = table_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn table_page(state: &AppState, user: &PortalUser, uri: &Uri, p: Params) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let (status, errors, rows, span) =
        match period(p.from.as_deref(), p.to.as_deref(), zone, now_ms) {
            Err(errors) => (StatusCode::BAD_REQUEST, errors, Vec::new(), None),
            Ok((from_ms, to_ms)) => {
                match audits(state, blank(&p.hospital).as_deref(), from_ms, to_ms).await {
                    Ok(list) => (
                        StatusCode::OK,
                        Vec::new(),
                        list.iter().map(|(f, a)| hospital_row(f, a)).collect(),
                        Some((local_date(from_ms, zone), local_date(to_ms, zone))),
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "completeness audit could not be read");
                        return pages::unavailable();
                    }
                }
            }
        };
    let mut headers = vec!["医院代码", "医院名称", "入库单位数", "有最终去向", "完整率"];
    headers.extend(RULES.iter().map(|(rule, _)| rule_zh(rule)));
    let mut table = Table::new(&headers);
    for r in &rows {
        let mut line = vec![
            r.code.clone(),
            r.name.clone(),
            r.received.to_string(),
            r.finalised.to_string(),
            r.share.clone(),
        ];
        line.extend(r.rules.iter().map(|c| c.count.to_string()));
        table.rows.push(line);
    }
    if p.format.csv() {
        return csv_response("completeness", &table);
    }
    let received: usize = rows.iter().map(|r| r.received).sum();
    let finalised: usize = rows.iter().map(|r| r.finalised).sum();
    let total_share = (received > 0).then(|| finalised as f64 / received as f64);
    let frame = frame(state, user, "completeness").await;
    page(
        status,
        "regulator_completeness.html",
        context! {
            frame => frame, errors => errors, rows => rows, span => span,
            from => p.from, to => p.to, hospital => p.hospital,
            rules => RULES.iter().map(|(r, en)| context!{code => r, zh => rule_zh(r), en => en}).collect::<Vec<_>>(),
            received => received, finalised => finalised, share => percent(total_share),
            period_query => p.period_query(),
            csv => csv_link(uri.path(), uri.query()),
        },
    )
}

#[derive(Serialize)]
struct FindingRow {
    din: String,
    product: String,
    at: String,
    patient_key: String,
    note: String,
}

/// `GET /portal/regulator/completeness/units?hospital=&rule=&from=&to=`:
/// the units one rule found at one hospital, each linked to its timeline.
pub async fn rule_units(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<Params>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = rule_units_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn rule_units_page(state: &AppState, user: &PortalUser, uri: &Uri, p: Params) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let hospital = blank(&p.hospital);
    let rule = blank(&p.rule).and_then(|r| RULES.iter().find(|(c, _)| *c == r).map(|(c, _)| *c));
    let mut errors = match period(p.from.as_deref(), p.to.as_deref(), zone, now_ms) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    if hospital.is_none() {
        errors.push("医院代码 (hospital)：请选择医院。".into());
    }
    if rule.is_none() {
        errors.push(format!(
            "规则 (rule)：应为 {} 之一。",
            RULES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join("、")
        ));
    }
    let mut rows = Vec::new();
    let mut status = StatusCode::BAD_REQUEST;
    if let (true, Some(hospital), Some(rule), Ok((from_ms, to_ms))) = (
        errors.is_empty(),
        &hospital,
        rule,
        period(p.from.as_deref(), p.to.as_deref(), zone, now_ms),
    ) {
        status = StatusCode::OK;
        match audits(state, Some(hospital), from_ms, to_ms).await {
            Ok(list) => {
                if list.is_empty() {
                    status = StatusCode::NOT_FOUND;
                    errors.push(format!("医院代码 (hospital)：未登记的医院 {hospital}。"));
                }
                for (_, audit) in &list {
                    for f in audit.findings.iter().filter(|f| f.rule == rule) {
                        for u in &f.units {
                            rows.push(FindingRow {
                                din: u.din.clone(),
                                product: u.product.clone(),
                                at: u
                                    .at
                                    .as_deref()
                                    .map(|a| super::search::local_time(a, zone))
                                    .unwrap_or_default(),
                                patient_key: u.patient_key.clone().unwrap_or_default(),
                                note: u.note.clone().unwrap_or_default(),
                            });
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "completeness audit could not be read");
                return pages::unavailable();
            }
        }
    }
    let mut table = Table::new(&["献血码", "品种", "时间", "患者编号", "说明"]);
    for r in &rows {
        table.rows.push(vec![
            r.din.clone(),
            r.product.clone(),
            r.at.clone(),
            r.patient_key.clone(),
            r.note.clone(),
        ]);
    }
    if p.format.csv() {
        return csv_response(&format!("rule-{}", rule.unwrap_or("unknown")), &table);
    }
    let frame = frame(state, user, "completeness").await;
    page(
        status,
        "regulator_rule_units.html",
        context! {
            frame => frame, errors => errors, rows => rows, hospital => hospital,
            rule => rule, rule_zh => rule.map(rule_zh),
            back => format!("/portal/regulator/completeness?{}", p.period_query()),
            csv => csv_link(uri.path(), uri.query()),
        },
    )
}

/// `GET /portal/regulator/province?from=&to=&date=`: every hospital
/// coloured by completeness, and the hospitals late for `date` (default:
/// the last day whose cut-off has passed).
pub async fn province(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<Params>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = province_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn province_page(state: &AppState, user: &PortalUser, uri: &Uri, p: Params) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let now = chrono::Utc::now();
    let mut errors = Vec::new();
    let date = match blank(&p.date) {
        None => crate::daily::late::last_closed_day(zone, state.daily_cutoff, now),
        Some(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                errors.push(format!("日期 (date)：应为 YYYY-MM-DD，收到 {text:?}"));
                crate::daily::late::last_closed_day(zone, state.daily_cutoff, now)
            }
        },
    };
    let span = match period(
        p.from.as_deref(),
        p.to.as_deref(),
        zone,
        now.timestamp_millis(),
    ) {
        Ok(span) => Some(span),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let mut rows = Vec::new();
    let mut late: Vec<(String, String)> = Vec::new();
    if errors.is_empty() {
        let (from_ms, to_ms) = span.expect("no errors");
        let read = async {
            let list = audits(state, None, from_ms, to_ms).await?;
            let late =
                crate::daily::late::late(&state.store, zone, date, state.daily_cutoff).await?;
            anyhow::Ok((list, late))
        };
        match read.await {
            Ok((list, late_codes)) => {
                for code in late_codes {
                    let name = list
                        .iter()
                        .find(|(f, _)| f.code == code)
                        .map(|(f, _)| f.name.clone())
                        .unwrap_or_default();
                    late.push((code, name));
                }
                rows = list.iter().map(|(f, a)| hospital_row(f, a)).collect();
            }
            Err(e) => {
                tracing::warn!(error = %e, "province table could not be read");
                return pages::unavailable();
            }
        }
    }
    let late_codes: HashSet<&str> = late.iter().map(|(c, _)| c.as_str()).collect();
    let mut table = Table::new(&[
        "医院代码",
        "医院名称",
        "城市",
        "入库单位数",
        "有最终去向",
        "完整率",
        "颜色",
        "当日迟报",
    ]);
    for r in &rows {
        table.rows.push(vec![
            r.code.clone(),
            r.name.clone(),
            r.city.clone(),
            r.received.to_string(),
            r.finalised.to_string(),
            r.share.clone(),
            colour_zh(r.colour).into(),
            if late_codes.contains(r.code.as_str()) {
                format!("迟报 {date}")
            } else {
                String::new()
            },
        ]);
    }
    if p.format.csv() {
        return csv_response("province", &table);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let frame = frame(state, user, "province").await;
    page(
        status,
        "regulator_province.html",
        context! {
            frame => frame, errors => errors, rows => rows, late => late,
            date => date.to_string(), from => p.from, to => p.to,
            green => GREEN_FROM * 100.0, amber => AMBER_FROM * 100.0,
            period_query => p.period_query(),
            csv => csv_link(uri.path(), uri.query()),
        },
    )
}

fn colour_zh(colour: &str) -> &'static str {
    match colour {
        "green" => "绿",
        "amber" => "黄",
        "red" => "红",
        _ => "无数据",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_documented_thresholds() {
        assert_eq!(colour(Some(0.95)), "green");
        assert_eq!(colour(Some(0.949)), "amber");
        assert_eq!(colour(Some(0.80)), "amber");
        assert_eq!(colour(Some(0.799)), "red");
        assert_eq!(colour(None), "none");
    }

    #[test]
    fn dates_are_whole_local_days_and_errors_name_the_field() {
        let zone = chrono_tz::Asia::Shanghai;
        let (from, to) = period(Some("2026-11-01"), Some("2026-11-01"), zone, 0).unwrap();
        assert_eq!(to - from, 86_400_000);
        assert_eq!(
            chrono::DateTime::from_timestamp_millis(from)
                .unwrap()
                .to_rfc3339(),
            "2026-10-31T16:00:00+00:00"
        );
        let errors = period(Some("yesterday"), Some("2026-11-01"), zone, 0).unwrap_err();
        assert!(errors[0].starts_with("开始日期 (from)"), "{errors:?}");
        let errors = period(Some("2026-11-02"), Some("2026-11-01"), zone, 0).unwrap_err();
        assert!(errors[0].contains("早于"), "{errors:?}");
    }
}
