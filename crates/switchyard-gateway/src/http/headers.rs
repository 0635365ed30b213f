//! Portkey's `x-portkey-*` request headers, read once per request.

use std::time::Duration;

use http::{HeaderMap, HeaderName};
use serde_json::{Map, Value};
use switchyard_providers::native::ProviderOptions;

use crate::error::GatewayError;

pub const CONFIG: &str = "x-portkey-config";
pub const PROVIDER: &str = "x-portkey-provider";
pub const VIRTUAL_KEY: &str = "x-portkey-virtual-key";
pub const CUSTOM_HOST: &str = "x-portkey-custom-host";
pub const REQUEST_TIMEOUT: &str = "x-portkey-request-timeout";
pub const TRACE_ID: &str = "x-portkey-trace-id";
pub const METADATA: &str = "x-portkey-metadata";
pub const FORWARD_HEADERS: &str = "x-portkey-forward-headers";
pub const LAST_USED_OPTION_INDEX: &str = "x-portkey-last-used-option-index";
pub const RETRY_ATTEMPT_COUNT: &str = "x-portkey-retry-attempt-count";
pub const CACHE_STATUS: &str = "x-portkey-cache-status";
/// Response header of a semantic cache hit: the cosine similarity of the request it matched.
pub const CACHE_SIMILARITY: &str = "x-switchyard-cache-similarity";
/// Response header: keys of the request's Gateway Config that were ignored (`config::keys`).
pub const IGNORED_CONFIG_KEYS: &str = "x-switchyard-ignored-config-keys";
pub const DEFAULT_INPUT_GUARDRAILS: &str = "x-portkey-default-input-guardrails";
pub const DEFAULT_OUTPUT_GUARDRAILS: &str = "x-portkey-default-output-guardrails";

/// Prefixes of headers that carry provider options (`x-portkey-aws-region` → `aws_region`).
const OPTION_HEADER_PREFIXES: &[&str] = &[
    "aws-",
    "vertex-",
    "azure-",
    "anthropic-",
    "openai-",
    "workers-ai-",
    "predibase-",
    "amzn-sagemaker-",
    "oracle-",
];

/// The routing-relevant headers of one request, borrowed from its header map. Only what every
/// request needs is read up front; the config's JSON and the provider options are read on
/// demand, so a route served from the route cache never parses them.
#[derive(Debug)]
pub struct PortkeyHeaders<'h> {
    /// `x-portkey-config`, as sent (see [`PortkeyHeaders::config_value`]).
    pub config: Option<&'h str>,
    pub provider: Option<&'h str>,
    /// `x-portkey-virtual-key`: a stored credential (and its provider) by name.
    pub virtual_key: Option<&'h str>,
    /// The key of `Authorization: Bearer <key>`.
    pub bearer: Option<&'h str>,
    pub custom_host: Option<&'h str>,
    pub request_timeout: Option<Duration>,
    pub metadata: Map<String, Value>,
    pub forward_headers: Option<Vec<HeaderName>>,
    headers: &'h HeaderMap,
}

/// The headers read or written on every request, as header names built once: a lookup by `&str`
/// validates and hashes the name's text each time (about 350 instructions for one of these,
/// a dozen lookups a request).
pub(crate) mod names {
    use http::HeaderName;

    pub static CONFIG: HeaderName = HeaderName::from_static(super::CONFIG);
    pub static PROVIDER: HeaderName = HeaderName::from_static(super::PROVIDER);
    pub static VIRTUAL_KEY: HeaderName = HeaderName::from_static(super::VIRTUAL_KEY);
    pub static CUSTOM_HOST: HeaderName = HeaderName::from_static(super::CUSTOM_HOST);
    pub static AZURE_FOUNDRY_URL: HeaderName =
        HeaderName::from_static("x-portkey-azure-foundry-url");
    pub static REQUEST_TIMEOUT: HeaderName = HeaderName::from_static(super::REQUEST_TIMEOUT);
    pub static TRACE_ID: HeaderName = HeaderName::from_static(super::TRACE_ID);
    pub static LAST_USED_OPTION_INDEX: HeaderName =
        HeaderName::from_static(super::LAST_USED_OPTION_INDEX);
    pub static RETRY_ATTEMPT_COUNT: HeaderName =
        HeaderName::from_static(super::RETRY_ATTEMPT_COUNT);
    pub static CACHE_STATUS: HeaderName = HeaderName::from_static(super::CACHE_STATUS);
    pub static METADATA: HeaderName = HeaderName::from_static(super::METADATA);
    pub static FORWARD_HEADERS: HeaderName = HeaderName::from_static(super::FORWARD_HEADERS);
    pub static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
    pub static DEFAULT_INPUT_GUARDRAILS: HeaderName =
        HeaderName::from_static(super::DEFAULT_INPUT_GUARDRAILS);
    pub static DEFAULT_OUTPUT_GUARDRAILS: HeaderName =
        HeaderName::from_static(super::DEFAULT_OUTPUT_GUARDRAILS);
}

