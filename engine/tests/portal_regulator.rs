//! The regulator's portal views over real HTTP (a running engine, reqwest
//! with a cookie store), on SQLite and PostgreSQL: a station's dispatch and
//! a hospital's events, then a regulator user's unit timeline, patient view
//! (masked), donor lookback, completeness table and drill-down, province
//! table, stock page, each CSV export checked against the API, a query-audit
//! row per view, and 403 for a hospital user.

mod common;

use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use hemobridge_engine::store::admin::Role;
use serde_json::{json, Value};
use sqlx::Row;

const S: &str = "S3201";
const H1: &str = "H3201001";
const H2: &str = "H3201002";
/// Transfused to P1 with a reaction: a complete chain.
const DIN_A: &str = "W000026200001";
/// Issued five days ago with nothing after it: the 72 h rule.
const DIN_C: &str = "W000026200003";
const PASSWORD: &str = "Correct-Horse-42";
const REGULATOR: &str = "jianguan";
const NAME: &str = "张三丰";
const ID_NUMBER: &str = "320102199001010010";

fn iso(days_ago: i64, hours: i64) -> String {
    (Utc::now() - Duration::days(days_ago) + Duration::hours(hours))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

async fn post_json(running: &Running, token: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/ingest/json", running.http_addr))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 202, "{}", r.text().await.unwrap());
}

/// A cookie-keeping client logged into the portal.
async fn logged_in(running: &Running, user: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{}", running.http_addr);
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = page[start..].split('"').next().unwrap().to_string();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "login of {user}");
    client
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Page {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The CSV rows (header first), after checking the BOM and the
    /// attachment header.
    fn csv(&self) -> Vec<Vec<String>> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert!(
            self.body.starts_with(b"\xEF\xBB\xBF"),
            "CSV without a UTF-8 BOM"
        );
        let disposition = self.headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(self.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&self.body[3..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }
}

async fn fetch(
    running: &Running,
    client: &reqwest::Client,
    path: &str,
    query: &[(&str, &str)],
) -> Page {
    let r = client
        .get(format!("http://{}{path}", running.http_addr))
        .query(query)
        .send()
        .await
        .unwrap();
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

async fn audit_rows(running: &Running, who: &str) -> Vec<(String, String)> {
    sqlx::query("SELECT path, query FROM query_audit WHERE token_id = $1 ORDER BY id")
        .bind(who)
        .fetch_all(running.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get::<String, _>("path").unwrap(),
                r.try_get::<Option<String>, _>("query")
                    .unwrap()
                    .unwrap_or_default(),
            )
        })
        .collect()
}

async fn setup(running: &Running) {
    let station = register(running, S, FacilityKind::Station).await;
    let h1 = register(running, H1, FacilityKind::Hospital).await;
    register(running, H2, FacilityKind::Hospital).await;
    let unit = |din: &str| {
        json!({"unit": din, "product": "RBC-LR", "abo": "O", "rh": "+", "quantity": 1,
               "expires": iso(-20, 0), "collectedAt": iso(12, 0), "donorKey": "D1"})
    };
    post_json(
        running,
        &station,
        json!({"documentId": "S-1", "facility": S, "records": [
            {"type": "Dispatch", "station": S, "to": H1, "at": iso(11, 0),
             "units": [unit(DIN_A), unit(DIN_C)]}]}),
    )
    .await;
    post_json(
        running,
        &h1,
        json!({"documentId": "H1-1", "facility": H1, "records": [
            {"type": "Patient", "key": "P1", "idType": "resident-id", "idNumber": ID_NUMBER,
             "name": NAME, "sex": "M", "abo": "O", "rh": "+"},
            {"type": "Received", "unit": DIN_A, "product": "RBC-LR", "abo": "O", "rh": "+", "from": S, "at": iso(10, 0)},
            {"type": "Issued", "unit": DIN_A, "product": "RBC-LR", "patient": "P1", "ward": "W3", "at": iso(9, 0)},
            {"type": "Transfused", "unit": DIN_A, "product": "RBC-LR", "patient": "P1", "start": iso(9, 1), "end": iso(9, 2)},
            {"type": "Reaction", "unit": DIN_A, "product": "RBC-LR", "patient": "P1", "reactionType": "过敏反应",
             "severity": "mild", "at": iso(9, 3)},
            {"type": "Received", "unit": DIN_C, "product": "RBC-LR", "abo": "O", "rh": "+", "from": S, "at": iso(10, 0)},
            {"type": "Issued", "unit": DIN_C, "product": "RBC-LR", "patient": "P1", "ward": "W3", "at": iso(5, 0)},
            {"type": "Stock", "at": iso(0, -1), "items": [
                {"product": "RBC-LR", "abo": "O", "rh": "+", "quantity": 7, "measure": "U"}]},
        ]}),
    )
    .await;
    wait_processed(running).await;
    running
        .store
        .upsert_user(REGULATOR, PASSWORD, Role::Regulator, None)
        .await
        .unwrap();
    running
        .store
        .upsert_user("xueku", PASSWORD, Role::Hospital, Some(H1))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulators_see_traces_completeness_and_stock_masked_exported_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let running = start(&dir.path().join(label), &db).await;
        setup(&running).await;
        let reg = logged_in(&running, REGULATOR).await;
        let mut views: Vec<&str> = Vec::new();

        // The unit timeline: every step in Chinese, complete, with facility and channel.
        let page = fetch(&running, &reg, "/portal/regulator/trace", &[("din", DIN_A)]).await;
        views.push("/portal/regulator/trace");
        let html = page.text();
        assert_eq!(page.status, 200, "[{label}] {html}");
        for needle in [
            "采集 (collected)",
            "血站发出 (dispatched)",
            "入库 (received)",
            "发血 (issued)",
            "输血 (transfused)",
            "输血不良反应 (reaction)",
        ] {
            assert!(html.contains(needle), "[{label}] {needle} missing: {html}");
        }
        assert!(html.contains("完整 (complete)"), "[{label}]");
        assert!(
            html.contains("接口 (HTTP)") && html.contains(H1),
            "[{label}]"
        );
        let order: Vec<usize> = ["入库 (received)", "发血 (issued)", "输血 (transfused)"]
            .iter()
            .map(|k| html.find(k).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "[{label}] order");

        // An issue with no outcome: incomplete, the gap highlighted.
        let page = fetch(&running, &reg, "/portal/regulator/trace", &[("din", DIN_C)]).await;
        views.push("/portal/regulator/trace");
        let html = page.text();
        assert!(html.contains("不完整 (incomplete)"), "[{label}] {html}");
        assert!(html.contains("发血后无输血、退血或报废记录"), "[{label}]");
        assert!(html.contains("class=\"gap\""), "[{label}]");

        // A DIN nobody knows: 404 with the message, a blank one: the field error.
        let page = fetch(
            &running,
            &reg,
            "/portal/regulator/trace",
            &[("din", "W999999999999")],
        )
        .await;
        views.push("/portal/regulator/trace");
        assert_eq!(page.status, 404);
        let page = fetch(&running, &reg, "/portal/regulator/trace", &[("din", " ")]).await;
        views.push("/portal/regulator/trace");
        assert_eq!(page.status, 400);
        assert!(page.text().contains("献血码 (DIN)：请输入献血码"));

        // The timeline's CSV: one line per event, as the API lists them.
        let (_, api) = get(
            &running,
            &format!("/api/v1/trace/units/{DIN_A}"),
            "test-admin",
        )
        .await;
        let rows = fetch(
            &running,
            &reg,
            "/portal/regulator/trace",
            &[("din", DIN_A), ("format", "csv")],
        )
        .await
        .csv();
        views.push("/portal/regulator/trace");
        assert_eq!(
            rows.len() - 1,
            api["events"].as_array().unwrap().len(),
            "[{label}]"
        );
        assert_eq!(rows[0][0], "献血码");

        // The patient: masked name and ID number, the unit with its reaction.
        let page = fetch(
            &running,
            &reg,
            "/portal/regulator/patient",
            &[("key", "P1"), ("hospital", H1)],
        )
        .await;
        views.push("/portal/regulator/patient");
        let html = page.text();
        assert_eq!(page.status, 200, "[{label}] {html}");
        assert!(html.contains("张*丰"), "[{label}] {html}");
        assert!(html.contains("3201**********0010"), "[{label}]");
        assert!(
            !html.contains(NAME) && !html.contains(ID_NUMBER),
            "[{label}] unmasked"
        );
        assert!(html.contains(DIN_A) && html.contains(DIN_C), "[{label}]");
        assert!(html.contains("过敏反应"), "[{label}] reaction missing");
        let rows = fetch(
            &running,
            &reg,
            "/portal/regulator/patient",
            &[("key", "P1"), ("hospital", H1), ("format", "csv")],
        )
        .await
        .csv();
        views.push("/portal/regulator/patient");
        assert_eq!(rows.len(), 3, "[{label}] {rows:?}");
        let body = rows.concat().concat();
        assert!(!body.contains(NAME) && !body.contains(ID_NUMBER));
        // Without the hospital: a field error naming it.
        let page = fetch(
            &running,
            &reg,
            "/portal/regulator/patient",
            &[("key", "P1")],
        )
        .await;
        views.push("/portal/regulator/patient");
        assert_eq!(page.status, 400);
        assert!(page.text().contains("医院代码 (hospital)"));

        // Lookback: both components of donor D1, where each ended.
        let page = fetch(&running, &reg, "/portal/regulator/donor", &[("key", "D1")]).await;
        views.push("/portal/regulator/donor");
        let html = page.text();
        assert!(
            html.contains(DIN_A) && html.contains(DIN_C),
            "[{label}] {html}"
        );
        assert!(
            html.contains("已输注") && html.contains("已发血"),
            "[{label}]"
        );

        // Completeness: the page and its CSV give the API's figures.
        let from = (Utc::now() - Duration::days(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let to = (Utc::now() + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let api = reqwest::Client::new()
            .get(format!(
                "http://{}/api/v1/audit/completeness",
                running.http_addr
            ))
            .query(&[("from", from.as_str()), ("to", to.as_str())])
            .bearer_auth("test-admin")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let api_h1 = api["hospitals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hospital"] == H1)
            .unwrap()
            .clone();
        assert_eq!(api_h1["unitsReceived"], 2, "[{label}] {api_h1}");
        let period = [("from", from.as_str()), ("to", to.as_str())];
        let page = fetch(&running, &reg, "/portal/regulator/completeness", &period).await;
        views.push("/portal/regulator/completeness");
        let html = page.text();
        assert_eq!(page.status, 200, "[{label}] {html}");
        assert!(html.contains("50.0%"), "[{label}] {html}");
        assert!(
            html.contains("rule=issued-no-transfusion-72h"),
            "[{label}] no drill-down link"
        );
        let mut q = period.to_vec();
        q.push(("format", "csv"));
        let rows = fetch(&running, &reg, "/portal/regulator/completeness", &q)
            .await
            .csv();
        views.push("/portal/regulator/completeness");
        assert_eq!(rows.len() - 1, api["hospitals"].as_array().unwrap().len());
        let h1_row = rows.iter().find(|r| r[0] == H1).unwrap();
        assert_eq!(h1_row[2], api_h1["unitsReceived"].to_string());
        assert_eq!(h1_row[3], api_h1["withFinalDisposition"].to_string());
        for (i, finding) in api_h1["findings"].as_array().unwrap().iter().enumerate() {
            assert_eq!(
                h1_row[5 + i],
                finding["count"].to_string(),
                "[{label}] rule {}",
                finding["rule"]
            );
        }
        // A bad date: the field named, nothing computed.
        let page = fetch(
            &running,
            &reg,
            "/portal/regulator/completeness",
            &[("from", "last week")],
        )
        .await;
        views.push("/portal/regulator/completeness");
        assert_eq!(page.status, 400);
        assert!(page.text().contains("开始日期 (from)"));

        // Drill-down: the units of one rule, linked to their timelines.
        let mut q = period.to_vec();
        q.extend([("hospital", H1), ("rule", "issued-no-transfusion-72h")]);
        let page = fetch(&running, &reg, "/portal/regulator/completeness/units", &q).await;
        views.push("/portal/regulator/completeness/units");
        let html = page.text();
        assert!(
            html.contains(&format!("/portal/regulator/trace?din={DIN_C}")),
            "[{label}] {html}"
        );
        q.push(("format", "csv"));
        let rows = fetch(&running, &reg, "/portal/regulator/completeness/units", &q)
            .await
            .csv();
        views.push("/portal/regulator/completeness/units");
        let api_units: Vec<&str> = api_h1["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "issued-no-transfusion-72h")
            .unwrap()["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["din"].as_str().unwrap())
            .collect();
        let csv_units: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(csv_units, api_units, "[{label}]");

        // The province: H1 red (50 %), H2 no data; H2 sent nothing, so it is late.
        let page = fetch(&running, &reg, "/portal/regulator/province", &period).await;
        views.push("/portal/regulator/province");
        let html = page.text();
        assert!(
            html.contains(&format!("class=\"c-red\" data-hospital=\"{H1}\"")),
            "[{label}] {html}"
        );
        assert!(
            html.contains(&format!("class=\"c-none\" data-hospital=\"{H2}\"")),
            "[{label}]"
        );
        let yesterday = (Utc::now().with_timezone(&chrono_tz::Asia::Shanghai) - Duration::days(1))
            .date_naive()
            .to_string();
        let page = fetch(
            &running,
            &reg,
            "/portal/regulator/province",
            &[("date", yesterday.as_str())],
        )
        .await;
        views.push("/portal/regulator/province");
        let html = page.text();
        let late = &html[html.find("id=\"late\"").unwrap()..];
        assert!(
            late.contains(&format!("data-hospital=\"{H2}\"")),
            "[{label}] {late}"
        );

        // Stock: the page and CSV carry the API's figures and the report time.
        let (_, api_stock) = get(&running, "/api/v1/stock", "test-admin").await;
        let page = fetch(&running, &reg, "/portal/regulator/stock", &[]).await;
        views.push("/portal/regulator/stock");
        let html = page.text();
        assert_eq!(page.status, 200, "[{label}] {html}");
        assert!(html.contains("RhD 阴性库存"), "[{label}]");
        assert!(
            !html.contains("未报告</td><td>红细胞类"),
            "[{label}] last report missing"
        );
        let rows = fetch(
            &running,
            &reg,
            "/portal/regulator/stock",
            &[("format", "csv")],
        )
        .await
        .csv();
        views.push("/portal/regulator/stock");
        let mut api_lines = Vec::new();
        for h in api_stock["hospitals"].as_array().unwrap() {
            for i in h["items"].as_array().unwrap() {
                api_lines.push((
                    h["hospital"].as_str().unwrap().to_string(),
                    i["product"].as_str().unwrap().to_string(),
                    i["quantity"].as_f64().unwrap(),
                ));
            }
        }
        let csv_lines: Vec<(String, String, f64)> = rows[1..]
            .iter()
            .map(|r| (r[0].clone(), r[5].clone(), r[8].parse().unwrap()))
            .collect();
        assert_eq!(csv_lines, api_lines, "[{label}]");
        assert!(!api_lines.is_empty());
        let h1_row = rows.iter().find(|r| r[0] == H1).unwrap();
        assert_ne!(h1_row[3], "未报告", "[{label}] the stock report time");
        assert_eq!(h1_row[9], "7", "[{label}] the reported count");
        // The colour of each line is the API's level.
        let levels: Vec<&str> = api_stock["hospitals"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["items"].as_array().unwrap())
            .map(|i| match i["level"].as_str().unwrap() {
                "high" => "充足",
                "medium" => "正常",
                "low" => "偏低",
                _ => "无库存",
            })
            .collect();
        let csv_levels: Vec<&str> = rows[1..].iter().map(|r| r[11].as_str()).collect();
        assert_eq!(csv_levels, levels, "[{label}]");
        let page = fetch(&running, &reg, "/portal/regulator/stock", &[("abo", "Q")]).await;
        views.push("/portal/regulator/stock");
        assert_eq!(page.status, 400);
        assert!(page.text().contains("ABO 血型 (abo)"));

        // Every view and export is on record, in order, with its query.
        let audited = audit_rows(&running, &format!("portal:{REGULATOR}")).await;
        let paths: Vec<&str> = audited.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, views, "[{label}]");
        assert!(audited.iter().any(|(_, q)| q.contains("format=csv")));
        assert!(audited[0].1.contains(DIN_A));

        // An admin sees the same masks.
        running
            .store
            .upsert_user("guanli", PASSWORD, Role::Admin, None)
            .await
            .unwrap();
        let admin = logged_in(&running, "guanli").await;
        let page = fetch(
            &running,
            &admin,
            "/portal/regulator/patient",
            &[("key", "P1"), ("hospital", H1)],
        )
        .await;
        let html = page.text();
        assert_eq!(page.status, 200, "[{label}]");
        assert!(html.contains("张*丰") && html.contains("3201**********0010"));
        assert!(
            !html.contains(NAME) && !html.contains(ID_NUMBER),
            "[{label}] unmasked for admin"
        );
        assert_eq!(audit_rows(&running, "portal:guanli").await.len(), 1);

        // A hospital user gets 403 everywhere, and nothing is recorded for it.
        let hospital = logged_in(&running, "xueku").await;
        for path in [
            "/portal/regulator/trace",
            "/portal/regulator/patient",
            "/portal/regulator/donor",
            "/portal/regulator/completeness",
            "/portal/regulator/completeness/units",
            "/portal/regulator/province",
            "/portal/regulator/stock",
        ] {
            let page = fetch(&running, &hospital, path, &[("format", "csv")]).await;
            assert_eq!(page.status, 403, "[{label}] {path}");
        }
        assert!(audit_rows(&running, "portal:xueku").await.is_empty());
        // Not logged in: sent to the login page.
        let anonymous = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = fetch(&running, &anonymous, "/portal/regulator/stock", &[]).await;
        assert_eq!(page.status, 303);
        running.stop().await;
    }
}
