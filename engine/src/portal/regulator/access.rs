//! Who may use the regulator pages, and the query-audit record of each
//! view and export.
//!
//! A portal user has no bearer token, so the record's `token_id` is
//! `portal:` and the user name: who looked, in the same append-only log and
//! through the same store function as the API's queries
//! (`crate::api::query_audit`). As there, a view that cannot be put on
//! record is not shown (503).

use crate::api::AppState;
use crate::portal::pages;
use crate::portal::session::PortalUser;
use crate::store::admin::{Principal, Role};
use axum::http::Uri;
use axum::response::Response;

/// Regulators and admins; hospital users never reach these pages.
pub fn allowed(user: &PortalUser) -> bool {
    matches!(user.role, Role::Regulator | Role::Admin)
}

/// The query-audit identity of a portal user.
pub fn principal(user: &PortalUser) -> Principal {
    Principal {
        role: user.role,
        facility: user.facility.clone(),
        token_id: format!("portal:{}", user.username),
    }
}

/// Writes the view to the query audit log and hands the answer back, or
/// 503 when the log cannot be written.
pub async fn recorded(
    state: &AppState,
    user: &PortalUser,
    uri: &Uri,
    response: Response,
) -> Response {
    let status = response.status().as_u16();
    match state
        .store
        .record_query(&principal(user), "GET", uri.path(), uri.query(), status)
        .await
    {
        Ok(()) => response,
        Err(e) => {
            tracing::error!(error = %e, "query audit log not written; refusing the portal view");
            pages::unavailable()
        }
    }
}
