//! Tests for the Anthropic Messages client dialect. Fixtures are written inline from Anthropic's
//! and OpenAI's published wire formats.

mod encoder;
mod props;
mod relay;
mod replay;
mod request;
mod response;

use serde_json::Value;
use switchyard_types::chat::ChatRequest;
use switchyard_types::sse::SseDecoder;

use crate::native::TranslateError;

/// One parsed SSE event: its `event:` name and its `data` as JSON.
pub(super) type Event = (String, Value);

/// Parses SSE bytes into (event name, JSON data) pairs, checking each event's `data` is JSON
/// whose `type` matches the event name.
pub(super) fn parse_sse(bytes: &[u8]) -> Vec<Event> {
    let mut decoder = SseDecoder::default();
    decoder.push(bytes);
    let mut events = Vec::new();
    while let Some(event) = decoder.next_event() {
        let event = event.unwrap();
        let name = event.event.clone().expect("every event is named");
        let data: Value = serde_json::from_str(&event.data)
            .unwrap_or_else(|e| panic!("event {name} data is not JSON ({e}): {}", event.data));
        assert_eq!(data["type"], name.as_str(), "type matches the event name");
        events.push((name, data));
    }
    assert!(decoder.finish().is_none(), "no partial event left");
    events
}

pub(super) fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

/// Translates a request given as JSON.
pub(super) fn to_chat(v: Value) -> ChatRequest {
    super::request_to_chat(&serde_json::to_vec(&v).unwrap()).unwrap()
}

/// The chat request as JSON, for comparing whole shapes.
pub(super) fn to_chat_json(v: Value) -> Value {
    serde_json::to_value(to_chat(v)).unwrap()
}

/// The error for a request given as JSON; asserts it is an `InvalidRequest` and returns
/// (message, param).
pub(super) fn refused(v: Value) -> (String, Option<String>) {
    match super::request_to_chat(&serde_json::to_vec(&v).unwrap()) {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}
