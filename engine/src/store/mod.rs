//! The store: one SQL schema on SQLite (embedded default, WAL) or PostgreSQL
//! (scale-out), chosen by the database URL.
//!
//! Queries are written once in the SQL both databases accept (`$n`
//! parameters, `ON CONFLICT`, `RETURNING`) and run through sqlx's `Any`
//! driver, checked at run time; the migrations are the one place where the
//! two dialects differ, and they live side by side under `migrations/`.
//!
//! - [`messages`]: raw payloads, the duplicate check, the embedded queue.
//! - [`canonical`]: applying normalized facts (patients, units, events).
//! - [`stock`], [`donations`]: the document facts that are not unit events.
//! - [`reads`]: what traces and the API read back.
//! - [`admin`]: facilities and bearer tokens.

pub mod admin;
pub(crate) mod bulk;
pub mod canonical;
pub mod daily;
pub mod donations;
pub mod messages;
pub mod outbox;
pub mod query_audit;
pub mod reads;
pub mod stock;
pub mod waivers;

use crate::crypto::Vault;
use anyhow::{Context, Result};
use futures_util::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};
use std::borrow::Cow;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    vault: Vault,
    /// SQLite allows one writer at a time. Writers in this process queue
    /// here (FIFO) instead of meeting in SQLite's busy handler, whose
    /// sleeping back-off (up to 100 ms a try) would show as ACK latency.
    sqlite_writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The delivery side's hooks (waiver routing, route wake-ups).
    outbox_hooks: outbox::OutboxHooks,
}

/// Milliseconds since the epoch, the store's time column type.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Connects (creating the SQLite file and its directory if needed).
    pub async fn connect(url: &str, vault: Vault) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                // SQLite has one writer at a time; a few readers beside it.
                Backend::Sqlite => 6,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL syncs
                        // the WAL on every commit, so an ACKed message
                        // survives power loss, not only a process crash.
                        // Group commit pays that sync once per batch.
                        // mmap: a connection reads pages that another one
                        // wrote from the shared mapping, not by read() calls.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                             PRAGMA mmap_size = 268435456;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the database ({})", redact(&url)))?;
        Ok(Store {
            pool,
            backend,
            vault,
            sqlite_writes: Default::default(),
            outbox_hooks: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Held across a write transaction: on SQLite, the in-process writers'
    /// queue; on PostgreSQL, nothing (it locks rows, not the database).
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.sqlite_writes.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        let source = EmbeddedMigrations(self.backend);
        let migrator = Migrator::new(source).await?;
        migrator
            .run(&self.pool)
            .await
            .context("migrations failed")?;
        Ok(())
    }

    /// Readiness: a trivial query answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/x.db` → make sure `data/` exists and the file is created.
fn sqlite_url(url: &str) -> Result<String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    if !path.is_empty() && path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
        }
    }
    Ok(if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    })
}

/// A database URL for a log line: the password is replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The migrations compiled into the binary, so that it runs anywhere.
#[derive(Debug)]
struct EmbeddedMigrations(Backend);

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "documents",
        include_str!("../../migrations/sqlite/0002_documents.sql"),
    ),
    (
        3,
        "waivers",
        include_str!("../../migrations/sqlite/0003_waivers.sql"),
    ),
    (
        4,
        "query audit",
        include_str!("../../migrations/sqlite/0004_query_audit.sql"),
    ),
    (
        5,
        "daily",
        include_str!("../../migrations/sqlite/0005_daily.sql"),
    ),
    (
        6,
        "outbox",
        include_str!("../../migrations/sqlite/0006_outbox.sql"),
    ),
    (
        7,
        "portal",
        include_str!("../../migrations/sqlite/0007_portal.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "documents",
        include_str!("../../migrations/postgres/0002_documents.sql"),
    ),
    (
        3,
        "waivers",
        include_str!("../../migrations/postgres/0003_waivers.sql"),
    ),
    (
        4,
        "query audit",
        include_str!("../../migrations/postgres/0004_query_audit.sql"),
    ),
    (
        5,
        "daily",
        include_str!("../../migrations/postgres/0005_daily.sql"),
    ),
    (
        6,
        "outbox",
        include_str!("../../migrations/postgres/0006_outbox.sql"),
    ),
    (
        7,
        "portal",
        include_str!("../../migrations/postgres/0007_portal.sql"),
    ),
];

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        let list = match self.0 {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut list = list.to_vec();
        list.sort_by_key(|(version, _, _)| *version);
        let migrations = list
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Shorthand for reading a column whose type the schema guarantees.
pub(crate) trait RowExt {
    fn text(&self, col: &str) -> Option<String>;
    fn int(&self, col: &str) -> Option<i64>;
}

impl RowExt for AnyRow {
    fn text(&self, col: &str) -> Option<String> {
        sqlx::Row::try_get::<Option<String>, _>(self, col)
            .ok()
            .flatten()
    }

    fn int(&self, col: &str) -> Option<i64> {
        sqlx::Row::try_get::<Option<i64>, _>(self, col)
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u:***@db/x");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
