//! OpenTelemetry traces over OTLP/HTTP (protobuf): one SERVER span per request and one CLIENT
//! span per upstream try, with the GenAI semantic-convention attributes.
//!
//! Spans are built after the fact, from the request's record (its `tries` included). The
//! request path does little: the on-request phase reads the client's W3C `traceparent` and makes
//! the sampling decision ([`sampling`]: the SDK's `ParentBased(TraceIdRatioBased)`), keeping it
//! in the request's scratch with a slot for the answer's model (filled by the stream tap); the
//! on-complete phase queues the request's shared record (an `Arc` clone, no copy). The span
//! set, span ids, attributes and the protobuf are made on the export thread ([`encode`],
//! [`export`]), in batches. There is no per-request state outside the request itself.
//!
//! Nothing is registered, and nothing costs anything, when traces are not configured
//! ([`hook`]). Export drops rather than blocks when the collector is down ([`export`],
//! [`dropped_spans`]). Span names and attributes are listed in docs/observability.md.

pub mod config;
pub mod encode;
#[cfg(test)]
mod encode_tests;
pub mod export;
mod proto;
pub mod sampling;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::config::GatewayConfig;
use crate::context::RequestContext;
use crate::pipeline::{
    ChunkAction, EarlyAnswer, Hook, HookFuture, Phases, RequestRecord, StreamTap,
};
use crate::routing::tree::Node;

use encode::{Clock, SpanSet};
use export::{Exporter, Queued};
use sampling::{Ratio, TraceId, TraceParent};

pub use config::TracesConfig;
pub use export::dropped_spans;

/// At most this much of the request's messages is exported (`capture_content: true`).
pub const MAX_CONTENT_BYTES: usize = 8 * 1024;

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
    let attrs = resource_attributes(&cfg, env("OTEL_RESOURCE_ATTRIBUTES").as_deref());
    let hook = TracesHook::new(&cfg, &attrs).map_err(|e| invalid(format!("traces: {e}")))?;
    Ok(Some(Arc::new(hook)))
}

/// The resource's attributes: `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, as the SDK read it), the
/// telemetry SDK's name, and `service.name` (which wins).
fn resource_attributes(cfg: &TracesConfig, env: Option<&str>) -> Vec<(String, String)> {
    let mut attrs: Vec<(String, String)> = env
        .map(config::parse_header_list)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("telemetry.sdk.") && k != "service.name")
        .collect();
    attrs.push(("telemetry.sdk.language".into(), "rust".into()));
    attrs.push(("telemetry.sdk.name".into(), "switchyard".into()));
    attrs.push((
        "telemetry.sdk.version".into(),
        env!("CARGO_PKG_VERSION").into(),
    ));
    attrs.push(("service.name".into(), cfg.service_name.clone()));
    attrs
}

/// What the on-request phase keeps for the request's spans.
#[derive(Debug, Clone)]
struct TraceScratch {
    /// The trace the request's spans belong to; `None`: not sampled (nothing is recorded).
    trace_id: Option<TraceId>,
    /// The client's span, when it sent a valid `traceparent`.
    parent: Option<TraceParent>,
    /// The client's `tracestate`, kept with the trace.
    trace_state: Option<Arc<str>>,
    /// The request's messages, truncated (only with `capture_content`).
    content: Option<Arc<str>>,
    /// The answer's `model`, once the stream tap read it (for sampled requests).
    response_model: Option<Arc<OnceLock<String>>>,
}

/// Reads the answer's `model` from the first chunk of the response body (a whole body, or a
/// stream's first event): the top-level `"model": "…"` that OpenAI-shaped answers put before
/// their content.
struct ResponseModelTap {
    slot: Arc<OnceLock<String>>,
    done: bool,
}

/// The string value of the first `"model"` key in `chunk`.
fn model_in(chunk: &[u8]) -> Option<String> {
    // Built once: building a searcher on every call cost more than the search.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"model\""));
    let at = FINDER.find(chunk)?;
    let rest = chunk.get(at + 7..)?;
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest.get(end) != Some(&b'"') || end > 256 {
        return None;
    }
    std::str::from_utf8(rest.get(..end)?)
        .ok()
        .map(str::to_owned)
}

impl StreamTap for ResponseModelTap {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if !self.done {
            self.done = true;
            if let Some(m) = model_in(&chunk) {
                let _ = self.slot.set(m);
            }
        }
        ChunkAction::Send(chunk)
    }
}

/// The traces pipeline hook.
pub struct TracesHook {
    /// Closed at the server's shutdown (or when dropped): sends what is still queued.
    exporter: Arc<Exporter>,
    ratio: Ratio,
    capture_content: bool,
}

