//! The one way guardrail checks reach the network: `default.webhook` and `default.log` POST
//! to their URL, `default.jwt` GETs its JWKS — all through [`send`].
//!
//! Requests go through the gateway's client pool for hosts a client named (`Upstreams::send(req,
//! true)`): a URL's addresses are checked when the connection is made (no internal addresses
//! unless `server.trusted_hosts` allows them), like a `custom_host`. Every request has a timeout
//! and a cap on the answer read. Redirects are not followed.
//!
//! The parameter helpers here ([`target_url`], [`extra_headers`], [`timeout`]) are the ones
//! those checks share, so their URLs, headers and timeouts are validated alike.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use switchyard_guardrails::CheckError;

use crate::config::ServerSettings;
use crate::upstream::Upstreams;

/// A check's `timeout` when it gives none, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 3000;
/// The largest `timeout` a check may set, in milliseconds.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

static CLIENTS: OnceLock<Upstreams> = OnceLock::new();

/// Checks use the server's clients (its DNS settings and trusted hosts); called at start-up.
pub fn install(clients: Upstreams) {
    let _ = CLIENTS.set(clients);
}

fn clients() -> Option<&'static Upstreams> {
    if let Some(c) = CLIENTS.get() {
        return Some(c);
    }
    let c = Upstreams::new(&ServerSettings::default()).ok()?;
    Some(CLIENTS.get_or_init(|| c))
}

/// Sends one request to `uri` and reads its answer: the status and at most `max_answer` bytes
/// of body, all within `timeout`. A `body` is sent as `content-type: application/json`
/// (`headers` are set after, and may override it). Errors name the other side as `what`
/// ("webhook", "JWKS endpoint", ...) and never quote a header value.
pub async fn send(
    what: &str,
    method: Method,
    uri: &Uri,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<Bytes>,
    timeout: Duration,
    max_answer: usize,
) -> Result<(StatusCode, Bytes), String> {
    let json = body.is_some();
    let mut req = Request::builder()
        .method(method)
        .uri(uri.clone())
        .body(crate::upstream::full(body.unwrap_or_default()))
        .map_err(|e| format!("cannot build the {what} request: {e}"))?;
    let h = req.headers_mut();
    if json {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    for (k, v) in headers {
        h.insert(k.clone(), v.clone());
    }
    let clients = clients().ok_or_else(|| "no HTTP client".to_owned())?;
    tokio::time::timeout(timeout, async {
        let resp = clients
            .send(req, true)
            .await
            .map_err(|e| format!("{what} unreachable: {e}"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), max_answer)
            .collect()
            .await
            .map_err(|e| format!("{what} answer unreadable: {e}"))?
            .to_bytes();
        Ok((status, body))
    })
    .await
    .map_err(|_| format!("the {what} did not answer within {}ms", timeout.as_millis()))?
}

/// Where a check POSTs (`default.webhook`, `default.log`): its URL parameter, `headers` and
/// `timeout`, validated once when the config is loaded.
pub struct Target {
    pub uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
}

impl Target {
    /// From a check's parameters, the URL under `url_key`.
    pub fn from_params(params: &Value, url_key: &str) -> Result<Target, CheckError> {
        Ok(Target {
            uri: target_url(params, url_key)?,
            headers: extra_headers(params)?,
            timeout: timeout(params)?,
        })
    }

    /// POSTs `body` (JSON); the status and at most `max_answer` bytes of the answer. Errors
    /// name the other side as `what`.
    pub async fn post(
        &self,
        what: &str,
        body: Bytes,
        max_answer: usize,
    ) -> Result<(StatusCode, Bytes), String> {
        send(
            what,
            Method::POST,
            &self.uri,
            &self.headers,
            Some(body),
            self.timeout,
            max_answer,
        )
        .await
    }
}

fn bad(m: impl Into<String>) -> CheckError {
    CheckError::InvalidParameters(m.into())
}

/// The required http(s) URL parameter `key`, without credentials.
pub fn target_url(params: &Value, key: &str) -> Result<Uri, CheckError> {
    let url = params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("`{key}` is required")))?;
    let uri: Uri = url
        .parse()
        .map_err(|_| bad(format!("`{key}` is not a valid URL")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(bad(format!("`{key}` must be an http or https URL")));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(bad(format!("`{key}` may not hold credentials")));
    }
    Ok(uri)
}

/// `uri` without its query (which may hold a token), for a check's `data` and errors.
pub fn display_url(uri: &Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str()),
        uri.path()
    )
}

/// The `headers` parameter: an object of strings, or a JSON string of one (Portkey's UI sends
/// a string). Values are marked sensitive (kept out of debug output).
pub fn extra_headers(params: &Value) -> Result<Vec<(HeaderName, HeaderValue)>, CheckError> {
    let headers = match params.get("headers") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(bad("`headers` must be an object (or a JSON string of one)")),
        },
        Some(_) => return Err(bad("`headers` must be an object")),
    };
    let mut hs = Vec::with_capacity(headers.len());
    for (k, v) in &headers {
        let (Ok(name), Some(Ok(mut value))) = (
            HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(HeaderValue::from_str),
        ) else {
            return Err(bad(format!("`headers.{k}` is not a valid header")));
        };
        value.set_sensitive(true);
        hs.push((name, value));
    }
    Ok(hs)
}

/// The `timeout` parameter: whole milliseconds from 1 to [`MAX_TIMEOUT_MS`], default
/// [`DEFAULT_TIMEOUT_MS`].
pub fn timeout(params: &Value) -> Result<Duration, CheckError> {
    let ms = match params.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
        Some(t) => match t.as_u64() {
            Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => ms,
            _ => {
                return Err(bad(format!(
                    "`timeout` must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
                )))
            }
        },
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_headers_and_timeouts_are_checked() {
        let url = |v: Value| target_url(&json!({ "u": v }), "u").map(|u| display_url(&u));
        assert_eq!(
            url(json!("https://h.example/p?token=x")),
            Ok("https://h.example/p".to_owned())
        );
        for bad in [
            json!(null),
            json!(3),
            json!("ftp://h/p"),
            json!("/relative"),
            json!("https://u:p@h/"),
        ] {
            assert!(url(bad.clone()).is_err(), "{bad}");
        }
        let hs = extra_headers(&json!({"headers": "{\"x-a\": \"1\"}"})).unwrap_or_default();
        assert_eq!(hs.len(), 1);
        assert!(hs[0].1.is_sensitive());
        assert!(extra_headers(&json!({"headers": {"x-a": 1}})).is_err());
        assert!(extra_headers(&json!({"headers": "[]"})).is_err());
        assert!(extra_headers(&json!({"headers": ["x"]})).is_err());
        assert_eq!(timeout(&json!({})), Ok(Duration::from_millis(3000)));
        assert_eq!(
            timeout(&json!({"timeout": 60000})),
            Ok(Duration::from_millis(60000))
        );
        for t in [json!(0), json!(60001), json!(1.5), json!(-1), json!("10")] {
            assert!(timeout(&json!({ "timeout": t })).is_err(), "{t}");
        }
    }
}
