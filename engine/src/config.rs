//! Settings: defaults, then a TOML file (`--config`), then `HEMOBRIDGE_*`
//! environment variables, each later source overriding the earlier.
//!
//! Unknown keys in the file are errors that name the key, so that a typo is
//! caught at start (and by `hemobridge config check`) rather than silently
//! ignored.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file's shape. Every field is optional: what is absent keeps its
/// default or comes from the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub amqp_url: Option<String>,
    /// Prefix of the RabbitMQ exchange and queue names (default `hemobridge`).
    pub amqp_queue_prefix: Option<String>,
    pub mllp_addr: Option<String>,
    pub http_addr: Option<String>,
    pub bootstrap_token: Option<String>,
    pub timezone: Option<String>,
    pub provincial_url: Option<String>,
    pub shanghai_url: Option<String>,
    pub fhir_url: Option<String>,
    pub key_file: Option<PathBuf>,
    pub log_format: Option<String>,
    /// A shipped waiver rule id (`jiangsu-2025`, the default) or the path
    /// of a rule file.
    pub waiver_rule: Option<String>,
    /// `HH:MM` local time on the next day by which a day's data is due
    /// (daily submissions; default `02:00`).
    pub daily_cutoff: Option<String>,
    /// The portal's session cookie without `Secure`, for a plain-HTTP
    /// intranet address (browsers keep Secure cookies only over https and
    /// on localhost).
    pub portal_insecure_cookies: Option<bool>,
    #[serde(default)]
    pub mllp: MllpFileConfig,
    /// Outbound delivery: retries, timeout, route credentials.
    #[serde(default)]
    pub outbox: crate::outbox::OutboxFileConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MllpFileConfig {
    pub max_message_bytes: Option<usize>,
    pub max_connections: Option<usize>,
    pub idle_timeout_secs: Option<u64>,
    pub read_timeout_secs: Option<u64>,
    /// MSH-18 empty: the charset to assume (`UTF-8`, `GB18030`, `GBK`).
    pub default_charset: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub amqp_url: Option<String>,
    /// Prefix of the RabbitMQ exchange and queue names (`amqp_queue_prefix`).
    pub amqp_queue_prefix: String,
    pub mllp_addr: String,
    pub http_addr: String,
    pub bootstrap_token: Option<String>,
    pub timezone: chrono_tz::Tz,
    pub provincial_url: Option<String>,
    pub shanghai_url: Option<String>,
    pub fhir_url: Option<String>,
    pub key_file: PathBuf,
    pub log_json: bool,
    pub mllp_max_message_bytes: usize,
    pub mllp_max_connections: usize,
    pub mllp_idle_timeout: Duration,
    pub mllp_read_timeout: Duration,
    pub default_charset: hemobridge_hl7::Charset,
    /// The direct-waiver rule decisions apply (`waiver_rule`).
    pub waiver_rule: hemobridge_waivers::Rule,
    /// Outbound delivery (`[outbox]`, `docs/delivery.md`).
    pub outbox: crate::outbox::OutboxSettings,
    /// The daily submissions' cut-off, local time on the next day.
    pub daily_cutoff: chrono::NaiveTime,
    /// `portal_insecure_cookies` (default false).
    pub portal_insecure_cookies: bool,
}

