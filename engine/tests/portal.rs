//! The web portal over real HTTP (a running engine, reqwest with a cookie
//! store), on SQLite and PostgreSQL: login and its generic failure, the
//! lock-out, the session cookie's attributes and storage, logout, idle
//! expiry, CSRF on every POST, data-entry forms that go through the
//! document door as the session's hospital, and field errors put back on
//! the form.

mod common;

use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::server::Running;
use hemobridge_engine::store::admin::Role;
use reqwest::redirect::Policy;
use sha2::{Digest, Sha256};
use sqlx::Row;

const H: &str = "H3201001";
const OTHER: &str = "H3201002";
const USER: &str = "xueku";
const PASSWORD: &str = "Correct-Horse-42";
/// The generic failure message (`portal::login::FAILED`).
const FAILED: &str = "用户名或密码错误，或账号已被暂时锁定";

/// A browser: cookies kept, redirects not followed (so they can be seen).
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(running: &Running) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", running.http_addr),
        }
    }

    async fn get(&self, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().await.unwrap_or_default(), headers)
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().await.unwrap_or_default(), headers)
    }

    /// Opens the login page and submits it.
    async fn login(&self, user: &str, password: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let (status, page, _) = self.get("/login").await;
        assert_eq!(status, 200, "{page}");
        let token = csrf_of(&page);
        self.post(
            "/login",
            &[("username", user), ("password", password), ("csrf", &token)],
        )
        .await
    }

    /// The CSRF token of a logged-in page.
    async fn csrf(&self, path: &str) -> String {
        let (status, page, _) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        csrf_of(&page)
    }
}

fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn count(running: &Running, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(running.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .try_get::<i64, _>(0)
        .unwrap()
}

/// A hospital with a portal user; its API token.
async fn hospital_with_user(running: &Running) -> String {
    let token = register(running, H, FacilityKind::Hospital).await;
    running
        .store
        .upsert_user(USER, PASSWORD, Role::Hospital, Some(H))
        .await
        .unwrap();
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        hospital_with_user(&running).await;
        let browser = Browser::new(&running);

        // Not logged in: every page leads to the login page.
        let (status, _, headers) = browser.get("/").await;
        assert_eq!(status, 303, "[{}]", db.label);
        assert_eq!(headers["location"], "/login");

        // Wrong password and unknown user get the same answer.
        let (status, page, _) = browser.login(USER, "wrong").await;
        assert_eq!(status, 401, "[{}]", db.label);
        assert!(page.contains(FAILED), "[{}] {page}", db.label);
        let (status, unknown, _) = browser.login("nobody", "wrong").await;
        assert_eq!(status, 401);
        assert!(unknown.contains(FAILED));

        let (status, _, headers) = browser.login(USER, PASSWORD).await;
        assert_eq!(status, 303, "[{}]", db.label);
        assert_eq!(headers["location"], "/");
        let cookie = set_cookies(&headers)
            .into_iter()
            .find(|c| c.starts_with("hb_session="))
            .expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(
                cookie.contains(attribute),
                "[{}] {cookie} lacks {attribute}",
                db.label
            );
        }
        let session_id = cookie["hb_session=".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_string();

        // The database holds the hash of the id, never the id.
        let row = sqlx::query("SELECT id_hash FROM portal_sessions")
            .fetch_one(running.store.pool())
            .await
            .unwrap();
        let stored: String = row.try_get("id_hash").unwrap();
        assert_eq!(stored, hex::encode(Sha256::digest(session_id.as_bytes())));
        assert_ne!(stored, session_id);

        let (status, home, headers) = browser.get("/").await;
        assert_eq!(status, 200, "[{}]", db.label);
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(home.contains(&format!("{H} 测试")), "[{}] {home}", db.label);
        assert!(home.contains("入库 (Receipt)"));

        // Logout needs its token too; with it the session row is gone and
        // the old cookie no longer opens anything.
        let (status, _, _) = browser.post("/logout", &[]).await;
        assert_eq!(status, 403, "[{}]", db.label);
        let token = browser.csrf("/").await;
        let (status, _, headers) = browser.post("/logout", &[("csrf", &token)]).await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/login");
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM portal_sessions").await,
            0
        );
        let replay = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
            .get(format!("http://{}/", running.http_addr))
            .header("cookie", format!("hb_session={session_id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            replay.status().as_u16(),
            303,
            "[{}] an ended session still works",
            db.label
        );
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_the_account_and_idle_sessions_expire() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        hospital_with_user(&running).await;
        let browser = Browser::new(&running);
        for attempt in 1..=5 {
            let (status, page, _) = browser.login(USER, &format!("wrong-{attempt}")).await;
            assert_eq!(status, 401, "[{}] attempt {attempt}", db.label);
            assert!(page.contains(FAILED));
        }
        // The sixth try, with the right password, is refused the same way.
        let (status, page, _) = browser.login(USER, PASSWORD).await;
        assert_eq!(status, 401, "[{}] a locked account logged in", db.label);
        assert!(page.contains(FAILED));
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM portal_sessions").await,
            0
        );
        assert_eq!(
            count(
                &running,
                "SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL"
            )
            .await,
            1
        );

        // When the lock has run out, the right password works again.
        sqlx::query("UPDATE users SET locked_until = 1 WHERE username = $1")
            .bind(USER)
            .execute(running.store.pool())
            .await
            .unwrap();
        let (status, _, _) = browser.login(USER, PASSWORD).await;
        assert_eq!(status, 303, "[{}]", db.label);
        let (status, _, _) = browser.get("/").await;
        assert_eq!(status, 200);

        // A session unused for longer than the idle limit is over.
        sqlx::query("UPDATE portal_sessions SET last_seen = last_seen - 31 * 60 * 1000")
            .execute(running.store.pool())
            .await
            .unwrap();
        let (status, _, headers) = browser.get("/").await;
        assert_eq!(status, 303, "[{}] an idle session still works", db.label);
        assert_eq!(headers["location"], "/login?expired=1");
        assert_eq!(
            count(&running, "SELECT COUNT(*) FROM portal_sessions").await,
            0
        );
        running.stop().await;
    }
}

