//! The `traces:` section of the server file and the standard `OTEL_*` variables, parsed and
//! validated into one [`TracesConfig`].
//!
//! ```yaml
//! traces:
//!   endpoint: http://otel-collector:4318   # `/v1/traces` is appended unless already there
//!   headers: { x-api-key: "${OTEL_KEY}" }
//!   service_name: switchyard
//!   sample_ratio: 0.25                      # 0..1, default 1
//!   capture_content: false                  # default: message content is never exported
//! ```
//!
//! The file wins over the variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is),
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (a base: `/v1/traces` is appended), `OTEL_EXPORTER_OTLP_HEADERS`
//! / `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k2=v2`, percent-encoded values), and
//! `OTEL_SERVICE_NAME`. Traces are on when the section is present or an endpoint variable is set.

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue, Uri};
use serde_json::Value;

use crate::config::errors::read_section;
use crate::config::ConfigErrors;

/// Where OTLP/HTTP goes when nothing says (the OTLP default).
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// The `service.name` when nothing says.
pub const DEFAULT_SERVICE_NAME: &str = "switchyard";

/// What the traces exporter does.
#[derive(Debug, Clone, PartialEq)]
pub struct TracesConfig {
    /// The full URL spans are POSTed to (ends in `/v1/traces` unless a variable said otherwise).
    pub endpoint: String,
    /// Extra request headers (a collector's API key).
    pub headers: BTreeMap<String, String>,
    pub service_name: String,
    /// The share of new traces recorded (a client's sampled `traceparent` is always followed).
    pub sample_ratio: f64,
    /// Export the request's messages (`gen_ai.input.messages`, at most 8 KiB).
    pub capture_content: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraces {
    endpoint: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    service_name: Option<String>,
    sample_ratio: Option<f64>,
    capture_content: Option<bool>,
}

/// `base` with `/v1/traces` appended, unless it already ends with it.
fn signal_url(base: &str) -> String {
    let base = base.trim();
    if base.trim_end_matches('/').ends_with("/v1/traces") {
        return base.trim_end_matches('/').to_owned();
    }
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// Checks an endpoint: an absolute `http` or `https` URL.
fn check_endpoint(url: &str, at: &str, errs: &mut ConfigErrors) {
    match url.parse::<Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() => {}
        _ => errs.push(at, format!("`{url}` is not an http(s) URL")),
    }
}

/// `k=v,k2=v2` (W3C baggage-like, values percent-encoded), as the OTLP variables write headers.
pub(super) fn parse_header_list(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_owned(), percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TracesConfig {
    /// Reads the `traces:` section (`raw`) and the `OTEL_*` variables (`env`). `Ok(None)`:
    /// traces are off (no section, no endpoint variable).
    pub fn from_settings(
        raw: Option<&Value>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<TracesConfig>, ConfigErrors> {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let traces_var = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let base_var = var("OTEL_EXPORTER_OTLP_ENDPOINT");
        let raw = raw.filter(|v| !v.is_null());
        if raw.is_none() && traces_var.is_none() && base_var.is_none() {
            return Ok(None);
        }
        let mut errs = ConfigErrors::default();
        let file = match raw {
            Some(v) => match read_section::<RawTraces>(v, "traces") {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.0.push(e);
                    return Err(errs);
                }
            },
            None => None,
        };
        let file = file.unwrap_or(RawTraces {
            endpoint: None,
            headers: None,
            service_name: None,
            sample_ratio: None,
            capture_content: None,
        });

        let endpoint = match (
            file.endpoint.filter(|e| !e.trim().is_empty()),
            traces_var,
            base_var,
        ) {
            (Some(e), _, _) => {
                check_endpoint(&e, "traces.endpoint", &mut errs);
                signal_url(&e)
            }
            (None, Some(e), _) => {
                check_endpoint(&e, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &mut errs);
                e.trim().to_owned()
            }
            (None, None, Some(e)) => {
                check_endpoint(&e, "OTEL_EXPORTER_OTLP_ENDPOINT", &mut errs);
                signal_url(&e)
            }
            (None, None, None) => DEFAULT_ENDPOINT.to_owned(),
        };

        let mut headers = BTreeMap::new();
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            for (k, v) in var(name)
                .as_deref()
                .map(parse_header_list)
                .unwrap_or_default()
            {
                if HeaderName::from_bytes(k.as_bytes()).is_err()
                    || HeaderValue::from_str(&v).is_err()
                {
                    errs.push(name, format!("`{k}` is not a valid header"));
                } else {
                    headers.insert(k.to_ascii_lowercase(), v);
                }
            }
        }
        for (k, v) in file.headers.unwrap_or_default() {
            let at = format!("traces.headers.{k}");
            if HeaderName::from_bytes(k.as_bytes()).is_err() {
                errs.push(&at, "not a valid header name");
            } else if HeaderValue::from_str(&v).is_err() {
                errs.push(&at, "not a valid header value");
            } else {
                headers.insert(k.to_ascii_lowercase(), v);
            }
        }

        let service_name = match file.service_name {
            Some(s) if s.trim().is_empty() => {
                errs.push("traces.service_name", "must not be empty");
                String::new()
            }
            Some(s) => s,
            None => var("OTEL_SERVICE_NAME").unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()),
        };

        let sample_ratio = file.sample_ratio.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample_ratio) {
            errs.push("traces.sample_ratio", "must be between 0 and 1");
        }

        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Some(TracesConfig {
            endpoint,
            headers,
            service_name,
            sample_ratio,
            capture_content: file.capture_content.unwrap_or(false),
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn off_without_section_or_variables() {
        assert_eq!(TracesConfig::from_settings(None, &no_env).unwrap(), None);
    }

    #[test]
    fn file_section_with_defaults() {
        let c = TracesConfig::from_settings(Some(&json!({"endpoint": "http://c:4318"})), &no_env)
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, "http://c:4318/v1/traces");
        assert_eq!(c.service_name, "switchyard");
        assert_eq!(c.sample_ratio, 1.0);
        assert!(!c.capture_content);
        let c = TracesConfig::from_settings(Some(&json!({})), &no_env)
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        let c = TracesConfig::from_settings(
            Some(&json!({"endpoint": "https://c/otlp/v1/traces/"})),
            &no_env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "https://c/otlp/v1/traces");
    }

    #[test]
    fn variables_turn_traces_on_and_the_file_wins() {
        let env = |k: &str| match k {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://base:4318/".to_owned()),
            "OTEL_EXPORTER_OTLP_HEADERS" => Some("api-key=a%20b, x-team=t".to_owned()),
            "OTEL_SERVICE_NAME" => Some("gw".to_owned()),
            _ => None,
        };
        let c = TracesConfig::from_settings(None, &env).unwrap().unwrap();
        assert_eq!(c.endpoint, "http://base:4318/v1/traces");
        assert_eq!(c.headers["api-key"], "a b");
        assert_eq!(c.headers["x-team"], "t");
        assert_eq!(c.service_name, "gw");
        let signal = |k: &str| match k {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" => Some("http://sig:1/custom".to_owned()),
            _ => env(k),
        };
        let c = TracesConfig::from_settings(None, &signal).unwrap().unwrap();
        assert_eq!(c.endpoint, "http://sig:1/custom");
        let raw = json!({"endpoint": "http://file:4318", "headers": {"x-team": "f"},
                         "service_name": "svc"});
        let c = TracesConfig::from_settings(Some(&raw), &signal)
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, "http://file:4318/v1/traces");
        assert_eq!(c.headers["x-team"], "f");
        assert_eq!(c.service_name, "svc");
    }

