//! `GET /api/v1/stock?product=&abo=&rh=`: current stock by hospital (see
//! [`crate::daily::stock`]). Regulators and admins see every hospital; a
//! hospital token its own.

use super::error::ApiError;
use super::AppState;
use crate::daily::{current_stock, StockFilter, StockView};
use crate::store::admin::Principal;
use axum::extract::{Query, State};
use axum::Json;
use hemobridge_canonical::Product;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    product: Option<String>,
    abo: Option<String>,
    rh: Option<String>,
    hospital: Option<String>,
}

pub async fn view(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<Params>,
) -> Result<Json<StockView>, ApiError> {
    let filter = filter(&principal, p)?;
    Ok(Json(current_stock(&state.store, &filter).await?))
}

fn filter(principal: &Principal, p: Params) -> Result<StockFilter, ApiError> {
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let product = blank(p.product);
    if let Some(code) = &product {
        if Product::from_code(code).is_none() {
            return Err(ApiError::bad_request(
                "product",
                format!("unknown product code {code:?} (e.g. RBC-LR, PLT-APH, PLS-FFP)"),
            ));
        }
    }
    let abo = blank(p.abo).map(|a| a.to_uppercase());
    if let Some(a) = &abo {
        if !matches!(a.as_str(), "A" | "B" | "O" | "AB") {
            return Err(ApiError::bad_request(
                "abo",
                format!("expected A, B, O or AB, got {a:?}"),
            ));
        }
    }
    // `rh=+` arrives as a space once the query is decoded: read it as "+".
    let rh = match p.rh.as_deref() {
        None | Some("") => None,
        Some("+" | " " | "pos" | "positive") => Some("+".to_string()),
        Some("-" | "neg" | "negative") => Some("-".to_string()),
        Some(other) => {
            return Err(ApiError::bad_request(
                "rh",
                format!("expected pos, neg, %2B or -, got {other:?}"),
            ))
        }
    };
    let hospital = match (principal.scope(), blank(p.hospital)) {
        (Some(own), Some(asked)) if asked != own => {
            return Err(ApiError::forbidden(
                "a hospital token sees only its own stock",
            ))
        }
        (Some(own), _) => Some(own.to_string()),
        (None, asked) => asked,
    };
    Ok(StockFilter {
        hospital,
        product,
        abo,
        rh,
    })
}
