//! OpenTelemetry traces through the real server, to a real OTLP/HTTP receiver on loopback: the
//! exporter's protobuf requests are decoded as a collector would decode them.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

/// An OTLP/HTTP receiver: `POST /v1/traces` with an `ExportTraceServiceRequest`.
///
/// The tests run on a multi-threaded runtime: when a gateway goes away it waits (a few seconds
/// at most) for its last spans to reach the collector, which must be able to answer meanwhile.
struct Collector {
    url: String,
    spans: Arc<Mutex<Vec<Span>>>,
    service_names: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    async fn start() -> Collector {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let service_names = Arc::new(Mutex::new(Vec::new()));
        let (s, n) = (spans.clone(), service_names.clone());
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: http::HeaderMap, body: Bytes| {
                let (s, n) = (s.clone(), n.clone());
                async move {
                    assert_eq!(headers["content-type"], "application/x-protobuf");
                    let req = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                    for rs in req.resource_spans {
                        for kv in rs.resource.map(|r| r.attributes).unwrap_or_default() {
                            if kv.key == "service.name" {
                                if let Some(Any::StringValue(v)) = kv.value.and_then(|v| v.value) {
                                    n.lock().unwrap().push(v);
                                }
                            }
                        }
                        for ss in rs.scope_spans {
                            s.lock().unwrap().extend(ss.spans);
                        }
                    }
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Collector {
            url,
            spans,
            service_names,
        }
    }

    /// The spans of the request with this `x-portkey-trace-id`, once there are `n` of them.
    async fn spans_of(&self, trace_id: &str, n: usize) -> Vec<Span> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got: Vec<Span> = {
                let all = self.spans.lock().unwrap();
                let trace = all
                    .iter()
                    .find(|s| str_attr(s, "portkey.trace_id").as_deref() == Some(trace_id))
                    .map(|s| s.trace_id.clone());
                all.iter()
                    .filter(|s| Some(&s.trace_id) == trace.as_ref())
                    .cloned()
                    .collect()
            };
            if got.len() >= n || Instant::now() > deadline {
                assert_eq!(got.len(), n, "spans of {trace_id}: {got:#?}");
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn attr(span: &Span, key: &str) -> Option<Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn str_attr(span: &Span, key: &str) -> Option<String> {
    match attr(span, key) {
        Some(Any::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn int_attr(span: &Span, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Any::IntValue(i)) => Some(i),
        _ => None,
    }
}

fn of_kind(spans: &[Span], kind: SpanKind) -> Vec<Span> {
    let mut v: Vec<Span> = spans
        .iter()
        .filter(|s| s.kind == kind as i32)
        .cloned()
        .collect();
    v.sort_by_key(|s| s.start_time_unix_nano);
    v
}

fn traces_yaml(endpoint: &str, extra: &str) -> String {
    format!("traces:\n  endpoint: {endpoint}\n  service_name: switchyard-test\n{extra}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_request_gives_a_server_span_and_a_client_span_with_gen_ai_attributes() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "")).await;
    let mut h = via(&mock);
    h.push(("x-portkey-trace-id", "trace-one".to_owned()));
    let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();

    let spans = collector.spans_of("trace-one", 2).await;
    let server = &of_kind(&spans, SpanKind::Server)[0];
    let client = &of_kind(&spans, SpanKind::Client)[0];
    assert_eq!(server.name, "POST /v1/chat/completions");
    assert!(server.parent_span_id.is_empty(), "a root span");
    assert_eq!(client.name, "chat gpt-4o-mini");
    assert_eq!(client.trace_id, server.trace_id);
    assert_eq!(client.parent_span_id, server.span_id);
    for s in [server, client] {
        assert_eq!(
            str_attr(s, "gen_ai.operation.name").as_deref(),
            Some("chat")
        );
        assert_eq!(
            str_attr(s, "gen_ai.provider.name").as_deref(),
            Some("openai")
        );
        assert_eq!(
            str_attr(s, "gen_ai.request.model").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(int_attr(s, "http.response.status_code"), Some(200));
        assert_eq!(int_attr(s, "gen_ai.usage.input_tokens"), Some(5));
        assert_eq!(int_attr(s, "gen_ai.usage.output_tokens"), Some(3));
        assert_eq!(
            str_attr(s, "gen_ai.response.model").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(attr(s, "error.type"), None);
        // Message content is never exported unless asked for.
        assert_eq!(attr(s, "gen_ai.input.messages"), None);
        assert!(s.start_time_unix_nano <= s.end_time_unix_nano);
    }
    assert_eq!(
        str_attr(server, "switchyard.cache.status").as_deref(),
        Some("DISABLED")
    );
    assert_eq!(int_attr(server, "switchyard.retries"), Some(0));
    // The try lies within the request.
    assert!(client.start_time_unix_nano >= server.start_time_unix_nano);
    assert!(client.end_time_unix_nano <= server.end_time_unix_nano);
    assert!(collector
        .service_names
        .lock()
        .unwrap()
        .iter()
        .all(|n| n == "switchyard-test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reports_its_usage_and_response_model() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "")).await;
    let mut h = via(&mock);
    h.push(("x-portkey-trace-id", "trace-stream".to_owned()));
    let resp = gw.chat(hi_stream("gpt-4o-mini"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();

    let spans = collector.spans_of("trace-stream", 2).await;
    let server = &of_kind(&spans, SpanKind::Server)[0];
    let client = &of_kind(&spans, SpanKind::Client)[0];
    assert_eq!(
        attr(server, "switchyard.stream"),
        Some(Any::BoolValue(true))
    );
    for s in [server, client] {
        assert_eq!(int_attr(s, "gen_ai.usage.input_tokens"), Some(5));
        assert_eq!(int_attr(s, "gen_ai.usage.output_tokens"), Some(3));
        assert_eq!(
            str_attr(s, "gen_ai.response.model").as_deref(),
            Some("gpt-4o-mini")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_flushed_on_graceful_shutdown() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let mut gw = Gateway::start(&traces_yaml(&collector.url, "")).await;
    let mut h = via(&mock);
    h.push(("x-portkey-trace-id", "trace-flushed".to_owned()));
    let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    gw.shutdown();
    gw.task.take().unwrap().await.unwrap().unwrap();
    // No waiting: the spans went out before the server's run returned.
    let n = collector
        .spans
        .lock()
        .unwrap()
        .iter()
        .filter(|s| str_attr(s, "portkey.trace_id").as_deref() == Some("trace-flushed"))
        .count();
    assert_eq!(n, 1, "the server span was exported on shutdown");
    collector.spans_of("trace-flushed", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_traceparent_is_the_server_span_parent() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "")).await;
    let mut h = via(&mock);
    h.push(("x-portkey-trace-id", "trace-parented".to_owned()));
    h.push((
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
    ));
    let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();

    let spans = collector.spans_of("trace-parented", 2).await;
    let server = &of_kind(&spans, SpanKind::Server)[0];
    let client = &of_kind(&spans, SpanKind::Client)[0];
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(hex(&server.trace_id), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(hex(&server.parent_span_id), "b7ad6b7169203331");
    assert_eq!(client.trace_id, server.trace_id);
    assert_eq!(client.parent_span_id, server.span_id);
    // Nothing new is forwarded upstream.
    assert!(mock.requests()[0].header("traceparent").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_gives_two_client_spans_the_first_with_its_error() {
    let collector = Collector::start().await;
    let bad = MockServer::start("bad").await;
    bad.set_default(Reply::error(503, "overloaded"));
    let good = MockServer::start("good").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "")).await;
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target(&bad), target(&good)]});
    let resp = gw
        .chat(
            hi("gpt-4o-mini"),
            &[
                ("x-portkey-config", &config.to_string()),
                ("x-portkey-trace-id", "trace-fallback"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();

    let spans = collector.spans_of("trace-fallback", 3).await;
    let server = &of_kind(&spans, SpanKind::Server)[0];
    let clients = of_kind(&spans, SpanKind::Client);
    assert_eq!(clients.len(), 2);
    for c in &clients {
        assert_eq!(c.name, "chat gpt-4o-mini");
        assert_eq!(c.parent_span_id, server.span_id);
    }
    assert_eq!(
        int_attr(&clients[0], "http.response.status_code"),
        Some(503)
    );
    assert!(str_attr(&clients[0], "error.type").is_some());
    assert_eq!(
        str_attr(&clients[0], "switchyard.target").as_deref(),
        Some("config.targets[0]")
    );
    assert_eq!(
        int_attr(&clients[1], "http.response.status_code"),
        Some(200)
    );
    assert_eq!(attr(&clients[1], "error.type"), None);
    assert_eq!(
        str_attr(&clients[1], "switchyard.target").as_deref(),
        Some("config.targets[1]")
    );
    assert_eq!(int_attr(server, "switchyard.attempts"), Some(2));
    assert!(
        server.events.iter().any(|e| e.name == "fallback"),
        "{:?}",
        server.events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_is_exported_only_with_capture_content() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "  capture_content: true\n")).await;
    let mut h = via(&mock);
    h.push(("x-portkey-trace-id", "trace-content".to_owned()));
    let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();

    let spans = collector.spans_of("trace-content", 2).await;
    for s in &spans {
        let messages = str_attr(s, "gen_ai.input.messages").expect("captured");
        let v: serde_json::Value = serde_json::from_str(&messages).unwrap();
        assert_eq!(v, json!([{"role": "user", "content": "hi"}]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_collector_down_requests_succeed_and_spans_are_counted_as_dropped() {
    let port = dead_port().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&format!("http://127.0.0.1:{port}"), "")).await;
    let before = switchyard_gateway::telemetry::traces::dropped_spans();
    let h = via(&mock);
    let started = Instant::now();
    for _ in 0..20 {
        let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "requests waited on the collector: {:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while switchyard_gateway::telemetry::traces::dropped_spans() < before + 40 {
        assert!(
            Instant::now() < deadline,
            "dropped: {}",
            switchyard_gateway::telemetry::traces::dropped_spans() - before
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_traces_section_names_the_field() {
    let config = switchyard_gateway::GatewayConfig::from_yaml(
        "traces:\n  endpoint: http://127.0.0.1:4318\n  sample_ratio: 2\n",
        &|_| None,
    )
    .unwrap();
    let err = switchyard_gateway::Server::bind_with(
        config,
        Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        Vec::new(),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("traces.sample_ratio"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_ratio_zero_records_only_what_a_sampled_client_asks_for() {
    let collector = Collector::start().await;
    let mock = MockServer::start("up").await;
    let gw = Gateway::start(&traces_yaml(&collector.url, "  sample_ratio: 0\n")).await;
    for (id, parent) in [
        ("trace-unsampled", None),
        (
            "trace-sampled",
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ),
    ] {
        let mut h = via(&mock);
        h.push(("x-portkey-trace-id", id.to_owned()));
        if let Some(p) = parent {
            h.push(("traceparent", p.to_owned()));
        }
        let resp = gw.chat(hi("gpt-4o-mini"), &refs(&h)).await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
    }
    collector.spans_of("trace-sampled", 2).await;
    // Both requests' spans would have gone out in the same batch.
    assert_eq!(collector.spans.lock().unwrap().len(), 2);
}