    /// The `traces:` examples of configuration.md and observability.md pass this validation.
    #[test]
    fn the_documented_examples_are_valid() {
        let env = |k: &str| Some(format!("value-of-{k}"));
        for (doc, start) in [
            (
                include_str!("../../../../../docs/configuration.md"),
                "```yaml\nserver:",
            ),
            (
                include_str!("../../../../../docs/observability.md"),
                "```yaml\ntraces:",
            ),
        ] {
            let at = doc.find(start).expect("the example") + "```yaml\n".len();
            let len = doc[at..].find("```").unwrap();
            let yaml = &doc[at..at + len];
            let c = crate::GatewayConfig::from_yaml(yaml, &|k| {
                (!matches!(k, "SWITCHYARD_DATABASE_URL" | "SWITCHYARD_DATA_DIR")).then(|| env(k))?
            })
            .unwrap_or_else(|e| panic!("{e}"));
            let t = TracesConfig::from_settings(c.telemetry.traces.raw.as_ref(), &no_env)
                .unwrap_or_else(|e| panic!("{e}"))
                .expect("traces on");
            assert_eq!(t.endpoint, "http://otel-collector:4318/v1/traces");
            assert_eq!(t.service_name, "switchyard");
            assert!(!t.capture_content);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let path = |raw: Value| {
            TracesConfig::from_settings(Some(&raw), &no_env)
                .unwrap_err()
                .first_path()
                .map(str::to_owned)
        };
        assert_eq!(
            path(json!({"endpoint": "collector:4318"})).as_deref(),
            Some("traces.endpoint")
        );
        assert_eq!(
            path(json!({"sample_ratio": 1.5})).as_deref(),
            Some("traces.sample_ratio")
        );
        assert_eq!(
            path(json!({"sample_ratio": "half"})).as_deref(),
            Some("traces.sample_ratio")
        );
        assert_eq!(
            path(json!({"headers": {"bad header": "x"}})).as_deref(),
            Some("traces.headers.bad header")
        );
        assert_eq!(
            path(json!({"service_name": ""})).as_deref(),
            Some("traces.service_name")
        );
        assert_eq!(
            path(json!({"capture_content": "yes"})).as_deref(),
            Some("traces.capture_content")
        );
        assert_eq!(
            path(json!({"endpont": "x"})).as_deref(),
            Some("traces.endpont")
        );
        assert_eq!(path(json!("http://x")).as_deref(), Some("traces"));
    }
}
