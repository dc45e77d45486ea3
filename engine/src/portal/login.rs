//! Logging in and out.
//!
//! A user is a row of `users` (argon2id hash, `failed_attempts`,
//! `locked_until`). Five wrong passwords in a row lock the account for 15
//! minutes. The answer to a failed login is the same whether the user is
//! unknown, the password wrong or the account locked, so that user names
//! cannot be probed; the log says which (never the password, and the
//! user name only when it is a real account, since people type passwords
//! into the name field).

use super::csrf;
use super::pages::{self, render_status};
use super::session::{self, PortalUser};
use crate::api::AppState;
use crate::store::{now_ms, RowExt, Store};
use anyhow::Result;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use std::sync::OnceLock;

/// Consecutive failures that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// The login form's double-submit cookie (see [`csrf`]).
const LOGIN_COOKIE: &str = "hb_login";

/// The one message for every failed login.
pub const FAILED: &str = "用户名或密码错误，或账号已被暂时锁定。请核对后重试。";

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

/// `GET /login`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(id) = session::read_cookie(&headers, session::COOKIE) {
        if let Ok(Some(_)) = session::load(&state.store, &state.portal, &id).await {
            return Redirect::to("/").into_response();
        }
    }
    let notice = q.expired.map(|_| "会话已过期或已退出，请重新登录。");
    login_page(&state, StatusCode::OK, "", None, notice)
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let token = session::random_token();
    let mut response = render_status(
        status,
        "login.html",
        context! {csrf => token, username => username, error => error, notice => notice},
    );
    let cookie = session::set_cookie(
        &state.portal,
        LOGIN_COOKIE,
        &token,
        "/login",
        Some(cookie::time::Duration::hours(1)),
    );
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The login form. Not `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = session::read_cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !csrf::same(&form.csrf, &expected) {
        tracing::warn!("portal login refused: missing or wrong login token");
        return pages::forbidden();
    }
    let username = form.username.trim();
    match check_password(&state.store, username, &form.password).await {
        Ok(true) => {}
        Ok(false) => {
            return login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                username,
                Some(FAILED),
                None,
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "portal login could not be checked");
            return pages::unavailable();
        }
    }
    let id = match session::create(&state.store, &state.portal, username).await {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(error = %e, "portal session could not be stored");
            return pages::unavailable();
        }
    };
    tracing::info!(user = %username, "portal login");
    let mut response = Redirect::to("/").into_response();
    let cookies = [
        session::set_cookie(&state.portal, session::COOKIE, &id, "/", None),
        session::clear_cookie(&state.portal, LOGIN_COOKIE, "/login"),
    ];
    for c in cookies {
        if let Ok(value) = c.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /logout`: deletes the session and the cookie.
pub async fn logout(
    State(state): State<AppState>,
    user: PortalUser,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Err(refused) = csrf::check(&user, form.csrf.as_deref()) {
        return refused.into_response();
    }
    if let Err(e) = session::end(&state.store, &user).await {
        tracing::warn!(error = %e, "portal logout could not delete the session");
        return pages::unavailable();
    }
    tracing::info!(user = %user.username, "portal logout");
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = session::clear_cookie(&state.portal, session::COOKIE, "/").parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Verifies a login and keeps the failure count: true only for a known,
/// unlocked user with the right password.
pub async fn check_password(store: &Store, username: &str, password: &str) -> Result<bool> {
    let row = sqlx::query("SELECT password_hash, locked_until FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(store.pool())
        .await?;
    let Some(row) = row else {
        // Spend the same time as a real check, so that timing does not
        // tell unknown names from known ones.
        verify(dummy_hash().to_string(), password.to_string()).await;
        tracing::info!("portal login failed: unknown user");
        return Ok(false);
    };
    let now = now_ms();
    if row.int("locked_until").is_some_and(|until| until > now) {
        // The same work as a real check: a quick answer would tell that
        // the name exists and is locked.
        verify(dummy_hash().to_string(), password.to_string()).await;
        tracing::info!(user = %username, "portal login refused: account locked");
        return Ok(false);
    }
    let hash = row.text("password_hash").unwrap_or_default();
    let ok = verify(hash, password.to_string()).await;
    let _turn = store.write_turn().await;
    if ok {
        sqlx::query(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = $1",
        )
        .bind(username)
        .execute(store.pool())
        .await?;
        return Ok(true);
    }
    // One statement, so that concurrent failures cannot both miss the
    // limit; reaching it locks the account and starts a fresh count.
    let row = sqlx::query(
        "UPDATE users SET \
         locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE NULL END, \
         failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END \
         WHERE username = $1 RETURNING locked_until",
    )
    .bind(username)
    .bind(MAX_FAILURES)
    .bind(now + LOCK_MS)
    .fetch_optional(store.pool())
    .await?;
    if row.and_then(|r| r.int("locked_until")).is_some() {
        tracing::warn!(user = %username, minutes = LOCK_MS / 60_000, "portal account locked after repeated failed logins");
    } else {
        tracing::info!(user = %username, "portal login failed: wrong password");
    }
    Ok(false)
}

/// argon2 is deliberately slow: off the async threads.
async fn verify(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, checked against for unknown users.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(session::random_token().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
