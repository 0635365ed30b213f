//! A first end-to-end check of native translation through the server (the full per-provider
//! battery is in providers.rs).

mod common;

use common::*;
use serde_json::{json, Value};

const ANTHROPIC_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/anthropic/resp_text.json");
const ANTHROPIC_STREAM: &str =
    include_str!("../../switchyard-providers/fixtures/anthropic/stream_text.sse");

#[tokio::test]
async fn anthropic_chat_is_translated_both_ways() {
    let mock = MockServer::start("anthropic").await;
    mock.push(Reply::Json {
        status: 200,
        body: ANTHROPIC_RESP.into(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v1", mock.addr());
    let body = json!({"model": "claude-3-5-haiku-latest", "messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]});
    let resp = gw
        .chat(
            body,
            &[
                ("x-portkey-provider", "anthropic"),
                ("authorization", "Bearer sk-ant-1"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert!(v["choices"][0]["message"]["content"].is_string(), "{v}");
    let got = &mock.requests()[0];
    assert_eq!(got.path, "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some("sk-ant-1"));
    assert!(got.header("authorization").is_none());
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(got.json()["system"][0]["text"], "be brief");
}

#[tokio::test]
async fn anthropic_stream_becomes_openai_chunks_ending_in_done() {
    let mock = MockServer::start("anthropic").await;
    mock.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks: vec![bytes::Bytes::from(ANTHROPIC_STREAM)],
        gap: std::time::Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let resp = gw
        .chat(
            hi_stream("claude-3-5-haiku-latest"),
            &[
                ("x-portkey-provider", "anthropic"),
                ("authorization", "Bearer k"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let first = text
        .split("\n\n")
        .next()
        .unwrap()
        .trim_start_matches("data: ");
    let v: Value = serde_json::from_str(first).unwrap();
    assert_eq!(v["object"], "chat.completion.chunk");
    assert_eq!(v["choices"][0]["delta"]["role"], "assistant");
}
