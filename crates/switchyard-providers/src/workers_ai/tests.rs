//! Workers AI adapter tests. Fixtures live in `fixtures/workers-ai/`, shaped as Cloudflare's
//! REST API documents its envelopes and model outputs.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use switchyard_types::chat::ChatRequest;

use super::*;
use crate::native::{ProviderOptions, WireContext};

const MODEL: &str = "@cf/meta/llama-3.1-8b-instruct";

fn no_options() -> &'static ProviderOptions {
    static EMPTY: std::sync::OnceLock<ProviderOptions> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

fn cx(stream: bool, include_usage: bool) -> WireContext<'static> {
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

fn chat_req(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

fn body(v: Value) -> Value {
    let w = WorkersAi
        .chat_request(&chat_req(v), &cx(false, false))
        .unwrap();
    serde_json::from_slice(&w.body).unwrap()
}

fn param_of_error(v: Value) -> Option<String> {
    match WorkersAi.chat_request(&chat_req(v), &cx(false, false)) {
        Err(TranslateError::InvalidRequest { param, .. }) => param,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn run_sse(sse: &str, include_usage: bool) -> (Vec<Value>, Result<(), TranslateError>) {
    crate::test_sse::run_sse(WorkersAi.chat_stream(&cx(true, include_usage)), sse)
}

#[test]
fn base_url_names_the_account_and_ends_in_ai_run() {
    let opts: ProviderOptions = [(
        ACCOUNT_OPTION.to_owned(),
        "023e105f4ecef8ad9ca31a8372d0c353".to_owned(),
    )]
    .into();
    assert_eq!(
        WorkersAi.base_url(&opts).unwrap(),
        "https://api.cloudflare.com/client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/ai/run"
    );
    assert!(matches!(
        WorkersAi.base_url(no_options()),
        Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == ACCOUNT_OPTION
    ));
    let bad: ProviderOptions = [(ACCOUNT_OPTION.to_owned(), "abc/../x".to_owned())].into();
    assert!(WorkersAi.base_url(&bad).is_err());
}

#[test]
fn chat_posts_to_the_model_path_with_messages_and_sampling_options() {
    let w = WorkersAi
        .chat_request(
            &chat_req(json!({"model": "x", "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]}
            ], "max_completion_tokens": 64, "temperature": 0.2, "top_p": 0.9, "seed": 7,
               "frequency_penalty": 0.5, "top_k": 40, "repetition_penalty": 1.1,
               "stream_options": {"include_usage": true}, "user": "u-1"})),
            &cx(true, true),
        )
        .unwrap();
    assert_eq!(w.path, "/@cf/meta/llama-3.1-8b-instruct");
    assert!(w.headers.is_empty());
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        json!({
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Hi\nthere"}],
            "stream": true, "max_tokens": 64, "temperature": 0.2, "top_p": 0.9, "seed": 7,
            "frequency_penalty": 0.5, "top_k": 40, "repetition_penalty": 1.1
        })
    );
}

#[test]
fn tools_and_tool_turns_use_the_openai_function_shape() {
    let b = body(json!({"model": "x", "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":21}"}
    ], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
       "tool_choice": "auto"}));
    assert_eq!(
        b["messages"][1]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(b["messages"][1]["content"], "");
    assert_eq!(
        b["messages"][2],
        json!({"role": "tool", "content": "{\"temp_c\":21}", "tool_call_id": "call_1"})
    );
    assert_eq!(
        b["tools"],
        json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    );
    assert!(b.get("tool_choice").is_none());
    let none = body(
        json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}),
    );
    assert!(
        none.get("tools").is_none(),
        "tool_choice none sends no tools"
    );
    assert_eq!(
        param_of_error(json!({"model": "x", "messages": [], "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "required"})).as_deref(),
        Some("tool_choice")
    );
}

#[test]
fn json_schema_mode_sends_the_bare_schema() {
    let b = body(
        json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "city",
            "schema": {"type": "object", "properties": {"capital": {"type": "string"}}}}}}),
    );
    assert_eq!(
        b["response_format"],
        json!({"type": "json_schema", "json_schema": {"type": "object", "properties": {"capital": {"type": "string"}}}})
    );
    let b = body(json!({"model": "x", "messages": [], "response_format": {"type": "json_object"}}));
    assert_eq!(b["response_format"], json!({"type": "json_object"}));
}

#[test]
fn unsupported_members_and_bad_model_ids_are_refused_before_io() {
    let image = json!({"model": "x", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]});
    assert_eq!(
        param_of_error(image).as_deref(),
        Some("messages[0].content[0]")
    );
    assert_eq!(
        param_of_error(json!({"model": "x", "messages": [], "n": 2})).as_deref(),
        Some("n")
    );
    assert_eq!(
        param_of_error(json!({"model": "x", "messages": [], "stop": "\n"})).as_deref(),
        Some("stop")
    );
    for model in ["", "@cf/../../x", "a?b=c", "/@cf/x", "a b"] {
        let c = WireContext {
            model,
            ..cx(false, false)
        };
        assert!(
            matches!(
                WorkersAi.chat_request(&chat_req(json!({"model": model, "messages": []})), &c),
                Err(TranslateError::InvalidRequest { .. })
            ),
            "{model:?}"
        );
    }
}

#[test]
fn chat_response_reads_result_response_and_usage() {
    let r = WorkersAi
        .chat_response(
            include_bytes!("../../fixtures/workers-ai/chat_response.json"),
            &cx(false, false),
        )
        .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["id"], "chatcmpl-test");
    assert_eq!(v["model"], MODEL);
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "The capital of France is Paris."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 45, "completion_tokens": 8, "total_tokens": 53})
    );
}

