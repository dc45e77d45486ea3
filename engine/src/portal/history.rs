//! `GET /portal/history`: what this hospital has sent (every channel: the
//! portal, HTTP, MLLP), newest first, with status and errors; and the
//! daily submission status of the last days (`crate::daily`).

use super::pages::{self, frame, render};
use super::session::PortalUser;
use crate::api::AppState;
use crate::store::messages::MessageQuery;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use minijinja::context;
use serde::Serialize;

/// Messages shown on the page.
const LIMIT: i64 = 50;
/// Days of daily submission status shown.
const DAYS: i64 = 7;

#[derive(Serialize)]
struct Row {
    id: i64,
    at: String,
    channel: String,
    kind: String,
    label: String,
    status: String,
    status_class: String,
    errors: Vec<String>,
}

#[derive(Serialize)]
struct Day {
    date: String,
    status: String,
    version: String,
    lines: usize,
    patients: String,
}

/// The stored status in Chinese.
pub fn status_zh(status: &str) -> &'static str {
    match status {
        "pending" => "处理中 (pending)",
        "ok" => "成功 (ok)",
        "error" => "有错误 (error)",
        "rejected" => "已拒收 (rejected)",
        "duplicate" => "重复 (duplicate)",
        _ => "未知",
    }
}

fn channel_zh(channel: &str) -> String {
    match channel {
        "portal" => "网页 (portal)".into(),
        "http" => "接口 (HTTP)".into(),
        "mllp" => "HL7 (MLLP)".into(),
        other => other.to_string(),
    }
}

/// Each stored error as one line (`path：message`, in Chinese where the
/// message is one the document reader gives).
fn error_lines(errors: &serde_json::Value) -> Vec<String> {
    errors
        .as_array()
        .map(|list| {
            list.iter()
                .take(5)
                .map(|e| {
                    let path = e.get("path").and_then(|p| p.as_str()).unwrap_or_default();
                    let message = e
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string());
                    let message = super::forms::chinese(&message);
                    if path.is_empty() {
                        message
                    } else {
                        format!("{path}：{message}")
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn page(State(state): State<AppState>, user: PortalUser) -> Response {
    let Some(hospital) = user.hospital().map(str::to_string) else {
        return pages::forbidden();
    };
    let zone = state.ingest.normalizer.hl7.zone;
    let query = MessageQuery {
        facility: Some(hospital.clone()),
        limit: LIMIT,
        ..MessageQuery::default()
    };
    let messages = match state.store.search_messages(&query).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "portal history could not be read");
            return pages::unavailable();
        }
    };
    let rows: Vec<Row> = messages
        .into_iter()
        .map(|m| Row {
            id: m.id,
            at: chrono::DateTime::parse_from_rfc3339(&m.received_at)
                .map(|t| {
                    t.with_timezone(&zone)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                })
                .unwrap_or(m.received_at.clone()),
            channel: channel_zh(&m.channel),
            kind: m.msg_type.clone().unwrap_or_default(),
            label: m.control_id.clone().unwrap_or_default(),
            status: status_zh(&m.status).into(),
            status_class: m.status.clone(),
            errors: error_lines(&m.errors),
        })
        .collect();
    let today = Utc::now().with_timezone(&zone).date_naive();
    let mut days = Vec::new();
    for back in 1..=DAYS {
        let date = today - Duration::days(back);
        let day = match crate::daily::get(&state.store, &hospital, date, None).await {
            Ok(Some(d)) => Day {
                date: date.to_string(),
                status: match d.status {
                    hemobridge_submission::Status::Submitted => "已上报 (submitted)",
                    hemobridge_submission::Status::Late => "迟报 (late)",
                    hemobridge_submission::Status::Amended => "已更正 (amended)",
                }
                .into(),
                version: d.version.to_string(),
                lines: d.lines.len(),
                patients: d.patients_transfused.to_string(),
            },
            Ok(None) => Day {
                date: date.to_string(),
                status: "尚未生成 (not yet)".into(),
                version: "—".into(),
                lines: 0,
                patients: "—".into(),
            },
            Err(e) => {
                tracing::warn!(error = %e, "daily submission status could not be read");
                Day {
                    date: date.to_string(),
                    status: "暂时无法读取".into(),
                    version: "—".into(),
                    lines: 0,
                    patients: "—".into(),
                }
            }
        };
        days.push(day);
    }
    let frame = frame(&state, &user, "history").await;
    render(
        "history.html",
        context! {frame => frame, rows => rows, days => days},
    )
}
