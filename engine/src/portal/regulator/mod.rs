//! The regulator's views (监管视图) in the portal: trace search with a
//! timeline, the completeness table with drill-down, the province table
//! and late list, and the stock page (`docs/portal.md`). For users with
//! role `regulator` or `admin`; hospital users get 403.
//!
//! - [`render`]: the templates of these pages and the CSV export
//!   (`?format=csv`, UTF-8 with BOM).
//! - [`access`]: who may look, and the query-audit record of every view.
//! - [`search`]: unit, patient and donor traces.
//! - [`completeness`]: the completeness table, a rule's units, the
//!   province table and the late list.
//! - [`stock`]: current stock per hospital and RhD-negative by region.
//! - [`identity`]: a patient's name and ID number, read only to be masked.

pub mod access;
pub mod completeness;
pub mod identity;
pub mod render;
pub mod search;
pub mod stock;

use crate::api::AppState;
use axum::routing::get;
use axum::Router;

/// The routes under `/portal/regulator`, merged into the portal router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/regulator/trace", get(search::unit))
        .route("/portal/regulator/patient", get(search::patient))
        .route("/portal/regulator/donor", get(search::donor))
        .route("/portal/regulator/completeness", get(completeness::table))
        .route(
            "/portal/regulator/completeness/units",
            get(completeness::rule_units),
        )
        .route("/portal/regulator/province", get(completeness::province))
        .route("/portal/regulator/stock", get(stock::page))
        .route("/static/regulator.css", get(render::stylesheet))
}
