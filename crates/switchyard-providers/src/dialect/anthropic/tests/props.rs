//! Property tests: no input makes the dialect panic.

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_types::chat::ChatChunk;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::dialect::anthropic::{bedrock_relay, encoder, request_to_chat, sse_relay};
use crate::native::Frame;

/// Arbitrary JSON, biased towards the names and shapes a Messages request uses.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("role".to_owned()),
        Just("content".to_owned()),
        Just("text".to_owned()),
        Just("source".to_owned()),
        Just("media_type".to_owned()),
        Just("data".to_owned()),
        Just("tool_use_id".to_owned()),
        Just("id".to_owned()),
        Just("name".to_owned()),
        Just("input".to_owned()),
        Just("input_schema".to_owned()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("text"),
            Just("image"),
            Just("document"),
            Just("tool_use"),
            Just("tool_result"),
            Just("thinking"),
            Just("base64"),
            Just("url"),
            Just("user"),
            Just("assistant"),
            Just("auto"),
            Just("tool"),
            Just("enabled"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn request_shaped() -> impl Strategy<Value = Value> {
    (
        json_value(),
        prop::collection::vec(json_value(), 0..4),
        json_value(),
        json_value(),
        json_value(),
    )
        .prop_map(|(system, messages, tools, tool_choice, thinking)| {
            json!({
                "model": "m",
                "max_tokens": 10,
                "system": system,
                "messages": messages,
                "tools": tools,
                "tool_choice": tool_choice,
                "thinking": thinking,
            })
        })
}

fn frame_parts() -> impl Strategy<Value = (Option<String>, Vec<u8>, Option<String>)> {
    let name = prop_oneof![
        Just("message_start".to_owned()),
        Just("message_delta".to_owned()),
        Just("message_stop".to_owned()),
        Just("content_block_delta".to_owned()),
        Just("error".to_owned()),
        Just("chunk".to_owned()),
        Just("throttlingException".to_owned()),
        ".{0,6}",
    ];
    let data = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        json_value().prop_map(|v| {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(v.to_string());
            json!({ "bytes": b64 }).to_string().into_bytes()
        }),
    ];
    let message_type = prop::option::of(prop_oneof![
        Just("event".to_owned()),
        Just("exception".to_owned()),
        Just("error".to_owned()),
        ".{0,4}",
    ]);
    (prop::option::of(name), data, message_type)
}

fn chunk_value() -> impl Strategy<Value = Value> {
    let delta = (
        prop::option::of(".{0,4}"),
        prop::option::of(".{0,4}"),
        prop::option::of(prop::collection::vec(
            (0u32..3, prop::option::of("[a-c]"), prop::option::of("[fg]"), prop::option::of(".{0,4}")),
            0..3,
        )),
    )
        .prop_map(|(content, reasoning, calls)| {
            let calls = calls.map(|calls| {
                calls
                    .into_iter()
                    .map(|(index, id, name, args)| {
                        json!({"index": index, "id": id, "function": {"name": name, "arguments": args}})
                    })
                    .collect::<Vec<_>>()
            });
            json!({"content": content, "reasoning_content": reasoning, "tool_calls": calls})
        });
    let finish = prop_oneof![
        Just(Value::Null),
        Just(json!("stop")),
        Just(json!("length")),
        Just(json!("tool_calls")),
        Just(json!("content_filter")),
    ];
    (
        delta,
        finish,
        0u32..2,
        any::<bool>(),
        0u64..1000,
        0u64..2000,
    )
        .prop_map(|(delta, finish, index, with_usage, a, b)| {
            let usage = if with_usage {
                json!({"prompt_tokens": a, "completion_tokens": b, "total_tokens": a + b,
                       "prompt_tokens_details": {"cached_tokens": b}})
            } else {
                Value::Null
            };
            json!({
                "id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
                "usage": usage
            })
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_request_translation(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = request_to_chat(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_the_request_translation(v in json_value()) {
        let _ = request_to_chat(v.to_string().as_bytes());
    }

    #[test]
    fn request_shaped_json_never_panics(v in request_shaped()) {
        let _ = request_to_chat(v.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_frames_never_panic_the_relays(frames in prop::collection::vec(frame_parts(), 0..12)) {
        for mut relay in [sse_relay(), bedrock_relay()] {
            let mut out = Vec::new();
            for (event, data, message_type) in &frames {
                let frame = Frame {
                    event: event.as_deref(),
                    data,
                    message_type: message_type.as_deref(),
                };
                let _ = relay.on_frame(frame, &mut out);
                let _ = relay.usage();
            }
            let _ = relay.finish(&mut out);
            relay.error(&ErrorEnvelope::new(ErrorKind::ApiError, "x"), &mut out);
        }
    }

    #[test]
    fn arbitrary_chunks_always_encode_to_valid_events(chunks in prop::collection::vec(chunk_value(), 0..10)) {
        let mut enc = encoder();
        let mut out = Vec::new();
        for c in &chunks {
            let c: ChatChunk = serde_json::from_value(c.clone()).unwrap();
            enc.chunk(&c, &mut out);
        }
        enc.finish(&mut out);
        let events = super::parse_sse(&out);
        prop_assert_eq!(events.first().map(|e| e.0.as_str()), Some("message_start"));
        prop_assert_eq!(events.last().map(|e| e.0.as_str()), Some("message_stop"));
    }
}
