//! Portkey's `x-portkey-*` request headers, read once per request.

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use serde_json::{Map, Value};
use switchyard_providers::native::ProviderOptions;

use crate::config::Secret;
use crate::error::GatewayError;

pub const CONFIG: &str = "x-portkey-config";
pub const PROVIDER: &str = "x-portkey-provider";
pub const CUSTOM_HOST: &str = "x-portkey-custom-host";
pub const REQUEST_TIMEOUT: &str = "x-portkey-request-timeout";
pub const TRACE_ID: &str = "x-portkey-trace-id";
pub const METADATA: &str = "x-portkey-metadata";
pub const FORWARD_HEADERS: &str = "x-portkey-forward-headers";
pub const LAST_USED_OPTION_INDEX: &str = "x-portkey-last-used-option-index";
pub const RETRY_ATTEMPT_COUNT: &str = "x-portkey-retry-attempt-count";
pub const CACHE_STATUS: &str = "x-portkey-cache-status";
/// Response header: keys of the request's Gateway Config that were ignored (`config::keys`).
pub const IGNORED_CONFIG_KEYS: &str = "x-switchyard-ignored-config-keys";
pub const DEFAULT_INPUT_GUARDRAILS: &str = "x-portkey-default-input-guardrails";
pub const DEFAULT_OUTPUT_GUARDRAILS: &str = "x-portkey-default-output-guardrails";

/// Prefixes of headers that carry provider options (`x-portkey-aws-region` → `aws_region`).
const OPTION_HEADER_PREFIXES: &[&str] = &["aws-", "vertex-", "azure-", "anthropic-", "openai-"];

/// The routing-relevant headers of one request.
#[derive(Debug, Default)]
pub struct PortkeyHeaders {
    pub config: Option<Value>,
    pub provider: Option<String>,
    /// `Authorization: Bearer <key>`.
    pub bearer: Option<Secret>,
    pub custom_host: Option<String>,
    pub request_timeout: Option<Duration>,
    pub trace_id: Option<String>,
    pub metadata: Map<String, Value>,
    pub forward_headers: Option<Vec<HeaderName>>,
    pub options: ProviderOptions,
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, GatewayError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()).filter(|s| !s.is_empty()))
            .map_err(|_| {
                GatewayError::bad_request(format!("header {name} is not valid text"), Some(name))
            }),
    }
}

