//! Trace search (追溯查询): a unit's timeline, a patient's units with their
//! reactions, and a donor's lookback, read the way `/api/v1/trace/...`
//! reads them (every hospital: a regulator's scope is the province).

use super::access::{allowed, recorded};
use super::identity::masked_patient;
use super::render::{csv_link, csv_response, page, Format, Table};
use crate::api::AppState;
use crate::portal::pages::{self, frame};
use crate::portal::session::PortalUser;
use crate::store::reads::UnitRow;
use crate::store::Store;
use crate::trace::{build_chain, Chain};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono_tz::Tz;
use hemobridge_canonical::ids::canonical_din;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An event kind in Chinese, with the English term.
pub fn kind_zh(kind: &str) -> String {
    let zh = match kind {
        "collected" => "采集",
        "dispatched" => "血站发出",
        "received" => "入库",
        "crossmatched" => "配血",
        "reserved" => "预留",
        "released" => "取消预留",
        "issued" => "发血",
        "transfused" => "输血",
        "returned" => "退血",
        "discarded" => "报废",
        "reaction" => "输血不良反应",
        "transferred" => "调剂转出",
        other => return other.to_string(),
    };
    format!("{zh} ({kind})")
}

/// A unit's state in Chinese.
pub fn state_zh(state: Option<&str>) -> String {
    match state {
        Some("collected") => "已采集".into(),
        Some("dispatched") => "血站已发出".into(),
        Some("in-stock") => "在库".into(),
        Some("reserved") => "已配血/预留".into(),
        Some("issued") => "已发血".into(),
        Some("transfused") => "已输注".into(),
        Some("discarded") => "已报废".into(),
        Some("transferred") => "已调剂转出".into(),
        Some(other) => other.to_string(),
        None => "—".into(),
    }
}

fn gap_zh(code: &str) -> &'static str {
    match code {
        "no-receipt" => "使用前无入库记录",
        "out-of-order" => "顺序错乱：先输血后发血",
        "transfused-without-issue" => "输血但无发血记录",
        "issued-without-outcome" => "发血后无输血、退血或报废记录",
        "transferred-not-received" => "调剂转出后对方未入库",
        "reaction-without-transfusion" => "有不良反应但无输血记录",
        _ => "链条缺口",
    }
}

fn channel_zh(channel: &str) -> &str {
    match channel {
        "mllp" => "HL7 (MLLP)",
        "http" => "接口 (HTTP)",
        "portal" => "网页 (portal)",
        other => other,
    }
}

/// An ISO time as local `YYYY-MM-DD HH:MM`.
pub fn local_time(at: &str, zone: Tz) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}

pub async fn facility_names(store: &Store) -> anyhow::Result<HashMap<String, String>> {
    Ok(store
        .facilities()
        .await?
        .into_iter()
        .map(|f| (f.code, f.name))
        .collect())
}

#[derive(Serialize)]
struct EventView {
    kind: String,
    kind_code: String,
    at: String,
    facility: String,
    facility_name: String,
    channel: String,
    patient_key: String,
    note: String,
}

#[derive(Serialize)]
struct GapView {
    code: String,
    text: String,
    detail: String,
}

#[derive(Serialize)]
struct TimelineView {
    din: String,
    product: String,
    product_name: String,
    abo: String,
    rh: String,
    station: String,
    hospital: String,
    donor_key: String,
    state: String,
    complete: bool,
    events: Vec<EventView>,
    gaps: Vec<GapView>,
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_default()
}

/// What a reaction or a discard says, in a few words.
fn event_note(detail: &serde_json::Value) -> String {
    let parts: Vec<String> = [
        "reactionType",
        "reactionCategory",
        "severity",
        "reason",
        "to",
        "ward",
    ]
    .iter()
    .filter_map(|k| detail.get(*k).and_then(|v| v.as_str()).map(str::to_string))
    .collect();
    parts.join(" · ")
}

