//! OpenTelemetry traces over OTLP/HTTP (protobuf): one SERVER span per request and one CLIENT
//! span per upstream try, with the GenAI semantic-convention attributes.
//!
//! Spans are built after the fact, from what the pipeline records: the attempt-end phase gives
//! each try (kept per request, in a bounded map keyed by the trace id, until the request
//! completes) and the on-complete phase the request. Their start and end times are set
//! explicitly, from the records' `Instant`s, so the engine carries no span. A client's W3C
//! `traceparent` is read in the on-request phase and becomes the server span's parent.
//!
//! Nothing is registered, and nothing costs anything, when traces are not configured
//! ([`hook`]). Export drops rather than blocks when the collector is down ([`export`],
//! [`dropped_spans`]). Span names and attributes are listed in docs/observability.md.

pub mod config;
pub mod export;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::config::GatewayConfig;
use crate::context::RequestContext;
use crate::pipeline::{
    AttemptRecord, ChunkAction, EarlyAnswer, Hook, HookFuture, Phases, RequestRecord, StreamTap,
};
use crate::routing::tree::Node;

pub use config::TracesConfig;
pub use export::dropped_spans;

/// At most this much of the request's messages is exported (`capture_content: true`).
pub const MAX_CONTENT_BYTES: usize = 8 * 1024;
/// Requests whose tries are kept at once (beyond: the oldest are forgotten).
const MAX_TRACKED: u64 = 16_384;
/// Tries kept per request.
const MAX_TRIES: usize = 64;

/// The hook for the server file's `traces:` section and the `OTEL_*` variables, or `None`
/// when traces are not configured.
pub fn hook(config: &GatewayConfig) -> std::io::Result<Option<Arc<dyn Hook>>> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let env = |k: &str| std::env::var(k).ok();
    let Some(cfg) = TracesConfig::from_settings(config.telemetry.traces.raw.as_ref(), &env)
        .map_err(|e| invalid(e.to_string()))?
    else {
        return Ok(None);
    };
    let hook = TracesHook::new(&cfg).map_err(|e| invalid(format!("traces: {e}")))?;
    Ok(Some(Arc::new(hook)))
}

/// What the on-request phase keeps for the request's spans.
#[derive(Debug, Clone)]
struct TraceScratch {
    /// The client's `traceparent`, when it sent a valid one.
    parent: Option<SpanContext>,
    /// The request's messages, truncated (only with `capture_content`).
    content: Option<Arc<str>>,
}

/// One upstream try, as the attempt-end phase saw it.
#[derive(Debug, Clone)]
struct Try {
    target: Arc<str>,
    provider: Arc<str>,
    retry: u32,
    status: Option<http::StatusCode>,
    error: Option<&'static str>,
    elapsed: Duration,
    ended: Instant,
}

/// What is known of a request before it completes: its tries, and the model that answered.
#[derive(Debug, Default)]
struct Pending {
    tries: Vec<Try>,
    response_model: Option<String>,
}

type Tries = Arc<Mutex<Pending>>;

/// Reads the answer's `model` from the first chunk of the response body (a whole body, or a
/// stream's first event): the top-level `"model": "…"` that OpenAI-shaped answers put before
/// their content.
struct ResponseModelTap {
    pending: Tries,
    done: bool,
}

/// The string value of the first `"model"` key in `chunk`.
fn model_in(chunk: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(chunk, b"\"model\"")?;
    let rest = &chunk[at + 7..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[end] != b'"' || end > 256 {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok().map(str::to_owned)
}

impl StreamTap for ResponseModelTap {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if !self.done {
            self.done = true;
            if let Some(m) = model_in(&chunk) {
                self.pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .response_model = Some(m);
            }
        }
        ChunkAction::Send(chunk)
    }
}

/// The traces pipeline hook.
pub struct TracesHook {
    tracer: SdkTracer,
    /// Kept so the export thread is shut down (and flushed) when the hook goes.
    _provider: SdkTracerProvider,
    tries: moka::sync::Cache<Arc<str>, Tries>,
    capture_content: bool,
}

impl TracesHook {
    /// Starts the exporter for `cfg`.
    pub fn new(cfg: &TracesConfig) -> Result<TracesHook, String> {
        let resource = Resource::builder()
            .with_service_name(cfg.service_name.clone())
            .build();
        let processor = export::DroppingProcessor::start(cfg, &resource)?;
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                cfg.sample_ratio,
            ))))
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("switchyard");
        Ok(TracesHook {
            tracer,
            _provider: provider,
            tries: moka::sync::Cache::builder()
                .max_capacity(MAX_TRACKED)
                .time_to_live(Duration::from_secs(15 * 60))
                .build(),
            capture_content: cfg.capture_content,
        })
    }
}

