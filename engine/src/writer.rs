//! Group commit for received payloads.
//!
//! Every listener hands its payload to one writer task over a bounded
//! channel and waits for the commit that holds it. The writer takes whatever
//! has queued up (up to a batch limit) and stores it in one transaction: under
//! load, hundreds of messages share one sync, and each ACK still waits for
//! its own message's commit. The bounded channel is the back-pressure: when
//! the database falls behind, senders wait instead of memory growing.

use crate::store::messages::{NewMessage, Receipt};
use crate::store::Store;
use tokio::sync::{mpsc, oneshot};

const CHANNEL_CAPACITY: usize = 4096;
const MAX_BATCH: usize = 512;

type Job = (NewMessage, oneshot::Sender<Result<Receipt, String>>);

/// Told, after each commit, the id and facility of every newly accepted
/// message (the broker's publisher listens). Never waited on: when it is
/// full the id is skipped, and the broker's republisher finds the row.
pub type CommitHook = mpsc::Sender<(i64, Option<String>)>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task; it ends when every `Writer` clone is dropped.
    pub fn spawn(store: Store) -> Writer {
        Self::spawn_with_hook(store, None)
    }

    /// The same, telling `hook` about each accepted message once committed.
    pub fn spawn_with_hook(store: Store, hook: Option<CommitHook>) -> Writer {
        let (jobs, rx) = mpsc::channel(CHANNEL_CAPACITY);
        tokio::spawn(run(store, rx, hook));
        Writer { jobs }
    }

    /// Stores one payload; returns when it is committed (or has failed).
    pub async fn store(&self, message: NewMessage) -> Result<Receipt, String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send((message, done))
            .await
            .map_err(|_| "the store writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the store writer has stopped".to_string())?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, hook: Option<CommitHook>) {
    let mut batch: Vec<NewMessage> = Vec::with_capacity(MAX_BATCH);
    let mut waiters: Vec<oneshot::Sender<Result<Receipt, String>>> = Vec::with_capacity(MAX_BATCH);
    while let Some((first, done)) = rx.recv().await {
        batch.push(first);
        waiters.push(done);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((m, d)) => {
                    batch.push(m);
                    waiters.push(d);
                }
                Err(_) => break,
            }
        }
        match store.insert_received(&batch).await {
            Ok(receipts) => {
                if let Some(hook) = &hook {
                    for (m, r) in batch.iter().zip(&receipts) {
                        if m.status == crate::store::messages::Status::Pending
                            && r.duplicate_of.is_none()
                        {
                            let _ = hook.try_send((r.id, m.facility.clone()));
                        }
                    }
                }
                for (waiter, receipt) in waiters.drain(..).zip(receipts) {
                    let _ = waiter.send(Ok(receipt));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = batch.len(), "storing received messages failed");
                for waiter in waiters.drain(..) {
                    let _ = waiter.send(Err("the store is unavailable".into()));
                }
            }
        }
        batch.clear();
    }
}