impl Settings {
    /// Reads the file (if given) and the environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings> {
        let file = match config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(file, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    /// Resolves a file's settings against a given environment (tests and
    /// `config check` pass their own).
    pub fn resolve(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> Result<Settings> {
        let data_dir = env("HEMOBRIDGE_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = env("HEMOBRIDGE_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}/hemobridge.db", data_dir.display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            bail!("database_url: expected sqlite://… or postgres://…");
        }
        let tz_name = env("HEMOBRIDGE_TIMEZONE")
            .or(file.timezone)
            .unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone: chrono_tz::Tz = tz_name
            .parse()
            .map_err(|_| anyhow::anyhow!("timezone: unknown time zone {tz_name:?}"))?;
        let charset_name = env("HEMOBRIDGE_DEFAULT_CHARSET").or(file.mllp.default_charset);
        let default_charset = match charset_name.as_deref() {
            None => hemobridge_hl7::Charset::Utf8,
            Some(name) => hemobridge_hl7::Charset::from_msh18(name)
                .ok_or_else(|| anyhow::anyhow!("mllp.default_charset: unknown charset {name:?}"))?,
        };
        let log_format = env("HEMOBRIDGE_LOG_FORMAT").or(file.log_format);
        let log_json = match log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("log_format: expected \"text\" or \"json\", got {other:?}"),
        };
        let key_file = env("HEMOBRIDGE_KEY_FILE")
            .map(PathBuf::from)
            .or(file.key_file)
            .unwrap_or_else(|| data_dir.join("keys").join("patient-data.key"));
        let num = |var: &str, file_value: Option<u64>, default: u64| -> Result<u64> {
            match env(var) {
                Some(v) => v
                    .parse()
                    .with_context(|| format!("{var}: expected a whole number, got {v:?}")),
                None => Ok(file_value.unwrap_or(default)),
            }
        };
        let waiver_rule = load_waiver_rule(
            &env("HEMOBRIDGE_WAIVER_RULE")
                .or(file.waiver_rule)
                .unwrap_or_else(|| hemobridge_waivers::DEFAULT_RULE_ID.into()),
        )?;
        let portal_insecure_cookies = match env("HEMOBRIDGE_PORTAL_INSECURE_COOKIES").as_deref() {
            None => file.portal_insecure_cookies.unwrap_or(false),
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                bail!("HEMOBRIDGE_PORTAL_INSECURE_COOKIES: expected true or false, got {other:?}")
            }
        };
        let daily_cutoff = match env("HEMOBRIDGE_DAILY_CUTOFF").or(file.daily_cutoff) {
            Some(text) => crate::daily::late::parse_cutoff(&text)
                .map_err(|e| anyhow::anyhow!("daily_cutoff: {e}"))?,
            None => crate::daily::default_cutoff(),
        };
        Ok(Settings {
            outbox: crate::outbox::OutboxSettings::resolve(file.outbox, &env)?,
            waiver_rule,
            daily_cutoff,
            portal_insecure_cookies,
            database_url,
            amqp_url: match env("HEMOBRIDGE_AMQP_URL").or(file.amqp_url) {
                Some(url) if !url.starts_with("amqp://") => {
                    bail!("amqp_url: expected amqp://… (TLS to the broker is not built in)")
                }
                url => url,
            },
            amqp_queue_prefix: match env("HEMOBRIDGE_AMQP_QUEUE_PREFIX").or(file.amqp_queue_prefix)
            {
                None => "hemobridge".into(),
                Some(p)
                    if !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) =>
                {
                    p
                }
                Some(p) => {
                    bail!("amqp_queue_prefix: expected letters, digits, '.', '_' or '-', got {p:?}")
                }
            },
            mllp_addr: env("HEMOBRIDGE_MLLP_ADDR")
                .or(file.mllp_addr)
                .unwrap_or_else(|| "127.0.0.1:2575".into()),
            http_addr: env("HEMOBRIDGE_HTTP_ADDR")
                .or(file.http_addr)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            bootstrap_token: env("HEMOBRIDGE_BOOTSTRAP_TOKEN").or(file.bootstrap_token),
            timezone,
            provincial_url: env("HEMOBRIDGE_PROVINCIAL_URL").or(file.provincial_url),
            shanghai_url: env("HEMOBRIDGE_SHANGHAI_URL").or(file.shanghai_url),
            fhir_url: env("HEMOBRIDGE_FHIR_URL").or(file.fhir_url),
            key_file,
            log_json,
            mllp_max_message_bytes: num(
                "HEMOBRIDGE_MLLP_MAX_MESSAGE_BYTES",
                file.mllp.max_message_bytes.map(|v| v as u64),
                4 * 1024 * 1024,
            )? as usize,
            mllp_max_connections: num(
                "HEMOBRIDGE_MLLP_MAX_CONNECTIONS",
                file.mllp.max_connections.map(|v| v as u64),
                1024,
            )? as usize,
            mllp_idle_timeout: Duration::from_secs(num(
                "HEMOBRIDGE_MLLP_IDLE_TIMEOUT_SECS",
                file.mllp.idle_timeout_secs,
                300,
            )?),
            mllp_read_timeout: Duration::from_secs(num(
                "HEMOBRIDGE_MLLP_READ_TIMEOUT_SECS",
                file.mllp.read_timeout_secs,
                30,
            )?),
            default_charset,
            data_dir,
        })
    }
}

