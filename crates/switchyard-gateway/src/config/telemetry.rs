//! The server file's observability sections: `metrics:`, `traces:` and `request_log:`.
//!
//! ```yaml
//! metrics:
//!   enabled: true            # GET /metrics (Prometheus text format)
//!   bearer_token: ${METRICS_TOKEN}   # optional: /metrics then needs `Authorization: Bearer …`
//! traces:                    # OpenTelemetry over OTLP (also OTEL_EXPORTER_OTLP_* variables)
//!   endpoint: http://otel-collector:4318
//! request_log:               # every request recorded in the database
//!   enabled: true
//! ```

use serde_json::Value;

use super::errors::ConfigErrors;
use super::secret::Secret;

/// The `metrics:` section.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// `GET /metrics` answers (default: on).
    pub enabled: bool,
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            bearer_token: None,
        }
    }
}

/// The `traces:` section (filled in by the traces module).
#[derive(Debug, Clone, Default)]
pub struct TracesSettings {
    /// The raw section, parsed by `telemetry::traces`.
    pub raw: Option<Value>,
}

/// The `request_log:` section (filled in by the request-log module).
#[derive(Debug, Clone, Default)]
pub struct RequestLogSettings {
    /// The raw section, parsed by `telemetry::request_log`.
    pub raw: Option<Value>,
}

/// The three sections.
#[derive(Debug, Clone, Default)]
pub struct TelemetrySettings {
    pub metrics: MetricsSettings,
    pub traces: TracesSettings,
    pub request_log: RequestLogSettings,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    enabled: Option<bool>,
    bearer_token: Option<String>,
}

/// Parses the sections (absent: defaults).
pub fn parse(
    metrics: Option<&Value>,
    traces: Option<&Value>,
    request_log: Option<&Value>,
    errs: &mut ConfigErrors,
) -> TelemetrySettings {
    let mut t = TelemetrySettings::default();
    if let Some(v) = metrics.filter(|v| !v.is_null()) {
        if let Some(r) = errs.read::<RawMetrics>(v, "metrics") {
            if let Some(e) = r.enabled {
                t.metrics.enabled = e;
            }
            match r.bearer_token.filter(|s| !s.is_empty()) {
                Some(tok) if tok.len() < 16 => {
                    errs.push("metrics.bearer_token", "must be at least 16 characters")
                }
                Some(tok) => t.metrics.bearer_token = Some(Secret::new(tok)),
                None => {}
            }
        }
    }
    t.traces.raw = traces.filter(|v| !v.is_null()).cloned();
    t.request_log.raw = request_log.filter(|v| !v.is_null()).cloned();
    t
}
