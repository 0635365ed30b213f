//! Chat chunks -> Messages SSE events.

use serde_json::{json, Value};
use switchyard_types::chat::ChatChunk;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::{names, parse_sse, Event};
use crate::dialect::anthropic::encoder;

/// An OpenAI chunk as OpenAI streams it.
fn chunk(delta: Value, finish: Value) -> ChatChunk {
    serde_json::from_value(json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1_694_268_190,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        "usage": null
    }))
    .unwrap()
}

fn usage_chunk(prompt: u64, completion: u64, cached: u64) -> ChatChunk {
    serde_json::from_value(json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1_694_268_190,
        "model": "gpt-4o-mini",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached}
        }
    }))
    .unwrap()
}

fn tool_delta(index: u32, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut call = json!({"index": index, "function": {"arguments": args}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"tool_calls": [call]})
}

/// Runs chunks through a fresh encoder, then `finish`, and parses the output.
fn encode(chunks: &[ChatChunk]) -> Vec<Event> {
    let mut enc = encoder();
    let mut out = Vec::new();
    for c in chunks {
        enc.chunk(c, &mut out);
    }
    enc.finish(&mut out);
    parse_sse(&out)
}

/// The concatenated `partial_json` of the deltas for block `index`.
fn partial_json(events: &[Event], index: u64) -> String {
    events
        .iter()
        .filter(|(n, d)| n == "content_block_delta" && d["index"] == index)
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect()
}

#[test]
fn a_realistic_stream_with_text_and_two_tool_calls() {
    let chunks = [
        chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            json!(null),
        ),
        chunk(json!({"content": "Let me "}), json!(null)),
        chunk(json!({"content": "check."}), json!(null)),
        chunk(
            tool_delta(0, Some("call_1"), Some("get_weather"), ""),
            json!(null),
        ),
        chunk(tool_delta(0, None, None, "{\"loc"), json!(null)),
        chunk(
            tool_delta(0, None, None, "ation\": \"Paris\"}"),
            json!(null),
        ),
        chunk(
            tool_delta(1, Some("call_2"), Some("get_time"), ""),
            json!(null),
        ),
        chunk(tool_delta(1, None, None, "{\"tz\":\"CET\"}"), json!(null)),
        chunk(json!({}), json!("tool_calls")),
        usage_chunk(100, 20, 40),
    ];
    let events = encode(&chunks);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        events[0].1,
        json!({"type": "message_start", "message": {
            "id": "msg_chatcmpl-123", "type": "message", "role": "assistant",
            "model": "gpt-4o-mini", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        }})
    );
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    assert_eq!(
        events[2].1,
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}})
    );
    assert_eq!(
        events[4].1,
        json!({"type": "content_block_stop", "index": 0})
    );
    assert_eq!(
        events[5].1,
        json!({"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}
        }})
    );
    assert_eq!(events[6].1["delta"]["type"], "input_json_delta");
    assert_eq!(partial_json(&events, 1), "{\"location\": \"Paris\"}");
    assert_eq!(events[9].1["index"], 2);
    assert_eq!(events[9].1["content_block"]["id"], "call_2");
    assert_eq!(partial_json(&events, 2), "{\"tz\":\"CET\"}");
    assert_eq!(
        events[11].1,
        json!({"type": "content_block_stop", "index": 2})
    );
    assert_eq!(
        events[12].1,
        json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 20, "input_tokens": 60, "cache_read_input_tokens": 40}})
    );
    assert_eq!(events[13].1, json!({"type": "message_stop"}));
}

#[test]
fn reasoning_then_text_is_a_thinking_block_then_a_text_block() {
    let chunks = [
        chunk(json!({"role": "assistant", "content": ""}), json!(null)),
        chunk(json!({"reasoning_content": "The user "}), json!(null)),
        chunk(
            json!({"content": null, "reasoning_content": "greets me."}),
            json!(null),
        ),
        chunk(json!({"content": "Hello!"}), json!(null)),
        chunk(json!({"content": " Hi."}), json!(null)),
        chunk(json!({}), json!("stop")),
        usage_chunk(10, 8, 0),
    ];
    let events = encode(&chunks);
    let want = [
        json!({"type": "message_start", "message": {
            "id": "msg_chatcmpl-123", "type": "message", "role": "assistant",
            "model": "gpt-4o-mini", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        }}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "The user "}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "greets me."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "text_delta", "text": "Hello!"}}),
        json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "text_delta", "text": " Hi."}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": 8, "input_tokens": 10, "cache_read_input_tokens": 0}}),
        json!({"type": "message_stop"}),
    ];
    let data: Vec<_> = events.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(data, want);
}

