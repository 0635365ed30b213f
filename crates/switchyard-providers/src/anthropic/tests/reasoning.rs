//! Extended thinking (request mapping, non-strict output, signatures sent back) and prompt
//! caching (`cache_control` in, cached tokens out). Fixtures follow Anthropic's published
//! extended-thinking examples.

use serde_json::json;

use super::*;

fn user(content: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": content}]})
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget_with_room_for_the_answer() {
    for (effort, budget, max) in [
        ("low", 1024, 4096),
        ("minimal", 1024, 4096),
        ("medium", 8192, 12288),
        ("high", 24576, 28672),
    ] {
        let body = anthropic_body(with(user(json!("hi")), json!({"reasoning_effort": effort})));
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": budget}),
            "{effort}"
        );
        assert_eq!(body["max_tokens"], max, "{effort}");
    }
    let none = anthropic_body(with(user(json!("hi")), json!({"reasoning_effort": "none"})));
    assert!(none.get("thinking").is_none());
    assert_eq!(none["max_tokens"], 4096);
}

#[test]
fn a_client_limit_not_above_the_budget_is_added_to_the_budget() {
    let body = anthropic_body(with(
        user(json!("hi")),
        json!({"reasoning_effort": "medium", "max_completion_tokens": 500}),
    ));
    assert_eq!(body["max_tokens"], 8692);
    let roomy = anthropic_body(with(
        user(json!("hi")),
        json!({"thinking": {"type": "enabled", "budget_tokens": 2000}, "max_tokens": 3000}),
    ));
    assert_eq!(roomy["max_tokens"], 3000);
}

#[test]
fn explicit_thinking_wins_over_reasoning_effort_and_bad_efforts_are_rejected() {
    let thinking = json!({"type": "enabled", "budget_tokens": 3000});
    let body = anthropic_body(with(
        user(json!("hi")),
        json!({"thinking": thinking, "reasoning_effort": "high"}),
    ));
    assert_eq!(body["thinking"], thinking);
    let err = anthropic_error(with(user(json!("hi")), json!({"reasoning_effort": "max"})));
    assert_eq!(invalid_param(&err), Some("reasoning_effort"));
}

#[test]
fn cache_control_on_parts_messages_system_and_tools_becomes_ephemeral() {
    let req = json!({
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "You are terse.", "cache_control": {"type": "ephemeral"}},
            {"role": "system", "content": [
                {"type": "text", "text": "Long rules", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
            ]},
            {"role": "user", "content": [
                {"type": "text", "text": "Big document", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"},
                 "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Question?"}
            ]},
            {"role": "assistant", "content": "Answer."},
            {"role": "user", "content": "Follow-up", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}},
             "cache_control": {"type": "ephemeral"}}
        ]
    });
    let body = anthropic_body(req);
    let eph = json!({"type": "ephemeral"});
    assert_eq!(body["system"][0]["cache_control"], eph);
    assert_eq!(
        body["system"][1]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    let first = &body["messages"][0]["content"];
    assert_eq!(first[0]["cache_control"], eph);
    assert_eq!(first[1]["type"], "image");
    assert_eq!(first[1]["cache_control"], eph);
    assert!(first[2].get("cache_control").is_none());
    assert!(body["messages"][1]["content"][0]
        .get("cache_control")
        .is_none());
    assert_eq!(body["messages"][2]["content"][0]["cache_control"], eph);
    assert!(body["tools"][0].get("cache_control").is_none());
    assert_eq!(body["tools"][1]["cache_control"], eph);
}

#[test]
fn message_level_cache_control_on_a_tool_result_marks_the_tool_result_block() {
    let req = json!({
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "tool_calls": [{"id": "toolu_1", "type": "function",
                "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny",
             "cache_control": {"type": "ephemeral"}}
        ]
    });
    let body = anthropic_body(req);
    let result = &body["messages"][2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["cache_control"], json!({"type": "ephemeral"}));
}

#[test]
fn thinking_blocks_in_content_blocks_go_back_before_the_tool_use_blocks() {
    let thinking = json!({"type": "thinking", "thinking": "I should call the tool.",
                          "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk"});
    let redacted = json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"});
    let req = json!({
        "model": "claude-sonnet-4-5",
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "Let me check.",
             "content_blocks": [thinking, redacted, {"type": "text", "text": "Let me check."},
                                {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}],
             "tool_calls": [{"id": "toolu_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"}
        ]
    });
    let body = anthropic_body(req);
    let assistant = body["messages"][1]["content"].as_array().unwrap();
    assert_eq!(assistant.len(), 4);
    assert_eq!(assistant[0], thinking);
    assert_eq!(assistant[1], redacted);
    assert_eq!(
        assistant[2],
        json!({"type": "text", "text": "Let me check."})
    );
    assert_eq!(
        assistant[3],
        json!({"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}})
    );
}

#[test]
fn content_blocks_that_are_not_typed_objects_are_rejected() {
    let req = json!({
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "x", "content_blocks": ["thinking"]},
            {"role": "user", "content": "go on"}
        ]
    });
    let err = anthropic_error(req);
    assert_eq!(invalid_param(&err), Some("messages[1].content_blocks[0]"));
}

