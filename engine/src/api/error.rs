//! The one error shape of the API:
//! `{"error": {"code": "...", "message": "...", "details": [{"path", "message"}]}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<(String, String)>,
    /// The stored message that holds a refused payload, shown as
    /// `error.receipt` so that the sender can look it up at
    /// `GET /api/v1/messages/{id}`.
    pub receipt: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            receipt: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", what)
    }

    pub fn bad_request(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad-request",
            message: format!("{path}: {message}"),
            details: vec![(path.to_string(), message)],
            receipt: None,
        }
    }

    /// 422: the payload can be read but breaks the rules; every problem is
    /// a detail, so the sender can fix them all in one round.
    pub fn unprocessable(message: impl Into<String>, details: Vec<(String, String)>) -> Self {
        ApiError {
            details,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    pub fn with_receipt(mut self, message_id: i64) -> Self {
        self.receipt = Some(message_id);
        self
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        // The cause goes to the log, not to the client: it may name tables
        // or values.
        tracing::error!(error = %e, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the engine log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let details: Vec<_> = self
            .details
            .iter()
            .map(|(path, message)| json!({"path": path, "message": message}))
            .collect();
        let mut body =
            json!({"error": {"code": self.code, "message": self.message, "details": details}});
        if let Some(receipt) = self.receipt {
            body["error"]["receipt"] = json!(receipt);
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("5"));
        }
        response
    }
}
