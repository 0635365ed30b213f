//! Criterion benches of the per-request hot functions:
//! `cargo bench -p switchyard-gateway --bench hot_paths`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::FutureExt;
use http::{HeaderMap, HeaderValue};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use switchyard_gateway::config::gateway::{build, BuildInput, Origin};
use switchyard_gateway::config::providers::Providers;
use switchyard_gateway::config::{GatewayConfig, Secret};
use switchyard_gateway::context::{Operation, RequestContext};
use switchyard_gateway::governance::virtual_keys::Snapshot;
use switchyard_gateway::http::headers::PortkeyHeaders;
use switchyard_gateway::http::route::{resolve, RouteCache};
use switchyard_gateway::pipeline::Pipeline;
use switchyard_gateway::routing::select::pick_weighted;
use switchyard_gateway::ssrf::TrustedHosts;
use switchyard_providers::native::{Frame, ProviderOptions, WireContext};
use switchyard_providers::Native;
use switchyard_types::chat::ChatRequest;
use switchyard_types::json::{inspect, patch_object};
use switchyard_types::sse::{complete_prefix_len, SseDecoder};

const BODY: &[u8] = br#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about gateways."}],"temperature":0.2,"max_tokens":64}"#;

fn client_headers(config: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "authorization",
        HeaderValue::from_static("Bearer sk-bench-0123456789"),
    );
    h.insert(
        "user-agent",
        HeaderValue::from_static("OpenAI/Python 1.50.0"),
    );
    h.insert("x-stainless-lang", HeaderValue::from_static("python"));
    h.insert("x-portkey-provider", HeaderValue::from_static("openai"));
    h.insert(
        "x-portkey-custom-host",
        HeaderValue::from_static("http://127.0.0.1:9100/v1"),
    );
    h.insert("x-portkey-trace-id", HeaderValue::from_static("trace-abc"));
    if let Some(c) = config {
        h.insert("x-portkey-config", HeaderValue::from_str(c).unwrap());
    }
    h
}

fn request_parse_and_route(c: &mut Criterion) {
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(1));

    g.bench_function("inspect_body", |b| {
        b.iter(|| inspect(black_box(BODY)).unwrap())
    });

    let headers = client_headers(None);
    g.bench_function("parse_portkey_headers", |b| {
        b.iter(|| PortkeyHeaders::parse(black_box(&headers)).unwrap())
    });

    g.bench_function("route_provider_header", |b| {
        b.iter(|| {
            let h = PortkeyHeaders::parse(black_box(&headers)).unwrap();
            let input = BuildInput {
                header_provider: h.provider,
                header_key: h.bearer.map(Secret::new),
                custom_host: h.custom_host,
                ..BuildInput::new(&providers, Origin::Client, &trusted)
            };
            build(&Value::Object(Default::default()), "config", &input).unwrap()
        })
    });

    let config = json!({
        "strategy": {"mode": "fallback"},
        "retry": {"attempts": 2},
        "targets": [
            {"provider": "openai", "api_key": "sk-1", "custom_host": "http://127.0.0.1:9100/v1"},
            {"strategy": {"mode": "loadbalance"}, "targets": [
                {"provider": "groq", "api_key": "gsk-1", "weight": 0.7, "override_params": {"model": "llama-3.1-8b-instant"}},
                {"provider": "together-ai", "api_key": "t-1", "weight": 0.3}
            ]}
        ]
    })
    .to_string();
    let with_config = client_headers(Some(&config));
    g.bench_function("route_nested_config_header", |b| {
        b.iter(|| {
            let h = PortkeyHeaders::parse(black_box(&with_config)).unwrap();
            let input = BuildInput::new(&providers, Origin::Client, &trusted);
            build(&h.config_value().unwrap().unwrap(), "config", &input).unwrap()
        })
    });

    let tree = build(
        &serde_json::from_str(&config).unwrap(),
        "config",
        &BuildInput::new(&providers, Origin::Client, &trusted),
    )
    .unwrap();
    let switchyard_gateway::routing::tree::NodeKind::Group(root) = &tree.kind else {
        unreachable!()
    };
    let switchyard_gateway::routing::tree::NodeKind::Group(lb) = &root.targets[1].kind else {
        unreachable!()
    };
    g.bench_function("pick_weighted", |b| {
        b.iter(|| pick_weighted(black_box(&lb.targets), black_box(0.42)))
    });

    let model = RawValue::from_string("\"llama-3.1-8b-instant\"".into()).unwrap();
    let temp = RawValue::from_string("0".into()).unwrap();
    g.bench_function("patch_model_and_param", |b| {
        b.iter(|| {
            patch_object(
                black_box(BODY),
                &[("model", &model), ("temperature", &temp)],
            )
            .unwrap()
        })
    });
    g.finish();
}

