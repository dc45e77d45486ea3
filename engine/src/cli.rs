//! The command line (`hemobridge --help`). Each subcommand is a thin shell
//! over the engine's modules; see `../shared/contract.md` in the docs for the
//! contract they keep.

use crate::config::{self, Settings};
use crate::server;
use crate::store::admin::{new_token, Role};
use crate::worker::Worker;
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use hemobridge_canonical::{Facility, FacilityKind};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "hemobridge",
    version,
    about = "Blood-transfusion data integration engine"
)]
pub struct Cli {
    /// TOML config file (environment variables override it).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the MLLP listener, HTTP API, portal and workers.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Facilities (hospitals and blood stations).
    Facility {
        #[command(subcommand)]
        command: FacilityCommand,
    },
    /// Bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Send HL7 files over MLLP and print each ACK's MSA segment.
    Send {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:2575")]
        addr: String,
    },
    /// Vein-to-vein traces.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Reprocess stored raw messages.
    Replay {
        /// RFC 3339 or YYYY-MM-DD: only messages received since then.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        hospital: Option<String>,
        /// ok, error or pending.
        #[arg(long)]
        status: Option<String>,
    },
    /// MLLP load generator.
    Loadgen {
        #[arg(long, default_value = "127.0.0.1:2575")]
        addr: String,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value_t = 10_000)]
        messages: u64,
        /// Messages per second in all; as fast as possible when absent.
        #[arg(long)]
        rate: Option<u64>,
        /// Sending facility (MSH-4) of the generated messages.
        #[arg(long, default_value = "LOADGEN")]
        facility: String,
    },
    /// Reports (daily submissions).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Record and queue submissions for the outbound routes now.
    Submit {
        #[command(subcommand)]
        command: crate::outbox::cli::SubmitCommand,
    },
    /// The outbound queue: list items, retry dead ones.
    Outbox {
        #[command(subcommand)]
        command: crate::outbox::cli::OutboxCommand,
    },
    /// Vendor dialect profiles (`hospital-connectors/`, docs/connectors.md).
    Connector {
        #[command(subcommand)]
        command: ConnectorCommand,
    },
}