fn timeline(chain: &Chain, names: &HashMap<String, String>, zone: Tz) -> TimelineView {
    let u = &chain.unit;
    TimelineView {
        din: text(&u["din"]),
        product: text(&u["product"]),
        product_name: text(&u["productName"]),
        abo: text(&u["abo"]),
        rh: text(&u["rh"]),
        station: text(&u["station"]),
        hospital: text(&u["hospital"]),
        donor_key: chain.donor_key.clone().unwrap_or_default(),
        state: state_zh(chain.state.as_deref()),
        complete: chain.complete,
        events: chain
            .events
            .iter()
            .map(|e| {
                let facility = text(&e["facility"]);
                EventView {
                    kind: kind_zh(&text(&e["kind"])),
                    kind_code: text(&e["kind"]),
                    at: local_time(&text(&e["at"]), zone),
                    facility_name: names.get(&facility).cloned().unwrap_or_default(),
                    facility,
                    channel: channel_zh(&text(&e["source"]["channel"])).to_string(),
                    patient_key: text(&e["patientKey"]),
                    note: event_note(&e["detail"]),
                }
            })
            .collect(),
        gaps: chain
            .gaps
            .iter()
            .map(|g| GapView {
                code: g.code.to_string(),
                text: gap_zh(g.code).to_string(),
                detail: g.message.clone(),
            })
            .collect(),
    }
}

async fn chains_of(store: &Store, units: &[UnitRow]) -> anyhow::Result<Vec<Chain>> {
    let mut chains = Vec::with_capacity(units.len());
    for u in units {
        let events = store.unit_events(&u.din, &u.product).await?;
        chains.push(build_chain(u, &events));
    }
    Ok(chains)
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Deserialize)]
pub struct UnitParams {
    din: Option<String>,
    product: Option<String>,
    #[serde(flatten)]
    format: Format,
}

/// `GET /portal/regulator/trace?din=&product=`: the search form and, with
/// a DIN, the timeline of each of its components.
pub async fn unit(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<UnitParams>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = unit_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn unit_page(state: &AppState, user: &PortalUser, uri: &Uri, p: UnitParams) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let din = blank(&p.din);
    let product = blank(&p.product);
    let mut error = None;
    let mut units = Vec::new();
    let mut status = StatusCode::OK;
    if let Some(din) = &din {
        let product_code = product.as_deref().map(|p| {
            hemobridge_canonical::ProductTable::default()
                .lookup(p)
                .map(|(p, _)| p.code().to_string())
                .unwrap_or_else(|| p.to_string())
        });
        let read = async {
            let rows = state
                .store
                .units_by_din(canonical_din(din), product_code.as_deref())
                .await?;
            let chains = chains_of(&state.store, &rows).await?;
            let names = facility_names(&state.store).await?;
            anyhow::Ok(
                chains
                    .iter()
                    .map(|c| timeline(c, &names, zone))
                    .collect::<Vec<_>>(),
            )
        };
        match read.await {
            Ok(found) if found.is_empty() => {
                status = StatusCode::NOT_FOUND;
                error = Some(format!("未找到献血码 (DIN) {din} 的记录。"));
            }
            Ok(found) => units = found,
            Err(e) => {
                tracing::warn!(error = %e, "unit trace could not be read");
                return pages::unavailable();
            }
        }
    } else if p.din.is_some() {
        status = StatusCode::BAD_REQUEST;
        error = Some("献血码 (DIN)：请输入献血码。".into());
    }
    let mut table = Table::new(&[
        "献血码",
        "品种",
        "环节",
        "时间",
        "机构",
        "渠道",
        "患者编号",
        "说明",
    ]);
    for u in &units {
        for e in &u.events {
            table.rows.push(vec![
                u.din.clone(),
                u.product.clone(),
                e.kind.clone(),
                e.at.clone(),
                e.facility.clone(),
                e.channel.clone(),
                e.patient_key.clone(),
                e.note.clone(),
            ]);
        }
    }
    if p.format.csv() {
        return csv_response(&format!("trace-{}", din.unwrap_or_default()), &table);
    }
    let frame = frame(state, user, "trace").await;
    page(
        status,
        "regulator_trace.html",
        context! {
            frame => frame, din => din, product => product, error => error,
            units => units, csv => csv_link(uri.path(), uri.query()),
        },
    )
}

