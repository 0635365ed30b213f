//! Translated answers the per-provider battery does not produce — reasoning, logprobs, several
//! candidates, safety stops, blocked prompts, truncated streams, Titan embeddings — sent through
//! the real server from the adapters' fixtures, with what the client gets checked against
//! OpenAI's spec (`openapi.rs`).

use serde_json::{json, Value};

use super::openapi::{assert_conforms, Shape, CASE};
use super::spec::{json_reply, sse, Provider};
use super::support::{chat, post, setup, ClientStream};
use crate::common::Reply;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../../switchyard-providers/fixtures/", $path))
    };
}

/// A user turn for `p`'s model with `extra` members merged in.
fn request(p: Provider, extra: Value) -> Value {
    let mut body = json!({"model": p.model(), "messages": [{"role": "user", "content": "hi"}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

/// Sends a non-streamed chat request to `p` answering `reply`; checks the body (a completion on
/// 200, else an error) against the spec and returns it.
async fn completion(case: &'static str, p: Provider, extra: Value, reply: Reply) -> Value {
    CASE.scope(case, async {
        let (gw, mock) = setup(p, reply).await;
        let resp = chat(&gw, p, &mock, request(p, extra)).await;
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.expect("JSON body");
        let shape = if status == 200 {
            Shape::Completion
        } else {
            Shape::Error
        };
        assert_conforms(p, shape, &v);
        assert_eq!(status, 200, "{v}");
        v
    })
    .await
}

/// Streams a chat request to `p` answering `reply`; every chunk and error event is checked.
async fn stream(case: &'static str, p: Provider, extra: Value, reply: Reply) -> ClientStream {
    CASE.scope(case, async {
        let (gw, mock) = setup(p, reply).await;
        let mut body = request(p, extra);
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        ClientStream::read_from(p, chat(&gw, p, &mock, body).await).await
    })
    .await
}

#[tokio::test]
async fn gemini_logprobs() {
    let v = completion(
        "gemini_logprobs",
        Provider::Google,
        json!({"logprobs": true, "top_logprobs": 2}),
        json_reply(200, fixture!("google/response_logprobs.json")),
    )
    .await;
    assert!(v["choices"][0]["logprobs"]["content"].is_array(), "{v}");
}

#[tokio::test]
async fn gemini_several_candidates() {
    let v = completion(
        "gemini_several_candidates",
        Provider::Google,
        json!({"n": 2}),
        json_reply(200, fixture!("google/response_multi_candidates.json")),
    )
    .await;
    assert_eq!(v["choices"][1]["finish_reason"], "length", "{v}");
}

#[tokio::test]
async fn gemini_safety_stop() {
    let v = completion(
        "gemini_safety_stop",
        Provider::Google,
        json!({}),
        json_reply(200, fixture!("google/response_safety.json")),
    )
    .await;
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter", "{v}");
}

#[tokio::test]
async fn gemini_thought_parts() {
    let v = completion(
        "gemini_thought_parts",
        Provider::VertexGemini,
        json!({}),
        json_reply(200, fixture!("google/response_thought_parts.json")),
    )
    .await;
    assert!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"].as_u64() > Some(0),
        "{v}"
    );
}

#[tokio::test]
async fn gemini_prompt_blocked() {
    let v = completion(
        "gemini_prompt_blocked",
        Provider::Google,
        json!({}),
        json_reply(200, fixture!("google/response_prompt_blocked.json")),
    )
    .await;
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter", "{v}");
}

#[tokio::test]
async fn gemini_prompt_blocked_stream() {
    let s = stream(
        "gemini_prompt_blocked_stream",
        Provider::Google,
        json!({}),
        sse(fixture!("google/stream_prompt_blocked.sse")),
    )
    .await;
    assert_eq!(s.finish_reasons(), ["content_filter"], "{}", s.text);
}

#[tokio::test]
async fn gemini_two_candidates_stream() {
    let s = stream(
        "gemini_two_candidates_stream",
        Provider::VertexGemini,
        json!({"n": 2}),
        sse(fixture!("google/stream_two_candidates.sse")),
    )
    .await;
    assert!(s.ends_with_done(), "{}", s.text);
}

#[tokio::test]
async fn gemini_truncated_stream() {
    let s = stream(
        "gemini_truncated_stream",
        Provider::Google,
        json!({}),
        sse(fixture!("google/stream_truncated.sse")),
    )
    .await;
    assert!(s.final_error().is_some(), "{}", s.text);
}

#[tokio::test]
async fn anthropic_thinking() {
    let v = completion(
        "anthropic_thinking",
        Provider::Anthropic,
        json!({"max_tokens": 2048}),
        json_reply(200, fixture!("anthropic/resp_thinking.json")),
    )
    .await;
    assert!(v["choices"][0]["message"]["content"].is_string(), "{v}");
}

#[tokio::test]
async fn anthropic_thinking_stream() {
    let s = stream(
        "anthropic_thinking_stream",
        Provider::Anthropic,
        json!({"max_tokens": 2048}),
        sse(fixture!("anthropic/stream_thinking.sse")),
    )
    .await;
    assert!(s.ends_with_done(), "{}", s.text);
}

#[tokio::test]
async fn anthropic_json_mode_stream() {
    let schema = json!({"type": "object", "properties": {"capital": {"type": "string"}}});
    let s = stream(
        "anthropic_json_mode_stream",
        Provider::Anthropic,
        json!({"response_format": {"type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema}}}),
        sse(fixture!("anthropic/stream_json.sse")),
    )
    .await;
    assert!(s.ends_with_done(), "{}", s.text);
}

#[tokio::test]
async fn anthropic_truncated_stream() {
    let s = stream(
        "anthropic_truncated_stream",
        Provider::Anthropic,
        json!({}),
        sse(fixture!("anthropic/stream_truncated.sse")),
    )
    .await;
    assert!(s.final_error().is_some(), "{}", s.text);
}

#[tokio::test]
async fn bedrock_titan_embeddings() {
    CASE.scope("bedrock_titan_embeddings", async {
        let p = Provider::Bedrock;
        let (gw, mock) = setup(
            p,
            json_reply(200, fixture!("bedrock/embed_titan_response.json")),
        )
        .await;
        let body = json!({"model": "amazon.titan-embed-text-v2:0", "input": "hello"});
        let resp = post(&gw, p, &mock, "/v1/embeddings", body).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_conforms(p, Shape::Embeddings, &v);
    })
    .await
}
