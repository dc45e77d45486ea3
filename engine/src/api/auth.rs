//! Bearer tokens. Every `/api` route takes a [`Principal`]; a hospital token
//! sees and sends only as its own facility.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::{Principal, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Already resolved by the query-audit layer for this request.
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
            return Err(unauthorized());
        };
        if let Some(bootstrap) = &state.bootstrap_token {
            if constant_time_eq(token.as_bytes(), bootstrap.as_bytes()) {
                return Ok(Principal {
                    role: Role::Admin,
                    facility: None,
                    token_id: "bootstrap".into(),
                });
            }
        }
        match state.store.principal(token).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(unauthorized()),
            Err(e) => {
                tracing::warn!(error = %e, "token look-up failed");
                Err(ApiError::unavailable("cannot check the token now"))
            }
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a valid bearer token is required (Authorization: Bearer …)",
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Principal {
    /// The facility filter for reads: a hospital sees only its own.
    pub fn scope(&self) -> Option<&str> {
        match self.role {
            Role::Hospital => Some(self.facility.as_deref().unwrap_or("\u{0}")),
            _ => None,
        }
    }

    /// Whether this principal may act as `facility` (send as it, read it).
    pub fn may_access(&self, facility: &str) -> bool {
        match self.role {
            Role::Admin | Role::Regulator => true,
            Role::Hospital => self.facility.as_deref() == Some(facility),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
