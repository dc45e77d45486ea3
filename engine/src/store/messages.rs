//! Raw payloads. Every message is written here before it is acknowledged or
//! processed; the rows whose status is `pending` are the embedded durable
//! queue (a committed, ACKed message that the worker has not yet applied
//! survives a crash because it *is* this row).

use super::{bulk, now_ms, Backend, RowExt, Store};
use anyhow::Result;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::collections::HashSet;

/// Status of a stored message, as the message browser shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted and committed; waiting for the worker.
    Pending,
    Ok,
    /// Refused as invalid (AE) or failed in processing: parked with reasons.
    Error,
    /// Refused at the door (AR): unknown facility, unsupported type.
    Rejected,
    /// A repeated control id from the same facility; not processed again.
    Duplicate,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "ok" => Some(Status::Ok),
            "error" => Some(Status::Error),
            "rejected" => Some(Status::Rejected),
            "duplicate" => Some(Status::Duplicate),
            _ => None,
        }
    }
}

/// A payload as received, with the verdict reached before storing it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: &'static str,
    /// `hl7`, `xml`, `json` or `form`: how to read `raw` again.
    pub format: &'static str,
    pub facility: Option<String>,
    pub msg_type: Option<String>,
    pub control_id: Option<String>,
    pub charset: Option<String>,
    pub raw: Vec<u8>,
    /// `Pending` for accepted payloads (they take part in the duplicate
    /// check), `Error` or `Rejected` for refused ones.
    pub status: Status,
    pub ack_code: Option<String>,
    pub ack: Vec<u8>,
    /// JSON array of issues, for refused payloads.
    pub errors: Option<String>,
}

/// What the store answers for one stored payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: i64,
    /// Set when the payload repeated an accepted control id: the first
    /// message's id, whose ACK is the answer.
    pub duplicate_of: Option<i64>,
    pub ack: Vec<u8>,
    pub ack_code: Option<String>,
}

