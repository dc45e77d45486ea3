//! The web portal for small hospitals (no interface engine of their own):
//! plain HTML forms in Simplified Chinese, no JavaScript framework, served
//! by the same axum server as the API (`docs/portal.md`).
//!
//! - [`session`]: server-side sessions (only a hash of the id is stored),
//!   the cookie, idle and absolute expiry, and the [`session::PortalUser`]
//!   extractor.
//! - [`csrf`]: the synchronizer token every POST form carries.
//! - [`login`]: log in (argon2id), lock-out, log out.
//! - [`pages`]: templates, the home page, the stylesheet, error pages.
//! - [`forms`]: one form per record kind, turned into a one-record hospital
//!   document.
//! - [`upload`]: XML documents and CSV/XLSX files in the portal template.
//! - [`submit`]: hands a document to the same door as the HTTP API.
//! - [`history`]: the hospital's submissions.
//! - [`outbox`]: the outbound queue and the re-send of dead letters (admins).
//! - [`regulator`]: the regulator's views (traces, completeness, province,
//!   stock) with CSV export, masking and the query audit.
//!
//! Every page is for a hospital user and shows only that hospital: the
//! facility always comes from the session, never from the form.

pub mod csrf;
pub mod forms;
pub mod history;
pub mod login;
pub mod outbox;
pub mod pages;
pub mod regulator;
pub mod session;
pub mod submit;
pub mod upload;

use crate::api::AppState;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use std::time::Duration;

/// How the portal's sessions and cookies behave.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Whether the session cookie carries `Secure`. On by default: browsers
    /// keep Secure cookies over https and over http://localhost or
    /// http://127.0.0.1, which covers a TLS proxy and a local test. Only a
    /// plain-HTTP intranet address needs it off (`portal_insecure_cookies`).
    pub secure_cookies: bool,
    /// A session unused this long is over.
    pub idle_timeout: Duration,
    /// A session is over this long after login, however busy.
    pub absolute_timeout: Duration,
}

impl Default for PortalSettings {
    fn default() -> Self {
        PortalSettings {
            secure_cookies: true,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// The portal's routes: `/`, `/login`, `/logout`, `/portal/...` and
/// `/static/...`, merged into the API router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/portal/forms/{kind}", get(forms::page).post(forms::submit))
        .route("/portal/upload", get(upload::page).post(upload::submit))
        .route("/portal/upload/template.csv", get(upload::template_csv))
        .route("/portal/upload/template.xlsx", get(upload::template_xlsx))
        .route("/portal/history", get(history::page))
        .route("/portal/admin/outbox", get(outbox::page))
        .route("/portal/admin/outbox/retry", post(outbox::retry))
        .route("/static/portal.css", get(pages::stylesheet))
        // The regulator and admin views (`/portal/regulator/...`).
        .merge(regulator::router())
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers every portal answer carries: no framing (clickjacking), no
/// content sniffing, no caching of pages that show patient-related data,
/// and a policy that allows only our own stylesheet.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    response
}