/// `waiver_rule`: a shipped rule id, or else the path of a rule file.
fn load_waiver_rule(value: &str) -> Result<hemobridge_waivers::Rule> {
    use hemobridge_waivers::{Rule, SHIPPED};
    if SHIPPED.iter().any(|s| s.id == value) {
        return Rule::shipped(value).map_err(|e| anyhow::anyhow!("waiver_rule: {e}"));
    }
    let path = Path::new(value);
    if !path.exists() {
        let ids: Vec<&str> = SHIPPED.iter().map(|s| s.id).collect();
        bail!(
            "waiver_rule: {value:?} is neither a shipped rule ({}) nor a rule file",
            ids.join(", ")
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("waiver_rule: cannot read {}", path.display()))?;
    Rule::from_toml(&text).map_err(|e| anyhow::anyhow!("waiver_rule: {}: {e}", path.display()))
}

/// Parses a config file; the error names the offending key.
pub fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {}",
            path.display(),
            e.message().trim().to_owned() + &span_hint(&text, e.span())
        )
    })
}

fn span_hint(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) if r.start < text.len() => {
            let line = text[..r.start].matches('\n').count() + 1;
            format!(" (line {line})")
        }
        _ => String::new(),
    }
}

/// `hemobridge config check FILE`: the whole resolution, without starting.
pub fn check(path: &Path) -> Result<()> {
    let file = read_file(path)?;
    Settings::resolve(file, |_| None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let err = toml::from_str::<FileConfig>("mllp_adr = \"x\"").unwrap_err();
        assert!(err.message().contains("mllp_adr"), "{}", err.message());
        let err = toml::from_str::<FileConfig>("[mllp]\nmax_conections = 3").unwrap_err();
        assert!(
            err.message().contains("max_conections"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn env_overrides_file_and_defaults_apply() {
        let file: FileConfig =
            toml::from_str("mllp_addr = \"0.0.0.0:2576\"\ndata_dir = \"/srv/hb\"").unwrap();
        let s = Settings::resolve(file, |name| {
            (name == "HEMOBRIDGE_HTTP_ADDR").then(|| "0.0.0.0:9000".to_string())
        })
        .unwrap();
        assert_eq!(s.mllp_addr, "0.0.0.0:2576");
        assert_eq!(s.http_addr, "0.0.0.0:9000");
        assert_eq!(s.database_url, "sqlite:///srv/hb/hemobridge.db");
        assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn bad_values_are_named() {
        let file: FileConfig = toml::from_str("timezone = \"Mars/Olympus\"").unwrap();
        let err = Settings::resolve(file, |_| None).unwrap_err().to_string();
        assert!(err.starts_with("timezone"), "{err}");
    }

    #[test]
    fn waiver_rule_is_loaded_or_named() {
        let s = Settings::resolve(FileConfig::default(), |_| None).unwrap();
        assert_eq!(s.waiver_rule.id, "jiangsu-2025");
        let file: FileConfig = toml::from_str("waiver_rule = \"no-such-rule\"").unwrap();
        let err = Settings::resolve(file, |_| None).unwrap_err().to_string();
        assert!(err.starts_with("waiver_rule"), "{err}");
    }

    #[test]
    fn daily_cutoff_defaults_to_two_and_is_checked() {
        let s = Settings::resolve(FileConfig::default(), |_| None).unwrap();
        assert_eq!(s.daily_cutoff.to_string(), "02:00:00");
        let s = Settings::resolve(FileConfig::default(), |name| {
            (name == "HEMOBRIDGE_DAILY_CUTOFF").then(|| "03:30".to_string())
        })
        .unwrap();
        assert_eq!(s.daily_cutoff.to_string(), "03:30:00");
        let file: FileConfig = toml::from_str("daily_cutoff = \"26:00\"").unwrap();
        let err = Settings::resolve(file, |_| None).unwrap_err().to_string();
        assert!(err.starts_with("daily_cutoff"), "{err}");
    }
}
