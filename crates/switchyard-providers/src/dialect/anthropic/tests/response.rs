//! Chat completion -> Message, and errors.

use serde_json::{json, Value};
use switchyard_types::chat::ChatResponse;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::dialect::anthropic::{error_body, response_from_chat};
use crate::native::TranslateError;

fn message(chat: Value) -> Value {
    let resp: ChatResponse = serde_json::from_value(chat).unwrap();
    serde_json::from_slice(&response_from_chat(&resp).unwrap()).unwrap()
}

fn chat(message: Value, finish: Value, usage: Value) -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1_741_569_952,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage,
        "system_fingerprint": "fp_44709d6fcb"
    })
}

#[test]
fn a_text_answer_with_cached_usage() {
    let m = message(chat(
        json!({"role": "assistant", "content": "Hello! How can I help?", "refusal": null}),
        json!("stop"),
        json!({
            "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        }),
    ));
    assert_eq!(
        m,
        json!({
            "id": "msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "type": "message",
            "role": "assistant",
            "model": "gpt-4o-2024-08-06",
            "content": [{"type": "text", "text": "Hello! How can I help?"}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": 86,
                "output_tokens": 300,
                "cache_read_input_tokens": 1920,
                "cache_creation_input_tokens": 0
            }
        })
    );
}

#[test]
fn tool_calls_become_tool_use_blocks() {
    let m = message(chat(
        json!({"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
            {"id": "call_def", "type": "function", "function": {"name": "noop", "arguments": ""}},
            {"id": "call_ghi", "type": "function", "function": {"name": "bad", "arguments": "{\"trunc"}},
            {"id": "call_jkl", "type": "function", "function": {"name": "arr", "arguments": "[1,2]"}},
            {"id": "", "type": "function", "function": {"name": "anon", "arguments": "{}"}}
        ]}),
        json!("tool_calls"),
        json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}),
    ));
    assert_eq!(
        m["content"],
        json!([
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "call_abc", "name": "get_weather", "input": {"location": "Paris"}},
            {"type": "tool_use", "id": "call_def", "name": "noop", "input": {}},
            {"type": "tool_use", "id": "call_ghi", "name": "bad", "input": {"arguments": "{\"trunc"}},
            {"type": "tool_use", "id": "call_jkl", "name": "arr", "input": {"arguments": "[1,2]"}},
            {"type": "tool_use", "id": "toolu_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT_4", "name": "anon", "input": {}}
        ])
    );
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(
        m["usage"],
        json!({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0})
    );
}

#[test]
fn reasoning_becomes_a_leading_thinking_block() {
    let m = message(chat(
        json!({"role": "assistant", "content": "It is 4.", "reasoning_content": "2 + 2 = 4",
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "check", "arguments": "{}"}}]}),
        json!("tool_calls"),
        json!(null),
    ));
    assert_eq!(
        m["content"],
        json!([
            {"type": "thinking", "thinking": "2 + 2 = 4", "signature": ""},
            {"type": "text", "text": "It is 4."},
            {"type": "tool_use", "id": "call_1", "name": "check", "input": {}}
        ])
    );
    // Groq and OpenRouter name it `reasoning`; only reasoning is still a message.
    let m = message(chat(
        json!({"role": "assistant", "content": "", "reasoning": "hmm"}),
        json!("length"),
        json!(null),
    ));
    assert_eq!(
        m["content"],
        json!([{"type": "thinking", "thinking": "hmm", "signature": ""}])
    );
    assert_eq!(m["stop_reason"], "max_tokens");
    // Empty reasoning is no block.
    let m = message(chat(
        json!({"role": "assistant", "content": "x", "reasoning_content": ""}),
        json!("stop"),
        json!(null),
    ));
    assert_eq!(m["content"], json!([{"type": "text", "text": "x"}]));
}

#[test]
fn stop_reasons() {
    let text = json!({"role": "assistant", "content": "x"});
    let calls = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]});
    let usage = json!({"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2});
    for (msg, finish, want) in [
        (&text, json!("stop"), "end_turn"),
        (&text, json!("length"), "max_tokens"),
        (&calls, json!("tool_calls"), "tool_use"),
        (&calls, json!("function_call"), "tool_use"),
        (&text, json!("content_filter"), "refusal"),
        (&text, json!(null), "end_turn"),
        // Some providers say `stop` when they call tools.
        (&calls, json!("stop"), "tool_use"),
        (&calls, json!("length"), "max_tokens"),
    ] {
        let m = message(chat(msg.clone(), finish.clone(), usage.clone()));
        assert_eq!(m["stop_reason"], want, "{finish}");
    }
}

#[test]
fn empty_answers_refusals_ids_and_missing_usage() {
    let mut c = chat(
        json!({"role": "assistant", "content": ""}),
        json!("stop"),
        json!(null),
    );
    c["id"] = json!("msg_01XFDUDYJgAACzvnptvVoYEL");
    let m = message(c);
    assert_eq!(m["id"], "msg_01XFDUDYJgAACzvnptvVoYEL");
    assert_eq!(m["content"], json!([]));
    assert_eq!(m["usage"]["input_tokens"], 0);
    assert_eq!(m["usage"]["output_tokens"], 0);

    let m = message(chat(
        json!({"role": "assistant", "content": null, "refusal": "I can't help with that."}),
        json!("stop"),
        json!(null),
    ));
    assert_eq!(
        m["content"],
        json!([{"type": "text", "text": "I can't help with that."}])
    );
    assert_eq!(m["stop_reason"], "refusal");

    let mut none = chat(
        json!({"role": "assistant", "content": "x"}),
        json!("stop"),
        json!(null),
    );
    none["choices"] = json!([]);
    let resp: ChatResponse = serde_json::from_value(none).unwrap();
    assert!(matches!(
        response_from_chat(&resp),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn cached_tokens_above_prompt_tokens_saturate() {
    let m = message(chat(
        json!({"role": "assistant", "content": "x"}),
        json!("stop"),
        json!({"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6, "prompt_tokens_details": {"cached_tokens": 9}}),
    ));
    assert_eq!(m["usage"]["input_tokens"], 0);
    assert_eq!(m["usage"]["cache_read_input_tokens"], 9);
}

fn error_json(status: u16, env: &ErrorEnvelope) -> Value {
    serde_json::from_slice(&error_body(status, env)).unwrap()
}

#[test]
fn error_bodies_use_anthropic_types() {
    let env = ErrorEnvelope::new(ErrorKind::InvalidRequestError, "bad thing");
    assert_eq!(
        error_json(400, &env),
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad thing"}})
    );
    for (status, want) in [
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (409, "invalid_request_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (408, "timeout_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "api_error"),
        (200, "api_error"),
    ] {
        assert_eq!(error_json(status, &env)["error"]["type"], want, "{status}");
    }
    // An Anthropic type carried in `code` wins over the status.
    let overloaded =
        ErrorEnvelope::new(ErrorKind::ServerError, "Overloaded").with_code("overloaded_error");
    assert_eq!(
        error_json(500, &overloaded)["error"]["type"],
        "overloaded_error"
    );
    let other_code =
        ErrorEnvelope::new(ErrorKind::RateLimitError, "slow down").with_code("rate_limit_exceeded");
    assert_eq!(
        error_json(429, &other_code)["error"]["type"],
        "rate_limit_error"
    );
}
