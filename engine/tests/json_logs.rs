//! JSON logs from the real binary: `hemobridge serve` with
//! `HEMOBRIDGE_LOG_FORMAT=json` at debug level, on SQLite and PostgreSQL,
//! receives HL7 messages that carry a patient's name, ID number and
//! medical record number (accepted, invalid, from an unknown facility);
//! every line it writes must be one JSON object, and none may contain that
//! patient data.

mod common;

use common::{databases, hl7, msa};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const H: &str = "H3201001";
const NAME_FAMILY: &str = "欧阳";
const NAME_GIVEN: &str = "明珠";
const ID_NUMBER: &str = "320102199001010010";
const MRN: &str = "MRN7788123";

fn adt(facility: &str, control_id: &str) -> String {
    hl7(&[
        &format!("MSH|^~\\&|HIS|{facility}|HB|PROV|20261120070000+0800||ADT^A01^ADT_A01|{control_id}|P|2.5|||||CHN|UNICODE UTF-8"),
        &format!("PID|1||{MRN}^^^{facility}^MR~{ID_NUMBER}^^^身份证^NNCHN||{NAME_FAMILY}^{NAME_GIVEN}||19900101|F"),
        &format!("PV1|1|I|WARD7^701^1^{facility}"),
    ])
}

/// A BPS^O29 for the same patient whose BPX-11 is no blood group: AE.
fn invalid_bps(control_id: &str) -> String {
    hl7(&[
        &format!("MSH|^~\\&|LIS|{H}|HB|PROV|20261120070000+0800||BPS^O29^BPS_O29|{control_id}|P|2.5"),
        &format!("PID|1||{MRN}^^^{H}^MR~{ID_NUMBER}^^^身份证^NNCHN||{NAME_FAMILY}^{NAME_GIVEN}||19900101|F"),
        &format!("ORC|SC|ORD-{control_id}^{H}"),
        "BPO|1|RBC-LR^去白细胞悬浮红细胞^HB||1",
        "BPX|1|CR^^HL70510|F|20261120080000+0800|W000026000199^^^ISBT128|RBC-LR^去白细胞悬浮红细胞^HB|||||C||20261220235959+0800|1||||WARD7^701",
    ])
}

fn command(data_dir: &std::path::Path, database_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hemobridge"));
    c.env("HEMOBRIDGE_DATA_DIR", data_dir)
        .env("HEMOBRIDGE_DATABASE_URL", database_url)
        .env("HEMOBRIDGE_MLLP_ADDR", "127.0.0.1:0")
        .env("HEMOBRIDGE_HTTP_ADDR", "127.0.0.1:0")
        .env("HEMOBRIDGE_LOG_FORMAT", "json")
        .env("HEMOBRIDGE_LOG", "debug,sqlx=warn")
        .stdin(Stdio::null());
    c
}

/// Every stderr line parses as a JSON object with a level and a message.
fn check_lines(lines: &[String], label: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("[{label}] not JSON ({e}): {line}"));
            assert!(v.is_object() && v["level"].is_string(), "[{label}] {line}");
            for secret in [NAME_FAMILY, NAME_GIVEN, ID_NUMBER, MRN] {
                assert!(!line.contains(secret), "[{label}] {secret} logged: {line}");
            }
            v
        })
        .collect()
}

/// The server process, killed if the test fails before stopping it, so
/// that a failure leaves nothing running.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_parse_and_carry_no_patient_data() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let label = db.label;
        let data_dir = dir.path().join(label);
        let out = command(&data_dir, &db.url)
            .args(["facility", "add", "--code", H, "--name", "测试医院"])
            .output()
            .unwrap();
        assert!(out.status.success(), "[{label}] {out:?}");
        check_lines(
            &String::from_utf8_lossy(&out.stderr)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>(),
            label,
        );

        let mut server = Server(
            command(&data_dir, &db.url)
                .arg("serve")
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stderr = server.0.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        let (mut mllp, mut http) = (None, None);
        while mllp.is_none() || http.is_none() {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("[{label}] no listener lines: {lines:?}"));
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let addr = v["addr"].as_str().map(str::to_string);
                match v["message"].as_str() {
                    Some("MLLP listener ready") => mllp = addr,
                    Some("HTTP API and portal ready") => http = addr,
                    _ => {}
                }
            }
            lines.push(line);
        }
        let (mllp, http) = (mllp.unwrap(), http.unwrap());

        let mut client = hemobridge_mllp::Client::connect(&mllp, Duration::from_secs(5))
            .await
            .unwrap();
        let mut codes = Vec::new();
        for message in [
            adt(H, "LOG-1"),
            invalid_bps("LOG-2"),
            adt("NOBODY", "LOG-3"),
        ] {
            let ack = client.send(message.as_bytes()).await.unwrap();
            codes.push(msa(&String::from_utf8_lossy(&ack)).0);
        }
        assert_eq!(codes, ["AA", "AE", "AR"], "[{label}]");
        // Until the worker has committed the accepted one.
        let mut processed = false;
        let mut text = String::new();
        for _ in 0..200 {
            text = reqwest::get(format!("http://{http}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains("hemobridge_message_processing_seconds_count 1") {
                processed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lines.extend(rx.try_iter());
        assert!(
            processed,
            "[{label}] the ADT was not processed: {text}\n{}",
            lines.join("\n")
        );
        drop(client);

        let stop = Command::new("kill")
            .args(["-TERM", &server.0.id().to_string()])
            .status()
            .unwrap();
        assert!(stop.success());
        let status = server.0.wait().unwrap();
        assert!(status.success(), "[{label}] serve exited with {status}");
        reader.join().unwrap();
        lines.extend(rx.try_iter());

        let events = check_lines(&lines, label);
        let messages: Vec<&str> = events
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert!(messages.contains(&"stopped"), "[{label}] {messages:?}");
    }
}