/// `gen_ai.operation.name` for a record's `op`.
use super::operation_name;

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

/// The client's W3C `traceparent`, if valid.
fn remote_parent(headers: &http::HeaderMap) -> Option<SpanContext> {
    if !headers.contains_key("traceparent") {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

/// The request's messages (or prompt, or input) as JSON text, cut to [`MAX_CONTENT_BYTES`].
fn input_messages(body: &Bytes) -> Option<Arc<str>> {
    #[derive(serde::Deserialize)]
    struct Input<'a> {
        #[serde(borrow)]
        messages: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        prompt: Option<&'a serde_json::value::RawValue>,
        #[serde(borrow)]
        input: Option<&'a serde_json::value::RawValue>,
    }
    let parsed: Input<'_> = serde_json::from_slice(body).ok()?;
    let raw = parsed.messages.or(parsed.prompt).or(parsed.input)?.get();
    let mut end = raw.len().min(MAX_CONTENT_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    Some(Arc::from(&raw[..end]))
}

/// Turns an `Instant` into wall-clock time, against one reading of both clocks.
struct Clock {
    now: Instant,
    wall: SystemTime,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            now: Instant::now(),
            wall: SystemTime::now(),
        }
    }
    fn at(&self, t: Instant) -> SystemTime {
        self.wall
            .checked_sub(self.now.saturating_duration_since(t))
            .unwrap_or(self.wall)
    }
}

