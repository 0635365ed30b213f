//! Assembling a Messages stream into its message (for the cache) and replaying a message as a
//! stream (for a cached answer to a streaming client).

use serde_json::{json, Value};

use super::super::{assemble, replay};

const TOOL_STREAM: &str = include_str!("../../../../fixtures/anthropic/stream_tool_use.sse");
const THINKING_STREAM: &str = include_str!("../../../../fixtures/anthropic/stream_thinking.sse");
const ERROR_STREAM: &str = include_str!("../../../../fixtures/anthropic/stream_error.sse");
const TRUNCATED_STREAM: &str = include_str!("../../../../fixtures/anthropic/stream_truncated.sse");

fn parsed(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn a_tool_use_stream_assembles_into_its_message() {
    let m = parsed(&assemble(TOOL_STREAM.as_bytes()).unwrap());
    assert_eq!(m["type"], "message");
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(m["content"][0]["type"], "text");
    assert_eq!(
        m["content"][0]["text"],
        "Okay, let's check the weather for both cities:"
    );
    assert_eq!(m["content"][1]["type"], "tool_use");
    assert_eq!(
        m["content"][1]["input"],
        json!({"location": "San Francisco, CA"})
    );
    assert!(m["usage"]["output_tokens"].as_u64().unwrap() > 0, "{m}");
}

#[test]
fn a_replayed_message_assembles_back_into_itself() {
    for stream in [TOOL_STREAM, THINKING_STREAM] {
        let message = assemble(stream.as_bytes()).unwrap();
        let again = assemble(&replay(&message).unwrap()).unwrap();
        assert_eq!(parsed(&again), parsed(&message));
    }
}

#[test]
fn a_replay_is_the_event_sequence_clients_expect() {
    let message = assemble(TOOL_STREAM.as_bytes()).unwrap();
    let events = super::parse_sse(&replay(&message).unwrap());
    let names = super::names(&events);
    let blocks = parsed(&message)["content"].as_array().unwrap().len();
    assert_eq!(blocks, 3, "text and two tool calls");
    let mut want = vec!["message_start"];
    for _ in 0..blocks {
        want.extend([
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
        ]);
    }
    want.extend(["message_delta", "message_stop"]);
    assert_eq!(names, want);
    assert_eq!(events[0].1["message"]["content"], json!([]));
    assert_eq!(events[0].1["message"]["stop_reason"], Value::Null);
    assert_eq!(
        events[events.len() - 2].1["delta"]["stop_reason"],
        "tool_use"
    );
}

#[test]
fn failed_cut_or_foreign_streams_are_not_assembled() {
    assert!(assemble(ERROR_STREAM.as_bytes()).is_none());
    assert!(assemble(TRUNCATED_STREAM.as_bytes()).is_none());
    assert!(assemble(b"data: {\"choices\":[]}\n\n").is_none());
    assert!(replay(br#"{"object":"chat.completion"}"#).is_none());
    assert!(replay(b"not json").is_none());
}
