//! Tests of the span encoder: requests' spans encoded, then decoded with prost as a collector
//! would, and checked field by field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;

use super::encode::{encode_batch, resource, Clock, SpanSet};
use crate::config::providers::ProviderEntry;
use crate::pipeline::record::test_leaf;
use crate::pipeline::record::TryRecord;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as Code;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

fn attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<Any> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn s(span: &Span, key: &str) -> Option<String> {
    match attr(&span.attributes, key) {
        Some(Any::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn i(span: &Span, key: &str) -> Option<i64> {
    match attr(&span.attributes, key) {
        Some(Any::IntValue(i)) => Some(i),
        _ => None,
    }
}

/// What a set borrows: a fallback from OpenAI (503) to Anthropic (200).
struct Fixture {
    clock: Clock,
    started: Instant,
    provider: Arc<ProviderEntry>,
    tries: Vec<TryRecord>,
}

fn fixture() -> Fixture {
    let leaf_a = test_leaf(r#"{"provider": "openai", "api_key": "k"}"#);
    let leaf_b = test_leaf(
        r#"{"provider": "anthropic", "api_key": "k", "override_params": {"model": "claude-x"}}"#,
    );
    let clock = Clock::read();
    let started = clock.now - Duration::from_millis(300);
    let tries = vec![
        TryRecord {
            target: Arc::from("config.targets[0]"),
            leaf: leaf_a,
            retry: 0,
            status: Some(StatusCode::SERVICE_UNAVAILABLE),
            error: Some("upstream_5xx"),
            started: started + Duration::from_millis(10),
            elapsed: Duration::from_millis(50),
        },
        TryRecord {
            target: Arc::from("config.targets[1]"),
            leaf: leaf_b.clone(),
            retry: 0,
            status: Some(StatusCode::OK),
            error: None,
            started: started + Duration::from_millis(70),
            elapsed: Duration::from_millis(100),
        },
    ];
    Fixture {
        clock,
        started,
        provider: leaf_b.provider.clone(),
        tries,
    }
}

fn fallback_set(f: &Fixture) -> SpanSet<'_> {
    SpanSet {
        trace_id: [7; 16],
        parent: Some([9; 8]),
        trace_state: Some("k=v"),
        clock: f.clock,
        started: f.started,
        duration: Duration::from_millis(250),
        op: "chat_completions",
        cache_status: "MISS",
        status: StatusCode::OK,
        retries: 0,
        attempts: 2,
        stream: false,
        client_gone: false,
        request_id: "req-1",
        provider: Some(&f.provider),
        model: Some("gpt-4o-mini"),
        target: Some("config.targets[1]"),
        usage: Some((5, 3)),
        response_model: Some("claude-x-2025"),
        error: None,
        stream_error: None,
        content: Some("[{\"role\":\"user\"}]"),
        tries: &f.tries,
    }
}

fn decode(body: &[u8]) -> (ExportTraceServiceRequest, Vec<Span>) {
    let req = ExportTraceServiceRequest::decode(body).unwrap();
    let spans = req.resource_spans[0].scope_spans[0].spans.clone();
    (req, spans)
}

#[test]
fn a_fallback_is_encoded_as_a_server_span_and_two_client_spans() {
    let f = fixture();
    let set = fallback_set(&f);
    let res = resource(&[("service.name".to_owned(), "svc".to_owned())]);
    let (req, spans) = decode(&encode_batch(&res, std::slice::from_ref(&set)));
    assert_eq!(req.resource_spans.len(), 1);
    let rs = &req.resource_spans[0];
    let resource = rs.resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(Any::StringValue("svc".into()))
    );
    assert_eq!(rs.scope_spans[0].scope.as_ref().unwrap().name, "switchyard");
    assert_eq!(spans.len(), 3);
    let (server, a, b) = (&spans[0], &spans[1], &spans[2]);

    assert_eq!(server.name, "POST /v1/chat/completions");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(server.trace_id, vec![7; 16]);
    assert_eq!(server.parent_span_id, vec![9; 8]);
    assert_eq!(server.trace_state, "k=v");
    assert_eq!(server.flags, 0x301);
    assert_eq!(server.span_id.len(), 8);
    assert_eq!(s(server, "gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(
        s(server, "gen_ai.provider.name").as_deref(),
        Some("anthropic")
    );
    assert_eq!(
        s(server, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        s(server, "gen_ai.response.model").as_deref(),
        Some("claude-x-2025")
    );
    assert_eq!(s(server, "portkey.trace_id").as_deref(), Some("req-1"));
    assert_eq!(
        s(server, "switchyard.cache.status").as_deref(),
        Some("MISS")
    );
    assert_eq!(
        s(server, "switchyard.target").as_deref(),
        Some("config.targets[1]")
    );
    assert_eq!(i(server, "http.response.status_code"), Some(200));
    assert_eq!(i(server, "switchyard.retries"), Some(0));
    assert_eq!(i(server, "switchyard.attempts"), Some(2));
    assert_eq!(i(server, "gen_ai.usage.input_tokens"), Some(5));
    assert_eq!(i(server, "gen_ai.usage.output_tokens"), Some(3));
    assert_eq!(
        attr(&server.attributes, "switchyard.stream"),
        Some(Any::BoolValue(false))
    );
    assert_eq!(attr(&server.attributes, "switchyard.client_gone"), None);
    assert_eq!(attr(&server.attributes, "error.type"), None);
    assert_eq!(
        s(server, "gen_ai.input.messages").as_deref(),
        Some("[{\"role\":\"user\"}]")
    );
    assert_eq!(server.status.as_ref().unwrap().code, Code::Unset as i32);
    assert_eq!(
        server.end_time_unix_nano - server.start_time_unix_nano,
        250_000_000
    );
    assert_eq!(server.events.len(), 1);
    let fallback = &server.events[0];
    assert_eq!(fallback.name, "fallback");
    assert_eq!(fallback.time_unix_nano, b.start_time_unix_nano);
    assert_eq!(
        attr(&fallback.attributes, "switchyard.from_target"),
        Some(Any::StringValue("config.targets[0]".into()))
    );

    for c in [a, b] {
        assert_eq!(c.kind, SpanKind::Client as i32);
        assert_eq!(c.trace_id, server.trace_id);
        assert_eq!(c.parent_span_id, server.span_id);
        assert_ne!(c.span_id, server.span_id);
        assert_eq!(c.flags, 0x101);
        assert_eq!(c.trace_state, "k=v");
        assert!(c.start_time_unix_nano >= server.start_time_unix_nano);
        assert!(c.end_time_unix_nano <= server.end_time_unix_nano);
        assert!(s(c, "gen_ai.input.messages").is_some());
    }
    assert_eq!(a.name, "chat gpt-4o-mini");
    assert_eq!(s(a, "gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(i(a, "http.response.status_code"), Some(503));
    assert_eq!(i(a, "switchyard.retry"), Some(0));
    assert_eq!(s(a, "error.type").as_deref(), Some("upstream_5xx"));
    assert_eq!(a.status.as_ref().unwrap().code, Code::Error as i32);
    assert_eq!(a.status.as_ref().unwrap().message, "upstream_5xx");
    assert_eq!(attr(&a.attributes, "gen_ai.response.model"), None);
    assert_eq!(attr(&a.attributes, "gen_ai.usage.input_tokens"), None);
    assert_eq!(a.end_time_unix_nano - a.start_time_unix_nano, 50_000_000);

    assert_eq!(b.name, "chat claude-x");
    assert_eq!(s(b, "gen_ai.request.model").as_deref(), Some("claude-x"));
    assert_eq!(
        s(b, "gen_ai.response.model").as_deref(),
        Some("claude-x-2025")
    );
    assert_eq!(i(b, "gen_ai.usage.output_tokens"), Some(3));
    assert_eq!(attr(&b.attributes, "error.type"), None);
    assert_eq!(b.status.as_ref().unwrap().code, Code::Unset as i32);
    assert_eq!(b.start_time_unix_nano - a.start_time_unix_nano, 60_000_000);
}

#[test]
fn retries_stream_errors_and_failures_are_encoded() {
    let mut f = fixture();
    f.tries[1].target = f.tries[0].target.clone();
    f.tries[1].leaf = f.tries[0].leaf.clone();
    f.tries[1].retry = 1;
    f.tries[1].status = None;
    f.tries[1].error = Some("timeout");
    let mut set = fallback_set(&f);
    set.parent = None;
    set.trace_state = None;
    set.content = None;
    set.status = StatusCode::GATEWAY_TIMEOUT;
    set.error = Some("timeout");
    set.retries = -1;
    set.stream = true;
    set.client_gone = true;
    set.stream_error = Some("stalled");
    set.duration = Duration::ZERO;
    let (_, spans) = decode(&encode_batch(&resource(&[]), &[set.clone(), set]));
    assert_eq!(spans.len(), 6);
    let server = &spans[0];
    assert!(server.parent_span_id.is_empty());
    assert_eq!(server.flags, 0x101);
    assert_eq!(i(server, "switchyard.retries"), Some(-1));
    assert_eq!(s(server, "error.type").as_deref(), Some("timeout"));
    assert_eq!(
        attr(&server.attributes, "switchyard.client_gone"),
        Some(Any::BoolValue(true))
    );
    let names: Vec<&str> = server.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["retry", "stream_error"]);
    assert_eq!(
        attr(&server.events[0].attributes, "switchyard.retry"),
        Some(Any::IntValue(1))
    );
    assert_eq!(server.status.as_ref().unwrap().code, Code::Error as i32);
    assert_eq!(server.status.as_ref().unwrap().message, "timeout");
    assert!(server.end_time_unix_nano >= server.start_time_unix_nano);
    let retry = &spans[2];
    assert_eq!(i(retry, "switchyard.retry"), Some(1));
    assert_eq!(attr(&retry.attributes, "http.response.status_code"), None);
    assert_eq!(s(retry, "error.type").as_deref(), Some("timeout"));
    // The second request's spans are a trace of their own ids.
    assert_eq!(spans[4].parent_span_id, spans[3].span_id);
    assert_ne!(spans[3].span_id, spans[0].span_id);
}

#[test]
fn a_try_that_answered_non_2xx_is_labelled_with_its_status() {
    let mut f = fixture();
    f.tries.truncate(1);
    f.tries[0].error = None;
    let set = fallback_set(&f);
    let (_, spans) = decode(&encode_batch(&resource(&[]), &[set]));
    assert_eq!(s(&spans[1], "error.type").as_deref(), Some("503"));
}

#[test]
fn long_fields_move_their_message_and_still_decode() {
    let f = fixture();
    let (content, model) = ("x".repeat(20_000), "m".repeat(200));
    let mut set = fallback_set(&f);
    set.content = Some(&content);
    set.model = Some(&model);
    let (_, spans) = decode(&encode_batch(&resource(&[]), &[set]));
    assert_eq!(s(&spans[0], "gen_ai.input.messages").unwrap().len(), 20_000);
    assert_eq!(spans[1].name, format!("chat {}", "m".repeat(200)));
}
