//! Templates and the pages that are not forms: home, the regulator
//! placeholder, error pages, and the stylesheet.
//!
//! Templates are MiniJinja, embedded with `include_str!` so the binary is
//! the whole portal. MiniJinja over askama: templates are checked by a unit
//! test instead of a proc macro (no extra compile time on two shared
//! cores), and autoescaping is on for every `.html` template, so anything a
//! user typed is escaped when it is shown again.

use super::forms::FormKind;
use super::session::PortalUser;
use crate::api::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Environment, Value};
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../templates/portal/base.html"),
    ),
    (
        "login.html",
        include_str!("../../templates/portal/login.html"),
    ),
    (
        "home.html",
        include_str!("../../templates/portal/home.html"),
    ),
    (
        "overview.html",
        include_str!("../../templates/portal/overview.html"),
    ),
    (
        "form.html",
        include_str!("../../templates/portal/form.html"),
    ),
    (
        "upload.html",
        include_str!("../../templates/portal/upload.html"),
    ),
    (
        "history.html",
        include_str!("../../templates/portal/history.html"),
    ),
    (
        "error.html",
        include_str!("../../templates/portal/error.html"),
    ),
    (
        "outbox.html",
        include_str!("../../templates/portal/outbox.html"),
    ),
];

const STYLESHEET: &str = include_str!("../../templates/portal/portal.css");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; the unit test below
            // proves they parse, so a failure here is a build defect.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("portal template {name}: {e}"));
        }
        env
    })
}

/// Renders a template with status 200.
pub fn render(name: &str, ctx: Value) -> Response {
    render_status(StatusCode::OK, name, ctx)
}

pub fn render_status(status: StatusCode, name: &str, ctx: Value) -> Response {
    match environment().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "portal template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "页面生成失败 (template error)",
            )
                .into_response()
        }
    }
}

/// What every page's frame shows: the user, the hospital, the navigation
/// and the CSRF token for the logout button.
pub async fn frame(state: &AppState, user: &PortalUser, active: &str) -> Value {
    let facility_name = match user.facility.as_deref() {
        Some(code) => state
            .store
            .facility(code)
            .await
            .ok()
            .flatten()
            .map(|f| f.name),
        None => None,
    };
    context! {
        username => user.username,
        facility => user.facility,
        facility_name => facility_name,
        is_hospital => user.hospital().is_some(),
        csrf => user.csrf,
        active => active,
        kinds => FormKind::ALL.iter().map(|k| context! {slug => k.slug(), title => k.title()}).collect::<Vec<_>>(),
    }
}

/// `GET /`: the hospital's start page, or the placeholder for regulators
/// and admins (their views are a later task).
pub async fn home(State(state): State<AppState>, user: PortalUser) -> Response {
    let frame = frame(&state, &user, "home").await;
    if user.hospital().is_none() {
        return render(
            "overview.html",
            context! {frame => frame, role => user.role.as_str()},
        );
    }
    render("home.html", context! {frame => frame})
}

/// `GET /static/portal.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    render_status(
        status,
        "error.html",
        context! {title => title, message => message, code => status.as_u16()},
    )
}

/// 403: a POST without the right CSRF token, or a page the role may not use.
pub fn forbidden() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "禁止访问 (Forbidden)",
        "请求未通过安全校验，或您的账号无权使用此页面。请返回首页重新打开表单后再提交。",
    )
}

/// 404.
pub fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "页面不存在 (Not found)",
        "您访问的页面不存在。",
    )
}

/// 503: the database cannot answer now.
pub fn unavailable() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "系统暂不可用 (Unavailable)",
        "系统暂时无法保存或读取数据，请稍后重试。已填写的内容未被保存。",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).expect(name);
        }
    }

    #[test]
    fn typed_text_is_escaped() {
        let page = environment()
            .get_template("error.html")
            .unwrap()
            .render(context! {title => "<script>x</script>", message => "m", code => 400})
            .unwrap();
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>x"));
    }
}
