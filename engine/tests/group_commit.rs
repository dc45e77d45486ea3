//! The multi-row write paths: a group commit stores many payloads in a few
//! statements, and the worker applies a batch's facts in a few statements,
//! with the same results as one row at a time. Both databases.

mod common;

use hemobridge_canonical::{
    Abo, BloodUnit, EventKind, Measure, Normalized, Patient, Product, Rh, UnitEvent, UnitKey,
};
use hemobridge_engine::crypto::Vault;
use hemobridge_engine::store::canonical::Outcome;
use hemobridge_engine::store::messages::{NewMessage, Status};
use hemobridge_engine::store::Store;

async fn open(url: &str) -> Store {
    let store = Store::connect(url, Vault::from_material(&[7u8; 64]))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn accepted(control_id: &str, ack: &str) -> NewMessage {
    NewMessage {
        channel: "mllp",
        format: "hl7",
        facility: Some("H1".into()),
        msg_type: Some("BPS^O29".into()),
        control_id: Some(control_id.into()),
        charset: None,
        raw: format!("MSH|{control_id}").into_bytes(),
        status: Status::Pending,
        ack_code: Some("AA".into()),
        ack: ack.as_bytes().to_vec(),
        errors: None,
    }
}

async fn status_of(store: &Store, id: i64) -> (String, Option<i64>) {
    let row = sqlx::query("SELECT status, duplicate_of FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    (
        sqlx::Row::get::<String, _>(&row, "status"),
        sqlx::Row::get::<Option<i64>, _>(&row, "duplicate_of"),
    )
}

#[tokio::test]
async fn one_group_commit_answers_each_message_and_finds_duplicates_within_it() {
    let dir = tempfile::tempdir().unwrap();
    for db in common::databases(dir.path()).await {
        let store = open(&db.url).await;
        let earlier = store
            .insert_received(&[accepted("OLD", "ack-old")])
            .await
            .unwrap();
        let mut refused = accepted("C1", "ack-refused");
        refused.status = Status::Rejected;
        refused.ack_code = Some("AR".into());
        let batch = vec![
            accepted("C1", "ack-c1"),
            refused,
            accepted("C2", "ack-c2"),
            accepted("C1", "ack-c1-again"),
            accepted("OLD", "ack-old-again"),
        ];
        let receipts = store.insert_received(&batch).await.unwrap();
        assert_eq!(receipts.len(), 5, "{}", db.label);

        // Each receipt is its own message, in the order given.
        for (receipt, message) in receipts.iter().zip(&batch) {
            let row = sqlx::query("SELECT control_id, raw FROM messages WHERE id = $1")
                .bind(receipt.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(
                sqlx::Row::get::<Vec<u8>, _>(&row, "raw"),
                message.raw,
                "{}",
                db.label
            );
        }
        assert_eq!(receipts[0].duplicate_of, None, "{}", db.label);
        assert_eq!(receipts[0].ack, b"ack-c1", "{}", db.label);
        // A refused payload does not take the key, and is not a duplicate.
        assert_eq!(receipts[1].duplicate_of, None, "{}", db.label);
        assert_eq!(receipts[1].ack_code.as_deref(), Some("AR"), "{}", db.label);
        assert_eq!(
            status_of(&store, receipts[1].id).await.0,
            "rejected",
            "{}",
            db.label
        );
        assert_eq!(receipts[2].duplicate_of, None, "{}", db.label);
        // The same control id twice in one commit: the second gets the first's ACK.
        assert_eq!(
            receipts[3].duplicate_of,
            Some(receipts[0].id),
            "{}",
            db.label
        );
        assert_eq!(receipts[3].ack, b"ack-c1", "{}", db.label);
        assert_eq!(
            status_of(&store, receipts[3].id).await,
            ("duplicate".to_string(), Some(receipts[0].id)),
            "{}",
            db.label
        );
        // A control id taken by an earlier commit.
        assert_eq!(
            receipts[4].duplicate_of,
            Some(earlier[0].id),
            "{}",
            db.label
        );
        assert_eq!(receipts[4].ack, b"ack-old", "{}", db.label);
        assert_eq!(
            status_of(&store, receipts[0].id).await.0,
            "pending",
            "{}",
            db.label
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_group_commit_larger_than_one_statement_keeps_its_order() {
    let dir = tempfile::tempdir().unwrap();
    for db in common::databases(dir.path()).await {
        let store = open(&db.url).await;
        let batch: Vec<NewMessage> = (0..600)
            .map(|i| accepted(&format!("N{i}"), &format!("ack-{i}")))
            .collect();
        let receipts = store.insert_received(&batch).await.unwrap();
        assert_eq!(receipts.len(), 600, "{}", db.label);
        for (i, receipt) in receipts.iter().enumerate() {
            assert_eq!(receipt.ack, format!("ack-{i}").into_bytes(), "{}", db.label);
            let row = sqlx::query("SELECT control_id FROM messages WHERE id = $1")
                .bind(receipt.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(
                sqlx::Row::get::<String, _>(&row, "control_id"),
                format!("N{i}"),
                "{}",
                db.label
            );
        }
        store.close().await;
    }
}

fn at(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap()
}

fn issued(din: &str, when: &str) -> UnitEvent {
    let mut event = UnitEvent::new(
        EventKind::Issued,
        at(when),
        "H1",
        UnitKey {
            din: din.into(),
            product: Product::RbcLr,
        },
    );
    event.patient_key = Some("P1".into());
    event
}

fn unit(din: &str) -> BloodUnit {
    BloodUnit::new(din, Product::RbcLr)
}

#[tokio::test]
async fn one_batch_apply_merges_facts_like_one_message_after_another() {
    let dir = tempfile::tempdir().unwrap();
    for db in common::databases(dir.path()).await {
        let store = open(&db.url).await;
        let receipts = store
            .insert_received(&[accepted("A", "a"), accepted("B", "b"), accepted("C", "c")])
            .await
            .unwrap();
        let (a, b, c) = (receipts[0].id, receipts[1].id, receipts[2].id);

        // Message A knows the group and volume; B, later, knows another
        // volume and the expiry but not the group; both report the same
        // issue event and the same patient.
        let mut first_unit = unit("W000026000001");
        first_unit.abo = Some(Abo::O);
        first_unit.rh = Some(Rh::Pos);
        first_unit.volume_ml = Some(200);
        first_unit.measure = Measure::U;
        let mut second_unit = unit("W000026000001");
        second_unit.volume_ml = Some(400);
        second_unit.measure = Measure::Ml;
        second_unit.expires = Some(at("2026-12-20T23:59:59+08:00"));
        let mut first_patient = Patient::new("H1", "P1");
        first_patient.birth_date = chrono::NaiveDate::from_ymd_opt(1980, 1, 1);
        let mut second_patient = Patient::new("H1", "P1");
        second_patient.blood_group.abo = Some(Abo::A);
        let event = issued("W000026000001", "2026-11-22T08:30:00+08:00");
        let facts_a = Normalized {
            patients: vec![first_patient],
            units: vec![first_unit],
            events: vec![event.clone()],
        };
        let facts_b = Normalized {
            patients: vec![second_patient],
            units: vec![second_unit],
            events: vec![
                event.clone(),
                issued("W000026000001", "2026-11-22T09:30:00+08:00"),
            ],
        };
        let batch = vec![
            (a, "mllp".to_string(), Outcome::Applied(facts_a.into())),
            (b, "mllp".to_string(), Outcome::Applied(facts_b.into())),
            (
                c,
                "mllp".to_string(),
                Outcome::Failed(r#"[{"code":"x"}]"#.into()),
            ),
        ];
        store.apply_batch(&batch).await.unwrap();

        let u = sqlx::query(
            "SELECT abo, rh, volume_ml, measure, expires FROM units WHERE din = 'W000026000001'",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(u.len(), 1, "{}", db.label);
        let get = |col: &str| sqlx::Row::get::<Option<String>, _>(&u[0], col);
        assert_eq!(get("abo").as_deref(), Some("O"), "{}", db.label);
        assert_eq!(get("rh").as_deref(), Some("+"), "{}", db.label);
        assert_eq!(
            sqlx::Row::get::<Option<i64>, _>(&u[0], "volume_ml"),
            Some(400),
            "{}",
            db.label
        );
        assert_eq!(
            get("measure").as_deref(),
            Some(Measure::U.as_str()),
            "{}",
            db.label
        );
        assert!(get("expires").is_some(), "{}", db.label);

        let p = sqlx::query("SELECT birth_date, abo FROM patients WHERE patient_key = 'P1'")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(p.len(), 1, "{}", db.label);
        assert_eq!(
            sqlx::Row::get::<Option<String>, _>(&p[0], "birth_date").as_deref(),
            Some("1980-01-01"),
            "{}",
            db.label
        );
        assert_eq!(
            sqlx::Row::get::<Option<String>, _>(&p[0], "abo").as_deref(),
            Some("A"),
            "{}",
            db.label
        );

        // The shared event is stored once, for the first message; B's own
        // second event is stored for B.
        let events = sqlx::query("SELECT at_ms, message_id FROM events ORDER BY at_ms")
            .fetch_all(store.pool())
            .await
            .unwrap();
        let events: Vec<i64> = events
            .iter()
            .map(|r| sqlx::Row::get::<i64, _>(r, "message_id"))
            .collect();
        assert_eq!(events, vec![a, b], "{}", db.label);

        assert_eq!(status_of(&store, a).await.0, "ok", "{}", db.label);
        assert_eq!(status_of(&store, b).await.0, "ok", "{}", db.label);
        assert_eq!(status_of(&store, c).await.0, "error", "{}", db.label);
        let attempts = sqlx::query("SELECT attempts FROM messages WHERE id = $1")
            .bind(a)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&attempts, "attempts"), 1);

        // Applying the same batch again changes no fact (replay).
        store.apply_batch(&batch).await.unwrap();
        let n = sqlx::query("SELECT COUNT(*) AS n FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&n, "n"), 2, "{}", db.label);
        store.close().await;
    }
}
