//! Loops that must run in one process only (a route's outbox delivery, the
//! scheduler's rounds, the broker's republisher), when several engine
//! processes share one PostgreSQL database.
//!
//! Each loop first takes a PostgreSQL session advisory lock
//! (`pg_try_advisory_lock`) on a connection of its own, taken out of the
//! pool: the lock lives exactly as long as that session, so a process that
//! dies (even by SIGKILL) releases it when PostgreSQL sees the connection
//! close, and another process takes over. The holder checks its connection
//! every few seconds and stops the loop if the connection (and so the lock)
//! is gone. On SQLite there is one process only, and no lock.

use crate::store::{Backend, Store};
use sqlx::{AnyConnection, Connection};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// How often a waiting process tries for the lock, and how often the holder
/// checks that its lock session is still alive.
const RETRY: Duration = Duration::from_secs(2);
const CHECK: Duration = Duration::from_secs(3);

/// The lock key for a name: the first 8 bytes of its SHA-256 (stable across
/// processes and versions, unlike `std`'s hasher).
pub fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("hemobridge:{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Runs `run` while this process holds the lock `name`; waits for the lock
/// first, and starts `run` again after a lost lock is taken back. Ends on
/// shutdown (after `run` has ended).
pub async fn exclusive<F, Fut>(
    store: Store,
    name: String,
    mut shutdown: watch::Receiver<bool>,
    mut run: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()>,
{
    if store.backend() == Backend::Sqlite {
        return run(shutdown).await;
    }
    let key = lock_key(&name);
    loop {
        if *shutdown.borrow() {
            return;
        }
        match try_lock(&store, key).await {
            Ok(Some(mut session)) => {
                tracing::info!(lock = %name, "singleton lock taken; running here");
                let (stop, stop_rx) = watch::channel(false);
                let inner = run(stop_rx);
                tokio::pin!(inner);
                let shutting_down = loop {
                    tokio::select! {
                        _ = &mut inner => break true,
                        _ = shutdown.changed() => {
                            let _ = stop.send(true);
                            (&mut inner).await;
                            break true;
                        }
                        _ = tokio::time::sleep(CHECK) => {
                            if session.ping().await.is_err() {
                                tracing::warn!(lock = %name, "singleton lock session lost; stopping the loop here");
                                let _ = stop.send(true);
                                (&mut inner).await;
                                break false;
                            }
                        }
                    }
                };
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut session)
                    .await;
                let _ = session.close().await;
                if shutting_down {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(lock = %name, error = %e, "cannot try the singleton lock"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The lock on a dedicated session, or `None` if another session holds it.
async fn try_lock(store: &Store, key: i64) -> anyhow::Result<Option<AnyConnection>> {
    let mut session = store.pool().acquire().await?.detach();
    let row = sqlx::query("SELECT CAST(pg_try_advisory_lock($1) AS INTEGER) AS held")
        .bind(key)
        .fetch_one(&mut session)
        .await?;
    let held: i32 = sqlx::Row::try_get(&row, "held")?;
    if held == 1 {
        Ok(Some(session))
    } else {
        let _ = session.close().await;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(lock_key("outbox:provincial"), lock_key("outbox:provincial"));
        assert_ne!(lock_key("outbox:provincial"), lock_key("outbox:shanghai"));
    }
}
