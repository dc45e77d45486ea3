//! Every message of the public HL7 v2 corpus (`corpus/public-hl7v2/`, 138
//! real-world-shaped samples of many types and versions) is stored raw and
//! answered over MLLP: AA for the types the engine handles (ADT), AR with
//! ERR code 200 for the others; never a dropped connection. ADT messages
//! create or update the patient.

use hemobridge_canonical::{Facility, FacilityKind};
use hemobridge_engine::config::{FileConfig, Settings};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/public-hl7v2");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "hl7"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_sample_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("HEMOBRIDGE_DATA_DIR", dir.path().display().to_string()),
        ("HEMOBRIDGE_MLLP_ADDR", "127.0.0.1:0".to_string()),
        ("HEMOBRIDGE_HTTP_ADDR", "127.0.0.1:0".to_string()),
    ]);
    let settings = Settings::resolve(FileConfig::default(), |k| env.get(k).cloned()).unwrap();
    let running = hemobridge_engine::server::start(&settings).await.unwrap();
    let cfg = hemobridge_hl7::Config::default();

    let files = corpus();
    assert!(files.len() >= 130, "corpus incomplete: {}", files.len());
    // Register every sending facility, so that the answer depends on the
    // message type alone.
    let mut messages = Vec::new();
    let mut facilities = BTreeSet::new();
    for (name, bytes) in &files {
        for m in hemobridge_hl7::split_raw_messages(bytes) {
            let header = hemobridge_hl7::header_lossy(m, &cfg)
                .unwrap_or_else(|| panic!("{name}: no readable MSH"));
            facilities.insert(header.sending_facility.clone());
            messages.push((name.clone(), header, m));
        }
    }
    for code in &facilities {
        if code.is_empty() {
            continue;
        }
        running
            .store
            .upsert_facility(&Facility {
                code: code.clone(),
                name: code.clone(),
                kind: FacilityKind::Hospital,
                region: None,
                province: None,
            })
            .await
            .unwrap();
    }

    let mut client =
        hemobridge_mllp::Client::connect(&running.mllp_addr.to_string(), Duration::from_secs(5))
            .await
            .unwrap();
    let mut adt_patients = BTreeSet::new();
    let mut answered = 0;
    for (name, header, raw) in &messages {
        let ack = client
            .send(raw)
            .await
            .unwrap_or_else(|e| panic!("{name}: no ACK, connection failed: {e}"));
        let ack = String::from_utf8_lossy(&ack).into_owned();
        let msa: Vec<&str> = ack
            .split('\r')
            .find(|s| s.starts_with("MSA"))
            .unwrap_or_else(|| panic!("{name}: ACK without MSA: {ack:?}"))
            .split('|')
            .collect();
        assert_eq!(msa[2], header.control_id, "{name}: MSA-2 must echo MSH-10");
        let handled = header.message_code == "ADT" && !header.sending_facility.is_empty();
        // Enhanced mode (MSH-15 set) answers with the commit ACK.
        let expected = match (handled, header.enhanced_mode()) {
            (true, false) => "AA",
            (true, true) => "CA",
            (false, false) => "AR",
            (false, true) => "CR",
        };
        assert_eq!(
            msa[1],
            expected,
            "{name} ({}): {ack}",
            header.message_type()
        );
        if !handled {
            assert!(ack.contains("ERR|"), "{name}: AR without ERR: {ack}");
        } else {
            adt_patients.insert(header.sending_facility.clone());
        }
        // An application ACK follows where MSH-16 asks for one.
        let wants_application_ack = header.enhanced_mode()
            && (header.application_ack_type == "AL"
                || (header.application_ack_type == "SU" && handled)
                || (header.application_ack_type == "ER" && !handled));
        if wants_application_ack {
            let app = client.receive().await.expect("application ACK");
            let app = String::from_utf8_lossy(&app).into_owned();
            let code = if handled { "MSA|AA|" } else { "MSA|AR|" };
            assert!(app.contains(code), "{name}: application ACK {app:?}");
        }
        answered += 1;
    }
    assert_eq!(answered, messages.len());

    // Every message was stored raw, whatever its answer.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(running.store.pool())
        .await
        .unwrap();
    assert_eq!(stored as usize, messages.len());
    // ADT messages created patients once the worker took them.
    let mut patients = 0i64;
    for _ in 0..250 {
        patients = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
            .fetch_one(running.store.pool())
            .await
            .unwrap();
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE status = 'pending'")
                .fetch_one(running.store.pool())
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        patients >= adt_patients.len() as i64 && patients > 0,
        "ADT messages must create patients ({patients})"
    );
    let failed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE status = 'error' AND msg_type LIKE 'ADT%'",
    )
    .fetch_one(running.store.pool())
    .await
    .unwrap();
    assert_eq!(failed, 0, "no accepted ADT message may fail in processing");
    running.stop().await;
}
