//! Uploads: a hospital document in XML (straight through the door), or a
//! CSV / XLSX file in the portal's standard template
//! (`hospital-connectors/portal-standard/`, converted by
//! `hemobridge-dialect` into the JSON document).
//!
//! All or nothing: a file with any error applies nothing, and the page
//! lists every problem as a table (行, 列, 值, 问题). The raw file is always
//! stored before anything else happens to it: an XML document by the door
//! itself; a CSV / XLSX file as its own message (format `csv` / `xlsx`,
//! type `Upload`: `rejected` with its row errors when it cannot be
//! converted, else `ok`), after which the converted document goes through
//! the door as any other.

use super::pages::{self, frame, render_status};
use super::session::PortalUser;
use super::{csrf, submit};
use crate::api::AppState;
use crate::documents::{Answer, Syntax};
use crate::normalize::field_errors_json;
use crate::store::messages::{NewMessage, Status};
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hemobridge_dialect::{Converted, Format, Profile, RowError};
use hemobridge_document::FieldError;
use minijinja::context;
use serde::Serialize;
use std::sync::OnceLock;

const PROFILE_CSV: &str = include_str!("../../../hospital-connectors/portal-standard/profile.toml");
const PROFILE_XLSX: &str =
    include_str!("../../../hospital-connectors/portal-standard/profile.xlsx.toml");
const TEMPLATE_CSV: &[u8] =
    include_bytes!("../../../hospital-connectors/portal-standard/template.csv");
const TEMPLATE_XLSX: &[u8] =
    include_bytes!("../../../hospital-connectors/portal-standard/template.xlsx");

/// The portal-standard profile for CSV or XLSX (one layout, two formats),
/// parsed once.
fn profile(format: Format) -> Result<&'static Profile, String> {
    static CSV: OnceLock<Result<Profile, String>> = OnceLock::new();
    static XLSX: OnceLock<Result<Profile, String>> = OnceLock::new();
    let (cell, text) = match format {
        Format::Xlsx => (&XLSX, PROFILE_XLSX),
        _ => (&CSV, PROFILE_CSV),
    };
    cell.get_or_init(|| Profile::from_toml(text).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// One line of the problem table.
#[derive(Debug, Serialize)]
struct Problem {
    row: String,
    column: String,
    value: String,
    message: String,
}

impl Problem {
    fn from_row(e: &RowError) -> Problem {
        Problem {
            row: if e.row == 0 {
                "—".into()
            } else {
                e.row.to_string()
            },
            column: e.column.clone().unwrap_or_default(),
            value: e.value.clone().unwrap_or_default(),
            message: e.message_zh.clone(),
        }
    }

    /// An XML document's error: its record (1-based) and attribute.
    fn from_field(e: &FieldError) -> Problem {
        let (row, column) = match e
            .path
            .strip_prefix("records[")
            .and_then(|r| r.split_once(']'))
        {
            Some((index, rest)) => (
                index
                    .parse::<usize>()
                    .map(|i| (i + 1).to_string())
                    .unwrap_or_default(),
                rest.trim_start_matches('.').to_string(),
            ),
            None => ("—".into(), e.path.clone()),
        };
        Problem {
            row,
            column,
            value: String::new(),
            message: super::forms::chinese(&e.message),
        }
    }
}

/// What the page shows after an upload.
#[derive(Default)]
struct Report {
    file_name: String,
    success: Option<String>,
    error: Option<String>,
    problems: Vec<Problem>,
}

async fn render(
    state: &AppState,
    user: &PortalUser,
    status: StatusCode,
    report: Report,
) -> Response {
    let frame = frame(state, user, "upload").await;
    render_status(
        status,
        "upload.html",
        context! {
            frame => frame,
            file_name => report.file_name,
            success => report.success,
            error => report.error,
            problems => report.problems,
        },
    )
}

/// `GET /portal/upload`.
pub async fn page(State(state): State<AppState>, user: PortalUser) -> Response {
    if user.hospital().is_none() {
        return pages::forbidden();
    }
    render(&state, &user, StatusCode::OK, Report::default()).await
}

/// `GET /portal/upload/template.csv`: the template, UTF-8 with BOM so that
/// Excel on Chinese Windows opens it right.
pub async fn template_csv(_user: PortalUser) -> Response {
    download(
        TEMPLATE_CSV,
        "text/csv; charset=utf-8",
        "hemobridge-template.csv",
    )
}

/// `GET /portal/upload/template.xlsx`.
pub async fn template_xlsx(_user: PortalUser) -> Response {
    download(
        TEMPLATE_XLSX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "hemobridge-template.xlsx",
    )
}

fn download(bytes: &'static [u8], content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The file kinds an upload can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xml,
    Csv,
    Xlsx,
}

impl Kind {
    /// By extension, or by the first bytes when the name says nothing
    /// (XLSX is a ZIP; XML starts with `<` after an optional BOM).
    fn of(name: &str, bytes: &[u8]) -> Option<Kind> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xml") {
            return Some(Kind::Xml);
        }
        if lower.ends_with(".csv") || lower.ends_with(".txt") {
            return Some(Kind::Csv);
        }
        if lower.ends_with(".xlsx") {
            return Some(Kind::Xlsx);
        }
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match body.first() {
            Some(b'<') => Some(Kind::Xml),
            Some(b'P') if body.starts_with(b"PK\x03\x04") => Some(Kind::Xlsx),
            _ => None,
        }
    }
}