fn anthropic_translation(c: &mut Criterion) {
    let Ok((adapter, _)) =
        switchyard_providers::adapter(Native::Anthropic, "claude-3-5-haiku-latest")
    else {
        return;
    };
    let options = ProviderOptions::new();
    let cx = WireContext {
        model: "claude-3-5-haiku-latest",
        stream: true,
        include_usage: true,
        response_id: "chatcmpl-bench",
        created: 1_700_000_000,
        options: &options,
        strict: true,
    };
    let req: ChatRequest = serde_json::from_value(json!({
        "model": "claude-3-5-haiku-latest",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What's the weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "max_tokens": 256,
        "stream": true
    }))
    .unwrap();
    let body = serde_json::to_vec(&req).unwrap();
    let mut g = c.benchmark_group("translate");
    g.bench_function("openai_to_anthropic_request", |b| {
        b.iter(|| {
            let parsed: ChatRequest = serde_json::from_slice(black_box(&body)).unwrap();
            adapter.chat_request(&parsed, &cx).unwrap()
        })
    });
    let delta = br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, world"}}"#;
    let start = br#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}"#;
    let block =
        br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
    g.bench_function("anthropic_stream_chunk", |b| {
        let mut t = adapter.chat_stream(&cx);
        t.on_frame(Frame {
            event: Some("message_start"),
            data: start,
            message_type: None,
        })
        .unwrap();
        t.on_frame(Frame {
            event: Some("content_block_start"),
            data: block,
            message_type: None,
        })
        .unwrap();
        b.iter(|| {
            let chunks = t
                .on_frame(Frame {
                    event: Some("content_block_delta"),
                    data: black_box(delta),
                    message_type: None,
                })
                .unwrap();
            serde_json::to_vec(&chunks[0]).unwrap()
        })
    });
    g.finish();
}

fn sse(c: &mut Criterion) {
    let mut stream = Vec::new();
    for i in 0..32 {
        stream.extend_from_slice(format!("data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"token {i}\"}},\"finish_reason\":null}}]}}\n\n").as_bytes());
    }
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("decode_32_events", |b| {
        b.iter(|| {
            let mut d = SseDecoder::default();
            d.push(black_box(&stream));
            let mut n = 0;
            while let Some(Ok(_)) = d.next_event() {
                n += 1;
            }
            n
        })
    });
    g.bench_function("event_boundary_scan", |b| {
        b.iter(|| complete_prefix_len(black_box(&stream)))
    });
    g.finish();
}

/// A header-routed request's route: built and validated each time, or taken from the route
/// cache (what the server does for a client that sends the same routing headers again).
fn route_cache(c: &mut Criterion) {
    let config = GatewayConfig::default();
    let headers = client_headers(None);
    let mut g = c.benchmark_group("route");
    g.throughput(Throughput::Elements(1));
    let off = RouteCache::new(0);
    g.bench_function("resolve_uncached", |b| {
        b.iter(|| {
            let h = PortkeyHeaders::parse(black_box(&headers)).unwrap();
            resolve(
                &config,
                &off,
                &Snapshot::default(),
                &h,
                Some("gpt-4o-mini"),
                None,
            )
            .unwrap()
        })
    });
    let on = RouteCache::new(1024);
    g.bench_function("resolve_cached", |b| {
        b.iter(|| {
            let h = PortkeyHeaders::parse(black_box(&headers)).unwrap();
            resolve(
                &config,
                &on,
                &Snapshot::default(),
                &h,
                Some("gpt-4o-mini"),
                None,
            )
            .unwrap()
        })
    });
    g.finish();
}