fn translate(body: &str, strict: bool) -> switchyard_types::chat::ChatResponse {
    let opts = ProviderOptions::new();
    let cx = WireContext {
        strict,
        ..cx("claude-sonnet-4-5", false, false, &opts)
    };
    super::super::Anthropic
        .chat_response(body.as_bytes(), &cx)
        .unwrap()
}

#[test]
fn non_strict_answers_carry_content_blocks_with_signatures_and_reasoning_content() {
    let resp = translate(fixture!("resp_thinking.json"), false);
    let message = &resp.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("27 * 453 = 12,231"));
    assert_eq!(
        message.reasoning_content.as_deref(),
        Some("Let me analyze this step by step...")
    );
    let raw = json(fixture!("resp_thinking.json"));
    assert_eq!(
        message.content_blocks.as_deref(),
        raw["content"].as_array().map(Vec::as_slice)
    );
    let out = to_value(&resp);
    assert_eq!(
        out["choices"][0]["message"]["content_blocks"][0]["signature"],
        raw["content"][0]["signature"]
    );
}

#[test]
fn strict_answers_drop_thinking_entirely() {
    let out = to_value(&translate(fixture!("resp_thinking.json"), true));
    let message = &out["choices"][0]["message"];
    assert!(message.get("content_blocks").is_none());
    assert!(message.get("reasoning_content").is_none());
    assert_eq!(message["content"], "27 * 453 = 12,231");
}

#[test]
fn non_strict_content_blocks_leave_out_tool_use_and_keep_json_mode_text() {
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "t", "signature": "sig"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 6}
    });
    let resp = translate(&body.to_string(), false);
    let message = &resp.choices[0].message;
    assert_eq!(
        message.content_blocks,
        Some(vec![
            json!({"type": "thinking", "thinking": "t", "signature": "sig"})
        ])
    );
    assert_eq!(message.tool_calls.as_ref().map(Vec::len), Some(1));
    let json_mode = json!({
        "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "tool_use", "id": "toolu_2", "name": "switchyard_json_response",
                     "input": {"a": 1}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 6}
    });
    let resp = translate(&json_mode.to_string(), false);
    assert_eq!(
        resp.choices[0].message.content_blocks,
        Some(vec![json!({"type": "text", "text": "{\"a\":1}"})])
    );
}

#[test]
fn cache_reads_are_cached_tokens_inside_prompt_tokens() {
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 21, "cache_creation_input_tokens": 188,
                  "cache_read_input_tokens": 1500, "output_tokens": 393}
    });
    let usage = to_value(&translate(&body.to_string(), true).usage);
    assert_eq!(usage["prompt_tokens"], 1709);
    assert_eq!(usage["completion_tokens"], 393);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 1500);
}

fn stream(sse: &str, strict: bool) -> StreamRun {
    let opts = ProviderOptions::new();
    let cx = WireContext {
        strict,
        ..cx("claude-sonnet-4-5", true, true, &opts)
    };
    run_stream(&super::super::Anthropic, sse, &cx)
}

#[test]
fn non_strict_streams_carry_thinking_signature_and_text_content_blocks() {
    let out = stream(fixture!("stream_thinking.sse"), false);
    assert!(out.error.is_none());
    let blocks: Vec<Value> = out
        .chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.content_blocks.iter().flatten().cloned())
        .collect();
    assert_eq!(
        blocks,
        vec![
            json!({"index": 0, "delta": {"thinking": "", "signature": ""}}),
            json!({"index": 0, "delta": {"thinking": "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147"}}),
            json!({"index": 0, "delta": {"thinking": "\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21"}}),
            json!({"index": 0, "delta": {"signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}),
            json!({"index": 1, "delta": {"text": ""}}),
            json!({"index": 1, "delta": {"text": "The greatest common divisor of 1071 and 462 is **21**."}}),
        ]
    );
    let reasoning: String = out
        .chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.reasoning_content.as_deref())
        .collect();
    assert!(reasoning.starts_with("I need to find the GCD"));
    assert!(reasoning.ends_with("So GCD(1071, 462) = 21"));
    assert_eq!(
        streamed_text(&out.chunks),
        "The greatest common divisor of 1071 and 462 is **21**."
    );
}

#[test]
fn strict_streams_carry_no_reasoning_or_content_blocks() {
    let out = stream(fixture!("stream_thinking.sse"), true);
    assert!(out.error.is_none());
    let v = to_value(&out.chunks);
    let text = v.to_string();
    assert!(!text.contains("content_blocks"));
    assert!(!text.contains("reasoning_content"));
}