/// `POST /portal/upload` (multipart: `csrf`, `file`).
pub async fn submit(
    State(state): State<AppState>,
    user: PortalUser,
    mut multipart: Multipart,
) -> Response {
    let mut token = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().unwrap_or_default().to_string();
                let Ok(bytes) = field.bytes().await else {
                    return bad_request(&state, &user, "文件上传不完整，请重新上传。").await;
                };
                match name.as_str() {
                    csrf::FIELD => token = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "file" => file = Some((file_name, bytes.to_vec())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                return bad_request(&state, &user, "文件上传不完整或超过 8 MB，请重新上传。").await
            }
        }
    }
    if let Err(refused) = csrf::check(&user, token.as_deref()) {
        return refused.into_response();
    }
    let Some(hospital) = user.hospital().map(str::to_string) else {
        return pages::forbidden();
    };
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return bad_request(&state, &user, "请选择要上传的文件。").await;
    };
    tracing::info!(user = %user.username, bytes = bytes.len(), "portal upload");
    let report = match Kind::of(&file_name, &bytes) {
        Some(Kind::Xml) => xml(&state, &hospital, bytes).await,
        Some(Kind::Csv) => table(&state, &hospital, Format::Csv, &file_name, bytes).await,
        Some(Kind::Xlsx) => table(&state, &hospital, Format::Xlsx, &file_name, bytes).await,
        None => {
            let error = FieldError {
                path: "file".into(),
                message: "not an XML, CSV or XLSX file".into(),
            };
            if store_file(&state, &hospital, "bin", &file_name, bytes, Some(&[error]))
                .await
                .is_none()
            {
                return pages::unavailable();
            }
            Err(Report {
                error: Some("只能上传 XML、CSV 或 XLSX 文件。".into()),
                ..Report::default()
            })
        }
    };
    let (status, mut report) = match report {
        Ok(r) => (StatusCode::OK, r),
        Err(r) => (StatusCode::UNPROCESSABLE_ENTITY, r),
    };
    report.file_name = file_name;
    render(&state, &user, status, report).await
}

async fn bad_request(state: &AppState, user: &PortalUser, message: &str) -> Response {
    let report = Report {
        error: Some(message.into()),
        ..Report::default()
    };
    render(state, user, StatusCode::BAD_REQUEST, report).await
}

/// An XML document: the door stores and judges it.
async fn xml(state: &AppState, hospital: &str, bytes: Vec<u8>) -> Result<Report, Report> {
    match submit::document(state, hospital, Syntax::Xml, bytes).await {
        Answer::Refused {
            receipt, errors, ..
        } => Err(refused(
            receipt,
            errors.iter().map(Problem::from_field).collect(),
        )),
        answer => outcome(answer),
    }
}

