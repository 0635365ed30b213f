//! One request's spans, as the request path queues them ([`SpanSet`]), and their OTLP protobuf
//! encoding ([`encode_batch`]): an `ExportTraceServiceRequest` with one `ResourceSpans` (the
//! resource's `service.name`), one `ScopeSpans` (scope `switchyard`), and per request a SERVER
//! span and one CLIENT span per upstream try.
//!
//! The request path only copies what it has (Arc clones, a few small values); every attribute,
//! name and id is written here, on the export thread, straight into the request body — no
//! intermediate message structs. Field numbers are those of `opentelemetry/proto/trace/v1/
//! trace.proto` and `common/v1/common.proto` (the unit tests decode the output with prost).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::StatusCode;

use super::proto::Writer;
use super::sampling::{new_span_id, SpanId, TraceId, FLAG_SAMPLED};
use crate::config::providers::ProviderEntry;
use crate::pipeline::record::TryRecord;

/// `Span.kind` values.
const KIND_SERVER: u64 = 2;
const KIND_CLIENT: u64 = 3;
/// `Status.code`: error.
const STATUS_ERROR: u64 = 2;
/// `SpanFlags`: the span's context says whether its parent is remote, and it is.
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
const FLAG_IS_REMOTE: u32 = 0x200;

/// One reading of both clocks, to place the records' `Instant`s in wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Instant,
    /// The wall clock at `now`, in nanoseconds since the Unix epoch.
    wall: u64,
}

impl Clock {
    /// Reads both clocks now.
    pub fn read() -> Clock {
        let wall = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Clock {
            now: Instant::now(),
            wall,
        }
    }

    /// Nanoseconds since the Unix epoch of the clocks' reading.
    fn wall_nanos(&self) -> u64 {
        self.wall
    }