#[test]
fn reasoning_after_text_or_a_tool_call_opens_a_new_thinking_block() {
    let chunks = [
        // `reasoning` is Groq's and OpenRouter's name.
        chunk(json!({"reasoning": "plan"}), json!(null)),
        chunk(json!({"content": "Checking."}), json!(null)),
        chunk(json!({"reasoning_content": "more"}), json!(null)),
        chunk(tool_delta(0, Some("call_1"), Some("f"), "{}"), json!(null)),
        // Reasoning and text in one chunk: the reasoning comes first.
        chunk(
            json!({"reasoning_content": "last", "content": "Done."}),
            json!(null),
        ),
        chunk(json!({}), json!("stop")),
    ];
    let events = encode(&chunks);
    let starts: Vec<_> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| (d["index"].clone(), d["content_block"]["type"].clone()))
        .collect();
    assert_eq!(
        starts,
        [
            (json!(0), json!("thinking")),
            (json!(1), json!("text")),
            (json!(2), json!("thinking")),
            (json!(3), json!("tool_use")),
            (json!(4), json!("thinking")),
            (json!(5), json!("text")),
        ]
    );
    let thinking: Vec<_> = events
        .iter()
        .filter_map(|(_, d)| Some((d["index"].as_u64()?, d["delta"]["thinking"].as_str()?)))
        .collect();
    assert_eq!(thinking, [(0, "plan"), (2, "more"), (4, "last")]);
    for i in 0..6u64 {
        let stops = events
            .iter()
            .filter(|(n, d)| n == "content_block_stop" && d["index"] == i)
            .count();
        assert_eq!(stops, 1, "block {i}");
    }
    let stop = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");
}

#[test]
fn usage_before_the_finish_chunk_is_the_same() {
    let chunks = [
        chunk(json!({"content": "Hi"}), json!(null)),
        usage_chunk(7, 3, 0),
        chunk(json!({}), json!("length")),
    ];
    let events = encode(&chunks);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[4].1["delta"]["stop_reason"], "max_tokens");
    assert_eq!(events[4].1["usage"]["output_tokens"], 3);
    assert_eq!(events[4].1["usage"]["input_tokens"], 7);
}

#[test]
fn role_only_and_empty_chunks_emit_nothing() {
    let mut enc = encoder();
    let mut out = Vec::new();
    enc.chunk(&chunk(json!({"role": "assistant"}), json!(null)), &mut out);
    enc.chunk(&chunk(json!({"content": ""}), json!(null)), &mut out);
    enc.chunk(&chunk(json!({}), json!(null)), &mut out);
    assert!(out.is_empty());
    // An empty answer is still a whole message.
    enc.finish(&mut out);
    let events = parse_sse(&out);
    assert_eq!(
        names(&events),
        ["message_start", "message_delta", "message_stop"]
    );
    assert_eq!(events[1].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[1].1["usage"], json!({"output_tokens": 0}));
}

#[test]
fn usage_known_at_the_start_is_in_message_start() {
    let mut first = chunk(json!({"content": "x"}), json!(null));
    first.usage = usage_chunk(12, 0, 2).usage;
    let events = encode(&[first]);
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"], 10);
    assert_eq!(
        events[0].1["message"]["usage"]["cache_read_input_tokens"],
        2
    );
}

#[test]
fn text_after_a_tool_call_opens_a_new_block_and_stop_with_calls_is_tool_use() {
    let chunks = [
        chunk(tool_delta(0, Some("call_1"), Some("f"), "{}"), json!(null)),
        chunk(json!({"content": "done"}), json!(null)),
        chunk(json!({}), json!("stop")),
    ];
    let events = encode(&chunks);
    let starts: Vec<_> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| (d["index"].clone(), d["content_block"]["type"].clone()))
        .collect();
    assert_eq!(
        starts,
        [(json!(0), json!("tool_use")), (json!(1), json!("text"))]
    );
    let stop = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");
}

