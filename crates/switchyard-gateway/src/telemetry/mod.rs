//! Observability: what operators see of the gateway.
//!
//! - `metrics`: Prometheus metrics at `GET /metrics`, named after the OpenTelemetry GenAI
//!   conventions, fed by pipeline hooks;
//! - `request_log`: every request as a row in the records database (batched off the hot path),
//!   read through `GET /admin/logs` and `GET /admin/analytics`;
//! - `traces`: OpenTelemetry spans (a server span per request, a client span per upstream try)
//!   exported over OTLP/HTTP in batches that drop rather than wait;
//! - `live`: requests as they complete, streamed to `GET /admin/live` (the web console).
//!
//! docs/observability.md is the user's guide.

pub mod live;
pub mod metrics;
pub mod request_log;
pub mod traces;

/// OpenTelemetry's `gen_ai.operation.name` of a request's operation (`chat`,
/// `text_completion`, `embeddings`; others as they are).
pub fn operation_name(op: &str) -> &str {
    match op {
        "chat_completions" | "chat" => "chat",
        "completions" => "text_completion",
        "embeddings" => "embeddings",
        other => other,
    }
}
