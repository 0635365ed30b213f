//! Reading admin requests: JSON-object bodies of at most 1 MiB, query strings, and the
//! members of keys' and teams' bodies (names, settings) with errors that name the field.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use http::{header, HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::{bad, fail, invalid, Fail};
use crate::config::GatewayConfig;
use crate::error::{error_response, GatewayError};
use crate::governance::policy::Policy;
use crate::http::server::App;

/// The largest request body the admin API reads.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The request body as a JSON object: 413 over [`MAX_BODY_BYTES`], 408 when it does not arrive
/// within `server.body_read_timeout`, 400 when it is not a JSON object.
pub async fn json_object(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, Fail> {
    json_object_limited(app, headers, body, MAX_BODY_BYTES).await
}

/// [`json_object`], with a body of at most `limit` bytes.
pub async fn json_object_limited(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, Fail> {
    let too_large = || fail(GatewayError::PayloadTooLarge { limit });
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let timeout = app.config.server.body_read_timeout;
    let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect());
    let bytes = match read.await {
        Err(_) => {
            return Err(fail(GatewayError::BodyTimeout {
                ms: timeout.as_millis(),
            }))
        }
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Ok(Err(e)) => return Err(bad(format!("could not read the request body: {e}"), None)),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("the request body is empty: send a JSON object", None));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the request body must be a JSON object", None)),
        Err(e) => Err(error_response(
            StatusCode::BAD_REQUEST,
            &ErrorEnvelope::new(
                ErrorKind::InvalidRequestError,
                format!("the request body is not valid JSON: {e}"),
            )
            .with_code("invalid_json"),
        )
        .into()),
    }
}

/// A query string's fields: 400 naming the problem when they don't parse.
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Fail> {
    q.map(|Query(t)| t)
        .map_err(|e| bad(format!("bad query string: {}", e.body_text()), None))
}

/// The settings members of a key's or a team's body (see `governance::policy`).
pub const SETTINGS: &[&str] = &[
    "models",
    "providers",
    "routes",
    "virtual_keys",
    "rate_limits",
    "usage_limits",
    "metadata",
    "config",
    "guardrails",
];

/// `changes` applied to the settings object `base` (a `null` member removes it), checked with
/// [`Policy::from_value`]: the settings to store, or a 400 naming the field at fault.
pub fn merge_settings(
    config: &GatewayConfig,
    base: &Value,
    changes: Map<String, Value>,
) -> Result<Value, Fail> {
    let mut merged = base.as_object().cloned().unwrap_or_default();
    for (k, v) in changes {
        if v.is_null() {
            merged.remove(&k);
        } else {
            merged.insert(k, v);
        }
    }
    let policy = Policy::from_value(&Value::Object(merged)).map_err(invalid)?;
    // What the settings name (guardrail checks, a default config) must exist here.
    crate::governance::check_policy(config, &policy).map_err(invalid)?;
    Ok(policy.to_value())
}

/// A string member of 1 to 256 characters.
pub fn text(v: Value, field: &str) -> Result<String, Fail> {
    match v {
        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= 256 => Ok(s),
        Value::String(_) => Err(bad(
            format!("{field}: must be 1 to 256 characters"),
            Some(field),
        )),
        _ => Err(bad(format!("{field}: must be a string"), Some(field))),
    }
}

/// A member the endpoint does not know.
pub fn unknown(field: &str, expected: &str) -> Fail {
    bad(
        format!("{field}: unknown field (expected {expected})"),
        Some(field),
    )
}
