//! Anthropic (and Vertex AI) error bodies -> OpenAI errors.
//!
//! Anthropic: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},
//! "request_id":"req_..."}`. Vertex AI's own errors (auth, quota, bad path) use the Google shape
//! `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}`, sometimes wrapped in
//! an array.

use serde_json::Value;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::TranslateError;

/// The OpenAI error `type` for an Anthropic error `type`.
pub(super) fn kind_for(anthropic_type: &str, status: u16) -> ErrorKind {
    match anthropic_type {
        "invalid_request_error" | "request_too_large" | "billing_error" => {
            ErrorKind::InvalidRequestError
        }
        "authentication_error" => ErrorKind::AuthenticationError,
        "permission_error" => ErrorKind::PermissionError,
        "not_found_error" => ErrorKind::NotFoundError,
        "rate_limit_error" => ErrorKind::RateLimitError,
        "timeout_error" => ErrorKind::TimeoutError,
        "api_error" => ErrorKind::ApiError,
        // OpenAI reports "model overloaded" as a server_error.
        "overloaded_error" => ErrorKind::ServerError,
        _ => ErrorKind::for_status(status),
    }
}

/// The HTTP status Anthropic documents for an error `type` (used for errors inside a 200
/// stream, which have no status of their own).
pub(super) fn status_for(anthropic_type: &str) -> u16 {
    match anthropic_type {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    }
}

/// Reads an Anthropic `{"type":..,"message":..}` error object.
fn anthropic_envelope(error: &Value, status: u16) -> Option<ErrorEnvelope> {
    let kind = error.get("type")?.as_str()?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or(kind)
        .to_owned();
    Some(ErrorEnvelope::new(kind_for(kind, status), message).with_code(kind))
}

/// Reads a Google `{"code":..,"message":..,"status":..}` error object.
fn google_envelope(error: &Value, status: u16) -> Option<ErrorEnvelope> {
    let google_status = error.get("status")?.as_str()?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or(google_status)
        .to_owned();
    Some(ErrorEnvelope::new(ErrorKind::for_status(status), message).with_code(google_status))
}

/// Maps a non-2xx body (any of the shapes above, or anything else) to an OpenAI error.
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let v = match v {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        if let Some(error) = v.get("error") {
            if let Some(e) =
                anthropic_envelope(error, status).or_else(|| google_envelope(error, status))
            {
                return e;
            }
        }
        if let Some(mut e) = ErrorEnvelope::from_upstream(body) {
            if e.error.kind == ErrorKind::ApiError.as_str() {
                e.error.kind = ErrorKind::for_status(status).as_str().to_owned();
            }
            return e;
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        format!("provider returned HTTP {status}")
    } else {
        let cut: String = text.chars().take(500).collect();
        format!("provider returned HTTP {status}: {cut}")
    };
    ErrorEnvelope::new(ErrorKind::for_status(status), message)
}

/// An `error` event inside a 200 stream (or an error body where a message was expected).
pub(crate) fn upstream_error(event: &Value) -> TranslateError {
    let error = event.get("error").cloned().unwrap_or(Value::Null);
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("api_error");
    let status = status_for(kind);
    let envelope = anthropic_envelope(&error, status).unwrap_or_else(|| {
        ErrorEnvelope::new(ErrorKind::ApiError, "provider reported an error").with_code(kind)
    });
    TranslateError::Upstream {
        status,
        error: envelope,
    }
}
