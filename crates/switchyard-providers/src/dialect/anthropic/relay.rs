//! Claude's own Messages stream passed on to a Messages client: Anthropic SSE (api.anthropic.com,
//! Vertex AI `:streamRawPredict`) and Bedrock `InvokeModelWithResponseStream` frames (each
//! `chunk` event carries one Anthropic event, base64-encoded, under `bytes`).
//!
//! Every event is written as `event: <type>\ndata: <json>\n\n` with the provider's JSON as it
//! came (Bedrock's `amazon-bedrock-invocationMetrics` in `message_stop` included), while usage is
//! read from `message_start` and `message_delta`.

use base64::Engine as _;
use serde_json::Value;
use switchyard_types::usage::TokenUsage;
use switchyard_types::ErrorEnvelope;

use super::response::{error_json, error_type_without_status};
use super::{write_event, write_raw_event};
use crate::anthropic::error::upstream_error;
use crate::dialect::EventRelay;
use crate::native::{Frame, TranslateError};

/// Anthropic usage counts, cumulative: a later report of a count replaces the earlier one.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
}

impl Counts {
    fn merge(&mut self, usage: Option<&Value>) {
        let Some(u) = usage.and_then(Value::as_object) else {
            return;
        };
        let n = |k: &str| u.get(k).and_then(Value::as_u64);
        self.input = n("input_tokens").or(self.input);
        self.output = n("output_tokens").or(self.output);
        self.cache_read = n("cache_read_input_tokens").or(self.cache_read);
        self.cache_creation = n("cache_creation_input_tokens").or(self.cache_creation);
    }

    fn seen(&self) -> bool {
        self.input.is_some()
            || self.output.is_some()
            || self.cache_read.is_some()
            || self.cache_creation.is_some()
    }
}

/// How the upstream frames its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    Sse,
    Bedrock,
}

pub(super) struct Relay {
    framing: Framing,
    counts: Counts,
    stopped: bool,
    closed: bool,
}

/// Whether an event carries content (commits the stream to the client).
fn is_content(event: &str) -> bool {
    matches!(
        event,
        "content_block_start"
            | "content_block_delta"
            | "content_block_stop"
            | "message_delta"
            | "message_stop"
    )
}

/// An event name that can be written on an `event:` line.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_control)
}

/// A Bedrock exception frame -> an upstream error, typed as the chat path's Bedrock adapter
/// types it (`crate::bedrock::error`).
fn bedrock_exception(exception: &str, payload: &[u8]) -> TranslateError {
    crate::bedrock::error::stream_exception(exception, payload)
}

fn not_json(e: &serde_json::Error) -> TranslateError {
    TranslateError::InvalidResponse(format!("Anthropic stream event is not JSON: {e}"))
}

impl Relay {
    pub(super) fn new(framing: Framing) -> Self {
        Relay {
            framing,
            counts: Counts::default(),
            stopped: false,
            closed: false,
        }
    }

    /// Handles one Anthropic event: `name` from the SSE `event:` field when there is one.
    fn event(
        &mut self,
        name: Option<&str>,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<bool, TranslateError> {
        let name = name.filter(|n| !n.is_empty());
        if name.is_none() && data.iter().all(u8::is_ascii_whitespace) {
            return Ok(false);
        }
        let needs_json = matches!(
            name,
            None | Some("message_start" | "message_delta" | "error")
        );
        let parsed: Option<Value> = if needs_json {
            match serde_json::from_slice(data) {
                Ok(v) => Some(v),
                // An error event is an error whatever its body says.
                Err(_) if name == Some("error") => None,
                Err(e) => return Err(not_json(&e)),
            }
        } else {
            None
        };
        let parsed = parsed.unwrap_or(Value::Null);
        let json_type = parsed.get("type").and_then(Value::as_str);
        let Some(name) = name.or(json_type).filter(|n| valid_name(n)) else {
            // Neither an event name nor a JSON `type`: nothing a client could read.
            return Ok(false);
        };
        match name {
            "error" => return Err(upstream_error(&parsed)),
            "message_start" => self
                .counts
                .merge(parsed.get("message").and_then(|m| m.get("usage"))),
            "message_delta" => self.counts.merge(parsed.get("usage")),
            "message_stop" => self.stopped = true,
            _ => {}
        }
        write_raw_event(out, name, data);
        Ok(is_content(name))
    }

    fn bedrock_frame(
        &mut self,
        frame: Frame<'_>,
        out: &mut Vec<u8>,
    ) -> Result<bool, TranslateError> {
        match frame.message_type {
            Some("exception" | "error") => {
                return Err(bedrock_exception(
                    frame.event.unwrap_or("internalServerException"),
                    frame.data,
                ))
            }
            Some("event") | None => {}
            // A message type AWS may add later.
            Some(_) => return Ok(false),
        }
        if frame.event.is_some_and(|e| e != "chunk") {
            // `initial-response` and other non-content events.
            return Ok(false);
        }
        let payload: Value = serde_json::from_slice(frame.data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Bedrock stream chunk is not JSON: {e}"))
        })?;
        let encoded = payload
            .get("bytes")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TranslateError::InvalidResponse("Bedrock stream chunk without `bytes`".into())
            })?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| {
                TranslateError::InvalidResponse(format!(
                    "Bedrock stream chunk `bytes` is not base64: {e}"
                ))
            })?;
        self.event(None, &decoded, out)
    }
}

impl EventRelay for Relay {
    fn on_frame(&mut self, frame: Frame<'_>, out: &mut Vec<u8>) -> Result<bool, TranslateError> {
        match self.framing {
            Framing::Sse => self.event(frame.event, frame.data, out),
            Framing::Bedrock => self.bedrock_frame(frame, out),
        }
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), TranslateError> {
        if self.stopped {
            Ok(())
        } else {
            Err(TranslateError::InvalidResponse(
                "Anthropic stream ended before message_stop".into(),
            ))
        }
    }

    fn usage(&self) -> Option<TokenUsage> {
        if !self.counts.seen() {
            return None;
        }
        let cached = self.counts.cache_read.unwrap_or(0);
        let input = self
            .counts
            .input
            .unwrap_or(0)
            .saturating_add(cached)
            .saturating_add(self.counts.cache_creation.unwrap_or(0));
        Some(TokenUsage {
            cached_input: cached,
            ..TokenUsage::new(input, self.counts.output.unwrap_or(0))
        })
    }

    fn error(&mut self, error: &ErrorEnvelope, out: &mut Vec<u8>) {
        if self.closed || self.stopped {
            return;
        }
        self.closed = true;
        write_event(
            out,
            "error",
            &error_json(error_type_without_status(error), error),
        );
    }
}
