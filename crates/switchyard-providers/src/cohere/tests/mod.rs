//! Cohere adapter tests. Fixtures live in `fixtures/cohere/`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use switchyard_types::chat::ChatRequest;

use super::*;
use crate::native::{Frame, ProviderOptions, WireContext};

mod chat;
mod stream;

pub(super) const MODEL: &str = "command-a-03-2025";

fn no_options() -> &'static ProviderOptions {
    static EMPTY: std::sync::OnceLock<ProviderOptions> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

pub(super) fn cx(stream: bool, include_usage: bool) -> WireContext<'static> {
    WireContext {
        model: MODEL,
        stream,
        include_usage,
        response_id: "chatcmpl-test",
        created: 1_700_000_000,
        options: no_options(),
        strict: true,
    }
}

pub(super) fn chat_req(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

pub(super) fn body(v: Value) -> Value {
    let w = Cohere
        .chat_request(&chat_req(v), &cx(false, false))
        .unwrap();
    serde_json::from_slice(&w.body).unwrap()
}

pub(super) fn body_err(v: Value) -> (String, Option<String>) {
    match Cohere.chat_request(&chat_req(v), &cx(false, false)) {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

pub(super) fn fixture_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Decodes an `.sse` fixture with the shared SSE decoder and feeds every event to the
/// translator, as the gateway does.
pub(super) fn run_sse(sse: &str, include_usage: bool) -> (Vec<Value>, Result<(), TranslateError>) {
    crate::test_sse::run_sse(Cohere.chat_stream(&cx(true, include_usage)), sse)
}

#[test]
fn base_url_is_the_public_api_and_framing_is_sse() {
    assert_eq!(
        Cohere.base_url(no_options()).unwrap(),
        "https://api.cohere.com"
    );
    assert_eq!(Cohere.stream_framing(), StreamFraming::Sse);
}

#[test]
fn chat_uses_v2_chat_for_both_modes_with_the_stream_flag() {
    let req = chat_req(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    let plain = Cohere.chat_request(&req, &cx(false, false)).unwrap();
    let streamed = Cohere.chat_request(&req, &cx(true, true)).unwrap();
    assert_eq!(plain.path, "/v2/chat");
    assert_eq!(streamed.path, "/v2/chat");
    assert!(plain.headers.is_empty());
    let p: Value = serde_json::from_slice(&plain.body).unwrap();
    let s: Value = serde_json::from_slice(&streamed.body).unwrap();
    assert_eq!(p["stream"], false);
    assert_eq!(s["stream"], true);
    assert_eq!(s["model"], MODEL);
    // stream_options is an OpenAI-only member and never reaches Cohere.
    assert!(s.get("stream_options").is_none());
}

#[test]
fn empty_model_is_rejected() {
    let c = WireContext {
        model: "",
        ..cx(false, false)
    };
    let req = chat_req(json!({"model": "", "messages": []}));
    assert!(matches!(
        Cohere.chat_request(&req, &c),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

#[test]
fn embeddings_request_asks_for_float_search_documents() {
    let req = serde_json::from_value(json!({"model": "x", "input": ["hello", "goodbye"]})).unwrap();
    let c = WireContext {
        model: "embed-v4.0",
        ..cx(false, false)
    };
    let w = Cohere.embeddings_request(&req, &c).unwrap();
    assert_eq!(w.path, "/v2/embed");
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        json!({"model": "embed-v4.0", "texts": ["hello", "goodbye"],
            "input_type": "search_document", "embedding_types": ["float"]})
    );
    let req = serde_json::from_value(
        json!({"model": "x", "input": "q", "dimensions": 256, "input_type": "search_query"}),
    )
    .unwrap();
    let b: Value =
        serde_json::from_slice(&Cohere.embeddings_request(&req, &c).unwrap().body).unwrap();
    assert_eq!(b["input_type"], "search_query");
    assert_eq!(b["output_dimension"], 256);
    let tokens = serde_json::from_value(json!({"model": "x", "input": [[1, 2]]})).unwrap();
    assert!(matches!(
        Cohere.embeddings_request(&tokens, &c),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

#[test]
fn embeddings_response_reads_float_vectors_and_billed_tokens() {
    let c = WireContext {
        model: "embed-v4.0",
        ..cx(false, false)
    };
    let r = Cohere
        .embeddings_response(
            include_bytes!("../../../fixtures/cohere/embed_response.json"),
            &c,
        )
        .unwrap();
    assert_eq!(r.model, "embed-v4.0");
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert_eq!(
        r.data[1].embedding,
        vec![-0.0072021484f32, 0.025146484, 0.015625]
    );
    assert_eq!((r.usage.prompt_tokens, r.usage.total_tokens), (2, 2));
    assert!(matches!(
        Cohere.embeddings_response(br#"{"embeddings":{"int8":[[1]]}}"#, &c),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn error_bodies_map_to_openai_errors_by_status() {
    let e = Cohere.error_response(
        400,
        include_bytes!("../../../fixtures/cohere/error_bad_request.json"),
    );
    assert_eq!(e.error.kind, "invalid_request_error");
    assert!(e
        .error
        .message
        .starts_with("invalid request: message must be"));
    let e = Cohere.error_response(
        429,
        include_bytes!("../../../fixtures/cohere/error_rate_limit.json"),
    );
    assert_eq!(e.error.kind, "rate_limit_error");
    assert!(e.error.message.contains("Trial key"));
    let e = Cohere.error_response(498, br#"{"message":"invalid api token"}"#);
    assert_eq!(e.error.kind, "authentication_error");
    let e = Cohere.error_response(401, br#"{"message":"no api key supplied"}"#);
    assert_eq!(e.error.kind, "authentication_error");
    let e = Cohere.error_response(500, b"");
    assert_eq!(e.error.kind, "api_error");
    assert_eq!(e.error.message, "Cohere returned HTTP 500");
    let e = Cohere.error_response(502, b"upstream connect error");
    assert_eq!(e.error.message, "upstream connect error");
}
