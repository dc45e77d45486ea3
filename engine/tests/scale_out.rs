//! Scale-out: several engine processes on one PostgreSQL database with
//! RabbitMQ as the work queue (`HEMOBRIDGE_AMQP_URL`).
//!
//! Needs PostgreSQL (`HEMOBRIDGE_TEST_DATABASE_URL`) and RabbitMQ
//! (`HEMOBRIDGE_TEST_AMQP_URL`): with `HEMOBRIDGE_REQUIRE_SERVICES=1` a
//! missing or unreachable one fails the test, otherwise the test is skipped
//! with the reason. Every test uses its own queue names (a unique
//! `amqp_queue_prefix`) and its own schema, and deletes its queues after.

mod common;

use common::register;
use hemobridge_amqp::{Publisher, Topology};
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::broker::BrokerStats;
use hemobridge_engine::server::{self, Running};
use hemobridge_engine::store::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const FACILITY: &str = "H3201001";
static PREFIX_SEQ: AtomicU32 = AtomicU32::new(0);

struct Services {
    database_url: String,
    amqp_url: String,
    prefix: String,
}

impl Services {
    fn topology(&self) -> Topology {
        Topology::with_prefix(&self.prefix)
    }

    /// Deletes this test's exchanges and queues.
    async fn clean_up(&self) {
        if let Ok(conn) = hemobridge_amqp::connect(&self.amqp_url).await {
            if let Ok(channel) = conn.create_channel().await {
                let _ = self.topology().delete(&channel).await;
            }
            let _ = conn.close(200, "test done").await;
        }
    }
}

fn required() -> bool {
    std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1")
}

/// PostgreSQL (a fresh schema) and RabbitMQ, or `None` with the reason
/// printed; panics instead when the services are required.
async fn services() -> Option<Services> {
    let amqp_url = match std::env::var("HEMOBRIDGE_TEST_AMQP_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                !required(),
                "HEMOBRIDGE_REQUIRE_SERVICES=1 but HEMOBRIDGE_TEST_AMQP_URL is not set"
            );
            eprintln!("SKIPPED: HEMOBRIDGE_TEST_AMQP_URL is not set");
            return None;
        }
    };
    if let Err(e) = hemobridge_amqp::connect(&amqp_url).await {
        assert!(
            !required(),
            "RabbitMQ at HEMOBRIDGE_TEST_AMQP_URL is not reachable: {e}"
        );
        eprintln!("SKIPPED: RabbitMQ is not reachable: {e}");
        return None;
    }
    let Some(database_url) = common::postgres_url().await else {
        eprintln!("SKIPPED: scale-out needs PostgreSQL");
        return None;
    };
    let prefix = format!(
        "hbtest-{}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        PREFIX_SEQ.fetch_add(1, Ordering::Relaxed)
    );
    Some(Services {
        database_url,
        amqp_url,
        prefix,
    })
}

async fn engine(dir: &Path, s: &Services, amqp_url: &str, extra: &[(&str, &str)]) -> Running {
    let mut vars = vec![
        ("HEMOBRIDGE_AMQP_URL", amqp_url),
        ("HEMOBRIDGE_AMQP_QUEUE_PREFIX", s.prefix.as_str()),
    ];
    vars.extend_from_slice(extra);
    server::start(&common::settings(dir, &s.database_url, &vars))
        .await
        .expect("engine starts")
}

