//! Stores the Responses the gateway writes for targets that are not OpenAI: a tap on the
//! response body (whole, or the event stream) that keeps the final Response object.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use switchyard_providers::Endpoint;
use switchyard_types::sse::SseDecoder;
use switchyard_types::usage::TokenUsage;

use super::{Responses, Turn};
use crate::pipeline::{ChunkAction, Hook, Phases, RequestRecord, StreamTap};

/// The largest answer kept (a bigger one is not stored).
const MAX_KEPT: usize = 32 << 20;

/// Registers the storing of Responses answers.
pub struct ResponsesHook {
    state: Arc<Responses>,
}

impl ResponsesHook {
    pub fn new(state: Arc<Responses>) -> Self {
        ResponsesHook { state }
    }
}

impl Hook for ResponsesHook {
    fn name(&self) -> &'static str {
        "responses"
    }

    fn phases(&self) -> Phases {
        Phases {
            per_chunk: true,
            ..Phases::default()
        }
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        if record.op != Endpoint::Responses.name() || !record.status.is_success() {
            return None;
        }
        let turn = record.extensions.get::<Arc<Turn>>()?;
        let leaf = record.leaf.as_ref()?;
        // OpenAI's own API keeps its answers itself.
        if !turn.store || crate::engine::responses::native(leaf, turn) {
            return None;
        }
        Some(Box::new(Keeper {
            state: self.state.clone(),
            turn: turn.clone(),
            body: Vec::new(),
            too_big: false,
        }))
    }
}

/// Sees the answer go by; stores its Response when it ended complete.
struct Keeper {
    state: Arc<Responses>,
    turn: Arc<Turn>,
    body: Vec<u8>,
    too_big: bool,
}

impl StreamTap for Keeper {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if !self.too_big {
            if self.body.len() + chunk.len() > MAX_KEPT {
                self.too_big = true;
                self.body = Vec::new();
            } else {
                self.body.extend_from_slice(&chunk);
            }
        }
        ChunkAction::Send(chunk)
    }

    fn on_end(&mut self, _usage: Option<TokenUsage>) -> Option<Bytes> {
        if self.too_big {
            return None;
        }
        if let Some(response) = final_response(&self.body) {
            self.state.remember(&self.turn, response);
        }
        None
    }
}

/// The Response object of a whole answer, or of a stream's `response.completed` (or
/// `response.incomplete`) event; `None` for a stream that failed or ended early.
fn final_response(body: &[u8]) -> Option<Value> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        let v: Value = serde_json::from_slice(trimmed).ok()?;
        return (v.get("object").and_then(Value::as_str) == Some("response")).then_some(v);
    }
    // The encoder writes the final event last: read every event, keep the last final one.
    let mut events = SseDecoder::new(MAX_KEPT);
    events.push(body);
    let mut last = None;
    while let Some(Ok(ev)) = events.next_event() {
        let Ok(v) = serde_json::from_str::<Value>(&ev.data) else {
            continue;
        };
        if matches!(
            v.get("type").and_then(Value::as_str),
            Some("response.completed" | "response.incomplete")
        ) {
            last = v.get("response").cloned();
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_response_is_read_from_a_body_or_the_last_completed_event() {
        let whole = br#"{"id":"resp_1","object":"response","output":[]}"#;
        assert_eq!(final_response(whole).unwrap()["id"], "resp_1");
        let stream = b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_2\",\"status\":\"in_progress\"}}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_2\",\"status\":\"completed\"}}\n\n";
        assert_eq!(final_response(stream).unwrap()["status"], "completed");
        let failed = b"event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"r\"}}\n\n";
        assert!(final_response(failed).is_none());
        assert!(final_response(br#"{"error":{"message":"x"}}"#).is_none());
    }
}
