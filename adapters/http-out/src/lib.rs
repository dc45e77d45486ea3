//! Outbound HTTP delivery for hemobridge's routes (provincial platform,
//! Shanghai platform, FHIR server).
//!
//! A [`Sender`] POSTs one body with its `Content-Type`, an `Idempotency-Key`
//! (so that the receiver can recognise a repeat after a lost answer), an
//! optional bearer credential, and a timeout, and classifies the answer into
//! what the outbox must do next ([`Outcome`]):
//!
//! - [`Outcome::Delivered`]: 2xx, and also 409 Conflict (the receiver
//!   already has an item with this key).
//! - [`Outcome::Rejected`]: any other 4xx. Sending the same bytes again
//!   cannot succeed, so the item is dead-lettered at once with the answer.
//! - [`Outcome::Retry`]: 5xx, 408, 429, a timeout, a refused or broken
//!   connection. `retry_after` carries the receiver's `Retry-After` (in
//!   seconds) when it gave one.
//!
//! The crate knows nothing of the engine's store: it is the transport only.

use std::time::{Duration, Instant};

/// How many bytes of an answer body are kept for the delivery log.
pub const EXCERPT_BYTES: usize = 512;

/// One route's transport settings.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Per-request timeout (connect and answer together).
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer …` when set.
    pub bearer: Option<String>,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            timeout: Duration::from_secs(30),
            bearer: None,
            user_agent: concat!("hemobridge/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// What to POST.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub url: &'a str,
    pub content_type: &'a str,
    pub idempotency_key: &'a str,
    pub body: &'a [u8],
}

/// What the receiver's answer means for the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Rejected,
    Retry { retry_after: Option<Duration> },
}

/// One attempt, as the delivery log records it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub outcome: Outcome,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Transport error (timeout, connection refused), when none came.
    pub error: Option<String>,
    /// The start of the answer body (lossy UTF-8, at most [`EXCERPT_BYTES`]).
    pub excerpt: String,
    pub duration: Duration,
}

impl Attempt {
    /// A one-line description for `last_error` and logs.
    pub fn describe(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) if self.excerpt.is_empty() => format!("HTTP {status}"),
            (Some(status), _) => format!("HTTP {status}: {}", self.excerpt),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A reusable HTTP client for one route.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    bearer: Option<String>,
}

impl Sender {
    pub fn new(config: SenderConfig) -> Result<Sender, BuildError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(config.user_agent)
            // A redirect would resend the body elsewhere: refuse it, and let
            // the 3xx be classified below.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Sender {
            client,
            bearer: config.bearer,
        })
    }

    /// POSTs once and classifies the answer. Never fails: a transport error
    /// is an [`Outcome::Retry`] with its description.
    pub async fn send(&self, request: Request<'_>) -> Attempt {
        let started = Instant::now();
        let mut builder = self
            .client
            .post(request.url)
            .header(reqwest::header::CONTENT_TYPE, request.content_type)
            .header("Idempotency-Key", request.idempotency_key)
            .body(request.body.to_vec());
        if let Some(token) = &self.bearer {
            builder = builder.bearer_auth(token);
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after(response.headers());
                let excerpt = match response.bytes().await {
                    Ok(bytes) => excerpt(&bytes),
                    Err(_) => String::new(),
                };
                Attempt {
                    outcome: classify(status, retry_after),
                    status: Some(status),
                    error: None,
                    excerpt,
                    duration: started.elapsed(),
                }
            }
            Err(e) => Attempt {
                outcome: Outcome::Retry { retry_after: None },
                status: None,
                error: Some(describe_transport_error(&e)),
                excerpt: String::new(),
                duration: started.elapsed(),
            },
        }
    }
}

/// The rule of the module documentation, for an answer's status code.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 | 409 => Outcome::Delivered,
        // Timeout and rate limit: the same request may succeed later.
        408 | 429 => Outcome::Retry { retry_after },
        400..=499 => Outcome::Rejected,
        // 5xx, and 1xx/3xx we do not follow: try again later.
        _ => Outcome::Retry { retry_after },
    }
}

/// `Retry-After` in delta-seconds (the HTTP-date form is rare for APIs and
/// is ignored: the back-off applies instead).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(EXCERPT_BYTES)];
    String::from_utf8_lossy(cut).trim().to_string()
}

fn describe_transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    // The URL is in the delivery log already; keep the cause chain.
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify(200, None), Outcome::Delivered);
        assert_eq!(classify(202, None), Outcome::Delivered);
        assert_eq!(classify(409, None), Outcome::Delivered);
        assert_eq!(classify(400, None), Outcome::Rejected);
        assert_eq!(classify(422, None), Outcome::Rejected);
        assert_eq!(
            classify(429, Some(Duration::from_secs(3))),
            Outcome::Retry {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(classify(503, None), Outcome::Retry { retry_after: None });
        assert_eq!(classify(302, None), Outcome::Retry { retry_after: None });
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = vec![b'x'; 4000];
        assert_eq!(excerpt(&long).len(), EXCERPT_BYTES);
    }
}