/// Sends `bps_message(seq)` for every seq over `connections` MLLP
/// connections; returns (control id, MSA-1) for each answered message.
async fn send(
    addr: SocketAddr,
    run: &str,
    seqs: std::ops::Range<u64>,
    connections: u64,
) -> Vec<(String, String)> {
    let mut tasks = Vec::new();
    for c in 0..connections {
        let run = run.to_string();
        let mine: Vec<u64> = seqs.clone().filter(|s| s % connections == c).collect();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let Ok(mut client) =
                hemobridge_mllp::Client::connect(&addr.to_string(), Duration::from_secs(5)).await
            else {
                return out;
            };
            for seq in mine {
                let (bytes, control_id) =
                    hemobridge_engine::loadgen::bps_message(FACILITY, seq, &run);
                match client.send(&bytes).await {
                    Ok(ack) => {
                        let (code, acked_id) = common::msa(&String::from_utf8_lossy(&ack));
                        assert_eq!(acked_id, control_id, "ACK answers its own message");
                        out.push((control_id, code));
                    }
                    Err(_) => return out,
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

async fn count(store: &Store, sql: &str) -> i64 {
    let row = sqlx::query(sql).fetch_one(store.pool()).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&row, 0).unwrap()
}

async fn status_count(store: &Store, status: &str) -> i64 {
    store
        .count_by_status()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| s == status)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

/// Waits until nothing is pending and `ok` rows reach `expected`.
async fn wait_ok(store: &Store, expected: i64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let ok = status_count(store, "ok").await;
        let pending = status_count(store, "pending").await;
        if ok >= expected && pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {within:?}: {ok} ok of {expected}, {pending} still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message processed once: `ok` rows, one per control id, and the
/// two events each generated message carries (the messages' sequence
/// numbers, and so their DINs, must not repeat within a test).
async fn assert_exactly_once(store: &Store, messages: i64) {
    assert_eq!(status_count(store, "ok").await, messages);
    assert_eq!(status_count(store, "pending").await, 0);
    assert_eq!(
        count(
            store,
            "SELECT COUNT(DISTINCT control_id) FROM messages WHERE status = 'ok'"
        )
        .await,
        messages,
        "one ok row per control id"
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM events").await,
        2 * messages,
        "one set of events per message"
    );
    assert_eq!(
        count(store, "SELECT COUNT(DISTINCT message_id) FROM events").await,
        messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_share_one_queue_and_process_each_message_once() {
    let Some(s) = services().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = engine(dir.path(), &s, &s.amqp_url, &[]).await;
    let b = engine(dir.path(), &s, &s.amqp_url, &[]).await;
    register(&a, FACILITY, FacilityKind::Hospital).await;

    let started = std::time::Instant::now();
    let (to_a, to_b) = tokio::join!(
        send(a.mllp_addr, "SA", 0..1000, 4),
        send(b.mllp_addr, "SA", 1000..2000, 4)
    );
    let acked: Vec<_> = to_a.into_iter().chain(to_b).collect();
    assert_eq!(acked.len(), 2000);
    assert!(
        acked.iter().all(|(_, code)| code == "AA"),
        "every message AA"
    );
    wait_ok(&a.store, 2000, Duration::from_secs(120)).await;
    eprintln!(
        "2000 messages over two engines (debug build): {:.1} s from first send to last processed",
        started.elapsed().as_secs_f64()
    );
    assert_exactly_once(&a.store, 2000).await;

    let done_a = BrokerStats::get(&a.broker_stats.processed);
    let done_b = BrokerStats::get(&b.broker_stats.processed);
    eprintln!("processed by A: {done_a}, by B: {done_b}");
    assert!(
        done_a > 0 && done_b > 0,
        "both engines did some of the work"
    );
    assert!(done_a + done_b >= 2000);
    assert_eq!(
        BrokerStats::get(&a.broker_stats.published) + BrokerStats::get(&b.broker_stats.published),
        2000,
        "each committed message published once after its commit"
    );
    a.stop().await;
    b.stop().await;
    s.clean_up().await;
}

/// A TCP proxy that can be cut (every connection closed, new ones refused)
/// and restored: the broker "goes away" without touching RabbitMQ.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Default::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(link.abort_handle());
            }
        });
        Proxy { addr, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// The AMQP URL through the proxy.
    fn url(&self, direct: &str) -> String {
        let rest = direct.strip_prefix("amqp://").expect("amqp:// URL");
        let (userinfo, after) = match rest.split_once('@') {
            Some((u, a)) => (format!("{u}@"), a),
            None => (String::new(), rest),
        };
        let path = after.find('/').map(|i| &after[i..]).unwrap_or("");
        format!("amqp://{userinfo}{}{path}", self.addr)
    }
}

async fn broker_addr(url: &str) -> SocketAddr {
    let rest = url.strip_prefix("amqp://").expect("amqp:// URL");
    let after = rest.split_once('@').map(|(_, a)| a).unwrap_or(rest);
    let host_port = after.split('/').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5672")
    };
    tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_outage_keeps_acking_and_catches_up_after() {
    let Some(s) = services().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(broker_addr(&s.amqp_url).await).await;
    let a = engine(dir.path(), &s, &proxy.url(&s.amqp_url), &[]).await;
    register(&a, FACILITY, FacilityKind::Hospital).await;

    let before = send(a.mllp_addr, "OB", 0..50, 2).await;
    assert!(before.iter().all(|(_, c)| c == "AA"));
    wait_ok(&a.store, 50, Duration::from_secs(30)).await;

    proxy.cut();
    let during = send(a.mllp_addr, "OD", 50..250, 2).await;
    assert_eq!(during.len(), 200);
    assert!(
        during.iter().all(|(_, c)| c == "AA"),
        "committed messages are ACKed while the broker is away"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        status_count(&a.store, "pending").await,
        200,
        "nothing is processed without the broker (the broker carries the work)"
    );

    proxy.restore();
    wait_ok(&a.store, 250, Duration::from_secs(60)).await;
    assert_exactly_once(&a.store, 250).await;
    let published = BrokerStats::get(&a.broker_stats.published);
    let republished = BrokerStats::get(&a.broker_stats.republished);
    eprintln!("after the outage: {published} published after commit, {republished} republished");
    assert!(
        published + republished >= 250,
        "what was committed during the outage was published once the broker was back"
    );
    a.stop().await;
    s.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_engine_loses_nothing_and_doubles_nothing() {
    let Some(s) = services().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let b = engine(dir.path(), &s, &s.amqp_url, &[]).await;
    register(&b, FACILITY, FacilityKind::Hospital).await;

    // Engine A is the real binary, so that it can die by SIGKILL.
    let mllp_addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hemobridge"))
        .arg("serve")
        .env("HEMOBRIDGE_DATA_DIR", dir.path())
        .env("HEMOBRIDGE_DATABASE_URL", &s.database_url)
        .env("HEMOBRIDGE_AMQP_URL", &s.amqp_url)
        .env("HEMOBRIDGE_AMQP_QUEUE_PREFIX", &s.prefix)
        .env("HEMOBRIDGE_MLLP_ADDR", mllp_addr.to_string())
        .env("HEMOBRIDGE_HTTP_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("engine binary starts");
    let mut ready = false;
    for _ in 0..300 {
        if TcpStream::connect(mllp_addr).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "engine A listens for MLLP");

    // Both take traffic; A is killed while its senders are mid-stream.
    let to_a = tokio::spawn(send(mllp_addr, "KA", 0..3000, 4));
    let to_b = tokio::spawn(send(b.mllp_addr, "KB", 3000..3500, 2));
    let store = b.store.clone();
    for _ in 0..600 {
        if count(
            &store,
            "SELECT COUNT(*) FROM messages WHERE control_id LIKE 'LGKA%'",
        )
        .await
            >= 400
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().expect("SIGKILL");
    let _ = child.wait().await;
    let acked_by_a = to_a.await.unwrap();
    let acked_by_b = to_b.await.unwrap();
    assert!(
        acked_by_a.len() >= 400 && acked_by_a.len() < 3000,
        "A was killed mid-stream ({} ACKed)",
        acked_by_a.len()
    );
    assert_eq!(acked_by_b.len(), 500);

    // Everything either engine committed (and so everything ACKed) is
    // processed by B alone, once.
    let committed = count(&store, "SELECT COUNT(*) FROM messages").await;
    assert!(committed >= (acked_by_a.len() + acked_by_b.len()) as i64);
    wait_ok(&store, committed, Duration::from_secs(90)).await;
    assert_exactly_once(&store, committed).await;
    for (control_id, code) in acked_by_a.iter().chain(&acked_by_b) {
        assert_eq!(code, "AA");
        let row = sqlx::query("SELECT status FROM messages WHERE control_id = $1")
            .bind(control_id)
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(row.len(), 1, "{control_id} stored once");
        let status: String = sqlx::Row::try_get(&row[0], "status").unwrap();
        assert_eq!(status, "ok", "{control_id} processed");
    }
    b.stop().await;
    s.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_is_parked_or_dead_lettered_and_blocks_nothing() {
    let Some(s) = services().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = engine(dir.path(), &s, &s.amqp_url, &[]).await;
    register(&a, FACILITY, FacilityKind::Hospital).await;

    // A committed message that no longer maps (as after a mapping change),
    // stored without the writer, so only the republisher can publish it;
    // and a delivery that is not a work item at all, ahead of good ones.
    let poison = hemobridge_engine::store::messages::NewMessage {
        channel: "mllp",
        format: "hl7",
        facility: Some(FACILITY.into()),
        msg_type: Some("BPS^O29".into()),
        control_id: Some("POISON1".into()),
        charset: Some("UTF-8".into()),
        raw: b"MSH|this is not a message\r".to_vec(),
        status: hemobridge_engine::store::messages::Status::Pending,
        ack_code: Some("AA".into()),
        ack: Vec::new(),
        errors: None,
    };
    let receipt = a.store.insert_received(&[poison]).await.unwrap().remove(0);
    let conn = hemobridge_amqp::connect(&s.amqp_url).await.unwrap();
    let publisher = Publisher::open(&conn, &s.topology()).await.unwrap();
    publisher
        .publish_batch(&[b"not json".to_vec()])
        .await
        .unwrap();

    let good = send(a.mllp_addr, "PG", 0..100, 2).await;
    assert!(good.iter().all(|(_, c)| c == "AA"));
    wait_ok(&a.store, 100, Duration::from_secs(30)).await;
    assert!(
        BrokerStats::get(&a.broker_stats.republished) >= 1,
        "the republisher published the row nobody had published"
    );

    let parked = a.store.message(receipt.id).await.unwrap().unwrap();
    assert_eq!(
        parked.summary.status, "error",
        "the poison message is parked"
    );
    assert!(
        parked
            .summary
            .errors
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "with its reasons: {}",
        parked.summary.errors
    );
    assert_eq!(BrokerStats::get(&a.broker_stats.dead_lettered), 1);
    let mut dead = 0;
    for _ in 0..50 {
        dead = s.topology().dead(publisher.channel()).await.unwrap();
        if dead == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        dead, 1,
        "the non-work-item delivery is in the dead-letter queue"
    );
    assert_eq!(s.topology().ready(publisher.channel()).await.unwrap(), 0);
    let _ = conn.close(200, "done").await;
    a.stop().await;
    s.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_deliver_each_outbox_item_once() {
    let Some(s) = services().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let received: Arc<Mutex<Vec<String>>> = Default::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/in", listener.local_addr().unwrap());
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/in",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push(key);
                // Slow enough that two deliverers would overlap.
                tokio::time::sleep(Duration::from_millis(20)).await;
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let route = [
        ("HEMOBRIDGE_PROVINCIAL_URL", url.as_str()),
        ("HEMOBRIDGE_OUTBOX_SCHEDULE", "off"),
    ];
    let a = engine(dir.path(), &s, &s.amqp_url, &route).await;
    let b = engine(dir.path(), &s, &s.amqp_url, &route).await;

    let items: Vec<_> = (0..60)
        .map(|i| hemobridge_engine::store::outbox::NewItem {
            route: "provincial".into(),
            kind: "daily".into(),
            key: format!("singleton-{i}"),
            hospital: None,
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
        })
        .collect();
    // Half queued through each engine, so that both are woken.
    a.store.enqueue(&items[..30]).await.unwrap();
    b.store.enqueue(&items[30..]).await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < 60 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a second deliverer, if there were one, time to send again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let keys = received.lock().unwrap().clone();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 60, "every item delivered");
    assert_eq!(keys.len(), 60, "no item delivered twice");

    // One session holds the route's advisory lock.
    let key = hemobridge_engine::singleton::lock_key("outbox:provincial");
    let holders = count(
        &a.store,
        &format!(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = {}",
            key
        ),
    )
    .await;
    assert_eq!(holders, 1, "one process holds the route's lock");
    a.stop().await;
    b.stop().await;
    s.clean_up().await;
}
