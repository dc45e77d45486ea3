//! Trace queries: a unit's chain, a patient's units, a donor's units
//! (lookback). Hospital tokens see only chains that touch their hospital.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::Principal;
use crate::store::Store;
use crate::trace::{build_chain, Chain};
use axum::extract::{Path, Query, State};
use axum::Json;
use hemobridge_canonical::ids::canonical_din;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct UnitQuery {
    product: Option<String>,
}

pub async fn unit(
    State(state): State<AppState>,
    principal: Principal,
    Path(din): Path<String>,
    Query(q): Query<UnitQuery>,
) -> Result<Json<Value>, ApiError> {
    let answer = unit_trace(&state.store, &din, q.product.as_deref(), principal.scope()).await?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no unit with donation id {din}")))
}

/// The trace answer for a DIN: one chain when one product is known (or
/// named), else `{"din", "components": [...]}`. `None` when nothing is
/// known or visible.
pub async fn unit_trace(
    store: &Store,
    din: &str,
    product: Option<&str>,
    scope: Option<&str>,
) -> anyhow::Result<Option<Value>> {
    let din = canonical_din(din);
    let product_code = product.map(|p| {
        hemobridge_canonical::ProductTable::default()
            .lookup(p)
            .map(|(p, _)| p.code().to_string())
            .unwrap_or_else(|| p.to_string())
    });
    let units = store.units_by_din(din, product_code.as_deref()).await?;
    let mut chains = Vec::new();
    for u in &units {
        let events = store.unit_events(&u.din, &u.product).await?;
        if let Some(own) = scope {
            if !events.iter().any(|e| e.facility == own) {
                continue;
            }
        }
        chains.push(build_chain(u, &events));
    }
    Ok(match chains.len() {
        0 => None,
        1 if product.is_some() || units.len() == 1 => Some(chain_json(chains.remove(0))),
        _ => Some(json!({
            "din": din,
            "components": chains.into_iter().map(chain_json).collect::<Vec<_>>(),
        })),
    })
}

fn chain_json(chain: Chain) -> Value {
    serde_json::to_value(chain).unwrap_or(Value::Null)
}

#[derive(Deserialize)]
pub struct PatientQuery {
    hospital: Option<String>,
}

pub async fn patient(
    State(state): State<AppState>,
    principal: Principal,
    Path(patient_key): Path<String>,
    Query(q): Query<PatientQuery>,
) -> Result<Json<Value>, ApiError> {
    let facility = principal.scope().map(str::to_string).or(q.hospital);
    let keys = state
        .store
        .patient_units(&patient_key, facility.as_deref())
        .await?;
    let mut units = Vec::new();
    for (din, product) in keys {
        for u in state.store.units_by_din(&din, Some(&product)).await? {
            let events = state.store.unit_events(&u.din, &u.product).await?;
            units.push(chain_json(build_chain(&u, &events)));
        }
    }
    if units.is_empty() {
        return Err(ApiError::not_found(format!(
            "no units recorded for patient {patient_key}"
        )));
    }
    Ok(Json(json!({
        "patientKey": patient_key,
        "hospital": facility,
        "units": units,
    })))
}

pub async fn donor(
    State(state): State<AppState>,
    principal: Principal,
    Path(donor_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut units = Vec::new();
    for u in state.store.units_by_donor(&donor_key).await? {
        let events = state.store.unit_events(&u.din, &u.product).await?;
        if let Some(own) = principal.scope() {
            if !events.iter().any(|e| e.facility == own) {
                continue;
            }
        }
        units.push(chain_json(build_chain(&u, &events)));
    }
    if units.is_empty() {
        return Err(ApiError::not_found(format!(
            "no units recorded for donor {donor_key}"
        )));
    }
    Ok(Json(json!({"donorKey": donor_key, "units": units})))
}