impl TracesHook {
    /// Starts the exporter for `cfg`, under a resource with these attributes.
    pub fn new(cfg: &TracesConfig, resource: &[(String, String)]) -> Result<TracesHook, String> {
        let exporter = Exporter::start(cfg, encode::resource(resource), span_set)?;
        Ok(TracesHook {
            exporter: Arc::new(exporter),
            ratio: Ratio::new(cfg.sample_ratio),
            capture_content: cfg.capture_content,
        })
    }
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
    Some(Arc::from(raw.get(..end)?))
}

impl Hook for TracesHook {
    fn name(&self) -> &'static str {
        "traces"
    }

    fn shutdown(&self) -> HookFuture<'_, ()> {
        let exporter = self.exporter.clone();
        // Closing waits for the export thread: not on an async worker.
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || exporter.close()).await;
        })
    }

    fn phases(&self) -> Phases {
        Phases {
            on_request: true,
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
        let parent = TraceParent::from_headers(&req.client_headers);
        let trace_id = sampling::decide(parent.as_ref(), self.ratio);
        let sampled = trace_id.is_some();
        let scratch = TraceScratch {
            trace_id,
            parent,
            trace_state: if sampled && parent.is_some() {
                sampling::trace_state(&req.client_headers)
            } else {
                None
            },
            content: if sampled && self.capture_content {
                input_messages(&req.body)
            } else {
                None
            },
            response_model: sampled.then(|| Arc::new(OnceLock::new())),
        };
        req.with_scratch(|s| {
            s.insert(scratch);
        });
        Box::pin(std::future::ready(None))
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        // Only answers that came from upstream name a model worth reading.
        if record.attempts == 0 || !record.status.is_success() {
            return None;
        }
        let slot = record
            .extensions
            .get::<TraceScratch>()?
            .response_model
            .clone()?;
        Some(Box::new(ResponseModelTap { slot, done: false }))
    }

    fn on_complete_shared(&self, record: &Arc<RequestRecord>) {
        // Decided on request; a request refused before then is decided now.
        let trace_id = match record.extensions.get::<TraceScratch>() {
            Some(s) => s.trace_id,
            None => sampling::decide(None, self.ratio),
        };
        if let Some(trace_id) = trace_id {
            self.exporter.push(Queued {
                trace_id,
                record: record.clone(),
            });
        }
    }
}

/// A sampled request's spans, read from its record (on the export thread).
fn span_set(trace_id: TraceId, record: &RequestRecord) -> SpanSet<'_> {
    let scratch = record.extensions.get::<TraceScratch>();
    SpanSet {
        trace_id,
        parent: scratch.and_then(|s| s.parent).map(|p| p.span_id),
        trace_state: scratch.and_then(|s| s.trace_state.as_deref()),
        clock: Clock::read(),
        started: record.started,
        duration: record.duration,
        op: record.op,
        cache_status: record.cache_status,
        status: record.status,
        retries: record.retries,
        attempts: record.attempts,
        stream: record.stream,
        client_gone: record.client_gone,
        request_id: &record.trace_id,
        provider: record.provider.as_deref(),
        model: record.model.as_deref(),
        target: record.target.as_deref(),
        usage: record.usage.map(|u| (u.input, u.output)),
        response_model: scratch
            .and_then(|s| s.response_model.as_ref())
            .and_then(|m| m.get())
            .map(String::as_str),
        error: record.error,
        stream_error: record.stream_error.as_deref(),
        content: scratch.and_then(|s| s.content.as_deref()),
        tries: &record.tries,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::telemetry::operation_name;

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
        assert_eq!(model_in(br#"{"model""#), None);
    }

    #[test]
    fn the_tap_fills_the_requests_slot_once() {
        let slot = Arc::new(OnceLock::new());
        let mut tap = ResponseModelTap {
            slot: slot.clone(),
            done: false,
        };
        tap.on_chunk(Bytes::from_static(br#"{"model":"first"}"#));
        tap.on_chunk(Bytes::from_static(br#"{"model":"second"}"#));
        assert_eq!(slot.get().map(String::as_str), Some("first"));
    }

    #[test]
    fn operation_names_follow_gen_ai() {
        assert_eq!(operation_name("chat_completions"), "chat");
        assert_eq!(operation_name("completions"), "text_completion");
        assert_eq!(operation_name("embeddings"), "embeddings");
        assert_eq!(operation_name("proxy"), "proxy");
    }

    #[test]
    fn the_resource_names_the_service_last() {
        let cfg = TracesConfig {
            endpoint: config::DEFAULT_ENDPOINT.into(),
            headers: Default::default(),
            service_name: "svc".into(),
            sample_ratio: 1.0,
            capture_content: false,
        };
        let attrs = resource_attributes(&cfg, Some("deployment.environment=prod,service.name=x"));
        assert_eq!(attrs[0], ("deployment.environment".into(), "prod".into()));
        assert_eq!(attrs.last(), Some(&("service.name".into(), "svc".into())));
        assert_eq!(attrs.iter().filter(|(k, _)| k == "service.name").count(), 1);
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