#[derive(Deserialize)]
pub struct PatientParams {
    key: Option<String>,
    hospital: Option<String>,
    #[serde(flatten)]
    format: Format,
}

#[derive(Serialize)]
struct PatientUnit {
    din: String,
    product: String,
    product_name: String,
    abo: String,
    rh: String,
    state: String,
    complete: bool,
    transfused_at: String,
    reactions: Vec<String>,
}

/// `GET /portal/regulator/patient?key=&hospital=`: every unit a hospital's
/// patient received, with reactions; the name and ID number masked.
pub async fn patient(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<PatientParams>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = patient_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn patient_page(
    state: &AppState,
    user: &PortalUser,
    uri: &Uri,
    p: PatientParams,
) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let key = blank(&p.key);
    let hospital = blank(&p.hospital);
    let mut errors: Vec<String> = Vec::new();
    let asked = p.key.is_some() || p.hospital.is_some();
    if asked && key.is_none() {
        errors.push("患者编号 (patient key)：请输入医院内的患者编号。".into());
    }
    if asked && hospital.is_none() {
        errors.push("医院代码 (hospital)：患者编号只在本医院内唯一，请同时输入医院代码。".into());
    }
    let mut status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut units = Vec::new();
    let mut identity = None;
    if let (Some(key), Some(hospital)) = (&key, &hospital) {
        let read = async {
            let mut rows = Vec::new();
            for (din, product) in state.store.patient_units(key, Some(hospital)).await? {
                rows.extend(state.store.units_by_din(&din, Some(&product)).await?);
            }
            let chains = chains_of(&state.store, &rows).await?;
            let identity = masked_patient(&state.store, hospital, key).await?;
            anyhow::Ok((chains, identity))
        };
        match read.await {
            Ok((chains, who)) => {
                identity = who;
                for c in &chains {
                    let mine = |e: &&serde_json::Value| {
                        e["patientKey"].as_str() == Some(key.as_str())
                            && e["facility"].as_str() == Some(hospital.as_str())
                    };
                    let transfused_at = c
                        .events
                        .iter()
                        .filter(mine)
                        .find(|e| e["kind"] == "transfused")
                        .map(|e| local_time(&text(&e["at"]), zone))
                        .unwrap_or_default();
                    let reactions = c
                        .events
                        .iter()
                        .filter(mine)
                        .filter(|e| e["kind"] == "reaction")
                        .map(|e| {
                            let note = event_note(&e["detail"]);
                            let at = local_time(&text(&e["at"]), zone);
                            if note.is_empty() {
                                at
                            } else {
                                format!("{at} {note}")
                            }
                        })
                        .collect();
                    units.push(PatientUnit {
                        din: text(&c.unit["din"]),
                        product: text(&c.unit["product"]),
                        product_name: text(&c.unit["productName"]),
                        abo: text(&c.unit["abo"]),
                        rh: text(&c.unit["rh"]),
                        state: state_zh(c.state.as_deref()),
                        complete: c.complete,
                        transfused_at,
                        reactions,
                    });
                }
                if units.is_empty() {
                    status = StatusCode::NOT_FOUND;
                    errors.push(format!("医院 {hospital} 的患者 {key} 没有用血记录。"));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "patient trace could not be read");
                return pages::unavailable();
            }
        }
    }
    let mut table = Table::new(&[
        "献血码",
        "品种",
        "血型",
        "RhD",
        "状态",
        "链条完整",
        "输血时间",
        "不良反应",
    ]);
    for u in &units {
        table.rows.push(vec![
            u.din.clone(),
            u.product.clone(),
            u.abo.clone(),
            u.rh.clone(),
            u.state.clone(),
            if u.complete { "完整" } else { "不完整" }.into(),
            u.transfused_at.clone(),
            u.reactions.join("; "),
        ]);
    }
    if p.format.csv() {
        return csv_response("patient-units", &table);
    }
    let frame = frame(state, user, "patient").await;
    page(
        status,
        "regulator_patient.html",
        context! {
            frame => frame, key => key, hospital => hospital, errors => errors,
            identity => identity, units => units, csv => csv_link(uri.path(), uri.query()),
        },
    )
}

