//! The durable outbox: messages for remote parties, stored before any send,
//! with the log of every attempt (`docs/delivery.md`).
//!
//! An item is unique per (route, idempotency key), so queueing the same
//! submission version or the same waiver decision twice is a no-op
//! ([`enqueue_in`] answers `None`). Items are queued inside the caller's
//! transaction where there is one (waiver decisions), so that a decision and
//! its message are committed together or not at all.

use super::{now_ms, RowExt, Store};
use anyhow::Result;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

/// An item to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub route: String,
    /// What it is: `daily`, `daily-xml`, `fhir-bundle`, `stock`,
    /// `waiver-claim`, `waiver-cancel`.
    pub kind: String,
    /// The idempotency key, stable across retries and re-queueing.
    pub key: String,
    pub hospital: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A stored item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: i64,
    pub route: String,
    pub kind: String,
    pub key: String,
    pub hospital: Option<String>,
    pub content_type: String,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub body_bytes: usize,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// One attempt, as logged.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptLog {
    pub attempt: i64,
    pub at: i64,
    pub url: String,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub excerpt: Option<String>,
    pub duration_ms: i64,
}

/// What an attempt leaves the item as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Pending again, due at this time (ms).
    RetryAt(i64),
    Dead,
}

/// A waiver decision or cancellation, for the routing hook.
#[derive(Debug, Clone, Copy)]
pub enum WaiverEvent<'a> {
    Decided {
        request: &'a super::waivers::WaiverRequest,
        /// The decision as answered (`api/waivers.rs::render`).
        answer: &'a serde_json::Value,
    },
    Cancelled {
        hospital: &'a str,
        claim_id: &'a str,
        at_ms: i64,
    },
}

/// Turns a waiver event into the items to queue with it (set by the
/// routing layer at start; none set: nothing is queued).
pub type WaiverRouting = Arc<dyn Fn(&WaiverEvent<'_>) -> Vec<NewItem> + Send + Sync>;

/// What the store needs from the delivery side: the waiver routing hook
/// and a wake-up per route.
#[derive(Clone, Default)]
pub struct OutboxHooks {
    inner: Arc<HooksInner>,
}

#[derive(Default)]
struct HooksInner {
    waivers: OnceLock<WaiverRouting>,
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
}

impl std::fmt::Debug for OutboxHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxHooks")
            .field("waiver_routing", &self.inner.waivers.get().is_some())
            .finish()
    }
}

impl OutboxHooks {
    /// Installs the waiver routing (once per store; later calls are ignored).
    pub fn set_waiver_routing(&self, routing: WaiverRouting) {
        let _ = self.inner.waivers.set(routing);
    }

    pub fn waiver_items(&self, event: &WaiverEvent<'_>) -> Vec<NewItem> {
        self.inner
            .waivers
            .get()
            .map(|route| route(event))
            .unwrap_or_default()
    }

    /// The route's wake-up (a stored permit: a wake before the wait counts).
    pub fn waker(&self, route: &str) -> Arc<Notify> {
        let mut wakers = self.inner.wakers.lock().expect("wakers lock");
        wakers.entry(route.to_string()).or_default().clone()
    }

    pub fn wake(&self, route: &str) {
        self.waker(route).notify_one();
    }
}

/// Queues `item` in the caller's transaction; `None` if the route already
/// has an item with this key.
pub async fn enqueue_in(
    tx: &mut Transaction<'static, Any>,
    item: &NewItem,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let row = sqlx::query(
        "INSERT INTO outbox_items (route, kind, item_key, hospital, content_type, body, \
         status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) \
         ON CONFLICT (route, item_key) DO NOTHING RETURNING id",
    )
    .bind(&item.route)
    .bind(&item.kind)
    .bind(&item.key)
    .bind(item.hospital.clone())
    .bind(&item.content_type)
    .bind(item.body.clone())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.and_then(|r| r.int("id")))
}

const ITEM_COLUMNS: &str = "id, route, kind, item_key, hospital, content_type, body, status, \
     attempts, next_attempt_at, last_error, created_at, delivered_at";

/// The list's columns: the body's size, not the body (memory stays small
/// however many items a page holds).
const LIST_COLUMNS: &str = "id, route, kind, item_key, hospital, content_type, \
     CAST(LENGTH(body) AS BIGINT) AS body_bytes, status, attempts, next_attempt_at, last_error, created_at, \
     delivered_at";

fn item(r: &AnyRow) -> Item {
    let body = sqlx::Row::try_get::<Vec<u8>, _>(r, "body").unwrap_or_default();
    let body_bytes = r
        .int("body_bytes")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(body.len());
    Item {
        id: r.int("id").unwrap_or(0),
        route: r.text("route").unwrap_or_default(),
        kind: r.text("kind").unwrap_or_default(),
        key: r.text("item_key").unwrap_or_default(),
        hospital: r.text("hospital"),
        content_type: r.text("content_type").unwrap_or_default(),
        body_bytes,
        body,
        status: r.text("status").unwrap_or_default(),
        attempts: r.int("attempts").unwrap_or(0),
        next_attempt_at: r.int("next_attempt_at").unwrap_or(0),
        last_error: r.text("last_error"),
        created_at: r.int("created_at").unwrap_or(0),
        delivered_at: r.int("delivered_at"),
    }
}

