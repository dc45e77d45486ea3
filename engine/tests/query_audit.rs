//! Every regulator (and admin) query is written to an append-only log that
//! admins can read; hospital tokens neither appear in it nor read it.

mod common;

use common::*;
use hemobridge_canonical::FacilityKind;
use hemobridge_engine::store::admin::{new_token, Role};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulator_queries_are_logged_append_only() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let running = start(&dir.path().join(db.label), &db).await;
        let hospital = register(&running, "H1", FacilityKind::Hospital).await;
        let regulator = new_token();
        running
            .store
            .insert_token(&regulator, Role::Regulator, None, "test")
            .await
            .unwrap();

        let (status, _) = get(&running, "/api/v1/trace/units/W000026000001", &regulator).await;
        assert_eq!(status, 404);
        let (status, _) = get(
            &running,
            "/api/v1/audit/completeness?hospital=H1",
            &regulator,
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = get(&running, "/api/v1/trace/units/W000026000002", &hospital).await;
        assert_eq!(status, 404);

        // Hospitals cannot read the log; admins can.
        let (status, _) = get(&running, "/api/v1/audit/log", &hospital).await;
        assert_eq!(status, 403);
        let (status, log) = get(&running, "/api/v1/audit/log", "test-admin").await;
        assert_eq!(status, 200, "[{}] {log}", db.label);
        let items = log["items"].as_array().unwrap();
        let regulator_entries: Vec<_> = items.iter().filter(|i| i["role"] == "regulator").collect();
        assert_eq!(regulator_entries.len(), 2, "[{}] {log}", db.label);
        assert_eq!(regulator_entries[0]["path"], "/api/v1/audit/completeness");
        assert_eq!(regulator_entries[0]["query"], "hospital=H1");
        assert_eq!(
            regulator_entries[1]["path"],
            "/api/v1/trace/units/W000026000001"
        );
        assert_eq!(regulator_entries[1]["status"], 404);
        assert!(
            !items
                .iter()
                .any(|i| i["path"] == "/api/v1/trace/units/W000026000002"),
            "hospital queries are not in the regulator log"
        );
        // The token itself is never stored, only an id derived from its hash.
        assert!(!log.to_string().contains(&regulator));

        // The database refuses to change or delete an entry.
        let update = sqlx::query("UPDATE query_audit SET path = 'x'")
            .execute(running.store.pool())
            .await;
        assert!(update.is_err(), "[{}] update must be refused", db.label);
        let delete = sqlx::query("DELETE FROM query_audit")
            .execute(running.store.pool())
            .await;
        assert!(delete.is_err(), "[{}] delete must be refused", db.label);
        running.stop().await;
    }
}
