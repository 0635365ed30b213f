//! Thinking on Gemini: thought summaries (`thought: true` parts) in non-strict answers and
//! streams, `includeThoughts`, thought signatures kept across a function-calling turn, and
//! thoughts / cached tokens in usage. Shapes follow Google's thinking and thought-signature
//! guides.

use serde_json::{json, Value};

use super::tests_chat::{chat, options};
use super::Gemini;
use crate::native::{NativeAdapter, WireContext};

const MODEL: &str = "gemini-2.5-flash";

fn cx(strict: bool, stream: bool) -> WireContext<'static> {
    static OPTS: std::sync::OnceLock<crate::native::ProviderOptions> = std::sync::OnceLock::new();
    WireContext {
        model: MODEL,
        stream,
        include_usage: true,
        response_id: "chatcmpl-gw-7",
        created: 1_750_000_000,
        options: OPTS.get_or_init(|| options(&[])),
        strict,
    }
}

fn thinking_response() -> Value {
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "**Weighing the options**\nThe user wants the weather, so I call the tool.", "thought": true},
                {"text": "Let me check."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                 "thoughtSignature": "CiQBcsjafE3yx7lJW2ThkNSmSnyt"}
            ]},
            "finishReason": "STOP", "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 12,
                          "thoughtsTokenCount": 90, "cachedContentTokenCount": 32,
                          "totalTokenCount": 142},
        "responseId": "resp-abc123"
    })
}

fn respond(strict: bool) -> Value {
    let body = thinking_response().to_string();
    let r = Gemini
        .chat_response(body.as_bytes(), &cx(strict, false))
        .unwrap();
    serde_json::to_value(r).unwrap()
}

#[test]
fn non_strict_answers_carry_thoughts_as_content_blocks_and_reasoning_content() {
    let out = respond(false);
    let m = &out["choices"][0]["message"];
    assert_eq!(m["content"], "Let me check.");
    assert_eq!(
        m["reasoning_content"],
        "**Weighing the options**\nThe user wants the weather, so I call the tool."
    );
    assert_eq!(
        m["content_blocks"],
        json!([
            {"type": "thinking", "thinking": "**Weighing the options**\nThe user wants the weather, so I call the tool."},
            {"type": "text", "text": "Let me check."}
        ])
    );
    assert_eq!(
        m["tool_calls"][0]["function"]["thought_signature"],
        "CiQBcsjafE3yx7lJW2ThkNSmSnyt"
    );
}

#[test]
fn strict_answers_drop_thoughts_but_count_reasoning_and_cached_tokens() {
    let out = respond(true);
    let m = &out["choices"][0]["message"];
    assert!(m.get("content_blocks").is_none());
    assert!(m.get("reasoning_content").is_none());
    assert_eq!(
        out["usage"]["completion_tokens_details"]["reasoning_tokens"],
        90
    );
    assert_eq!(out["usage"]["prompt_tokens_details"]["cached_tokens"], 32);
}

#[test]
fn the_thought_signature_goes_back_on_the_function_call_it_came_with() {
    let answer = respond(false);
    let m = &answer["choices"][0]["message"];
    let req = json!({
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": m["content"], "tool_calls": m["tool_calls"],
             "content_blocks": m["content_blocks"]},
            {"role": "tool", "tool_call_id": m["tool_calls"][0]["id"], "content": "18C"}
        ]
    });
    for model in [MODEL, "gemini-3-pro-preview"] {
        let cx = WireContext {
            model,
            ..cx(false, false)
        };
        let wire = Gemini.chat_request(&chat(req.clone()), &cx).unwrap();
        let body: Value = serde_json::from_slice(&wire.body).unwrap();
        let model_turn = &body["contents"][1];
        assert_eq!(model_turn["role"], "model");
        let call = model_turn["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p.get("functionCall").is_some())
            .unwrap();
        assert_eq!(
            call["thoughtSignature"], "CiQBcsjafE3yx7lJW2ThkNSmSnyt",
            "{model}"
        );
    }
}

#[test]
fn include_thoughts_is_requested_only_when_not_strict_and_thinking_is_on() {
    let req = chat(json!({"model": MODEL, "reasoning_effort": "low",
                          "messages": [{"role": "user", "content": "hi"}]}));
    let body = |strict| -> Value {
        serde_json::from_slice(&Gemini.chat_request(&req, &cx(strict, false)).unwrap().body)
            .unwrap()
    };
    assert_eq!(
        body(false)["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 1024, "includeThoughts": true})
    );
    assert_eq!(
        body(true)["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 1024})
    );
    let off = chat(json!({"model": MODEL, "reasoning_effort": "none",
                          "messages": [{"role": "user", "content": "hi"}]}));
    let wire = Gemini.chat_request(&off, &cx(false, false)).unwrap();
    let b: Value = serde_json::from_slice(&wire.body).unwrap();
    assert_eq!(
        b["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 0})
    );
}

fn stream(strict: bool) -> Vec<Value> {
    let frames = [
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Thinking about it.", "thought": true}]}, "index": 0}],
            "responseId": "resp-s1"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "It is 4."}]}, "index": 0}]}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 4,
                              "thoughtsTokenCount": 20, "totalTokenCount": 29}}),
    ];
    let mut t = Gemini.chat_stream(&cx(strict, true));
    let mut out = Vec::new();
    for f in frames {
        let data = f.to_string();
        let frame = crate::native::Frame {
            event: None,
            data: data.as_bytes(),
            message_type: None,
        };
        out.extend(t.on_frame(frame).unwrap());
    }
    out.extend(t.finish().unwrap());
    out.iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect()
}

#[test]
fn non_strict_streams_carry_thought_deltas_as_portkey_numbers_them() {
    let chunks = stream(false);
    let blocks: Vec<Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("content_blocks").cloned())
        .flat_map(|b| b.as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(
        blocks,
        vec![
            json!({"index": 0, "delta": {"thinking": "Thinking about it."}}),
            json!({"index": 1, "delta": {"text": "It is 4."}}),
        ]
    );
    assert_eq!(
        chunks[0]["choices"][0]["delta"]["reasoning_content"],
        "Thinking about it."
    );
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 20);
}

#[test]
fn strict_streams_drop_thoughts() {
    let chunks = stream(true);
    let text = Value::Array(chunks.clone()).to_string();
    assert!(!text.contains("content_blocks"));
    assert!(!text.contains("reasoning_content"));
    assert!(!text.contains("Thinking about it."));
}