    /// `t` in nanoseconds since the Unix epoch.
    fn at(&self, t: Instant) -> u64 {
        self.wall
            .saturating_sub(nanos(self.now.saturating_duration_since(t)))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn int(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

/// One sampled request's spans, as read from its record on the export thread: borrowed from
/// the record (nothing is copied to encode it).
#[derive(Debug, Clone)]
pub struct SpanSet<'a> {
    pub trace_id: TraceId,
    /// The client's span (a `traceparent`), the server span's parent.
    pub parent: Option<SpanId>,
    /// The client's `tracestate`, carried by every span of the trace.
    pub trace_state: Option<&'a str>,
    /// Read when the spans are built (on the export thread): places the record's instants.
    pub clock: Clock,
    pub started: Instant,
    pub duration: Duration,
    pub op: &'static str,
    pub cache_status: &'static str,
    pub status: StatusCode,
    pub retries: i32,
    pub attempts: u32,
    pub stream: bool,
    pub client_gone: bool,
    /// `x-portkey-trace-id`.
    pub request_id: &'a str,
    pub provider: Option<&'a ProviderEntry>,
    /// The model the client asked for.
    pub model: Option<&'a str>,
    pub target: Option<&'a str>,
    /// Input and output tokens.
    pub usage: Option<(u64, u64)>,
    /// The model the answer named (set by the stream tap).
    pub response_model: Option<&'a str>,
    pub error: Option<&'static str>,
    pub stream_error: Option<&'a str>,
    /// The request's messages (`capture_content`).
    pub content: Option<&'a str>,
    pub tries: &'a [TryRecord],
}

impl SpanSet<'_> {
    /// The spans this request gives.
    pub fn spans(&self) -> usize {
        1 + self.tries.len()
    }
}

/// The `Resource` message with these attributes, encoded once for every export.
pub fn resource(attributes: &[(String, String)]) -> Vec<u8> {
    let mut w = Writer::default();
    for (k, v) in attributes {
        w.kv_str(1, k, v);
    }
    w.finish()
}

/// The scope every span is reported under.
pub const SCOPE: &str = "switchyard";

/// An `ExportTraceServiceRequest` with these requests' spans, under `resource` (an encoded
/// `Resource`, from [`resource`]).
pub fn encode_batch(resource: &[u8], sets: &[SpanSet<'_>]) -> Vec<u8> {
    let spans: usize = sets.iter().map(SpanSet::spans).sum();
    let mut w = Writer::with_capacity(resource.len() + 64 + spans * 640);
    w.begin(1); // ResourceSpans
    w.bytes(1, &[resource]);
    w.begin(2); // ScopeSpans
    w.begin(1); // InstrumentationScope
    w.str(1, SCOPE);
    w.end();
    for set in sets {
        encode_set(&mut w, set);
    }
    w.end();
    w.end();
    w.finish()
}

/// The span's fields common to both kinds (ids, state, flags, name, kind, times).
#[allow(clippy::too_many_arguments)]
fn span_head(
    w: &mut Writer,
    set: &SpanSet<'_>,
    id: &SpanId,
    parent: Option<&SpanId>,
    remote_parent: bool,
    name: &[&[u8]],
    kind: u64,
    (start, end): (u64, u64),
) {
    w.bytes(1, &[&set.trace_id]);
    w.bytes(2, &[id]);
    if let Some(s) = set.trace_state {
        w.str(3, s);
    }
    if let Some(p) = parent {
        w.bytes(4, &[p]);
    }
    w.bytes(5, name);
    w.uint(6, kind);
    w.fixed64(7, start);
    w.fixed64(8, end);
    let mut flags = u32::from(FLAG_SAMPLED) | FLAG_HAS_IS_REMOTE;
    if remote_parent {
        flags |= FLAG_IS_REMOTE;
    }
    w.fixed32(16, flags);
}

/// A span's `Status`: unset, or an error with its message.
fn status(w: &mut Writer, error: Option<&str>) {
    w.begin(15);
    if let Some(e) = error {
        w.str(2, e);
        w.uint(3, STATUS_ERROR);
    }
    w.end();
}

/// The server span's name: the route template.
fn server_span_name(op: &str) -> &'static str {
    match op {
        "chat_completions" | "chat" => "POST /v1/chat/completions",
        "completions" => "POST /v1/completions",
        "embeddings" => "POST /v1/embeddings",
        "proxy" => "/v1/*",
        _ => "request",
    }
}

/// One request: its server span, then a client span per try.
fn encode_set(w: &mut Writer, set: &SpanSet<'_>) {
    let server_id = new_span_id();
    let op = crate::telemetry::operation_name(set.op);
    let clock = &set.clock;
    let start = clock.at(set.started);
    let end = if set.duration.is_zero() {
        clock.wall_nanos()
    } else {
        start.saturating_add(nanos(set.duration))
    };
    let response_model = set.response_model;

    // The server span.
    w.begin(2);
    span_head(
        w,
        set,
        &server_id,
        set.parent.as_ref(),
        set.parent.is_some(),
        &[server_span_name(set.op).as_bytes()],
        KIND_SERVER,
        (start, end),
    );
    w.kv_str(9, "gen_ai.operation.name", op);
    w.kv_int(
        9,
        "http.response.status_code",
        i64::from(set.status.as_u16()),
    );
    w.kv_str(9, "portkey.trace_id", set.request_id);
    w.kv_str(9, "switchyard.cache.status", set.cache_status);
    w.kv_int(9, "switchyard.retries", i64::from(set.retries));
    w.kv_int(9, "switchyard.attempts", i64::from(set.attempts));
    w.kv_bool(9, "switchyard.stream", set.stream);
    if let Some(p) = set.provider {
        w.kv_str(9, "gen_ai.provider.name", &p.slug);
    }
    if let Some(m) = set.model {
        w.kv_str(9, "gen_ai.request.model", m);
    }
    if let Some(t) = set.target {
        w.kv_str(9, "switchyard.target", t);
    }
    if let Some((input, output)) = set.usage {
        w.kv_int(9, "gen_ai.usage.input_tokens", int(input));
        w.kv_int(9, "gen_ai.usage.output_tokens", int(output));
    }
    if let Some(m) = response_model {
        w.kv_str(9, "gen_ai.response.model", m);
    }
    if let Some(e) = set.error {
        w.kv_str(9, "error.type", e);
    }
    if set.client_gone {
        w.kv_bool(9, "switchyard.client_gone", true);
    }
    if let Some(c) = set.content {
        w.kv_str(9, "gen_ai.input.messages", c);
    }
    // Retries and fallbacks, as events of the request.
    let mut previous: Option<&Arc<str>> = None;
    for t in set.tries {
        let at = clock.at(t.started);
        if t.retry > 0 {
            w.begin(11);
            w.fixed64(1, at);
            w.str(2, "retry");
            w.kv_str(3, "switchyard.target", &t.target);
            w.kv_int(3, "switchyard.retry", i64::from(t.retry));
            w.end();
        } else if let Some(prev) = previous.filter(|p| **p != t.target) {
            w.begin(11);
            w.fixed64(1, at);
            w.str(2, "fallback");
            w.kv_str(3, "switchyard.from_target", prev);
            w.kv_str(3, "switchyard.target", &t.target);
            w.end();
        }
        previous = Some(&t.target);
    }
    if let Some(why) = set.stream_error {
        w.begin(11);
        w.fixed64(1, clock.wall_nanos());
        w.str(2, "stream_error");
        w.kv_str(3, "message", why);
        w.end();
    }
    let failed = set.status.is_server_error() || set.stream_error.is_some();
    status(w, failed.then(|| set.error.unwrap_or("error")));
    w.end();

    // One client span per try.
    let last = set.tries.len().saturating_sub(1);
    for (i, t) in set.tries.iter().enumerate() {
        let answering = set.target == Some(&*t.target);
        // The model this try sent (the target's `override_params.model`, or the client's).
        let model = t.leaf.model_sent(set.model);
        let start = clock.at(t.started);
        let end = start.saturating_add(nanos(t.elapsed));
        w.begin(2);
        let id = new_span_id();
        match model.as_deref() {
            Some(m) => span_head(
                w,
                set,
                &id,
                Some(&server_id),
                false,
                &[op.as_bytes(), b" ", m.as_bytes()],
                KIND_CLIENT,
                (start, end),
            ),
            None => span_head(
                w,
                set,
                &id,
                Some(&server_id),
                false,
                &[op.as_bytes()],
                KIND_CLIENT,
                (start, end),
            ),
        }
        w.kv_str(9, "gen_ai.operation.name", op);
        w.kv_str(9, "gen_ai.provider.name", t.provider());
        w.kv_str(9, "switchyard.target", &t.target);
        w.kv_int(9, "switchyard.retry", i64::from(t.retry));
        if let Some(m) = model.as_deref() {
            w.kv_str(9, "gen_ai.request.model", m);
        }
        if let Some(s) = t.status {
            w.kv_int(9, "http.response.status_code", i64::from(s.as_u16()));
        }
        let failed = t.failed();
        let error = t
            .error
            .or_else(|| failed.then(|| t.status.as_ref().map_or("error", StatusCode::as_str)));
        if let Some(e) = error {
            w.kv_str(9, "error.type", e);
        }
        if i == last && answering && !failed {
            if let Some(m) = response_model {
                w.kv_str(9, "gen_ai.response.model", m);
            }
            if let Some((input, output)) = set.usage {
                w.kv_int(9, "gen_ai.usage.input_tokens", int(input));
                w.kv_int(9, "gen_ai.usage.output_tokens", int(output));
            }
        }
        if let Some(c) = set.content {
            w.kv_str(9, "gen_ai.input.messages", c);
        }
        status(w, error);
        w.end();
    }
}