#[derive(Subcommand)]
pub enum FacilityCommand {
    /// Register a hospital or blood station (idempotent on CODE); prints
    /// `{"code", "api_key"}`.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "hospital")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        province: Option<String>,
        #[arg(long, requires = "portal_password")]
        portal_user: Option<String>,
        #[arg(long, requires = "portal_user")]
        portal_password: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Print a new bearer token.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        hospital: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TraceCommand {
    /// Print a unit's chain as JSON.
    Unit {
        donation_id: String,
        #[arg(long)]
        product: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Print a hospital's daily submission (latest version; recorded first
    /// if none exists).
    Daily {
        #[arg(long)]
        hospital: String,
        /// YYYY-MM-DD, a local day in HEMOBRIDGE_TIMEZONE.
        #[arg(long)]
        date: String,
        #[arg(long, default_value = "json")]
        format: String,
    },
}

#[derive(Subcommand)]
pub enum ConnectorCommand {
    /// Convert FILE with PROFILE and read the result as a hospital
    /// document: prints the JSON document, or every row error (Chinese,
    /// then English) and exits 1. Needs no database.
    Check {
        profile: PathBuf,
        file: PathBuf,
        /// The facility the document is converted for.
        #[arg(long, default_value = "H0000000")]
        facility: String,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file without starting anything.
    Check { file: PathBuf },
}

pub async fn run(cli: Cli) -> Result<i32> {
    if let Command::Config {
        command: ConfigCommand::Check { file },
    } = &cli.command
    {
        config::check(file)?;
        println!("{}: ok", file.display());
        return Ok(0);
    }
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            server::serve(settings).await?;
            Ok(0)
        }
        Command::Migrate => {
            let store = server::open_store(&settings).await?;
            store.close().await;
            println!("migrations applied");
            Ok(0)
        }
        Command::Facility {
            command:
                FacilityCommand::Add {
                    code,
                    name,
                    kind,
                    region,
                    province,
                    portal_user,
                    portal_password,
                },
        } => {
            let kind = FacilityKind::parse(&kind)
                .with_context(|| format!("--kind: expected hospital or station, got {kind:?}"))?;
            let store = server::open_store(&settings).await?;
            let created = store
                .upsert_facility(&Facility {
                    code: code.clone(),
                    name,
                    kind,
                    region,
                    province,
                })
                .await?;
            let api_key = new_token();
            store
                .insert_token(&api_key, Role::Hospital, Some(&code), "facility add")
                .await?;
            if let (Some(user), Some(password)) = (portal_user, portal_password) {
                store
                    .upsert_user(&user, &password, Role::Hospital, Some(&code))
                    .await?;
            }
            store.close().await;
            println!(
                "{}",
                serde_json::json!({"code": code, "api_key": api_key, "created": created})
            );
            Ok(0)
        }
        Command::Token {
            command: TokenCommand::Create { role, hospital },
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("--role: expected admin, regulator or hospital, got {role:?}")
            })?;
            if role == Role::Hospital && hospital.is_none() {
                bail!("--hospital CODE is required for a hospital token");
            }
            let store = server::open_store(&settings).await?;
            if let Some(code) = &hospital {
                if store.facility(code).await?.is_none() {
                    bail!("--hospital: {code} is not registered (hemobridge facility add)");
                }
            }
            let token = new_token();
            store
                .insert_token(&token, role, hospital.as_deref(), "token create")
                .await?;
            store.close().await;
            println!("{token}");
            Ok(0)
        }
        Command::Send { files, addr } => send(&files, &addr).await,
        Command::Trace {
            command:
                TraceCommand::Unit {
                    donation_id,
                    product,
                },
        } => {
            let store = server::open_store(&settings).await?;
            let answer =
                crate::api::trace::unit_trace(&store, &donation_id, product.as_deref(), None)
                    .await?;
            store.close().await;
            match answer {
                Some(v) => {
                    println!("{}", serde_json::to_string_pretty(&v)?);
                    Ok(0)
                }
                None => {
                    eprintln!("no unit with donation id {donation_id}");
                    Ok(1)
                }
            }
        }
        Command::Replay {
            since,
            hospital,
            status,
        } => {
            let since_ms = since
                .map(|s| hemobridge_canonical::time::parse_iso(&s, settings.timezone))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--since: {e}"))?
                .map(|t| t.timestamp_millis());
            let store = server::open_store(&settings).await?;
            let ids = store
                .replay_candidates(since_ms, hospital.as_deref(), status.as_deref())
                .await?;
            store.requeue(&ids).await?;
            let worker = Worker {
                store: store.clone(),
                normalizer: Arc::new(crate::normalize::Normalizer::new(server::hl7_config(
                    &settings,
                ))),
                wake: Arc::new(tokio::sync::Notify::new()),
                metrics: Default::default(),
            };
            let processed = worker.drain_all().await?;
            let counts = store.count_by_status().await?;
            store.close().await;
            println!(
                "{}",
                serde_json::json!({"requeued": ids.len(), "processed": processed, "byStatus": counts.into_iter().collect::<std::collections::BTreeMap<_, _>>()})
            );
            Ok(0)
        }
        Command::Loadgen {
            addr,
            connections,
            messages,
            rate,
            facility,
        } => crate::loadgen::run(&addr, connections, messages, rate, &facility).await,
        Command::Report {
            command:
                ReportCommand::Daily {
                    hospital,
                    date,
                    format,
                },
        } => crate::daily::report::report_daily(&settings, &hospital, &date, &format).await,
        Command::Submit { command } => crate::outbox::cli::run_submit(&settings, command).await,
        Command::Outbox { command } => crate::outbox::cli::run_outbox(&settings, command).await,
        Command::Config { .. } => unreachable!("handled above"),
        Command::Connector {
            command:
                ConnectorCommand::Check {
                    profile,
                    file,
                    facility,
                },
        } => connector_check(&settings, &profile, &file, &facility),
    }
}

/// `hemobridge connector check`: a profile against a file, with the
/// document reader of this configuration (time zone), as an upload would.
fn connector_check(
    settings: &Settings,
    profile: &std::path::Path,
    file: &std::path::Path,
    facility: &str,
) -> Result<i32> {
    let text = std::fs::read_to_string(profile)
        .with_context(|| format!("cannot read {}", profile.display()))?;
    let profile = hemobridge_dialect::Profile::from_toml(&text)?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let cfg = hemobridge_document::Config {
        zone: settings.timezone,
        ..Default::default()
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    // Written through a locked handle so that `| head` ends the command
    // with an error instead of a panic.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match profile.to_document(&bytes, name.as_deref(), facility, &cfg) {
        Ok((_, converted)) => {
            serde_json::to_writer_pretty(&mut out, &converted.document)?;
            writeln!(out)?;
            Ok(0)
        }
        Err(e) => {
            for row in &e.rows {
                writeln!(out, "{}\t{}", row.message_zh, row.message_en)?;
            }
            Ok(1)
        }
    }
}

/// `hemobridge send`: each message of each file over one connection.
async fn send(files: &[PathBuf], addr: &str) -> Result<i32> {
    let mut client = hemobridge_mllp::Client::connect(addr, std::time::Duration::from_secs(10))
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    let mut all_ok = true;
    for file in files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        for message in hemobridge_hl7::split_raw_messages(&bytes) {
            let ack = client.send(message).await?;
            let msa = hemobridge_mllp::find_msa_segment(&ack)
                .map(|seg| String::from_utf8_lossy(seg).into_owned())
                .unwrap_or_else(|| "(no MSA segment)".into());
            let accepted = hemobridge_mllp::parse_msa(&ack)
                .is_some_and(|m| hemobridge_mllp::is_accept_code(m.acknowledgment_code));
            if !accepted {
                all_ok = false;
            }
            println!("{msa}");
        }
    }
    Ok(if all_ok { 0 } else { 1 })
}
