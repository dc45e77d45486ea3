//! The `[outbox]` section of the config file and its environment variables:
//! retry policy, request timeout and per-route bearer credentials.
//!
//! | key | variable | default |
//! |---|---|---|
//! | `outbox.retry_base_ms` | `HEMOBRIDGE_OUTBOX_RETRY_BASE_MS` | 2000 |
//! | `outbox.retry_cap_ms` | `HEMOBRIDGE_OUTBOX_RETRY_CAP_MS` | 900000 (15 min) |
//! | `outbox.max_attempts` | `HEMOBRIDGE_OUTBOX_MAX_ATTEMPTS` | 12 |
//! | `outbox.timeout_ms` | `HEMOBRIDGE_OUTBOX_TIMEOUT_MS` | 30000 |
//! | `outbox.provincial_token` | `HEMOBRIDGE_PROVINCIAL_TOKEN` | unset |
//! | `outbox.shanghai_token` | `HEMOBRIDGE_SHANGHAI_TOKEN` | unset |
//! | `outbox.fhir_token` | `HEMOBRIDGE_FHIR_TOKEN` | unset |
//! | `outbox.schedule` | `HEMOBRIDGE_OUTBOX_SCHEDULE` (`on`/`off`) | on |
//!
//! `schedule = false` stops the cut-off, amendment and stock rounds (the
//! routes still deliver what is queued): for tests, and for a second engine
//! beside the one that runs them.

use super::RetryPolicy;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxFileConfig {
    pub retry_base_ms: Option<u64>,
    pub retry_cap_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub provincial_token: Option<String>,
    pub shanghai_token: Option<String>,
    pub fhir_token: Option<String>,
    pub schedule: Option<bool>,
}

#[derive(Clone)]
pub struct OutboxSettings {
    pub policy: RetryPolicy,
    pub timeout: Duration,
    pub provincial_token: Option<String>,
    pub shanghai_token: Option<String>,
    pub fhir_token: Option<String>,
    /// Whether `serve` runs the scheduler's rounds.
    pub schedule: bool,
}

// Credentials stay out of debug output.
impl std::fmt::Debug for OutboxSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxSettings")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .field(
                "provincial_token",
                &self.provincial_token.as_ref().map(|_| "***"),
            )
            .field(
                "shanghai_token",
                &self.shanghai_token.as_ref().map(|_| "***"),
            )
            .field("fhir_token", &self.fhir_token.as_ref().map(|_| "***"))
            .field("schedule", &self.schedule)
            .finish()
    }
}

impl OutboxSettings {
    pub fn resolve(file: OutboxFileConfig, env: &impl Fn(&str) -> Option<String>) -> Result<Self> {
        let num = |var: &str, key: &str, file_value: Option<u64>, default: u64| -> Result<u64> {
            match env(var) {
                Some(v) => v
                    .parse()
                    .with_context(|| format!("{var}: expected a whole number, got {v:?}")),
                None => Ok(file_value.unwrap_or(default)),
            }
            .and_then(|n| {
                if n == 0 {
                    bail!("outbox.{key}: must be at least 1")
                }
                Ok(n)
            })
        };
        let default = RetryPolicy::default();
        let base = num(
            "HEMOBRIDGE_OUTBOX_RETRY_BASE_MS",
            "retry_base_ms",
            file.retry_base_ms,
            default.base.as_millis() as u64,
        )?;
        let cap = num(
            "HEMOBRIDGE_OUTBOX_RETRY_CAP_MS",
            "retry_cap_ms",
            file.retry_cap_ms,
            default.cap.as_millis() as u64,
        )?;
        if cap < base {
            bail!("outbox.retry_cap_ms: {cap} is less than outbox.retry_base_ms ({base})");
        }
        let max_attempts = num(
            "HEMOBRIDGE_OUTBOX_MAX_ATTEMPTS",
            "max_attempts",
            file.max_attempts.map(u64::from),
            u64::from(default.max_attempts),
        )?;
        let max_attempts = u32::try_from(max_attempts)
            .map_err(|_| anyhow::anyhow!("outbox.max_attempts: {max_attempts} is too large"))?;
        let timeout = num(
            "HEMOBRIDGE_OUTBOX_TIMEOUT_MS",
            "timeout_ms",
            file.timeout_ms,
            30_000,
        )?;
        let schedule = match env("HEMOBRIDGE_OUTBOX_SCHEDULE").as_deref() {
            None => file.schedule.unwrap_or(true),
            Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(other) => bail!("HEMOBRIDGE_OUTBOX_SCHEDULE: expected on or off, got {other:?}"),
        };
        Ok(OutboxSettings {
            schedule,
            policy: RetryPolicy {
                base: Duration::from_millis(base),
                cap: Duration::from_millis(cap),
                max_attempts,
            },
            timeout: Duration::from_millis(timeout),
            provincial_token: env("HEMOBRIDGE_PROVINCIAL_TOKEN").or(file.provincial_token),
            shanghai_token: env("HEMOBRIDGE_SHANGHAI_TOKEN").or(file.shanghai_token),
            fhir_token: env("HEMOBRIDGE_FHIR_TOKEN").or(file.fhir_token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_env_and_errors() {
        let s = OutboxSettings::resolve(OutboxFileConfig::default(), &|_| None).unwrap();
        assert_eq!(s.policy, RetryPolicy::default());
        let file: OutboxFileConfig = toml::from_str("retry_base_ms = 5\nmax_attempts = 3").unwrap();
        let s = OutboxSettings::resolve(file, &|k| {
            (k == "HEMOBRIDGE_OUTBOX_RETRY_CAP_MS").then(|| "50".to_string())
        })
        .unwrap();
        assert_eq!(s.policy.base, Duration::from_millis(5));
        assert_eq!(s.policy.cap, Duration::from_millis(50));
        assert_eq!(s.policy.max_attempts, 3);
        let file: OutboxFileConfig =
            toml::from_str("retry_base_ms = 500\nretry_cap_ms = 5").unwrap();
        let err = OutboxSettings::resolve(file, &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("outbox.retry_cap_ms"), "{err}");
        let err = toml::from_str::<OutboxFileConfig>("max_attempt = 3").unwrap_err();
        assert!(err.message().contains("max_attempt"), "{}", err.message());
    }
}