/// A receipt form's fields.
fn receipt_form<'a>(din: &'a str, abo: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("unit", din),
        ("product", "RBC-LR"),
        ("abo", abo),
        ("rh", "+"),
        ("volumeMl", "200"),
        ("quantity", "1"),
        ("from", "S3201"),
        ("at", "2026-11-24T09:30"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_the_right_csrf_token_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        hospital_with_user(&running).await;
        let browser = Browser::new(&running);
        let (status, _, _) = browser.login(USER, PASSWORD).await;
        assert_eq!(status, 303);

        let form = receipt_form("W000026000301", "O");
        let (status, page, _) = browser.post("/portal/forms/receipt", &form).await;
        assert_eq!(status, 403, "[{}] no token: {page}", db.label);
        let mut wrong = form.clone();
        wrong.push(("csrf", "not-the-token"));
        let (status, _, _) = browser.post("/portal/forms/receipt", &wrong).await;
        assert_eq!(status, 403, "[{}] wrong token", db.label);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM messages").await, 0);

        // The login form's own token (double submit) is checked as well.
        let (status, _, _) = reqwest::Client::new()
            .post(format!("http://{}/login", running.http_addr))
            .form(&[("username", USER), ("password", PASSWORD), ("csrf", "x")])
            .send()
            .await
            .map(|r| (r.status().as_u16(), (), ()))
            .unwrap();
        assert_eq!(status, 403, "[{}] login without its cookie", db.label);
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_submit_as_the_sessions_hospital_and_show_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let token = hospital_with_user(&running).await;
        let other_token = register(&running, OTHER, FacilityKind::Hospital).await;
        let browser = Browser::new(&running);
        browser.login(USER, PASSWORD).await;

        // A valid receipt, with a forged facility field that must be ignored.
        let csrf = browser.csrf("/portal/forms/receipt").await;
        let mut form = receipt_form("W000026000311", "O");
        form.push(("csrf", &csrf));
        form.push(("facility", OTHER));
        let (status, page, _) = browser.post("/portal/forms/receipt", &form).await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(page.contains("回执号"), "[{}] {page}", db.label);
        wait_processed(&running).await;
        let (status, chain) = get(&running, "/api/v1/trace/units/W000026000311", &token).await;
        assert_eq!(status, 200, "[{}] {chain}", db.label);
        assert_eq!(chain["events"][0]["kind"], "received");
        assert_eq!(chain["events"][0]["facility"], H);
        assert_eq!(chain["events"][0]["source"]["channel"], "portal");
        assert_eq!(chain["unit"]["abo"], "O");
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000311", &other_token).await;
        assert_ne!(status, 200, "[{}] another hospital sees the unit", db.label);
        assert_eq!(
            count(
                &running,
                "SELECT COUNT(*) FROM messages WHERE facility = 'H3201002'"
            )
            .await,
            0
        );

        // An invalid blood group: the form comes back with the message
        // beside the field and what was typed; the raw submission is kept
        // as refused and nothing reaches the unit tables.
        let before = count(&running, "SELECT COUNT(*) FROM events").await;
        let mut bad = receipt_form("W000026000312", "C");
        bad.push(("csrf", &csrf));
        let (status, page, _) = browser.post("/portal/forms/receipt", &bad).await;
        assert_eq!(status, 422, "[{}] {page}", db.label);
        assert!(
            page.contains(
                "<span class=\"field-error\" id=\"error-abo\">ABO 血型应为 A、B、O 或 AB</span>"
            ),
            "[{}] {page}",
            db.label
        );
        assert!(page.contains("value=\"W000026000312\""), "typed DIN kept");
        assert!(
            page.contains("<option value=\"C\" selected>C</option>"),
            "typed ABO kept"
        );
        wait_processed(&running).await;
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, before);
        let row =
            sqlx::query("SELECT status, channel, facility FROM messages ORDER BY id DESC LIMIT 1")
                .fetch_one(running.store.pool())
                .await
                .unwrap();
        assert_eq!(row.try_get::<String, _>("status").unwrap(), "error");
        assert_eq!(row.try_get::<String, _>("channel").unwrap(), "portal");
        assert_eq!(row.try_get::<String, _>("facility").unwrap(), H);
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000312", &token).await;
        assert_eq!(status, 404, "[{}]", db.label);

        // A missing required field is named in Chinese too.
        let (status, page, _) = browser
            .post(
                "/portal/forms/discard",
                &[
                    ("csrf", csrf.as_str()),
                    ("unit", "W000026000311"),
                    ("product", "RBC-LR"),
                    ("at", "2026-11-24T10:00"),
                ],
            )
            .await;
        assert_eq!(status, 422, "[{}]", db.label);
        assert!(
            page.contains("id=\"error-reason\">此项必填"),
            "[{}] {page}",
            db.label
        );

        // A stock report from the lines that were filled in (empty lines
        // and a line with only its measure chosen are left out).
        let (status, page, _) = browser
            .post(
                "/portal/forms/stock",
                &[
                    ("csrf", csrf.as_str()),
                    ("at", "2026-11-24T18:00"),
                    ("items.0.measure", "U"),
                    ("items.3.product", "RBC-LR"),
                    ("items.3.abo", "O"),
                    ("items.3.rh", "+"),
                    ("items.3.quantity", "12"),
                    ("items.3.measure", "U"),
                    ("items.5.product", "PLT-APH"),
                    ("items.5.quantity", "十二"),
                    ("items.5.measure", "dose"),
                ],
            )
            .await;
        assert_eq!(
            status, 422,
            "[{}] a quantity in words passed: {page}",
            db.label
        );
        assert!(
            page.contains("id=\"error-items.5.quantity\""),
            "[{}] {page}",
            db.label
        );
        let (status, page, _) = browser
            .post(
                "/portal/forms/stock",
                &[
                    ("csrf", csrf.as_str()),
                    ("at", "2026-11-24T18:00"),
                    ("items.3.product", "RBC-LR"),
                    ("items.3.abo", "O"),
                    ("items.3.rh", "+"),
                    ("items.3.quantity", "12"),
                    ("items.3.measure", "U"),
                ],
            )
            .await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(
            page.contains("库存 (Stock) 已提交成功"),
            "[{}] {page}",
            db.label
        );
        wait_processed(&running).await;

        // The history lists both submissions of this hospital.
        let (status, page, _) = browser.get("/portal/history").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("成功 (ok)") && page.contains("有错误 (error)"),
            "[{}] {page}",
            db.label
        );
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulators_get_the_placeholder_not_the_hospital_forms() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        running
            .store
            .upsert_user("jianguan", PASSWORD, Role::Regulator, None)
            .await
            .unwrap();
        let browser = Browser::new(&running);
        let (status, _, _) = browser.login("jianguan", PASSWORD).await;
        assert_eq!(status, 303);
        let (status, page, _) = browser.get("/").await;
        assert_eq!(status, 200);
        assert!(page.contains("监管视图"), "[{}] {page}", db.label);
        let (status, _, _) = browser.get("/portal/forms/receipt").await;
        assert_eq!(status, 403, "[{}]", db.label);
        running.stop().await;
    }
}