/// A pending message handed to the worker.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub channel: String,
    pub format: String,
    pub facility: Option<String>,
    pub raw: Vec<u8>,
    pub attempts: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSummary {
    pub id: i64,
    pub facility: Option<String>,
    pub channel: String,
    #[serde(rename = "type")]
    pub msg_type: Option<String>,
    pub control_id: Option<String>,
    pub status: String,
    pub received_at: String,
    pub errors: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub summary: MessageSummary,
    pub raw: Vec<u8>,
    pub charset: Option<String>,
    pub ack: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct MessageQuery {
    pub facility: Option<String>,
    pub status: Option<String>,
    pub msg_type: Option<String>,
    pub control_id: Option<String>,
    pub donation: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Newest first: only ids below this.
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Stores a batch of received payloads in one transaction (group commit:
    /// one sync for many messages, each caller still waits for the commit
    /// that holds its own message).
    pub async fn insert_received(&self, batch: &[NewMessage]) -> Result<Vec<Receipt>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        let mut receipts = Vec::with_capacity(batch.len());
        let received_at = now_ms();
        for chunk in batch.chunks(bulk::MAX_ROWS) {
            receipts.extend(insert_chunk(&mut tx, self.backend(), chunk, received_at).await?);
        }
        tx.commit().await?;
        Ok(receipts)
    }

    /// The oldest pending messages, at most `limit` (bounded memory however
    /// long the backlog).
    pub async fn pending(&self, limit: i64) -> Result<Vec<Pending>> {
        let rows = sqlx::query(
            "SELECT id, channel, format, facility, raw, attempts FROM messages \
             WHERE status = 'pending' ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(pending_from_row).collect())
    }

    /// Puts stored messages back on the queue (replay / reprocess).
    pub async fn requeue(&self, ids: &[i64]) -> Result<u64> {
        let mut n = 0;
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        for id in ids {
            n += sqlx::query(
                "UPDATE messages SET status = 'pending' \
                 WHERE id = $1 AND status IN ('ok', 'error', 'pending')",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Ids for `hemobridge replay`: accepted messages (not rejected or
    /// duplicates) matching the filters, oldest first.
    pub async fn replay_candidates(
        &self,
        since_ms: Option<i64>,
        facility: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT id FROM messages WHERE status IN ('ok', 'error', 'pending') \
             AND ($1 IS NULL OR received_at >= $1) AND ($2 IS NULL OR facility = $2) \
             AND ($3 IS NULL OR status = $3) ORDER BY id",
        )
        .bind(since_ms)
        .bind(facility)
        .bind(status)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().filter_map(|r| r.int("id")).collect())
    }

    pub async fn message(&self, id: i64) -> Result<Option<MessageRecord>> {
        let row = sqlx::query(
            "SELECT id, received_at, channel, facility, msg_type, control_id, charset, raw, \
             status, ack, errors, duplicate_of FROM messages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| MessageRecord {
            summary: summary_from_row(&r),
            raw: sqlx::Row::try_get::<Vec<u8>, _>(&r, "raw").unwrap_or_default(),
            charset: r.text("charset"),
            ack: sqlx::Row::try_get::<Option<Vec<u8>>, _>(&r, "ack")
                .ok()
                .flatten()
                .unwrap_or_default(),
        }))
    }

    /// The message browser's search, newest first.
    pub async fn search_messages(&self, q: &MessageQuery) -> Result<Vec<MessageSummary>> {
        let donation_ids = match &q.donation {
            Some(din) => Some(self.message_ids_for_din(din).await?),
            None => None,
        };
        let rows = sqlx::query(
            "SELECT id, received_at, channel, facility, msg_type, control_id, status, errors, \
             duplicate_of FROM messages WHERE ($1 IS NULL OR facility = $1) \
             AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR msg_type = $3) \
             AND ($4 IS NULL OR control_id = $4) AND ($5 IS NULL OR received_at >= $5) \
             AND ($6 IS NULL OR received_at < $6) AND ($7 IS NULL OR id < $7) \
             ORDER BY id DESC LIMIT $8",
        )
        .bind(&q.facility)
        .bind(&q.status)
        .bind(&q.msg_type)
        .bind(&q.control_id)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .bind(q.before_id)
        .bind(if donation_ids.is_some() {
            100_000
        } else {
            q.limit
        })
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<MessageSummary> = rows.iter().map(summary_from_row).collect();
        if let Some(ids) = donation_ids {
            out.retain(|m| ids.contains(&m.id));
            out.truncate(q.limit as usize);
        }
        Ok(out)
    }

    async fn message_ids_for_din(&self, din: &str) -> Result<std::collections::HashSet<i64>> {
        let din = hemobridge_canonical::ids::canonical_din(din);
        let rows = sqlx::query("SELECT DISTINCT message_id FROM events WHERE din = $1")
            .bind(din)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().filter_map(|r| r.int("message_id")).collect())
    }

    /// Counts by status, for readiness and the end-to-end tests.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM messages GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.text("status").unwrap_or_default(),
                    r.int("n").unwrap_or(0),
                )
            })
            .collect())
    }
}

const MESSAGE_COLUMNS: usize = 12;