/// Filters of the outbox list.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    pub status: Option<String>,
    pub route: Option<String>,
    /// Only items with a smaller id (the cursor of the previous page).
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    pub fn outbox_hooks(&self) -> &OutboxHooks {
        &self.outbox_hooks
    }

    /// Queues items in one transaction and wakes their routes; one answer
    /// per item: its new id, or `None` if it was queued before.
    pub async fn enqueue(&self, items: &[NewItem]) -> Result<Vec<Option<i64>>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut ids = Vec::with_capacity(items.len());
        {
            let _turn = self.write_turn().await;
            let mut tx = self.pool().begin().await?;
            for item in items {
                ids.push(enqueue_in(&mut tx, item, now).await?);
            }
            tx.commit().await?;
        }
        for item in items {
            self.outbox_hooks.wake(&item.route);
        }
        Ok(ids)
    }

    /// Up to `limit` pending items of `route` due by `now`, oldest first.
    pub async fn due_items(&self, route: &str, now: i64, limit: i64) -> Result<Vec<Item>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox_items \
             WHERE route = $1 AND status = 'pending' AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3"
        ))
        .bind(route)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(item).collect())
    }

    /// When the next pending item of `route` falls due, if any.
    pub async fn next_due_at(&self, route: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM outbox_items \
             WHERE route = $1 AND status = 'pending'",
        )
        .bind(route)
        .fetch_one(self.pool())
        .await?;
        Ok(row.int("due"))
    }

    /// Logs an attempt and moves the item on, in one transaction.
    pub async fn record_attempt(
        &self,
        item_id: i64,
        log: &AttemptLog,
        after: AfterAttempt,
        last_error: Option<&str>,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO outbox_attempts (item_id, attempt, at_ms, url, http_status, error, \
             excerpt, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(item_id)
        .bind(log.attempt)
        .bind(log.at)
        .bind(&log.url)
        .bind(log.http_status)
        .bind(log.error.clone())
        .bind(log.excerpt.clone())
        .bind(log.duration_ms)
        .execute(&mut *tx)
        .await?;
        let (status, next, delivered_at) = match after {
            AfterAttempt::Delivered => ("delivered", log.at, Some(log.at)),
            AfterAttempt::RetryAt(at) => ("pending", at, None),
            AfterAttempt::Dead => ("dead", log.at, None),
        };
        sqlx::query(
            "UPDATE outbox_items SET status = $2, attempts = $3, next_attempt_at = $4, \
             last_error = $5, delivered_at = $6 WHERE id = $1",
        )
        .bind(item_id)
        .bind(status)
        .bind(log.attempt)
        .bind(next)
        .bind(last_error.map(str::to_owned))
        .bind(delivered_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The outbox, newest first (bodies left out: see [`Store::outbox_item`]).
    pub async fn outbox_items(&self, q: &OutboxQuery) -> Result<Vec<Item>> {
        let rows = sqlx::query(&format!(
            "SELECT {LIST_COLUMNS} FROM outbox_items \
             WHERE ($1 = '' OR status = $1) AND ($2 = '' OR route = $2) AND id < $3 \
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(q.status.clone().unwrap_or_default())
        .bind(q.route.clone().unwrap_or_default())
        .bind(q.before_id.unwrap_or(i64::MAX))
        .bind(q.limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(item).collect())
    }

    /// One item with its delivery log (oldest attempt first).
    pub async fn outbox_item(&self, id: i64) -> Result<Option<(Item, Vec<AttemptLog>)>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox_items WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let log = sqlx::query(
            "SELECT attempt, at_ms, url, http_status, error, excerpt, duration_ms \
             FROM outbox_attempts WHERE item_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| AttemptLog {
            attempt: r.int("attempt").unwrap_or(0),
            at: r.int("at_ms").unwrap_or(0),
            url: r.text("url").unwrap_or_default(),
            http_status: r.int("http_status"),
            error: r.text("error"),
            excerpt: r.text("excerpt"),
            duration_ms: r.int("duration_ms").unwrap_or(0),
        })
        .collect();
        Ok(Some((item(&row), log)))
    }

    /// Moves dead items back to pending, due now, with a fresh count of
    /// attempts; `ids` `None` means every dead item. Returns the ids moved
    /// (an id that is not dead is left as it is) and wakes their routes.
    pub async fn retry_dead(&self, ids: Option<&[i64]>) -> Result<Vec<i64>> {
        let now = now_ms();
        let mut moved = Vec::new();
        let mut routes = Vec::new();
        {
            let _turn = self.write_turn().await;
            let mut tx = self.pool().begin().await?;
            let candidates: Vec<i64> = match ids {
                Some(ids) => ids.to_vec(),
                None => {
                    sqlx::query("SELECT id FROM outbox_items WHERE status = 'dead' ORDER BY id")
                        .fetch_all(&mut *tx)
                        .await?
                        .iter()
                        .filter_map(|r| r.int("id"))
                        .collect()
                }
            };
            for id in candidates {
                let row = sqlx::query(
                    "UPDATE outbox_items SET status = 'pending', attempts = 0, \
                     next_attempt_at = $2 WHERE id = $1 AND status = 'dead' RETURNING route",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(route) = row.and_then(|r| r.text("route")) {
                    moved.push(id);
                    routes.push(route);
                }
            }
            tx.commit().await?;
        }
        for route in routes {
            self.outbox_hooks.wake(&route);
        }
        Ok(moved)
    }

    /// Items by (route, status), for `outbox list` summaries and tests.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT route, status, COUNT(*) AS n FROM outbox_items GROUP BY route, status \
             ORDER BY route, status",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.text("route").unwrap_or_default(),
                    r.text("status").unwrap_or_default(),
                    r.int("n").unwrap_or(0),
                )
            })
            .collect())
    }
}
