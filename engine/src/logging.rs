//! Log output: human-readable text (the default) or one JSON object per
//! line for a log shipper (`log_format = "json"` in the config file or
//! `HEMOBRIDGE_LOG_FORMAT=json`, the environment winning as everywhere).
//!
//! What is logged is the same in both: ids, codes, counts and sizes, never
//! message content, patient names or ID numbers (`docs/operations.md`).

use std::path::Path;

/// Whether JSON logs were asked for. Read before the settings are loaded
/// (logging must be up to report their errors), so a config file that does
/// not parse counts as "no preference" here; the command then fails on it
/// with a proper message.
pub fn json_requested(config_file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> bool {
    let from_file = || {
        config_file
            .and_then(|path| crate::config::read_file(path).ok())
            .and_then(|file| file.log_format)
    };
    env("HEMOBRIDGE_LOG_FORMAT")
        .filter(|v| !v.is_empty())
        .or_else(from_file)
        .is_some_and(|format| format == "json")
}

/// Installs the global subscriber on stderr. The filter is `HEMOBRIDGE_LOG`
/// (`EnvFilter` syntax), `info,sqlx=warn` by default. JSON events carry
/// their fields at the top level (`flatten_event`), so a shipper reads
/// `message`, `addr`, `message_id` without nesting.
pub fn init(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HEMOBRIDGE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hb.toml");
        std::fs::write(&path, "log_format = \"json\"\n").unwrap();
        assert!(json_requested(Some(&path), |_| None));
        assert!(!json_requested(Some(&path), |k| {
            (k == "HEMOBRIDGE_LOG_FORMAT").then(|| "text".to_string())
        }));
        assert!(json_requested(None, |k| {
            (k == "HEMOBRIDGE_LOG_FORMAT").then(|| "json".to_string())
        }));
        assert!(!json_requested(None, |_| None));
        std::fs::write(&path, "log_formt = \"json\"\n").unwrap();
        assert!(!json_requested(Some(&path), |_| None));
    }
}
