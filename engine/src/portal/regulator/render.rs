//! Templates of the regulator pages, and the CSV form of their lists.
//!
//! The pages extend the portal's `base.html`; they live in their own
//! MiniJinja environment so that the portal's template list stays as it is.
//! Every list a page shows is built once as a [`Table`] (Chinese headers,
//! text cells) and given either to the template or to [`csv_response`], so
//! the export holds exactly what the page shows.

use crate::portal::pages;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../templates/portal/base.html"),
    ),
    (
        "regulator_nav.html",
        include_str!("../../../templates/portal/regulator_nav.html"),
    ),
    (
        "regulator_trace.html",
        include_str!("../../../templates/portal/regulator_trace.html"),
    ),
    (
        "regulator_patient.html",
        include_str!("../../../templates/portal/regulator_patient.html"),
    ),
    (
        "regulator_donor.html",
        include_str!("../../../templates/portal/regulator_donor.html"),
    ),
    (
        "regulator_completeness.html",
        include_str!("../../../templates/portal/regulator_completeness.html"),
    ),
    (
        "regulator_rule_units.html",
        include_str!("../../../templates/portal/regulator_rule_units.html"),
    ),
    (
        "regulator_province.html",
        include_str!("../../../templates/portal/regulator_province.html"),
    ),
    (
        "regulator_stock.html",
        include_str!("../../../templates/portal/regulator_stock.html"),
    ),
];

const STYLESHEET: &str = include_str!("../../../templates/portal/regulator.css");

/// `GET /static/regulator.css`: the colours of these pages (the portal's
/// policy allows no inline styles).
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

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // MiniJinja's own `urlencode` is behind a cargo feature; links here
        // need only query values encoded.
        env.add_filter("urlencode", urlencode);
        for (name, source) in TEMPLATES {
            // Part of the binary; the unit test below proves they parse.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("portal template {name}: {e}"));
        }
        env
    })
}

/// A query-string value, percent-encoded (`W0001 A&B` → `W0001+A%26B`).
pub fn urlencode(value: String) -> String {
    serde_urlencoded::to_string([("v", value.as_str())])
        .map(|pair| pair[2..].to_string())
        .unwrap_or_default()
}

/// Renders one of the regulator templates.
pub fn page(status: StatusCode, name: &str, ctx: Value) -> Response {
    match environment().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "regulator template failed");
            pages::unavailable()
        }
    }
}

/// A list as shown: headers and rows of text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// `?format=csv` on any regulator page.
#[derive(Debug, Default, Deserialize)]
pub struct Format {
    pub format: Option<String>,
}

impl Format {
    pub fn csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }
}

/// The CSV of a table as a download: UTF-8 with a byte-order mark, which
/// is what makes Excel on a Chinese Windows read the file as UTF-8 rather
/// than GBK.
pub fn csv_response(filename: &str, table: &Table) -> Response {
    let bytes = match csv_bytes(table) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "CSV export failed");
            return pages::unavailable();
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The bytes of the CSV: BOM, header line, rows (quoted where needed).
pub fn csv_bytes(table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(&table.headers)?;
    for row in &table.rows {
        writer.write_record(row)?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("CSV export: {}", e.error()))
}

/// The current page's address with `format=csv` added, for the export link.
pub fn csv_link(path: &str, query: Option<&str>) -> String {
    let kept: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("format="))
        .collect();
    if kept.is_empty() {
        format!("{path}?format=csv")
    } else {
        format!("{path}?{}&format=csv", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            environment().get_template(name).expect(name);
        }
    }

    #[test]
    fn pages_render_with_a_frame() {
        let frame = minijinja::context! {username => "u", active => "trace", csrf => "c"};
        for (name, _) in TEMPLATES
            .iter()
            .filter(|(n, _)| n.starts_with("regulator_"))
        {
            let ctx = minijinja::context! {frame => frame.clone(), span => ("a", "b"), date => "2026-11-24"};
            environment()
                .get_template(name)
                .unwrap()
                .render(ctx)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(urlencode("W0001 A&B".into()), "W0001+A%26B");
        assert_eq!(urlencode("RBC-LR".into()), "RBC-LR");
    }

    #[test]
    fn csv_starts_with_a_bom_and_quotes_commas() {
        let mut t = Table::new(&["医院", "数量"]);
        t.rows.push(vec!["某某医院, 南京".into(), "3".into()]);
        let bytes = csv_bytes(&t).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "医院,数量\n\"某某医院, 南京\",3\n");
        let r = csv_response("x", &t);
        assert_eq!(
            r.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"x.csv\""
        );
    }

    #[test]
    fn the_csv_link_replaces_any_format() {
        assert_eq!(csv_link("/p", Some("a=1&format=html")), "/p?a=1&format=csv");
        assert_eq!(csv_link("/p", None), "/p?format=csv");
    }
}
