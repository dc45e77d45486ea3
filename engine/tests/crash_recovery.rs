//! Kill -9 during a stream of messages, then restart: every message that was
//! ACKed is in the store and processed exactly once, and the sender's
//! resends of unacknowledged messages are recognised as duplicates where the
//! first copy had been committed.

use hemobridge_engine::crypto::Vault;
use hemobridge_engine::store::Store;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FACILITY: &str = "H3201001";
const TOTAL: usize = 1500;
const KILL_AFTER: usize = 400;

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_hemobridge")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(data: &Path, mllp: u16, http: u16) -> Command {
    let mut c = Command::new(binary());
    c.env("HEMOBRIDGE_DATA_DIR", data)
        .env("HEMOBRIDGE_MLLP_ADDR", format!("127.0.0.1:{mllp}"))
        .env("HEMOBRIDGE_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env_remove("HEMOBRIDGE_DATABASE_URL")
        .env_remove("HEMOBRIDGE_AMQP_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

async fn start(data: &Path, mllp: u16, http: u16) -> Child {
    let mut child = command(data, mllp, http)
        .arg("serve")
        .spawn()
        .expect("serve starts");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", mllp))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("engine did not start listening");
}

fn message(i: usize) -> (String, String) {
    let control_id = format!("CRASH-{i:06}");
    let text = format!(
        "MSH|^~\\&|LIS|{FACILITY}|HB|PROV|20261122080000+0800||BPS^O29|{control_id}|P|2.5\r\
         ORC|SC|O{i}\rBPO|1|RBC-LR||1\r\
         BPX|1|CR|F|20261122080000+0800|W0000260{i:05}|RBC-LR|||||5100||20261220|1\r"
    );
    (text, control_id)
}

/// Sends messages `from..TOTAL` one by one; returns the control ids ACKed
/// with AA, stopping at the first transport error (the engine died).
async fn stream(
    addr: &str,
    from: usize,
    acked: &mut Vec<String>,
    stop_after: Option<usize>,
) -> usize {
    let mut client = match hemobridge_mllp::Client::connect(addr, Duration::from_secs(5)).await {
        Ok(c) => c,
        Err(_) => return from,
    };
    for i in from..TOTAL {
        if stop_after.is_some_and(|n| acked.len() >= n) {
            return i;
        }
        let (text, control_id) = message(i);
        match client.send(text.as_bytes()).await {
            Ok(ack) => {
                let ack = String::from_utf8_lossy(&ack);
                assert!(ack.contains(&format!("MSA|AA|{control_id}")), "{ack}");
                acked.push(control_id);
            }
            Err(_) => return i,
        }
    }
    TOTAL
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mllp, http) = (free_port(), free_port());
    let added = command(&data, mllp, http)
        .args(["facility", "add", "--code", FACILITY, "--name", "测试医院"])
        .status()
        .unwrap();
    assert!(added.success());

    let mut engine = start(&data, mllp, http).await;
    let addr = format!("127.0.0.1:{mllp}");
    let mut acked = Vec::new();
    // Stream until KILL_AFTER are acknowledged, then SIGKILL while a second
    // sender is still streaming so that the kill lands mid-flow.
    let next = stream(&addr, 0, &mut acked, Some(KILL_AFTER)).await;
    let addr2 = addr.clone();
    let background = tokio::spawn(async move {
        let mut more = Vec::new();
        let next = stream(&addr2, next, &mut more, None).await;
        (next, more)
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    engine.kill().expect("SIGKILL");
    engine.wait().unwrap();
    let (resume_from, more) = background.await.unwrap();
    acked.extend(more);
    assert!(resume_from < TOTAL, "the kill should land mid-stream");

    // Restart and resend from the first message not acknowledged (the
    // sender cannot know whether it was committed).
    let mut engine = start(&data, mllp, http).await;
    let end = stream(&addr, resume_from, &mut acked, None).await;
    assert_eq!(end, TOTAL);

    // Read the store beside the running engine (WAL) until the worker has
    // taken everything, then stop the engine cleanly (SIGTERM).
    let vault = Vault::open_or_create(&data.join("keys/patient-data.key")).unwrap();
    let store = Store::connect(&format!("sqlite://{}/hemobridge.db", data.display()), vault)
        .await
        .unwrap();
    for _ in 0..500 {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status = 'pending'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &engine.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(engine.wait().unwrap().success(), "clean stop on SIGTERM");
    // Every acknowledged message is stored and was processed (status ok).
    let ok: HashSet<String> =
        sqlx::query_scalar::<_, String>("SELECT control_id FROM messages WHERE status = 'ok'")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let acked_set: HashSet<String> = acked.iter().cloned().collect();
    assert_eq!(
        acked_set.len(),
        TOTAL,
        "every message was acknowledged once in the end"
    );
    for id in &acked_set {
        assert!(ok.contains(id), "{id} was ACKed but is not processed");
    }
    // Exactly once: one processed copy and one event per message.
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status = 'ok'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status = 'pending'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(
        processed, TOTAL as i64,
        "each message processed exactly once"
    );
    assert_eq!(events, TOTAL as i64, "one event per message, none doubled");
    store.close().await;
}
