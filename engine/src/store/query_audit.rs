//! The append-only log of what regulators and admins looked at. The table
//! refuses updates and deletes (triggers in the migration); this module only
//! ever inserts and reads.

use super::{now_ms, RowExt, Store};
use crate::store::admin::Principal;
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRecord {
    pub id: i64,
    pub at: String,
    pub role: String,
    pub token_id: String,
    pub facility: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: i64,
}

impl Store {
    pub async fn record_query(
        &self,
        who: &Principal,
        method: &str,
        path: &str,
        query: Option<&str>,
        status: u16,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO query_audit (at_ms, role, token_id, facility, method, path, query, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now_ms())
        .bind(who.role.as_str())
        .bind(&who.token_id)
        .bind(&who.facility)
        .bind(method)
        .bind(path)
        .bind(query)
        .bind(i64::from(status))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Newest first; `before_id` pages back.
    pub async fn query_log(&self, before_id: Option<i64>, limit: i64) -> Result<Vec<QueryRecord>> {
        let rows = sqlx::query(
            "SELECT id, at_ms, role, token_id, facility, method, path, query, status \
             FROM query_audit WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(before_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| QueryRecord {
                id: r.int("id").unwrap_or_default(),
                at: chrono::DateTime::from_timestamp_millis(r.int("at_ms").unwrap_or_default())
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                role: r.text("role").unwrap_or_default(),
                token_id: r.text("token_id").unwrap_or_default(),
                facility: r.text("facility"),
                method: r.text("method").unwrap_or_default(),
                path: r.text("path").unwrap_or_default(),
                query: r.text("query"),
                status: r.int("status").unwrap_or_default(),
            })
            .collect())
    }
}
