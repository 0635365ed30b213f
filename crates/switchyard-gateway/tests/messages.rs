//! `POST /v1/messages`: Anthropic's Messages API through the server — natively to Claude hosts
//! (Anthropic, Vertex AI, Bedrock), translated through chat completions to every other target,
//! with routing, fallback and errors in Anthropic's shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use switchyard_providers::bedrock::eventstream::encode_event;

const ANTHROPIC_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/anthropic/resp_text.json");
const ANTHROPIC_TOOL_STREAM: &str =
    include_str!("../../switchyard-providers/fixtures/anthropic/stream_tool_use.sse");

/// A Messages request as Claude Code writes one: system blocks with `cache_control`, tools,
/// thinking, metadata.
fn claude_code_request(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": stream,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]}],
        "tools": [{"name": "get_weather", "description": "Weather by city",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "metadata": {"user_id": "user_abc"}
    })
}

fn anthropic_headers(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", "anthropic".to_owned()),
        (
            "x-portkey-custom-host",
            format!("http://{}/v1", mock.addr()),
        ),
        ("x-api-key", "sk-ant-client".to_owned()),
        ("authorization", "Bearer sk-ant-client".to_owned()),
    ]
}

/// The events of an SSE body, as (event name, data JSON).
fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut name = String::new();
            let mut data = String::new();
            for line in e.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            (name, serde_json::from_str(&data).unwrap_or(Value::Null))
        })
        .collect()
}

async fn messages(gw: &Gateway, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
    gw.post("/v1/messages", body, headers).await
}

