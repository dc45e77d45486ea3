//! `hemobridge serve`: opens the store, applies migrations, starts the
//! writer, the worker, the MLLP listener and the HTTP server, and stops them
//! in order on SIGINT / SIGTERM (listeners first, so that every accepted
//! message is committed and ACKed before the store closes).

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::crypto::Vault;
use crate::facilities::FacilityDirectory;
use crate::ingest::Ingest;
use crate::mllp::MllpHandler;
use crate::normalize::Normalizer;
use crate::store::Store;
use crate::worker::Worker;
use crate::writer::Writer;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// A running engine (for tests and `serve`).
pub struct Running {
    pub mllp_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub store: Store,
    /// Outbound routes (and their delivery counters).
    pub routes: crate::routing::Routes,
    /// The daily cut-off, amendment and stock rounds (callable by hand).
    pub scheduler: crate::routing::scheduler::Scheduler,
    /// The AMQP work queue's counters (all zero with the embedded queue).
    pub broker_stats: Arc<crate::broker::BrokerStats>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops listeners, lets in-flight messages finish, stops the worker.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.store.close().await;
    }
}

pub async fn open_store(settings: &Settings) -> Result<Store> {
    let vault = Vault::open_or_create(&settings.key_file)?;
    let store = Store::connect(&settings.database_url, vault).await?;
    store.migrate().await?;
    Ok(store)
}

pub fn hl7_config(settings: &Settings) -> hemobridge_hl7::Config {
    hemobridge_hl7::Config {
        zone: settings.timezone,
        default_charset: settings.default_charset,
        ..hemobridge_hl7::Config::default()
    }
}

/// Starts everything and returns once the listeners are bound.
pub async fn start(settings: &Settings) -> Result<Running> {
    let store = open_store(settings).await?;
    let normalizer = Arc::new(Normalizer::new(hl7_config(settings)));
    let wake = Arc::new(Notify::new());
    // With RabbitMQ the writer hands committed ids to the broker's
    // publisher, and the worker consumes the broker (`crate::broker`).
    let amqp = crate::broker::AmqpSettings::from_settings(settings);
    let (commit_hook, committed) = crate::broker::commit_channel();
    let writer = Writer::spawn_with_hook(store.clone(), amqp.as_ref().map(|_| commit_hook));
    let ingest = Arc::new(Ingest::new(
        normalizer.clone(),
        FacilityDirectory::new(store.clone()),
        writer,
        wake.clone(),
    ));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let worker = Worker {
        store: store.clone(),
        normalizer: normalizer.clone(),
        wake: wake.clone(),
        metrics: ingest.metrics.clone(),
    };
    let broker_stats = Arc::new(crate::broker::BrokerStats::default());
    match amqp {
        Some(amqp) => tasks.extend(crate::broker::spawn(
            amqp,
            committed,
            store.clone(),
            worker,
            broker_stats.clone(),
            &shutdown_rx,
        )),
        None => tasks.push(tokio::spawn(worker.run(shutdown_rx.clone()))),
    }

    // Outbound delivery: one task per configured route; the scheduler's
    // rounds only when some route is on (they exist to feed the routes).
    let routes = crate::routing::Routes::from_settings(settings)?;
    routes.install_waiver_routing(&store);
    tasks.extend(routes.spawn_deliveries(&store, &shutdown_rx));
    let scheduler = crate::routing::scheduler::Scheduler {
        store: store.clone(),
        routes: routes.clone(),
        zone: settings.timezone,
        cutoff: settings.daily_cutoff,
    };
    if settings.outbox.schedule && !routes.names().is_empty() {
        tasks.extend(scheduler.clone().spawn(&shutdown_rx));
    }

    let mllp_listener = TcpListener::bind(&settings.mllp_addr)
        .await
        .with_context(|| format!("cannot listen for MLLP on {}", settings.mllp_addr))?;
    let mllp_addr = mllp_listener.local_addr()?;
    tracing::info!(addr = %mllp_addr, "MLLP listener ready");
    let mllp_config = hemobridge_mllp::ListenerConfig {
        max_frame_bytes: settings.mllp_max_message_bytes,
        max_connections: settings.mllp_max_connections,
        idle_timeout: settings.mllp_idle_timeout,
        read_timeout: settings.mllp_read_timeout,
        ..hemobridge_mllp::ListenerConfig::default()
    };
    let handler = Arc::new(MllpHandler {
        ingest: ingest.clone(),
    });
    // The listener counts into the metrics' stats (`hemobridge_mllp_*`).
    let stats = ingest.metrics.mllp.clone();
    let mut rx = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) =
            hemobridge_mllp::serve(mllp_listener, mllp_config, handler, stats, stop).await
        {
            tracing::error!(error = %e, "MLLP listener failed");
        }
    }));

    let http_listener = TcpListener::bind(&settings.http_addr)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", settings.http_addr))?;
    let http_addr = http_listener.local_addr()?;
    tracing::info!(addr = %http_addr, "HTTP API and portal ready");
    let app = api::router(AppState {
        store: store.clone(),
        ingest,
        wake,
        bootstrap_token: settings.bootstrap_token.clone(),
        waiver_rule: Arc::new(settings.waiver_rule.clone()),
        daily_cutoff: settings.daily_cutoff,
        outbox_stats: routes.stats(),
        portal: crate::portal::PortalSettings {
            secure_cookies: !settings.portal_insecure_cookies,
            ..Default::default()
        },
    });
    let mut rx = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(http_listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    }));

    Ok(Running {
        mllp_addr,
        http_addr,
        store,
        routes,
        scheduler,
        broker_stats,
        shutdown,
        tasks,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> Result<()> {
    let running = start(&settings).await?;
    wait_for_signal().await;
    tracing::info!("shutting down: finishing messages in flight");
    running.stop().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