fn text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, GatewayError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()).filter(|s| !s.is_empty()))
            .map_err(|_| {
                let name = name.as_str();
                GatewayError::bad_request(format!("header {name} is not valid text"), Some(name))
            }),
    }
}

impl<'h> PortkeyHeaders<'h> {
    pub fn parse(headers: &'h HeaderMap) -> Result<Self, GatewayError> {
        // An operator or client that asked for guardrails must not get an unguarded request.
        for name in [
            &names::DEFAULT_INPUT_GUARDRAILS,
            &names::DEFAULT_OUTPUT_GUARDRAILS,
        ] {
            if let Some(v) = text(headers, name)? {
                let name = name.as_str();
                if !matches!(serde_json::from_str::<Value>(v), Ok(Value::Array(a)) if a.is_empty())
                {
                    return Err(GatewayError::bad_request(
                        format!("{name} is not read: put the guardrails in the Gateway Config (`default_input_guardrails`, `input_guardrails`, … — docs/guardrails.md), so this request can't be guarded as asked"),
                        Some(name),
                    ));
                }
            }
        }
        let mut out = PortkeyHeaders {
            config: text(headers, &names::CONFIG)?,
            provider: text(headers, &names::PROVIDER)?,
            virtual_key: text(headers, &names::VIRTUAL_KEY)?,
            bearer: None,
            custom_host: match text(headers, &names::CUSTOM_HOST)? {
                // Portkey's Azure AI Foundry endpoint is the `azure-ai` target's host.
                None if text(headers, &names::PROVIDER)? == Some("azure-ai") => {
                    text(headers, &names::AZURE_FOUNDRY_URL)?
                }
                host => host,
            },
            request_timeout: None,
            metadata: Map::new(),
            forward_headers: None,
            headers,
        };
        if let Some(auth) = text(headers, &http::header::AUTHORIZATION)? {
            let key = auth
                .strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
                .unwrap_or(auth)
                .trim();
            if !key.is_empty() {
                out.bearer = Some(key);
            }
        }
        // Anthropic's SDKs send their key as `x-api-key`: the provider key when there is no
        // bearer token (a gateway key sent there was taken out by authentication already).
        if out.bearer.is_none() {
            out.bearer = text(headers, &names::X_API_KEY)?
                .map(str::trim)
                .filter(|k| !k.is_empty());
        }
        if let Some(t) = text(headers, &names::REQUEST_TIMEOUT)? {
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
        if let Some(m) = text(headers, &names::METADATA)? {
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
        if let Some(list) = text(headers, &names::FORWARD_HEADERS)? {
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
        Ok(out)
    }

    /// Whether the request itself says where to go (config or provider header).
    pub fn routes_itself(&self) -> bool {
        self.config.is_some() || self.provider.is_some() || self.virtual_key.is_some()
    }

    /// `x-portkey-config` as a JSON object (400 naming the header when it is not one).
    pub fn config_value(&self) -> Result<Option<Value>, GatewayError> {
        let Some(c) = self.config else {
            return Ok(None);
        };
        let v: Value = serde_json::from_str(c).map_err(|e| {
            GatewayError::bad_request(format!("{CONFIG} is not valid JSON: {e}"), Some(CONFIG))
        })?;
        if !v.is_object() {
            return Err(GatewayError::bad_request(
                format!("{CONFIG} must be a JSON object (a Gateway Config)"),
                Some(CONFIG),
            ));
        }
        Ok(Some(v))
    }

    /// The `x-portkey-<option>` headers, in order.
    fn option_headers(&self) -> impl Iterator<Item = (&'h str, &'h str)> + 'h {
        self.headers.iter().filter_map(|(name, value)| {
            let rest = name.as_str().strip_prefix("x-portkey-")?;
            if !OPTION_HEADER_PREFIXES.iter().any(|p| rest.starts_with(p)) {
                return None;
            }
            Some((rest, value.to_str().ok()?.trim()))
        })
    }

    /// Provider options from `x-portkey-*` headers (`x-portkey-aws-region` → `aws_region`).
    pub fn options(&self) -> ProviderOptions {
        self.option_headers()
            .map(|(k, v)| (k.replace('-', "_"), v.to_owned()))
            .collect()
    }

    /// Everything in these headers that a tree built from them depends on, as one byte
    /// string: the route cache's key. `tag` tells apart trees built for different rules.
    pub fn route_key(&self, tag: u8, generation: u64, parts: &[&str]) -> Vec<u8> {
        let mut key = Vec::with_capacity(128 + self.config.map_or(0, str::len));
        key.push(tag);
        key.extend_from_slice(&generation.to_le_bytes());
        let mut push = |s: &str| {
            key.extend_from_slice(&(s.len() as u64).to_le_bytes());
            key.extend_from_slice(s.as_bytes());
        };
        for p in parts {
            push(p);
        }
        for v in [
            self.config,
            self.provider,
            self.bearer,
            self.custom_host,
            self.virtual_key,
        ] {
            push(v.unwrap_or("\0"));
        }
        for (k, v) in self.option_headers() {
            push(k);
            push(v);
        }
        key
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
        assert_eq!(p.config_value().unwrap().unwrap()["retry"]["attempts"], 2);
        assert_eq!(p.provider, Some("openai"));
        assert_eq!(p.bearer, Some("sk-abc"));
        assert_eq!(p.custom_host, Some("http://127.0.0.1:1/v1"));
        assert_eq!(p.request_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(p.metadata["tier"], "pro");
        assert_eq!(p.options()["aws_region"], "us-east-1");
        assert_eq!(p.forward_headers.unwrap().len(), 2);
    }

    #[test]
    fn workers_ai_and_predibase_option_headers_become_options() {
        let h = headers(&[
            ("x-portkey-workers-ai-account-id", "023e105f4ecef8ad"),
            ("x-portkey-predibase-tenant-id", "tenant-1"),
        ]);
        let o = PortkeyHeaders::parse(&h).unwrap().options();
        assert_eq!(o["workers_ai_account_id"], "023e105f4ecef8ad");
        assert_eq!(o["predibase_tenant_id"], "tenant-1");
    }

    #[test]
    fn the_route_key_changes_with_every_header_the_tree_depends_on() {
        let base = [
            (PROVIDER, "openai"),
            ("authorization", "Bearer sk-a"),
            (CUSTOM_HOST, "http://127.0.0.1:1/v1"),
        ];
        let key = |extra: &[(&'static str, &str)]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            let h = headers(&all);
            PortkeyHeaders::parse(&h).unwrap().route_key(b'h', 0, &[])
        };
        let plain = key(&[]);
        assert_eq!(plain, key(&[(TRACE_ID, "other"), (REQUEST_TIMEOUT, "5")]));
        assert_ne!(plain, key(&[("x-portkey-aws-region", "eu-west-1")]));
        assert_ne!(plain, key(&[(CONFIG, "{}")]));
        let h = headers(&[(PROVIDER, "openai"), ("authorization", "Bearer sk-b")]);
        assert_ne!(
            plain,
            PortkeyHeaders::parse(&h).unwrap().route_key(b'h', 0, &[])
        );
        // Lengths are part of the key: no two header sets run together into one.
        let a = headers(&[(PROVIDER, "ab"), ("authorization", "Bearer c")]);
        let b = headers(&[(PROVIDER, "a"), ("authorization", "Bearer bc")]);
        assert_ne!(
            PortkeyHeaders::parse(&a).unwrap().route_key(b'h', 0, &[]),
            PortkeyHeaders::parse(&b).unwrap().route_key(b'h', 0, &[])
        );
    }

    #[test]
    fn bad_headers_are_400s_naming_the_header() {
        for (k, v) in [(CONFIG, "{not json"), (CONFIG, "[1]")] {
            let h = headers(&[(k, v)]);
            let err = PortkeyHeaders::parse(&h)
                .unwrap()
                .config_value()
                .unwrap_err();
            assert_eq!(err.status_code(), 400, "{k}: {v}");
            assert_eq!(err.envelope().error.param.as_deref(), Some(k));
        }
        for (k, v) in [
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