/// What the pipeline costs a request when no hook is registered: each phase is a slice-length
/// check (compare with `route` and `request` above, the work every request does anyway).
fn empty_pipeline(c: &mut Criterion) {
    let config = GatewayConfig::default();
    let cache = RouteCache::new(0);
    let headers = client_headers(None);
    let h = PortkeyHeaders::parse(&headers).unwrap();
    let route = resolve(&config, &cache, &Snapshot::default(), &h, None, None)
        .unwrap()
        .route;
    let ctx = RequestContext::new(
        "trace".into(),
        Operation::Endpoint(switchyard_providers::Endpoint::ChatCompletions),
        bytes::Bytes::from_static(BODY),
        true,
        false,
        HeaderMap::new(),
    );
    let pipeline = Pipeline::default();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(1));
    g.bench_function("empty_every_phase", |b| {
        b.iter(|| {
            let early = black_box(&pipeline)
                .on_request(&ctx, route.node())
                .now_or_never();
            (
                early,
                pipeline.has_per_attempt(),
                pipeline.has_attempt_end(),
                pipeline.has_on_complete(),
            )
        })
    });
    g.finish();
}

/// The guardrail hook around one request: `bench/run`'s typical input guardrail (regexMatch +
/// pii + wordCount) on a 2 kB prompt, and the answer's review (`hook_results` appended).
fn guardrails(c: &mut Criterion) {
    use switchyard_gateway::guardrails::GuardrailHook;
    use switchyard_gateway::pipeline::{AttemptResponse, Hook};
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    let config = json!({"provider": "openai", "api_key": "sk", "input_guardrails": [{
        "deny": true,
        "regexMatch": {"rule": "(?i)ignore (all )?previous instructions", "not": true},
        "pii": {"action": "block"},
        "wordCount": {"minWords": 1, "maxWords": 1000}}]});
    let tree = build(
        &config,
        "config",
        &BuildInput::new(&providers, Origin::Client, &trusted),
    )
    .unwrap();
    let switchyard_gateway::routing::tree::NodeKind::Leaf(leaf) = &tree.kind else {
        unreachable!()
    };
    let prompt: String = "Please summarise the following notes for the weekly report. "
        .repeat(34)
        .chars()
        .take(2000)
        .collect();
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]});
    let ctx = RequestContext::new(
        "trace".into(),
        Operation::Endpoint(switchyard_providers::Endpoint::ChatCompletions),
        bytes::Bytes::from(body.to_string()),
        true,
        false,
        HeaderMap::new(),
    );
    let answer = bytes::Bytes::from_static(br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#);
    let hook = GuardrailHook;
    let mut g = c.benchmark_group("guardrails");
    g.throughput(Throughput::Elements(1));
    g.bench_function("input_hook_2kB", |b| {
        b.iter(|| hook.per_attempt(&ctx, leaf, "config").now_or_never())
    });
    g.bench_function("input_hook_and_review_2kB", |b| {
        b.iter(|| {
            let d = hook.per_attempt(&ctx, leaf, "config").now_or_never();
            let mut resp = AttemptResponse {
                status: http::StatusCode::OK,
                headers: HeaderMap::new(),
                body: Some(answer.clone()),
            };
            let r = hook
                .on_response(&ctx, leaf, "config", &mut resp)
                .now_or_never();
            (d, r, resp.body)
        })
    });
    g.finish();
}

/// Governance on a request of a key with a request limit, a token limit and a cost budget,
/// counters in process: the budget check and the limits' acquire before the request, the
/// token settlement after it — what a governed request adds.
fn governance(c: &mut Criterion) {
    use switchyard_gateway::governance::limits::{Compiled, Limiter};
    use switchyard_gateway::governance::policy::Policy;
    use switchyard_gateway::governance::spend::Budgets;
    use switchyard_limits::Counters;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policy = Policy::from_value(&json!({
        "rate_limits": [{"type": "requests", "unit": "rpm", "value": 1_000_000_000_000u64},
                        {"type": "tokens", "unit": "rpm", "value": 1_000_000_000_000_000u64}],
        "usage_limits": {"type": "cost", "credit_limit": 1e9}}))
    .unwrap();
    let set = Compiled::new("key", "key_bench", &policy);
    let limiter = Limiter::new(Counters::memory(), false);
    let budgets = Budgets::new(Counters::memory(), None, None);
    let mut g = c.benchmark_group("governance");
    g.throughput(Throughput::Elements(1));
    g.bench_function("admit_and_settle_in_process", |b| {
        b.iter(|| {
            rt.block_on(async {
                budgets.check(&[&set]).await.unwrap();
                let (r, h) = limiter.acquire(&[&set], 600).await.unwrap();
                limiter.settle(&r, 8).await;
                h
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    governance,
    request_parse_and_route,
    route_cache,
    empty_pipeline,
    guardrails,
    anthropic_translation,
    sse
);
criterion_main!(benches);