#[tokio::test]
async fn claude_gets_the_clients_body_and_betas_and_the_answer_comes_back_untouched() {
    let mock = MockServer::start("anthropic").await;
    mock.push(Reply::Json {
        status: 200,
        body: ANTHROPIC_RESP.into(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let mut h = anthropic_headers(&mock);
    h.push(("anthropic-version", "2023-06-01".to_owned()));
    h.push(("anthropic-beta", "prompt-caching-2024-07-31".to_owned()));
    h.push((
        "anthropic-beta",
        "interleaved-thinking-2025-05-14".to_owned(),
    ));
    let mut body = claude_code_request(false);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let resp = messages(&gw, body.clone(), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-provider"),
        "anthropic",
        "Portkey's headers are on every dialect"
    );
    let got: Value = resp.json().await.unwrap();
    let want: Value = serde_json::from_str(ANTHROPIC_RESP).unwrap();
    assert_eq!(got, want, "the upstream's message is passed on as it is");
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(
        sent.json(),
        body,
        "every member the client sent reaches Claude"
    );
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-client"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("prompt-caching-2024-07-31,interleaved-thinking-2025-05-14")
    );
}

#[tokio::test]
async fn claudes_stream_is_relayed_event_for_event() {
    let mock = MockServer::start("anthropic").await;
    mock.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks: vec![Bytes::from(ANTHROPIC_TOOL_STREAM)],
        gap: Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let h = anthropic_headers(&mock);
    let resp = messages(&gw, claude_code_request(true), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/event-stream");
    let text = resp.text().await.unwrap();
    let got: Vec<_> = events(&text);
    let want: Vec<_> = events(ANTHROPIC_TOOL_STREAM);
    assert_eq!(
        got.iter().map(|(n, d)| (n, d)).collect::<Vec<_>>(),
        want.iter().map(|(n, d)| (n, d)).collect::<Vec<_>>()
    );
    assert!(!text.contains("[DONE]"), "no OpenAI terminator: {text}");
}

#[tokio::test]
async fn an_openai_compatible_target_answers_in_anthropics_shape() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let resp = messages(&gw, claude_code_request(false), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["content"][0]["type"], "text");
    assert_eq!(v["content"][0]["text"], "Hello from openai");
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["input_tokens"], 5);
    assert_eq!(v["usage"]["output_tokens"], 3);
    // What the target was sent: a chat completion.
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    let chat = sent.json();
    assert_eq!(chat["model"], "claude-sonnet-4-5");
    assert_eq!(chat["messages"][0]["role"], "system");
    assert_eq!(chat["messages"][0]["content"], "You are Claude Code.");
    assert_eq!(chat["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(chat["max_tokens"], 1024);
    assert_eq!(chat["user"], "user_abc");
}

#[tokio::test]
async fn an_openai_compatible_stream_becomes_anthropic_events() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let resp = messages(&gw, claude_code_request(true), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let evs = events(&text);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{text}");
    assert_eq!(names.last(), Some(&"message_stop"), "{text}");
    assert!(names.contains(&"content_block_delta"), "{text}");
    assert!(!text.contains("[DONE]"), "{text}");
    let delta = evs
        .iter()
        .find(|(n, _)| n == "message_delta")
        .map(|(_, d)| d.clone())
        .expect("a message_delta");
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    let sent = mock.requests()[0].json();
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["stream_options"]["include_usage"], true,
        "usage is asked for, for the final message_delta"
    );
}

#[tokio::test]
async fn bedrock_claude_is_invoked_natively_and_its_event_stream_becomes_sse() {
    let mock = MockServer::start("bedrock").await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut frames = Vec::new();
    for (_, data) in events(ANTHROPIC_TOOL_STREAM) {
        let payload = json!({"bytes": b64.encode(data.to_string())}).to_string();
        frames.extend(encode_event("chunk", payload.as_bytes()).unwrap());
    }
    mock.push(Reply::Raw {
        status: 200,
        content_type: "application/vnd.amazon.eventstream".into(),
        chunks: vec![Bytes::from(frames)],
        gap: Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let mut h = bedrock_via(&mock);
    h.push((
        "anthropic-beta",
        "token-efficient-tools-2025-02-19".to_owned(),
    ));
    let mut body = claude_code_request(true);
    body["model"] = json!("us.anthropic.claude-3-7-sonnet-20250219-v1:0");
    let resp = messages(&gw, body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let names: Vec<String> = events(&text).into_iter().map(|(n, _)| n).collect();
    let want: Vec<String> = events(ANTHROPIC_TOOL_STREAM)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, want, "{text}");
    let sent = &mock.requests()[0];
    assert_eq!(
        sent.path,
        "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke-with-response-stream"
    );
    assert!(sent
        .header("authorization")
        .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256")));
    let b = sent.json();
    assert_eq!(b["anthropic_version"], "bedrock-2023-05-31");
    assert_eq!(
        b["anthropic_beta"],
        json!(["token-efficient-tools-2025-02-19"])
    );
    assert!(b.get("model").is_none() && b.get("stream").is_none());
    assert_eq!(b["system"][0]["cache_control"]["type"], "ephemeral");
}

#[tokio::test]
async fn vertex_claude_is_called_with_raw_predict() {
    let mock = MockServer::start("vertex").await;
    mock.push(Reply::Json {
        status: 200,
        body: ANTHROPIC_RESP.into(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "vertex-ai".to_owned()),
        ("x-portkey-custom-host", format!("http://{}", mock.addr())),
        ("authorization", "Bearer ya29.token".to_owned()),
        ("x-portkey-vertex-project-id", "proj".to_owned()),
        ("x-portkey-vertex-region", "us-east5".to_owned()),
    ];
    let mut body = claude_code_request(false);
    body["model"] = json!("anthropic.claude-sonnet-4-5@20250929");
    let resp = messages(&gw, body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "message");
    let sent = &mock.requests()[0];
    assert_eq!(
        sent.path,
        "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert_eq!(sent.json()["anthropic_version"], "vertex-2023-10-16");
    assert_eq!(sent.header("authorization"), Some("Bearer ya29.token"));
}

#[tokio::test]
async fn a_failing_claude_target_falls_back_to_an_openai_compatible_one() {
    let claude = MockServer::start("anthropic").await;
    claude.push(Reply::Json {
        status: 529,
        body:
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
                .to_string(),
        headers: vec![],
    });
    let openai = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "anthropic", "api_key": "sk-ant", "custom_host": format!("http://{}/v1", claude.addr())},
            target(&openai),
        ]
    });
    let resp = messages(
        &gw,
        claude_code_request(false),
        &[("x-portkey-config", &config.to_string())],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], "Hello from openai");
    assert_eq!(openai.requests()[0].path, "/v1/chat/completions");
}

/// The error object of an Anthropic error body.
async fn anthropic_error(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.expect("JSON error body");
    assert_eq!(v["type"], "error", "an Anthropic error body: {v}");
    (status, v["error"].clone())
}

#[tokio::test]
async fn errors_on_the_messages_endpoint_are_anthropic_shaped() {
    let claude = MockServer::start("anthropic").await;
    claude.push(Reply::Json {
        status: 429,
        body:
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
                .to_string(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let h = anthropic_headers(&claude);

    // The upstream's own error keeps its type.
    let (status, e) =
        anthropic_error(messages(&gw, claude_code_request(false), &refs(&h)).await).await;
    assert_eq!(status, 429);
    assert_eq!(e["type"], "rate_limit_error");
    assert_eq!(e["message"], "slow down");

    // The gateway's refusals too: a body that is not JSON, an unknown provider.
    let resp = gw.post_raw("/v1/messages", "{not json", &refs(&h)).await;
    let (status, e) = anthropic_error(resp).await;
    assert_eq!(status, 400);
    assert_eq!(e["type"], "invalid_request_error");

    let resp = messages(
        &gw,
        claude_code_request(false),
        &[
            ("x-portkey-provider", "no-such-provider"),
            ("authorization", "Bearer k"),
        ],
    )
    .await;
    let (status, e) = anthropic_error(resp).await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("no-such-provider"),
        "{e}"
    );

    // A request the translation can't carry to a non-Claude target.
    let openai = MockServer::start("openai").await;
    let mut body = claude_code_request(false);
    body["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    let resp = messages(&gw, body, &refs(&via(&openai))).await;
    let (status, e) = anthropic_error(resp).await;
    assert_eq!(status, 400);
    assert_eq!(e["type"], "invalid_request_error");
    assert!(openai.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_chat_endpoint_keeps_openai_errors() {
    let gw = Gateway::start("").await;
    let resp = gw
        .chat(
            hi("m"),
            &[
                ("x-portkey-provider", "no-such-provider"),
                ("authorization", "Bearer k"),
            ],
        )
        .await;
    let (status, _) = error_of(resp).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn tokens_are_counted_by_claude_hosts_and_refused_elsewhere() {
    let claude = MockServer::start("anthropic").await;
    claude.push(Reply::Json {
        status: 200,
        body: json!({"input_tokens": 17}).to_string(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let body =
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]});
    let resp = gw
        .post(
            "/v1/messages/count_tokens",
            body.clone(),
            &refs(&anthropic_headers(&claude)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"input_tokens": 17})
    );
    assert_eq!(claude.requests()[0].path, "/v1/messages/count_tokens");

    let bedrock = MockServer::start("bedrock").await;
    bedrock.push(Reply::Json {
        status: 200,
        body: json!({"inputTokens": 23}).to_string(),
        headers: vec![],
    });
    let h = bedrock_via(&bedrock);
    let mut b = body.clone();
    b["model"] = json!("anthropic.claude-3-haiku-20240307-v1:0");
    let resp = gw.post("/v1/messages/count_tokens", b, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"input_tokens": 23})
    );
    assert_eq!(
        bedrock.requests()[0].path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens"
    );

    let openai = MockServer::start("openai").await;
    let resp = gw
        .post("/v1/messages/count_tokens", body, &refs(&via(&openai)))
        .await;
    let (status, e) = anthropic_error(resp).await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("Claude targets"),
        "{e}"
    );
    assert!(openai.requests().is_empty());
}

#[tokio::test]
async fn the_anthropic_sdks_x_api_key_is_the_provider_key() {
    let openai = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "openai".to_owned()),
        ("x-portkey-custom-host", openai.url()),
        ("x-api-key", "sk-from-anthropic-sdk".to_owned()),
    ];
    let resp = messages(&gw, claude_code_request(false), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        openai.requests()[0].header("authorization"),
        Some("Bearer sk-from-anthropic-sdk")
    );
}

#[tokio::test]
async fn a_streamed_messages_answer_is_cached_and_replayed_as_events_or_a_message() {
    let claude = MockServer::start("anthropic").await;
    claude.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks: vec![Bytes::from(ANTHROPIC_TOOL_STREAM)],
        gap: Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let config = json!({
        "provider": "anthropic", "api_key": "sk-ant",
        "custom_host": format!("http://{}/v1", claude.addr()),
        "cache": {"mode": "simple", "max_age": 600}
    })
    .to_string();
    let h = [("x-portkey-config", config.as_str())];
    let first = messages(&gw, claude_code_request(true), &h).await;
    assert_eq!(header(&first, "x-portkey-cache-status"), "MISS");
    let first_events = events(&first.text().await.unwrap());
    // Stored once the stream ended (off the response's path).
    let mut hit = None;
    for _ in 0..50 {
        let again = messages(&gw, claude_code_request(true), &h).await;
        if header(&again, "x-portkey-cache-status") == "HIT" {
            hit = Some(again);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hit = hit.expect("the stream was cached");
    assert_eq!(header(&hit, "content-type"), "text/event-stream");
    let replayed = events(&hit.text().await.unwrap());
    let names = |e: &[(String, Value)]| e.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&replayed).first().unwrap(), "message_start");
    assert_eq!(names(&replayed).last().unwrap(), "message_stop");
    let stop = |e: &[(String, Value)]| {
        e.iter()
            .find(|(n, _)| n == "message_delta")
            .map(|(_, d)| d["delta"]["stop_reason"].clone())
    };
    assert_eq!(stop(&replayed), stop(&first_events));
    // The same question without `stream` gets the assembled message.
    let whole = messages(&gw, claude_code_request(false), &h).await;
    assert_eq!(header(&whole, "x-portkey-cache-status"), "HIT");
    let m: Value = whole.json().await.unwrap();
    assert_eq!(m["type"], "message");
    assert_eq!(
        m["content"][1]["input"],
        json!({"location": "San Francisco, CA"})
    );
    assert_eq!(claude.requests().len(), 1, "one upstream call in all");
}
