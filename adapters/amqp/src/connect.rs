//! Connecting, and connecting again after the broker went away.

use lapin::{Connection, ConnectionProperties};
use std::time::Duration;

/// Capped exponential back-off between connection attempts.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The wait before attempt `n` (0-based): first, 2×first, … up to max.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(16);
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// One attempt. The connection runs on the current tokio runtime.
pub async fn connect(url: &str) -> crate::Result<Connection> {
    let properties = ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio)
        .with_connection_name("hemobridge".into());
    Ok(Connection::connect(url, properties).await?)
}

/// Connects, retrying with back-off until it works or `give_up` resolves
/// (then `None`). Failures are logged without the URL (it holds a password).
pub async fn connect_with_retry(
    url: &str,
    backoff: Backoff,
    give_up: impl std::future::Future<Output = ()>,
) -> Option<Connection> {
    tokio::pin!(give_up);
    let mut attempt = 0u32;
    loop {
        match connect(url).await {
            Ok(conn) => {
                if attempt > 0 {
                    tracing::info!(attempts = attempt + 1, "connected to the AMQP broker");
                }
                return Some(conn);
            }
            Err(e) => {
                let wait = backoff.delay(attempt);
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "AMQP broker unreachable");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut give_up => return None,
                }
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(1), Duration::from_millis(200));
        assert_eq!(b.delay(3), Duration::from_millis(800));
        assert_eq!(b.delay(4), Duration::from_secs(1));
        assert_eq!(b.delay(40), Duration::from_secs(1));
    }
}