fn int(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

impl TracesHook {
    fn client_spans(
        &self,
        record: &RequestRecord,
        cx: &Context,
        clock: &Clock,
        tries: &[Try],
        response_model: Option<&str>,
    ) {
        let op = operation_name(record.op);
        let request_model = record.model.as_deref();
        // The answering target may send a model of its own (`override_params`).
        let final_model = record.leaf.as_ref().and_then(|leaf| {
            crate::governance::hook::target_model(leaf, request_model).map(|m| m.into_owned())
        });
        let scratch = record.extensions.get::<TraceScratch>();
        let content = scratch.and_then(|s| s.content.clone());
        let server = cx.span();
        let mut previous: Option<&Arc<str>> = None;
        let last = tries.len().saturating_sub(1);
        for (i, t) in tries.iter().enumerate() {
            let answering = record.target.as_deref() == Some(&*t.target);
            let model = match (&final_model, answering) {
                (Some(m), true) => Some(m.as_str()),
                _ => request_model,
            };
            let name = match model {
                Some(m) => format!("{op} {m}"),
                None => op.to_owned(),
            };
            let end = clock.at(t.ended);
            let start = end.checked_sub(t.elapsed).unwrap_or(end);
            let mut attrs = vec![
                KeyValue::new("gen_ai.operation.name", op.to_owned()),
                KeyValue::new("gen_ai.provider.name", t.provider.to_string()),
                KeyValue::new("switchyard.target", t.target.to_string()),
                KeyValue::new("switchyard.retry", int(t.retry)),
            ];
            if let Some(m) = model {
                attrs.push(KeyValue::new("gen_ai.request.model", m.to_owned()));
            }
            if let Some(s) = t.status {
                attrs.push(KeyValue::new("http.response.status_code", int(s.as_u16())));
            }
            let failed = t.error.is_some() || t.status.is_none_or(|s| !s.is_success());
            let error = t.error.map(str::to_owned).or_else(|| {
                failed.then(|| {
                    t.status
                        .map_or("error".to_owned(), |s| s.as_u16().to_string())
                })
            });
            if let Some(e) = &error {
                attrs.push(KeyValue::new("error.type", e.clone()));
            }
            if i == last && answering && !failed {
                if let Some(m) = response_model {
                    attrs.push(KeyValue::new("gen_ai.response.model", m.to_owned()));
                }
                if let Some(u) = record.usage {
                    attrs.push(KeyValue::new("gen_ai.usage.input_tokens", int(u.input)));
                    attrs.push(KeyValue::new("gen_ai.usage.output_tokens", int(u.output)));
                }
            }
            if let Some(c) = &content {
                attrs.push(KeyValue::new("gen_ai.input.messages", c.to_string()));
            }
            let mut span = self
                .tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_start_time(start)
                .with_attributes(attrs)
                .start_with_context(&self.tracer, cx);
            if let Some(e) = error {
                opentelemetry::trace::Span::set_status(&mut span, Status::error(e));
            }
            opentelemetry::trace::Span::end_with_timestamp(&mut span, end);
            // Retries and fallbacks, as events of the request.
            if t.retry > 0 {
                server.add_event_with_timestamp(
                    "retry",
                    start,
                    vec![
                        KeyValue::new("switchyard.target", t.target.to_string()),
                        KeyValue::new("switchyard.retry", int(t.retry)),
                    ],
                );
            } else if let Some(prev) = previous.filter(|p| **p != t.target) {
                server.add_event_with_timestamp(
                    "fallback",
                    start,
                    vec![
                        KeyValue::new("switchyard.from_target", prev.to_string()),
                        KeyValue::new("switchyard.target", t.target.to_string()),
                    ],
                );
            }
            previous = Some(&t.target);
        }
    }
}

impl Hook for TracesHook {
    fn name(&self) -> &'static str {
        "traces"
    }

    fn phases(&self) -> Phases {
        Phases {
            on_request: true,
            attempt_end: true,
            per_chunk: true,
            on_complete: true,
            ..Phases::default()
        }
    }

    fn on_request<'a>(
        &'a self,
        req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        let parent = remote_parent(&req.client_headers);
        let content = if self.capture_content {
            input_messages(&req.body)
        } else {
            None
        };
        if parent.is_some() || content.is_some() {
            req.with_scratch(|s| {
                s.insert(TraceScratch { parent, content });
            });
        }
        Box::pin(std::future::ready(None))
    }

    fn attempt_end(&self, a: &AttemptRecord) {
        let t = Try {
            target: Arc::from(a.target),
            provider: Arc::from(a.provider),
            retry: a.retry,
            status: a.status,
            error: a.error,
            elapsed: a.elapsed,
            ended: Instant::now(),
        };
        let tries = self.tries.get_with(Arc::from(a.trace_id), || {
            Arc::new(Mutex::new(Pending::default()))
        });
        let mut pending = tries.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.tries.len() < MAX_TRIES {
            pending.tries.push(t);
        }
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        // Only answers that came from upstream name a model worth reading.
        if record.attempts == 0 || !record.status.is_success() {
            return None;
        }
        let pending = self.tries.get_with(record.trace_id.clone(), || {
            Arc::new(Mutex::new(Pending::default()))
        });
        Some(Box::new(ResponseModelTap {
            pending,
            done: false,
        }))
    }

    fn on_complete(&self, record: &RequestRecord) {
        let clock = Clock::new();
        let (tries, response_model): (Vec<Try>, Option<String>) =
            match self.tries.remove(&record.trace_id) {
                Some(p) => {
                    let p = p.lock().unwrap_or_else(PoisonError::into_inner);
                    // A client may reuse a trace id: only this request's tries.
                    let tries = p
                        .tries
                        .iter()
                        .filter(|t| t.ended >= record.started)
                        .cloned()
                        .collect();
                    (tries, p.response_model.clone())
                }
                None => (Vec::new(), None),
            };
        let scratch = record.extensions.get::<TraceScratch>();
        let parent = match scratch.and_then(|s| s.parent.clone()) {
            Some(sc) => Context::new().with_remote_span_context(sc),
            None => Context::new(),
        };
        let start = clock.at(record.started);
        let end = if record.duration.is_zero() {
            clock.wall
        } else {
            start + record.duration
        };
        let op = operation_name(record.op);
        let mut attrs = vec![
            KeyValue::new("gen_ai.operation.name", op.to_owned()),
            KeyValue::new("http.response.status_code", int(record.status.as_u16())),
            KeyValue::new("portkey.trace_id", record.trace_id.to_string()),
            KeyValue::new("switchyard.cache.status", record.cache_status),
            KeyValue::new("switchyard.retries", int(record.retries)),
            KeyValue::new("switchyard.attempts", int(record.attempts)),
            KeyValue::new("switchyard.stream", record.stream),
        ];
        if let Some(p) = &record.provider {
            attrs.push(KeyValue::new("gen_ai.provider.name", p.slug.clone()));
        }
        if let Some(m) = &record.model {
            attrs.push(KeyValue::new("gen_ai.request.model", m.clone()));
        }
        if let Some(t) = &record.target {
            attrs.push(KeyValue::new("switchyard.target", t.to_string()));
        }
        if let Some(u) = record.usage {
            attrs.push(KeyValue::new("gen_ai.usage.input_tokens", int(u.input)));
            attrs.push(KeyValue::new("gen_ai.usage.output_tokens", int(u.output)));
        }
        if let Some(m) = &response_model {
            attrs.push(KeyValue::new("gen_ai.response.model", m.clone()));
        }
        if let Some(e) = record.error {
            attrs.push(KeyValue::new("error.type", e));
        }
        if record.client_gone {
            attrs.push(KeyValue::new("switchyard.client_gone", true));
        }
        if let Some(c) = scratch.and_then(|s| s.content.clone()) {
            attrs.push(KeyValue::new("gen_ai.input.messages", c.to_string()));
        }
        let span = self
            .tracer
            .span_builder(server_span_name(record.op))
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes(attrs)
            .start_with_context(&self.tracer, &parent);
        let cx = parent.with_span(span);
        if !cx.span().is_recording() {
            // Not sampled: neither is any try.
            return;
        }
        self.client_spans(record, &cx, &clock, &tries, response_model.as_deref());
        let server = cx.span();
        if let Some(why) = &record.stream_error {
            server.add_event("stream_error", vec![KeyValue::new("message", why.clone())]);
        }
        if record.status.is_server_error() || record.stream_error.is_some() {
            server.set_status(Status::error(record.error.unwrap_or("error")));
        }
        server.end_with_timestamp(end);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_response_model_is_read_from_the_first_chunk() {
        assert_eq!(
            model_in(br#"{"id":"x","model" : "gpt-4o-mini-2024","choices":[]}"#).as_deref(),
            Some("gpt-4o-mini-2024")
        );
        assert_eq!(
            model_in(b"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[]}\n\n").as_deref(),
            Some("m")
        );
        assert_eq!(model_in(br#"{"error":{"message":"no"}}"#), None);
        assert_eq!(model_in(br#"{"model":null}"#), None);
    }

    #[test]
    fn operation_names_follow_gen_ai() {
        assert_eq!(operation_name("chat_completions"), "chat");
        assert_eq!(operation_name("completions"), "text_completion");
        assert_eq!(operation_name("embeddings"), "embeddings");
        assert_eq!(operation_name("proxy"), "proxy");
    }

    #[test]
    fn traceparent_is_parsed_and_bad_ones_ignored() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        );
        let sc = remote_parent(&h).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert!(sc.is_remote() && sc.is_sampled());
        h.insert("traceparent", http::HeaderValue::from_static("00-zz-01"));
        assert!(remote_parent(&h).is_none());
        assert!(remote_parent(&http::HeaderMap::new()).is_none());
    }

    #[test]
    fn content_is_cut_at_8_kib_on_a_char_boundary() {
        let long = "é".repeat(5000);
        let body = Bytes::from(
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": long}]})
                .to_string(),
        );
        let c = input_messages(&body).unwrap();
        assert!(c.len() <= MAX_CONTENT_BYTES && c.len() > MAX_CONTENT_BYTES - 4);
        assert!(c.starts_with("[{"));
        let small = Bytes::from_static(br#"{"model":"m","input":"hello"}"#);
        assert_eq!(input_messages(&small).as_deref(), Some("\"hello\""));
        assert!(input_messages(&Bytes::from_static(b"not json")).is_none());
    }
}