fn repo_file(path: &str) -> Vec<u8> {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl Browser {
    /// Uploads a file on the upload page's form.
    async fn upload(&self, csrf: Option<&str>, name: &str, bytes: Vec<u8>) -> (u16, String) {
        let mut form = reqwest::multipart::Form::new();
        if let Some(token) = csrf {
            form = form.text("csrf", token.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let r = self
            .client
            .post(format!("{}/portal/upload", self.base))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_stored_raw_and_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let token = hospital_with_user(&running).await;
        register(&running, OTHER, FacilityKind::Hospital).await;
        let browser = Browser::new(&running);
        browser.login(USER, PASSWORD).await;
        let good = repo_file("hospital-connectors/portal-standard/fixtures/good.csv");

        // No token: refused before anything is stored.
        let (status, _) = browser.upload(None, "good.csv", good.clone()).await;
        assert_eq!(status, 403, "[{}]", db.label);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM messages").await, 0);
        let csrf = browser.csrf("/portal/upload").await;

        // A CSV with bad rows: the file is kept (rejected, with its row
        // errors), the report names the rows, and nothing is applied.
        let bad = repo_file("hospital-connectors/portal-standard/fixtures/bad.csv");
        let (status, page) = browser.upload(Some(&csrf), "bad.csv", bad).await;
        assert_eq!(status, 422, "[{}] {page}", db.label);
        assert!(
            page.contains("id=\"upload-report\""),
            "[{}] {page}",
            db.label
        );
        assert!(page.contains("第 3 行"), "[{}] {page}", db.label);
        assert!(
            page.contains("<td>C</td>"),
            "[{}] the bad value is shown: {page}",
            db.label
        );
        let row = sqlx::query(
            "SELECT status, format, msg_type, channel, facility FROM messages ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(running.store.pool())
        .await
        .unwrap();
        assert_eq!(row.try_get::<String, _>("status").unwrap(), "rejected");
        assert_eq!(row.try_get::<String, _>("format").unwrap(), "csv");
        assert_eq!(row.try_get::<String, _>("msg_type").unwrap(), "Upload");
        assert_eq!(row.try_get::<String, _>("channel").unwrap(), "portal");
        assert_eq!(row.try_get::<String, _>("facility").unwrap(), H);
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, 0);

        // The good file: stored raw, converted, through the door, applied.
        let (status, page) = browser.upload(Some(&csrf), "good.csv", good.clone()).await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(page.contains("上传成功"), "[{}] {page}", db.label);
        wait_processed(&running).await;
        let (status, chain) = get(&running, "/api/v1/trace/units/W042726000001", &token).await;
        assert_eq!(status, 200, "[{}] {chain}", db.label);
        assert_eq!(chain["events"][0]["kind"], "received");
        assert_eq!(chain["events"][0]["source"]["channel"], "portal");
        assert_eq!(
            count(
                &running,
                "SELECT COUNT(*) FROM messages WHERE format = 'csv' AND status = 'ok'"
            )
            .await,
            1
        );

        // The same file again is recognised and not applied twice.
        let events = count(&running, "SELECT COUNT(*) FROM events").await;
        let (status, page) = browser.upload(Some(&csrf), "good.csv", good).await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(page.contains("此前已提交过"), "[{}] {page}", db.label);
        wait_processed(&running).await;
        assert_eq!(count(&running, "SELECT COUNT(*) FROM events").await, events);

        // The XLSX template layout works the same way.
        let xlsx = repo_file("hospital-connectors/portal-standard/fixtures/good.xlsx");
        let (status, page) = browser.upload(Some(&csrf), "good.xlsx", xlsx).await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(
            page.contains("上传成功") || page.contains("此前已提交过"),
            "[{}] {page}",
            db.label
        );

        // An XML document goes straight through the door.
        let xml = repo_file("mapping/document/tests/fixtures/hospital-day.xml");
        let (status, page) = browser.upload(Some(&csrf), "day.xml", xml.clone()).await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(page.contains("13 条记录已接收"), "[{}] {page}", db.label);

        // One naming another hospital is refused and not filed under it.
        let foreign = String::from_utf8(xml)
            .unwrap()
            .replace("facility=\"H3201001\"", "facility=\"H3201002\"");
        let (status, page) = browser
            .upload(Some(&csrf), "x.xml", foreign.into_bytes())
            .await;
        assert_eq!(status, 422, "[{}] {page}", db.label);
        assert!(page.contains("不是您所在的医院"), "[{}] {page}", db.label);
        assert_eq!(
            count(
                &running,
                "SELECT COUNT(*) FROM messages WHERE facility = 'H3201002'"
            )
            .await,
            0
        );

        // The templates download as they are in the repository.
        let r = browser
            .client
            .get(format!("{}/portal/upload/template.xlsx", browser.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            repo_file("hospital-connectors/portal-standard/template.xlsx")
        );
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secure_attribute_can_be_turned_off_for_plain_http_intranets() {
    let dir = tempfile::tempdir().unwrap();
    let db = databases(dir.path()).await.remove(0);
    let settings = settings(
        dir.path(),
        &db.url,
        &[("HEMOBRIDGE_PORTAL_INSECURE_COOKIES", "true")],
    );
    let running = hemobridge_engine::server::start(&settings).await.unwrap();
    hospital_with_user(&running).await;
    let (status, _, headers) = Browser::new(&running).login(USER, PASSWORD).await;
    assert_eq!(status, 303);
    let cookie = set_cookies(&headers)
        .into_iter()
        .find(|c| c.starts_with("hb_session="))
        .unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    running.stop().await;
}

/// An admin sees the outbox's dead letters and re-sends them from the
/// portal; the re-send needs the CSRF token, and hospital users cannot
/// reach the page at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_resend_dead_letters_from_the_outbox_page() {
    use hemobridge_engine::store::outbox::NewItem;
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        // A provincial store nobody listens on: every attempt fails fast.
        let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{dead_port}/provincial");
        let s = settings(
            &dir.path().join(db.label),
            &db.url,
            &[
                ("HEMOBRIDGE_PROVINCIAL_URL", url.as_str()),
                ("HEMOBRIDGE_OUTBOX_RETRY_BASE_MS", "5"),
                ("HEMOBRIDGE_OUTBOX_RETRY_CAP_MS", "20"),
                ("HEMOBRIDGE_OUTBOX_MAX_ATTEMPTS", "2"),
                ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
            ],
        );
        let running = hemobridge_engine::server::start(&s).await.unwrap();
        hospital_with_user(&running).await;
        running
            .store
            .upsert_user("ops", PASSWORD, Role::Admin, None)
            .await
            .unwrap();
        let ids = running
            .store
            .enqueue(&[NewItem {
                route: "provincial".into(),
                kind: "stock".into(),
                key: format!("portal-outbox-test-{}", db.label),
                hospital: Some(H.into()),
                content_type: "application/json".into(),
                body: b"{}".to_vec(),
            }])
            .await
            .unwrap();
        let id = ids[0].expect("queued");
        let attempts = |running: &Running| {
            let store = running.store.clone();
            async move {
                let (item, log) = store.outbox_item(id).await.unwrap().unwrap();
                (item.status, log.len())
            }
        };
        let mut waited = 0;
        while attempts(&running).await.0 != "dead" {
            assert!(waited < 200, "[{}] the item never went dead", db.label);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        let (_, tries_before) = attempts(&running).await;
        assert_eq!(tries_before, 2, "[{}] max attempts", db.label);

        let hospital = Browser::new(&running);
        hospital.login(USER, PASSWORD).await;
        let (status, _, _) = hospital.get("/portal/admin/outbox").await;
        assert_eq!(status, 403, "[{}] a hospital user", db.label);

        let admin = Browser::new(&running);
        let (status, _, _) = admin.login("ops", PASSWORD).await;
        assert_eq!(status, 303, "[{}] admin login", db.label);
        let (status, page, _) = admin.get("/portal/admin/outbox").await;
        assert_eq!(status, 200, "[{}] {page}", db.label);
        assert!(
            page.contains(&format!("name=\"id\" value=\"{id}\"")),
            "[{}] the dead item is offered for re-send: {page}",
            db.label
        );
        assert!(page.contains("connection"), "[{}] its last error", db.label);

        let id_text = id.to_string();
        let (status, _, _) = admin
            .post("/portal/admin/outbox/retry", &[("id", id_text.as_str())])
            .await;
        assert_eq!(status, 403, "[{}] no CSRF token", db.label);
        assert_eq!(attempts(&running).await, ("dead".into(), 2));

        let csrf = admin.csrf("/portal/admin/outbox").await;
        let (status, _, headers) = admin
            .post(
                "/portal/admin/outbox/retry",
                &[("csrf", csrf.as_str()), ("id", id_text.as_str())],
            )
            .await;
        assert_eq!(status, 303, "[{}] re-send", db.label);
        assert_eq!(
            headers.get("location").unwrap(),
            "/portal/admin/outbox?moved=1"
        );
        // Re-sent: the route tries it again (and, still down, dead-letters
        // it again after its attempts).
        let mut waited = 0;
        loop {
            let (status, tries) = attempts(&running).await;
            if tries >= 4 && status == "dead" {
                break;
            }
            assert!(waited < 200, "[{}] not re-sent: {status} {tries}", db.label);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        running.stop().await;
    }
}