impl PortkeyHeaders {
    pub fn parse(headers: &HeaderMap) -> Result<Self, GatewayError> {
        let mut out = PortkeyHeaders::default();
        if let Some(c) = text(headers, CONFIG)? {
            let v: Value = serde_json::from_str(c).map_err(|e| {
                GatewayError::bad_request(format!("{CONFIG} is not valid JSON: {e}"), Some(CONFIG))
            })?;
            if !v.is_object() {
                return Err(GatewayError::bad_request(
                    format!("{CONFIG} must be a JSON object (a Gateway Config)"),
                    Some(CONFIG),
                ));
            }
            out.config = Some(v);
        }
        // An operator or client that asked for guardrails must not get an unguarded request.
        for name in [DEFAULT_INPUT_GUARDRAILS, DEFAULT_OUTPUT_GUARDRAILS] {
            if let Some(v) = text(headers, name)? {
                if !matches!(serde_json::from_str::<Value>(v), Ok(Value::Array(a)) if a.is_empty())
                {
                    return Err(GatewayError::bad_request(
                        format!("{name}: guardrails are not supported yet, so this request can't be guarded as asked"),
                        Some(name),
                    ));
                }
            }
        }
        out.provider = text(headers, PROVIDER)?.map(str::to_owned);
        if let Some(auth) = text(headers, "authorization")? {
            let key = auth
                .strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
                .unwrap_or(auth)
                .trim();
            if !key.is_empty() {
                out.bearer = Some(Secret::new(key));
            }
        }
        out.custom_host = text(headers, CUSTOM_HOST)?.map(str::to_owned);
        if let Some(t) = text(headers, REQUEST_TIMEOUT)? {
            match t.parse::<u64>() {
                Ok(ms) if ms > 0 => out.request_timeout = Some(Duration::from_millis(ms)),
                _ => {
                    return Err(GatewayError::bad_request(
                        format!(
                            "{REQUEST_TIMEOUT} must be a positive whole number of milliseconds"
                        ),
                        Some(REQUEST_TIMEOUT),
                    ))
                }
            }
        }
        out.trace_id = text(headers, TRACE_ID)?.map(str::to_owned);
        if let Some(m) = text(headers, METADATA)? {
            match serde_json::from_str::<Value>(m) {
                Ok(Value::Object(map)) => out.metadata = map,
                _ => {
                    return Err(GatewayError::bad_request(
                        format!("{METADATA} must be a JSON object"),
                        Some(METADATA),
                    ))
                }
            }
        }
        if let Some(list) = text(headers, FORWARD_HEADERS)? {
            let mut names = Vec::new();
            for n in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let name = HeaderName::from_bytes(n.as_bytes()).map_err(|_| {
                    GatewayError::bad_request(
                        format!("{FORWARD_HEADERS}: `{n}` is not a header name"),
                        Some(FORWARD_HEADERS),
                    )
                })?;
                names.push(name);
            }
            crate::upstream::headers::check_forwardable(&names).map_err(|e| {
                GatewayError::bad_request(format!("{FORWARD_HEADERS}: {e}"), Some(FORWARD_HEADERS))
            })?;
            out.forward_headers = Some(names);
        }
        for (name, value) in headers {
            let Some(rest) = name.as_str().strip_prefix("x-portkey-") else {
                continue;
            };
            if OPTION_HEADER_PREFIXES.iter().any(|p| rest.starts_with(p)) {
                if let Ok(v) = value.to_str() {
                    out.options
                        .insert(rest.replace('-', "_"), v.trim().to_owned());
                }
            }
        }
        Ok(out)
    }

    /// Whether the request itself says where to go (config or provider header).
    pub fn routes_itself(&self) -> bool {
        self.config.is_some() || self.provider.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_every_routing_header() {
        let h = headers(&[
            (CONFIG, r#"{"retry": {"attempts": 2}}"#),
            (PROVIDER, "openai"),
            ("authorization", "Bearer sk-abc"),
            (CUSTOM_HOST, "http://127.0.0.1:1/v1"),
            (REQUEST_TIMEOUT, "2500"),
            (TRACE_ID, "t-1"),
            (METADATA, r#"{"tier":"pro"}"#),
            (FORWARD_HEADERS, "x-a, x-b"),
            ("x-portkey-aws-region", "us-east-1"),
        ]);
        let p = PortkeyHeaders::parse(&h).unwrap();
        assert_eq!(p.config.unwrap()["retry"]["attempts"], 2);
        assert_eq!(p.provider.as_deref(), Some("openai"));
        assert_eq!(p.bearer.unwrap().expose(), "sk-abc");
        assert_eq!(p.request_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(p.metadata["tier"], "pro");
        assert_eq!(p.forward_headers.unwrap().len(), 2);
        assert_eq!(p.options["aws_region"], "us-east-1");
        assert_eq!(p.trace_id.as_deref(), Some("t-1"));
    }

    #[test]
    fn bad_headers_are_400s_naming_the_header() {
        for (k, v) in [
            (CONFIG, "{not json"),
            (CONFIG, "[1]"),
            (REQUEST_TIMEOUT, "soon"),
            (METADATA, "\"x\""),
            (FORWARD_HEADERS, "bad header"),
        ] {
            let err = PortkeyHeaders::parse(&headers(&[(k, v)])).unwrap_err();
            assert_eq!(err.status_code(), 400, "{k}: {v}");
            assert_eq!(err.envelope().error.param.as_deref(), Some(k));
        }
    }
}