/// A CSV or XLSX file: stored raw, converted, then through the door.
async fn table(
    state: &AppState,
    hospital: &str,
    format: Format,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Report, Report> {
    let profile = match profile(format) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "the portal-standard profile does not load");
            return Err(Report {
                error: Some("系统配置错误：模板无法加载，请联系管理员。".into()),
                ..Report::default()
            });
        }
    };
    // Conversion and reading are pure and fast: the verdict first, as at
    // the door, so that the raw file is stored once with its status.
    let cfg = &state.ingest.normalizer.document;
    let converted = profile.to_document(&bytes, Some(file_name), hospital, cfg);
    let ext = if format == Format::Xlsx {
        "xlsx"
    } else {
        "csv"
    };
    let file_errors: Option<Vec<FieldError>> = converted.as_ref().err().map(|e| {
        e.rows
            .iter()
            .map(|r| FieldError {
                path: format!("row {}", r.row),
                message: r.message_en.clone(),
            })
            .collect()
    });
    let Some(file_receipt) = store_file(
        state,
        hospital,
        ext,
        file_name,
        bytes,
        file_errors.as_deref(),
    )
    .await
    else {
        return Err(unavailable_report());
    };
    let converted: Converted = match converted {
        Ok((_, converted)) => converted,
        Err(e) => {
            return Err(refused(
                file_receipt,
                e.rows.iter().map(Problem::from_row).collect(),
            ))
        }
    };
    let answer = submit::document(state, hospital, Syntax::Json, converted.to_json_bytes()).await;
    match answer {
        Answer::Refused {
            receipt, errors, ..
        } => Err(refused(
            receipt,
            errors
                .iter()
                .map(|e| Problem::from_row(&converted.explain(e)))
                .collect(),
        )),
        answer => outcome(answer),
    }
}

fn refused(receipt: i64, problems: Vec<Problem>) -> Report {
    Report {
        error: Some(format!(
            "文件有 {} 处错误，未导入任何数据（已留存记录 {receipt}）。请按下表修改后重新上传整个文件。",
            problems.len()
        )),
        problems,
        ..Report::default()
    }
}

fn unavailable_report() -> Report {
    Report {
        error: Some("系统暂时无法保存文件，请稍后重新上传。".into()),
        ..Report::default()
    }
}

/// The door's other answers as a report.
fn outcome(answer: Answer) -> Result<Report, Report> {
    match answer {
        Answer::Accepted {
            receipt,
            records,
            duplicate,
        } => Ok(Report {
            success: Some(if duplicate {
                format!("此文件此前已提交过，未重复导入。原回执号 (receipt) {receipt}。")
            } else {
                format!("上传成功：{records} 条记录已接收，回执号 (receipt) {receipt}。")
            }),
            ..Report::default()
        }),
        Answer::Forbidden { .. } => Err(Report {
            error: Some("文件中的机构代码 (facility) 不是您所在的医院，未导入。".into()),
            ..Report::default()
        }),
        Answer::Refused { receipt, .. } => Err(refused(receipt, Vec::new())),
        Answer::Unavailable => Err(unavailable_report()),
    }
}

/// Stores an uploaded file as received (raw), refused with `errors` or
/// kept as `ok` once converted; the message id, or `None` when it cannot
/// be stored.
async fn store_file(
    state: &AppState,
    hospital: &str,
    format: &'static str,
    file_name: &str,
    raw: Vec<u8>,
    errors: Option<&[FieldError]>,
) -> Option<i64> {
    let message = NewMessage {
        channel: "portal",
        format,
        facility: Some(hospital.to_string()),
        msg_type: Some("Upload".into()),
        // The file name helps the hospital find it in its history; it is
        // the user's own label, not patient data.
        control_id: Some(file_name.chars().take(120).collect()),
        charset: None,
        raw,
        status: if errors.is_some() {
            Status::Rejected
        } else {
            Status::Ok
        },
        ack_code: Some(if errors.is_some() { "422" } else { "200" }.into()),
        ack: Vec::new(),
        errors: errors.map(field_errors_json),
    };
    match state.ingest.writer.store(message).await {
        Ok(receipt) => Some(receipt.id),
        Err(reason) => {
            tracing::error!(%reason, "uploaded file not stored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_content() {
        assert_eq!(Kind::of("a.XML", b""), Some(Kind::Xml));
        assert_eq!(Kind::of("入库.csv", b""), Some(Kind::Csv));
        assert_eq!(Kind::of("x", b"PK\x03\x04rest"), Some(Kind::Xlsx));
        assert_eq!(Kind::of("x", b"\xEF\xBB\xBF<?xml"), Some(Kind::Xml));
        assert_eq!(Kind::of("x.pdf", b"%PDF"), None);
    }

    #[test]
    fn the_standard_profile_loads_for_both_formats() {
        assert!(profile(Format::Csv).is_ok());
        assert!(profile(Format::Xlsx).is_ok());
    }
}
