//! The access log: one line per request, written by the on-complete phase when the response
//! is over — for a stream, when it ends (with its status, bytes, usage and how it ended), not
//! when it commits. Target `switchyard::access`; it never holds a credential.

use super::{Hook, Phases, RequestRecord};

/// Writes the access-log line (`server.access_log`, on by default).
pub struct AccessLog;

impl AccessLog {
    /// Whether the log would write its lines (the subscriber's filter lets
    /// `switchyard::access` at info through).
    pub fn enabled() -> bool {
        tracing::enabled!(target: "switchyard::access", tracing::Level::INFO)
    }
}

impl Hook for AccessLog {
    fn name(&self) -> &'static str {
        "access_log"
    }

    fn phases(&self) -> Phases {
        Phases {
            on_complete: true,
            ..Phases::default()
        }
    }

    fn on_complete(&self, r: &RequestRecord) {
        let usage = r.usage.unwrap_or_default();
        tracing::info!(
            target: "switchyard::access",
            trace_id = %r.trace_id,
            op = r.op,
            status = r.status.as_u16(),
            provider = r.provider_slug(),
            target = r.target.as_deref().unwrap_or("-"),
            route = r.route,
            stream = r.stream,
            retries = r.retries,
            attempts = r.attempts,
            latency_us = r.duration.as_micros() as u64,
            upstream_us = r.upstream_wait.as_micros() as u64,
            bytes = r.bytes,
            input_tokens = usage.input,
            output_tokens = usage.output,
            usage = r.usage.is_some(),
            error = r.error.unwrap_or("-"),
            stream_error = r.stream_error.as_deref().unwrap_or("-"),
            client_gone = r.client_gone,
            "request"
        );
    }
}