#[test]
fn tool_calls_in_both_documented_shapes_become_openai_calls() {
    let r = WorkersAi
        .chat_response(
            include_bytes!("../../fixtures/workers-ai/chat_tool_calls.json"),
            &cx(false, false),
        )
        .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    let msg = &v["choices"][0]["message"];
    assert_eq!(msg["content"], Value::Null);
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        msg["tool_calls"],
        json!([
            {"id": "chatcmpl-test_call_0", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "chatcmpl-tool-8b1f2c", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Tokyo\"}"}}
        ])
    );
}

#[test]
fn json_mode_object_response_becomes_json_text() {
    let body =
        br#"{"result":{"response":{"capital":"Paris"}},"success":true,"errors":[],"messages":[]}"#;
    let r = WorkersAi.chat_response(body, &cx(false, false)).unwrap();
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some(r#"{"capital":"Paris"}"#)
    );
    assert!(r.usage.is_none());
}

#[test]
fn unsuccessful_envelope_or_missing_result_is_an_error() {
    let failed = br#"{"result":null,"success":false,"errors":[{"code":5006,"message":"Bad input"}],"messages":[]}"#;
    match WorkersAi.chat_response(failed, &cx(false, false)) {
        Err(TranslateError::Upstream { error, .. }) => {
            assert_eq!(error.error.message, "Error 5006: Bad input")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        WorkersAi.chat_response(br#"{"success":true}"#, &cx(false, false)),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn golden_text_stream_ends_with_stop_and_a_usage_chunk() {
    let (chunks, end) = run_sse(
        include_str!("../../fixtures/workers-ai/stream_text.sse"),
        true,
    );
    end.unwrap();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "The capital of France is Paris.");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks
        .iter()
        .skip(1)
        .all(|c| c["choices"][0]["delta"].get("role").is_none()));
    assert!(chunks
        .iter()
        .all(|c| c["id"] == "chatcmpl-test" && c["model"] == MODEL));
    let n = chunks.len();
    assert_eq!(n, 5, "three text chunks, the finish chunk, the usage chunk");
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert_eq!(
        chunks[n - 1]["usage"],
        json!({"prompt_tokens": 18, "completion_tokens": 7, "total_tokens": 25})
    );
    let (chunks, end) = run_sse(
        include_str!("../../fixtures/workers-ai/stream_text.sse"),
        false,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn streamed_tool_calls_get_indexes_and_a_tool_calls_finish() {
    let sse = "data: {\"response\":\"\",\"tool_calls\":[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]}\n\n\
               data: {\"response\":\"\",\"tool_calls\":[{\"name\":\"get_time\",\"arguments\":{}}]}\n\n\
               data: [DONE]\n\n";
    let (chunks, end) = run_sse(sse, false);
    end.unwrap();
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["index"], 0);
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(calls[1]["index"], 1);
    assert_eq!(calls[1]["id"], "chatcmpl-test_call_1");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[test]
fn stream_without_done_fails_and_error_frames_are_upstream_errors() {
    let (chunks, end) = run_sse("data: {\"response\":\"cut\"}\n\n", true);
    assert_eq!(chunks.len(), 1);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(m)) if m.contains("[DONE]")));
    let (_, end) = run_sse(
        "data: {\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily exceeded\"}]}\n\n",
        true,
    );
    assert!(
        matches!(end, Err(TranslateError::Upstream { status: 500, error }) if error.error.message == "Capacity temporarily exceeded")
    );
}

#[test]
fn embeddings_send_text_and_read_result_data() {
    let c = WireContext {
        model: "@cf/baai/bge-base-en-v1.5",
        ..cx(false, false)
    };
    let req = serde_json::from_value(json!({"model": "x", "input": ["hello", "goodbye"]})).unwrap();
    let w = WorkersAi.embeddings_request(&req, &c).unwrap();
    assert_eq!(w.path, "/@cf/baai/bge-base-en-v1.5");
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(b, json!({"text": ["hello", "goodbye"]}));
    let one = serde_json::from_value(json!({"model": "x", "input": "hi"})).unwrap();
    let b: Value =
        serde_json::from_slice(&WorkersAi.embeddings_request(&one, &c).unwrap().body).unwrap();
    assert_eq!(b, json!({"text": ["hi"]}));
    let tokens = serde_json::from_value(json!({"model": "x", "input": [[1, 2]]})).unwrap();
    assert!(WorkersAi.embeddings_request(&tokens, &c).is_err());

    let r = WorkersAi
        .embeddings_response(
            include_bytes!("../../fixtures/workers-ai/embed_response.json"),
            &c,
        )
        .unwrap();
    assert_eq!(r.model, "@cf/baai/bge-base-en-v1.5");
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert_eq!(
        r.data[1].embedding,
        vec![-0.0321f32, 0.0654, -0.0987, 0.0022]
    );
    assert_eq!(r.usage.prompt_tokens, 0);
}

#[test]
fn error_bodies_join_cloudflare_errors_and_keep_the_status_type() {
    let e = WorkersAi.error_response(
        401,
        include_bytes!("../../fixtures/workers-ai/error_auth.json"),
    );
    assert_eq!(e.error.kind, "authentication_error");
    assert_eq!(e.error.message, "Error 10000: Authentication error");
    let e = WorkersAi.error_response(
        429,
        include_bytes!("../../fixtures/workers-ai/error_rate_limit.json"),
    );
    assert_eq!(e.error.kind, "rate_limit_error");
    assert!(e.error.message.contains("Capacity temporarily exceeded"));
    let e = WorkersAi.error_response(500, b"");
    assert_eq!(e.error.message, "Workers AI returned HTTP 500");
}