/// Stores up to [`bulk::MAX_ROWS`] payloads with three statements whatever
/// their number (the rows, their duplicate keys, and nothing more unless a
/// duplicate turns up), and answers each in the order given.
async fn insert_chunk(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    chunk: &[NewMessage],
    received_at: i64,
) -> Result<Vec<Receipt>> {
    let sql = format!(
        "INSERT INTO messages (received_at, channel, format, facility, msg_type, control_id, \
         charset, raw, status, ack_code, ack, errors) VALUES {} RETURNING id",
        bulk::values(backend, chunk.len(), MESSAGE_COLUMNS, 1)
    );
    let mut insert = sqlx::query(&sql);
    for m in chunk {
        insert = insert
            .bind(received_at)
            .bind(m.channel)
            .bind(m.format)
            .bind(&m.facility)
            .bind(&m.msg_type)
            .bind(&m.control_id)
            .bind(&m.charset)
            .bind(&m.raw)
            .bind(m.status.as_str())
            .bind(&m.ack_code)
            .bind(&m.ack)
            .bind(&m.errors);
    }
    let mut ids: Vec<i64> = insert
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .filter_map(|r| r.int("id"))
        .collect();
    if ids.len() != chunk.len() {
        anyhow::bail!(
            "stored {} messages but {} ids came back",
            chunk.len(),
            ids.len()
        );
    }
    // RETURNING does not promise an order, but one statement assigns its
    // ids in VALUES order (SQLite AUTOINCREMENT, a PostgreSQL sequence), so
    // the sorted ids are the rows in the order given.
    ids.sort_unstable();
    let mut receipts: Vec<Receipt> = chunk
        .iter()
        .zip(&ids)
        .map(|(m, &id)| Receipt {
            id,
            duplicate_of: None,
            ack: m.ack.clone(),
            ack_code: m.ack_code.clone(),
        })
        .collect();

    // Only accepted payloads take part in the duplicate check: a sender may
    // correct a refused message and send it again under the same id.
    let claims: Vec<(usize, &str, &str)> = chunk
        .iter()
        .enumerate()
        .filter_map(|(i, m)| match (m.status, &m.facility, &m.control_id) {
            (Status::Pending, Some(facility), Some(control_id)) => {
                Some((i, facility.as_str(), control_id.as_str()))
            }
            _ => None,
        })
        .collect();
    if claims.is_empty() {
        return Ok(receipts);
    }
    // A key already taken (earlier, or by an earlier row of this same
    // statement) is skipped; the ids that come back are the claims that won.
    let sql = format!(
        "INSERT INTO message_keys (facility, control_id, message_id) VALUES {} \
         ON CONFLICT (facility, control_id) DO NOTHING RETURNING message_id",
        bulk::values(backend, claims.len(), 3, 1)
    );
    let mut claim = sqlx::query(&sql);
    for &(i, facility, control_id) in &claims {
        claim = claim.bind(facility).bind(control_id).bind(ids[i]);
    }
    let won: HashSet<i64> = claim
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .filter_map(|r| r.int("message_id"))
        .collect();
    for &(i, facility, control_id) in &claims {
        if !won.contains(&ids[i]) {
            mark_duplicate(tx, &mut receipts[i], facility, control_id).await?;
        }
    }
    Ok(receipts)
}

/// A repeated control id: the row becomes a duplicate of the message that
/// holds the key, and the answer is that message's ACK.
async fn mark_duplicate(
    tx: &mut Transaction<'static, Any>,
    receipt: &mut Receipt,
    facility: &str,
    control_id: &str,
) -> Result<()> {
    let first = sqlx::query(
        "SELECT m.id, m.ack, m.ack_code FROM message_keys k JOIN messages m ON m.id = k.message_id \
         WHERE k.facility = $1 AND k.control_id = $2",
    )
    .bind(facility)
    .bind(control_id)
    .fetch_one(&mut **tx)
    .await?;
    let first_id = first.int("id").unwrap_or_default();
    let first_ack: Vec<u8> = sqlx::Row::try_get::<Option<Vec<u8>>, _>(&first, "ack")
        .ok()
        .flatten()
        .unwrap_or_default();
    let first_code = first.text("ack_code");
    sqlx::query(
        "UPDATE messages SET status = 'duplicate', duplicate_of = $1, ack = $2, ack_code = $3 \
         WHERE id = $4",
    )
    .bind(first_id)
    .bind(&first_ack)
    .bind(&first_code)
    .bind(receipt.id)
    .execute(&mut **tx)
    .await?;
    receipt.duplicate_of = Some(first_id);
    receipt.ack = first_ack;
    receipt.ack_code = first_code;
    Ok(())
}

fn pending_from_row(r: &AnyRow) -> Pending {
    Pending {
        id: r.int("id").unwrap_or_default(),
        channel: r.text("channel").unwrap_or_default(),
        format: r.text("format").unwrap_or_default(),
        facility: r.text("facility"),
        raw: sqlx::Row::try_get::<Vec<u8>, _>(r, "raw").unwrap_or_default(),
        attempts: r.int("attempts").unwrap_or(0),
    }
}

fn summary_from_row(r: &AnyRow) -> MessageSummary {
    let received = r.int("received_at").unwrap_or_default();
    MessageSummary {
        id: r.int("id").unwrap_or_default(),
        facility: r.text("facility"),
        channel: r.text("channel").unwrap_or_default(),
        msg_type: r.text("msg_type"),
        control_id: r.text("control_id"),
        status: r.text("status").unwrap_or_default(),
        received_at: chrono::DateTime::from_timestamp_millis(received)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        errors: r
            .text("errors")
            .and_then(|e| serde_json::from_str(&e).ok())
            .unwrap_or_else(|| serde_json::json!([])),
        duplicate_of: r.int("duplicate_of"),
    }
}