#[derive(Deserialize)]
pub struct DonorParams {
    key: Option<String>,
    #[serde(flatten)]
    format: Format,
}

#[derive(Serialize)]
struct DonorUnit {
    din: String,
    product: String,
    product_name: String,
    abo: String,
    rh: String,
    hospital: String,
    hospital_name: String,
    state: String,
    last_event: String,
    complete: bool,
}

/// `GET /portal/regulator/donor?key=`: lookback, every component of the
/// donor's donations and where each one ended.
pub async fn donor(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<DonorParams>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = donor_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}

async fn donor_page(state: &AppState, user: &PortalUser, uri: &Uri, p: DonorParams) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let key = blank(&p.key);
    let mut error = None;
    let mut status = StatusCode::OK;
    let mut units = Vec::new();
    if let Some(key) = &key {
        let read = async {
            let rows = state.store.units_by_donor(key).await?;
            let chains = chains_of(&state.store, &rows).await?;
            let names = facility_names(&state.store).await?;
            anyhow::Ok((chains, names))
        };
        match read.await {
            Ok((chains, names)) => {
                for c in &chains {
                    let last = c.events.last().map(|e| {
                        format!(
                            "{} {} {}",
                            kind_zh(&text(&e["kind"])),
                            local_time(&text(&e["at"]), zone),
                            text(&e["facility"])
                        )
                    });
                    let hospital = text(&c.unit["hospital"]);
                    units.push(DonorUnit {
                        din: text(&c.unit["din"]),
                        product: text(&c.unit["product"]),
                        product_name: text(&c.unit["productName"]),
                        abo: text(&c.unit["abo"]),
                        rh: text(&c.unit["rh"]),
                        hospital_name: names.get(&hospital).cloned().unwrap_or_default(),
                        hospital,
                        state: state_zh(c.state.as_deref()),
                        last_event: last.unwrap_or_default(),
                        complete: c.complete,
                    });
                }
                if units.is_empty() {
                    status = StatusCode::NOT_FOUND;
                    error = Some(format!("献血者 {key} 没有血液成分记录。"));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "donor lookback could not be read");
                return pages::unavailable();
            }
        }
    } else if p.key.is_some() {
        status = StatusCode::BAD_REQUEST;
        error = Some("献血者编号 (donor key)：请输入献血者编号。".into());
    }
    let mut table = Table::new(&[
        "献血码",
        "品种",
        "血型",
        "RhD",
        "最终医院",
        "状态",
        "最后环节",
        "链条完整",
    ]);
    for u in &units {
        table.rows.push(vec![
            u.din.clone(),
            u.product.clone(),
            u.abo.clone(),
            u.rh.clone(),
            u.hospital.clone(),
            u.state.clone(),
            u.last_event.clone(),
            if u.complete { "完整" } else { "不完整" }.into(),
        ]);
    }
    if p.format.csv() {
        return csv_response("donor-lookback", &table);
    }
    let frame = frame(state, user, "donor").await;
    page(
        status,
        "regulator_donor.html",
        context! {
            frame => frame, key => key, error => error, units => units,
            csv => csv_link(uri.path(), uri.query()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_read_in_chinese() {
        assert_eq!(kind_zh("received"), "入库 (received)");
        assert_eq!(kind_zh("crossmatched"), "配血 (crossmatched)");
        assert_eq!(state_zh(Some("transfused")), "已输注");
    }

    #[test]
    fn times_are_shown_in_local_time() {
        assert_eq!(
            local_time("2026-11-20T12:00:00Z", chrono_tz::Asia::Shanghai),
            "2026-11-20 20:00"
        );
    }
}