#[test]
fn a_new_id_at_a_known_index_is_a_new_call_and_late_fragments_keep_their_index() {
    let chunks = [
        // A provider that numbers every call 0.
        chunk(
            tool_delta(0, Some("a"), Some("f"), "{\"x\":1}"),
            json!(null),
        ),
        chunk(tool_delta(0, Some("b"), Some("g"), "{\"y\":"), json!(null)),
        // Interleaved parallel calls: index 1 starts, then index 0 continues.
        chunk(tool_delta(1, Some("c"), Some("h"), "{"), json!(null)),
        chunk(tool_delta(0, None, None, "2}"), json!(null)),
        chunk(tool_delta(1, None, None, "}"), json!(null)),
        // A call without an id gets one.
        chunk(tool_delta(2, None, Some("k"), "{}"), json!(null)),
        chunk(json!({}), json!("tool_calls")),
    ];
    let events = encode(&chunks);
    let starts: Vec<_> = events
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, d)| d["content_block"].clone())
        .collect();
    assert_eq!(starts.len(), 4);
    assert_eq!(starts[0]["id"], "a");
    assert_eq!(starts[1]["id"], "b");
    assert_eq!(starts[2]["id"], "c");
    assert!(starts[3]["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(partial_json(&events, 0), "{\"x\":1}");
    assert_eq!(partial_json(&events, 1), "{\"y\":2}");
    assert_eq!(partial_json(&events, 2), "{}");
    assert_eq!(partial_json(&events, 3), "{}");
    // Every block is stopped exactly once.
    for i in 0..4u64 {
        let stops = events
            .iter()
            .filter(|(n, d)| n == "content_block_stop" && d["index"] == i)
            .count();
        assert_eq!(stops, 1, "block {i}");
    }
}

#[test]
fn other_choices_are_not_shown() {
    let mut c = chunk(json!({"content": "first"}), json!(null));
    let mut second = c.choices[0].clone();
    second.index = 1;
    second.delta.content = Some("second".into());
    c.choices.insert(0, second);
    let events = encode(&[c]);
    let texts: Vec<_> = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["first"]);
}

#[test]
fn an_error_ends_the_stream_and_nothing_follows() {
    let mut enc = encoder();
    let mut out = Vec::new();
    enc.chunk(
        &chunk(json!({"content": "Once upon"}), json!(null)),
        &mut out,
    );
    let env = ErrorEnvelope::new(ErrorKind::ServerError, "upstream went away");
    enc.error(&env, &mut out);
    let len = out.len();
    enc.chunk(&chunk(json!({"content": "more"}), json!(null)), &mut out);
    enc.finish(&mut out);
    enc.error(&env, &mut out);
    assert_eq!(out.len(), len, "nothing after the error");
    let events = parse_sse(&out);
    assert_eq!(
        events.last().unwrap().1,
        json!({"type": "error", "error": {"type": "api_error", "message": "upstream went away"}})
    );

    for (env, want) in [
        (
            ErrorEnvelope::new(ErrorKind::RateLimitError, "slow"),
            "rate_limit_error",
        ),
        (
            ErrorEnvelope::new(ErrorKind::TimeoutError, "late"),
            "timeout_error",
        ),
        (
            ErrorEnvelope::new(ErrorKind::ServerError, "busy").with_code("overloaded_error"),
            "overloaded_error",
        ),
    ] {
        let mut enc = encoder();
        let mut out = Vec::new();
        enc.error(&env, &mut out);
        assert_eq!(parse_sse(&out)[0].1["error"]["type"], want);
    }
}

#[test]
fn nothing_follows_finish() {
    let mut enc = encoder();
    let mut out = Vec::new();
    enc.chunk(&chunk(json!({"content": "x"}), json!(null)), &mut out);
    enc.finish(&mut out);
    let len = out.len();
    enc.chunk(&chunk(json!({"content": "y"}), json!(null)), &mut out);
    enc.finish(&mut out);
    enc.error(&ErrorEnvelope::new(ErrorKind::ApiError, "late"), &mut out);
    assert_eq!(out.len(), len);
}
