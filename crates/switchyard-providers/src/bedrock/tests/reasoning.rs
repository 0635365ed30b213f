//! Claude extended thinking and prompt caching through Converse: `thinking` /
//! `reasoning_effort` in `additionalModelRequestFields`, `reasoningContent` out (non-strict),
//! signatures sent back, `cachePoint` blocks and cache-read usage. Shapes follow the Converse
//! API reference (`ReasoningContentBlock`, `ReasoningContentBlockDelta`, `CachePointBlock`,
//! `TokenUsage`).

use super::*;

fn with_model(model: &'static str, req: Value) -> Value {
    let wire = Bedrock.chat_request(&chat(req), &cx_model(model)).unwrap();
    serde_json::from_slice(&wire.body).unwrap()
}

#[test]
fn thinking_goes_in_additional_model_request_fields_for_claude_with_room_for_the_answer() {
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                     "thinking": {"type": "enabled", "budget_tokens": 2048}});
    let b = with_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0", req);
    assert_eq!(
        b["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 4096);
}

#[test]
fn reasoning_effort_maps_to_a_claude_budget_and_keeps_client_fields() {
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                     "reasoning_effort": "medium", "max_tokens": 1000,
                     "additionalModelRequestFields": {"top_k": 5}});
    let b = body(req);
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"top_k": 5, "thinking": {"type": "enabled", "budget_tokens": 8192}})
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 9192);
}

#[test]
fn thinking_is_not_sent_to_models_other_than_claude() {
    let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                     "reasoning_effort": "high", "max_tokens": 100});
    let b = with_model("amazon.nova-pro-v1:0", req);
    assert!(b.get("additionalModelRequestFields").is_none());
    assert_eq!(b["inferenceConfig"]["maxTokens"], 100);
}

#[test]
fn cache_control_adds_cache_points_after_marked_system_messages_parts_and_tools() {
    let req = json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Rules", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [
                {"type": "text", "text": "Doc", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Question"}
            ]},
            {"role": "assistant", "content": "A"},
            {"role": "user", "content": "More", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}},
                   "cache_control": {"type": "ephemeral"}}]
    });
    let b = body(req.clone());
    let point = json!({"cachePoint": {"type": "default"}});
    assert_eq!(b["system"], json!([{"text": "Rules"}, point]));
    assert_eq!(
        b["messages"][0]["content"],
        json!([{"text": "Doc"}, point, {"text": "Question"}])
    );
    assert_eq!(
        b["messages"][2]["content"],
        json!([{"text": "More"}, point])
    );
    assert_eq!(b["toolConfig"]["tools"][1], point);
    // Amazon models get no cache point after tools, as in Portkey.
    let nova = with_model("amazon.nova-pro-v1:0", req);
    assert_eq!(nova["toolConfig"]["tools"].as_array().unwrap().len(), 1);
}

#[test]
fn content_blocks_send_reasoning_back_before_the_tool_use() {
    let req = json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null,
             "content_blocks": [
                {"type": "thinking", "thinking": "Call the tool.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
                {"type": "tool_use", "id": "t1", "name": "w", "input": {}}
             ],
             "tool_calls": [{"id": "t1", "type": "function",
                             "function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"}
        ]
    });
    let b = body(req);
    assert_eq!(
        b["messages"][1]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "Call the tool.", "signature": "sig-1"}}},
            {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
            {"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}}
        ])
    );
}

const REASONING_RESPONSE: &str = r#"{
  "output": {"message": {"role": "assistant", "content": [
    {"reasoningContent": {"reasoningText": {"text": "The user wants a sum.", "signature": "ErcBCkgIAhABGAIiQ"}}},
    {"reasoningContent": {"redactedContent": "RXJjQkNrZ0lBaEFCR0FJ"}},
    {"text": "2 + 2 = 4"}
  ]}},
  "stopReason": "end_turn",
  "usage": {"inputTokens": 12, "outputTokens": 40, "totalTokens": 1552,
            "cacheReadInputTokens": 1500, "cacheWriteInputTokens": 0},
  "metrics": {"latencyMs": 900}
}"#;

fn respond(strict: bool) -> Value {
    let cx = WireContext {
        strict,
        ..cx(false, false)
    };
    let r = Bedrock
        .chat_response(REASONING_RESPONSE.as_bytes(), &cx)
        .unwrap();
    serde_json::to_value(r).unwrap()
}

#[test]
fn non_strict_answers_carry_reasoning_as_content_blocks_and_reasoning_content() {
    let out = respond(false);
    let m = &out["choices"][0]["message"];
    assert_eq!(m["content"], "2 + 2 = 4");
    assert_eq!(m["reasoning_content"], "The user wants a sum.");
    assert_eq!(
        m["content_blocks"],
        json!([
            {"type": "thinking", "thinking": "The user wants a sum.", "signature": "ErcBCkgIAhABGAIiQ"},
            {"type": "redacted_thinking", "data": "RXJjQkNrZ0lBaEFCR0FJ"},
            {"type": "text", "text": "2 + 2 = 4"}
        ])
    );
}

#[test]
fn strict_answers_drop_reasoning_and_cache_reads_are_cached_tokens() {
    let out = respond(true);
    let m = &out["choices"][0]["message"];
    assert!(m.get("content_blocks").is_none());
    assert!(m.get("reasoning_content").is_none());
    assert_eq!(out["usage"]["prompt_tokens"], 1512);
    assert_eq!(out["usage"]["prompt_tokens_details"]["cached_tokens"], 1500);
}

fn reasoning_frames() -> Vec<Frame<'static>> {
    vec![
        event("messageStart", r#"{"role":"assistant"}"#),
        event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Adding "}}}"#,
        ),
        event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"numbers."}}}"#,
        ),
        event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqoBCkgIARABGAIiQ"}}}"#,
        ),
        event("contentBlockStop", r#"{"contentBlockIndex":0}"#),
        event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"text":"4"}}"#,
        ),
        event("contentBlockStop", r#"{"contentBlockIndex":1}"#),
        event("messageStop", r#"{"stopReason":"end_turn"}"#),
        event(
            "metadata",
            r#"{"usage":{"inputTokens":3,"outputTokens":9,"totalTokens":112,"cacheReadInputTokens":100},"metrics":{"latencyMs":5}}"#,
        ),
    ]
}

fn stream(strict: bool) -> Vec<Value> {
    let cx = WireContext {
        strict,
        ..cx(true, true)
    };
    let mut t = Bedrock.chat_stream(&cx);
    let mut out = Vec::new();
    for f in reasoning_frames() {
        out.extend(t.on_frame(f).unwrap());
    }
    out.extend(t.finish().unwrap());
    out.iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect()
}

#[test]
fn non_strict_streams_carry_reasoning_deltas_signatures_and_cached_usage() {
    let chunks = stream(false);
    let blocks: Vec<Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("content_blocks").cloned())
        .flat_map(|b| b.as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        blocks,
        vec![
            json!({"index": 0, "delta": {"thinking": "Adding "}}),
            json!({"index": 0, "delta": {"thinking": "numbers."}}),
            json!({"index": 0, "delta": {"signature": "EqoBCkgIARABGAIiQ"}}),
            json!({"index": 1, "delta": {"text": "4"}}),
        ]
    );
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "Adding numbers.");
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["prompt_tokens"], 103);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 100);
}

#[test]
fn strict_streams_drop_reasoning() {
    let chunks = stream(true);
    let text = Value::Array(chunks.clone()).to_string();
    assert!(!text.contains("content_blocks"));
    assert!(!text.contains("reasoning_content"));
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "4");
}
