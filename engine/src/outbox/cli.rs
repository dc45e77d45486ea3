//! `hemobridge submit daily` and `hemobridge outbox list|retry`: the
//! command-line side of delivery. Each works on the database alone; the
//! queued items are sent by a running `hemobridge serve`.

use crate::config::Settings;
use crate::routing::scheduler::Scheduler;
use crate::routing::Routes;
use crate::server;
use crate::store::outbox::OutboxQuery;
use crate::store::Store;
use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SubmitCommand {
    /// Record the day's submissions (or amendments) now and queue them on
    /// every configured route; prints one JSON line per queued item.
    Daily {
        /// YYYY-MM-DD, a local day in HEMOBRIDGE_TIMEZONE.
        #[arg(long)]
        date: String,
        /// One hospital (default: every registered hospital).
        #[arg(long)]
        hospital: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// List outbound items, newest first, one JSON line each.
    List {
        /// pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        /// provincial, shanghai or fhir.
        #[arg(long)]
        route: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Put dead items back in the queue (a running engine sends them).
    Retry {
        /// Item ids.
        ids: Vec<i64>,
        /// Every dead item.
        #[arg(long, conflicts_with = "ids")]
        all_dead: bool,
    },
}

pub async fn run_submit(settings: &Settings, command: SubmitCommand) -> Result<i32> {
    let SubmitCommand::Daily { date, hospital } = command;
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--date: expected YYYY-MM-DD, got {date:?}"))?;
    let routes = Routes::from_settings(settings)?;
    if routes.names().is_empty() {
        eprintln!(
            "note: no route is configured (HEMOBRIDGE_PROVINCIAL_URL, HEMOBRIDGE_SHANGHAI_URL, \
             HEMOBRIDGE_FHIR_URL): the submissions are recorded, nothing is queued"
        );
    }
    let store = server::open_store(settings).await?;
    if let Some(h) = &hospital {
        if store.facility(h).await?.is_none() {
            store.close().await;
            bail!("--hospital: {h} is not registered (hemobridge facility add)");
        }
    }
    let scheduler = Scheduler {
        store: store.clone(),
        routes,
        zone: settings.timezone,
        cutoff: settings.daily_cutoff,
    };
    let queued = scheduler.submit_day(date, hospital.as_deref()).await;
    store.close().await;
    for line in queued? {
        println!("{}", serde_json::to_string(&line)?);
    }
    Ok(0)
}

pub async fn run_outbox(settings: &Settings, command: OutboxCommand) -> Result<i32> {
    let store = server::open_store(settings).await?;
    let result = outbox_command(&store, command).await;
    store.close().await;
    for line in result? {
        println!("{line}");
    }
    Ok(0)
}

/// The command's output lines (tests call this against a running store).
pub async fn outbox_command(store: &Store, command: OutboxCommand) -> Result<Vec<String>> {
    match command {
        OutboxCommand::List {
            status,
            route,
            limit,
        } => {
            let status = crate::api::outbox::parse_status(status)
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?;
            let items = store
                .outbox_items(&OutboxQuery {
                    status,
                    route,
                    before_id: None,
                    limit: limit.clamp(1, 10_000),
                })
                .await?;
            items
                .iter()
                .map(|i| Ok(serde_json::to_string(i)?))
                .collect()
        }
        OutboxCommand::Retry { ids, all_dead } => {
            if ids.is_empty() && !all_dead {
                bail!("name the item ids to retry, or --all-dead");
            }
            let moved = store
                .retry_dead(if all_dead { None } else { Some(&ids) })
                .await?;
            let mut lines: Vec<String> = moved
                .iter()
                .map(|id| serde_json::json!({"id": id, "status": "pending"}).to_string())
                .collect();
            for id in ids.iter().filter(|id| !moved.contains(id)) {
                lines.push(
                    serde_json::json!({"id": id, "error": "not a dead item; left as it is"})
                        .to_string(),
                );
            }
            Ok(lines)
        }
    }
}
