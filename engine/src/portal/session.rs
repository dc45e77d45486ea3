//! Server-side sessions. The cookie holds a random 256-bit id; the table
//! (`portal_sessions`, migration 0007) holds only its SHA-256 hash with the
//! user, the session's CSRF token, and two limits: idle (`last_seen`) and
//! absolute (`expires_at`). Logging out deletes the row, so a copied cookie
//! is worthless afterwards.

use super::PortalSettings;
use crate::api::AppState;
use crate::store::admin::Role;
use crate::store::{now_ms, RowExt, Store};
use anyhow::Result;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "hb_session";

/// `last_seen` is written at most this often, so that reading pages does
/// not turn every request into a write.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The logged-in user behind a request.
#[derive(Debug, Clone)]
pub struct PortalUser {
    pub username: String,
    pub role: Role,
    /// The user's hospital (set for hospital users).
    pub facility: Option<String>,
    /// This session's CSRF synchronizer token.
    pub csrf: String,
    id_hash: String,
}

impl PortalUser {
    /// The hospital whose data this user enters and sees, if a hospital
    /// user; regulators and admins have none (their views come later).
    pub fn hospital(&self) -> Option<&str> {
        match self.role {
            Role::Hospital => self.facility.as_deref(),
            _ => None,
        }
    }
}

/// 32 random bytes, base64url: session ids and CSRF tokens.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Creates a session for `username` and returns the clear id for the cookie.
pub async fn create(store: &Store, settings: &PortalSettings, username: &str) -> Result<String> {
    let id = random_token();
    let now = now_ms();
    let expires = now + settings.absolute_timeout.as_millis() as i64;
    let _turn = store.write_turn().await;
    // Sessions past their absolute limit are swept at each login, so the
    // table stays the size of the active users.
    sqlx::query("DELETE FROM portal_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query(
        "INSERT INTO portal_sessions (id_hash, username, csrf_token, created_at, last_seen, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash_id(&id))
    .bind(username)
    .bind(random_token())
    .bind(now)
    .bind(now)
    .bind(expires)
    .execute(store.pool())
    .await?;
    Ok(id)
}

/// The live session with this id, refreshing its idle clock; `None` when
/// it does not exist or has expired (an expired one is deleted).
pub async fn load(
    store: &Store,
    settings: &PortalSettings,
    id: &str,
) -> Result<Option<PortalUser>> {
    let id_hash = hash_id(id);
    let row = sqlx::query(
        "SELECT s.username, s.csrf_token, s.last_seen, s.expires_at, u.role, u.facility \
         FROM portal_sessions s JOIN users u ON u.username = s.username WHERE s.id_hash = $1",
    )
    .bind(&id_hash)
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let now = now_ms();
    let last_seen = row.int("last_seen").unwrap_or(0);
    let idle_limit = settings.idle_timeout.as_millis() as i64;
    if now >= row.int("expires_at").unwrap_or(0) || now - last_seen > idle_limit {
        delete(store, &id_hash).await?;
        return Ok(None);
    }
    let Some(role) = row.text("role").as_deref().and_then(Role::parse) else {
        return Ok(None);
    };
    if now - last_seen > TOUCH_EVERY_MS {
        let _turn = store.write_turn().await;
        sqlx::query("UPDATE portal_sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(&id_hash)
            .execute(store.pool())
            .await?;
    }
    Ok(Some(PortalUser {
        username: row.text("username").unwrap_or_default(),
        role,
        facility: row.text("facility"),
        csrf: row.text("csrf_token").unwrap_or_default(),
        id_hash,
    }))
}

async fn delete(store: &Store, id_hash: &str) -> Result<()> {
    let _turn = store.write_turn().await;
    sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Ends this user's session (logout).
pub async fn end(store: &Store, user: &PortalUser) -> Result<()> {
    delete(store, &user.id_hash).await
}

/// A cookie from the request's `Cookie` headers.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict
/// (no other site's page sends it), Secure unless configured off.
pub fn set_cookie(
    settings: &PortalSettings,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<cookie::time::Duration>,
) -> String {
    let mut c = Cookie::build((name.to_string(), value.to_string()))
        .path(path.to_string())
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(settings.secure_cookies);
    if let Some(age) = max_age {
        c = c.max_age(age);
    }
    c.build().to_string()
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(settings: &PortalSettings, name: &str, path: &str) -> String {
    set_cookie(settings, name, "", path, Some(cookie::time::Duration::ZERO))
}

impl FromRequestParts<AppState> for PortalUser {
    /// Not logged in (or expired): to the login page.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = read_cookie(&parts.headers, COOKIE) else {
            return Err(Redirect::to("/login").into_response());
        };
        match load(&state.store, &state.portal, &id).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(Redirect::to("/login?expired=1").into_response()),
            Err(e) => {
                tracing::warn!(error = %e, "portal session look-up failed");
                Err(super::pages::unavailable())
            }
        }
    }
}
