//! The stock page (库存): `current_stock` per hospital by category and
//! product, ABO and RhD, coloured high/medium/low/none, with the time of
//! each hospital's last report; RhD-negative stock by Jiangsu region.

use super::access::{allowed, recorded};
use super::render::{csv_link, csv_response, page as render, Format, Table};
use super::search::local_time;
use crate::api::AppState;
use crate::daily::{current_stock, StockFilter};
use crate::portal::pages::{self, frame};
use crate::portal::session::PortalUser;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use hemobridge_canonical::Product;
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct Params {
    product: Option<String>,
    abo: Option<String>,
    rh: Option<String>,
    #[serde(flatten)]
    format: Format,
}

fn level_zh(level: &str) -> &'static str {
    match level {
        "high" => "充足",
        "medium" => "正常",
        "low" => "偏低",
        _ => "无库存",
    }
}

fn category_zh(category: &str) -> &str {
    match category {
        "red-cells" => "红细胞类",
        "platelets" => "血小板类",
        "plasma" => "血浆类",
        "cryoprecipitate" => "冷沉淀类",
        "whole-blood" => "全血",
        "granulocytes" => "粒细胞",
        other => other,
    }
}

fn number(q: f64) -> String {
    let r = (q * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// The filter from the form, or the field errors.
fn filter(p: &Params) -> Result<StockFilter, Vec<String>> {
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut errors = Vec::new();
    let product = blank(&p.product);
    if let Some(code) = &product {
        if Product::from_code(code).is_none() {
            errors.push(format!(
                "品种 (product)：未知的品种代码 {code:?}（例如 RBC-LR、PLT-APH、PLS-FFP）"
            ));
        }
    }
    let abo = blank(&p.abo).map(|a| a.to_uppercase());
    if let Some(a) = &abo {
        if !matches!(a.as_str(), "A" | "B" | "O" | "AB") {
            errors.push(format!("ABO 血型 (abo)：应为 A、B、O 或 AB，收到 {a:?}"));
        }
    }
    let rh = match blank(&p.rh).as_deref() {
        None => None,
        Some("+" | "pos") => Some("+".to_string()),
        Some("-" | "neg") => Some("-".to_string()),
        Some(other) => {
            errors.push(format!("RhD (rh)：应为 pos 或 neg，收到 {other:?}"));
            None
        }
    };
    if errors.is_empty() {
        Ok(StockFilter {
            hospital: None,
            product,
            abo,
            rh,
        })
    } else {
        Err(errors)
    }
}

#[derive(Serialize)]
struct Line {
    hospital: String,
    name: String,
    city: String,
    region: String,
    last_report: String,
    category: String,
    product: String,
    product_name: String,
    abo: String,
    rh: String,
    quantity: String,
    reported: String,
    measure: String,
    level: &'static str,
    level_zh: &'static str,
}

#[derive(Serialize)]
struct RegionLine {
    region: u8,
    cities: String,
    hospitals: usize,
    product: String,
    abo: String,
    quantity: String,
    measure: String,
}

async fn stock_page(state: &AppState, user: &PortalUser, uri: &Uri, p: Params) -> Response {
    let zone = state.ingest.normalizer.hl7.zone;
    let (status, errors, view) = match filter(&p) {
        Err(errors) => (StatusCode::BAD_REQUEST, errors, None),
        Ok(f) => match current_stock(&state.store, &f).await {
            Ok(v) => (StatusCode::OK, Vec::new(), Some(v)),
            Err(e) => {
                tracing::warn!(error = %e, "stock view could not be read");
                return pages::unavailable();
            }
        },
    };
    let mut lines = Vec::new();
    let mut regions = Vec::new();
    let mut as_of = String::new();
    if let Some(v) = &view {
        as_of = local_time(&v.as_of, zone);
        for h in &v.hospitals {
            for i in &h.items {
                lines.push(Line {
                    hospital: h.hospital.clone(),
                    name: h.name.clone(),
                    city: h.city.clone().unwrap_or_default(),
                    region: h.jiangsu_region.map(|r| r.to_string()).unwrap_or_default(),
                    last_report: h
                        .last_report_at
                        .as_deref()
                        .map(|t| local_time(t, zone))
                        .unwrap_or_else(|| "未报告".into()),
                    category: category_zh(&i.category).to_string(),
                    product: i.product.clone(),
                    product_name: Product::from_code(&i.product)
                        .map(|p| p.name_zh().to_string())
                        .unwrap_or_default(),
                    abo: i.abo.clone().unwrap_or_default(),
                    rh: i.rh.clone().unwrap_or_default(),
                    quantity: number(i.quantity),
                    reported: i.reported.map(number).unwrap_or_default(),
                    measure: i.measure.clone(),
                    level: i.level,
                    level_zh: level_zh(i.level),
                });
            }
        }
        for r in &v.rh_negative_regions {
            let cities = r.cities.join("、");
            if r.items.is_empty() {
                regions.push(RegionLine {
                    region: r.region,
                    cities: cities.clone(),
                    hospitals: r.hospitals,
                    product: String::new(),
                    abo: String::new(),
                    quantity: "0".into(),
                    measure: String::new(),
                });
            }
            for i in &r.items {
                regions.push(RegionLine {
                    region: r.region,
                    cities: cities.clone(),
                    hospitals: r.hospitals,
                    product: i.product.clone(),
                    abo: i.abo.clone().unwrap_or_default(),
                    quantity: number(i.quantity),
                    measure: i.measure.clone(),
                });
            }
        }
    }
    let mut table = Table::new(&[
        "医院代码",
        "医院名称",
        "城市",
        "最近报告时间",
        "类别",
        "品种",
        "ABO",
        "RhD",
        "库存(事件)",
        "库存(报告)",
        "单位",
        "水平",
    ]);
    for l in &lines {
        table.rows.push(vec![
            l.hospital.clone(),
            l.name.clone(),
            l.city.clone(),
            l.last_report.clone(),
            l.category.clone(),
            l.product.clone(),
            l.abo.clone(),
            l.rh.clone(),
            l.quantity.clone(),
            l.reported.clone(),
            l.measure.clone(),
            l.level_zh.to_string(),
        ]);
    }
    if p.format.csv() {
        return csv_response("stock", &table);
    }
    let frame = frame(state, user, "stock").await;
    render(
        status,
        "regulator_stock.html",
        context! {
            frame => frame, errors => errors, lines => lines, regions => regions,
            as_of => as_of, product => p.product, abo => p.abo, rh => p.rh,
            csv => csv_link(uri.path(), uri.query()),
        },
    )
}

/// `GET /portal/regulator/stock?product=&abo=&rh=`.
pub async fn page(
    State(state): State<AppState>,
    user: PortalUser,
    uri: Uri,
    Query(p): Query<Params>,
) -> Response {
    if !allowed(&user) {
        return pages::forbidden();
    }
    let response = stock_page(&state, &user, &uri, p).await;
    recorded(&state, &user, &uri, response).await
}
