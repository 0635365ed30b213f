//! Shared driver for the native-provider targets.
//!
//! Input layout: the first byte holds flags, the rest is the payload.
//!
//! | bits | meaning |
//! |---|---|
//! | 0 | `stream_options.include_usage` |
//! | 1–2 | mode: 0 = wire bytes (SSE or AWS event-stream, decoded by the real decoder, cut into chunks of `(flags >> 4) + 1` bytes, stopping at the first error as the gateway does); 1 = structured frames (arbitrary event names, message types and data bytes, every frame fed even after an error); 2 = `chat_response` on the payload; 3 = `error_response` |
//! | 3 | Vertex AI instead of the direct API (Anthropic and Gemini only) |
//! | 4–7 | chunk size for mode 0, HTTP status for mode 3 |

#![allow(dead_code)]

use arbitrary::{Arbitrary, Unstructured};
use switchyard_providers::bedrock::EventStreamDecoder;
use switchyard_providers::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, StreamFraming, WireContext,
};
use switchyard_providers::{adapter, Native};
use switchyard_types::sse::SseDecoder;

/// Frames picked from this list are far likelier to reach deep translator states than random
/// strings; any string can still be chosen.
const EVENT_NAMES: &[&str] = &[
    // Anthropic
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
    // Bedrock ConverseStream
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "throttlingException",
    "validationException",
    "modelStreamErrorException",
    "internalServerException",
    // Cohere v2
    "message-start",
    "content-start",
    "content-delta",
    "content-end",
    "tool-plan-delta",
    "tool-call-start",
    "tool-call-delta",
    "tool-call-end",
    "citation-start",
    "message-end",
];

const MESSAGE_TYPES: &[&str] = &["event", "exception", "error"];

/// An owned frame built from fuzz input.
#[derive(Debug)]
pub struct OwnedTestFrame {
    pub event: Option<String>,
    pub data: Vec<u8>,
    pub message_type: Option<String>,
}

fn pick_or_any<'a>(u: &mut Unstructured<'a>, list: &[&str]) -> arbitrary::Result<Option<String>> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => None,
        1 => Some(String::arbitrary(u)?),
        _ => Some((*u.choose(list)?).to_owned()),
    })
}

pub fn frames(data: &[u8]) -> Vec<OwnedTestFrame> {
    let mut u = Unstructured::new(data);
    let mut out = Vec::new();
    while !u.is_empty() && out.len() < 256 {
        let Ok(event) = pick_or_any(&mut u, EVENT_NAMES) else {
            break;
        };
        let Ok(message_type) = pick_or_any(&mut u, MESSAGE_TYPES) else {
            break;
        };
        let Ok(data) = <&[u8]>::arbitrary(&mut u) else {
            break;
        };
        out.push(OwnedTestFrame {
            event,
            data: data.to_vec(),
            message_type,
        });
    }
    out
}

fn feed_frames(t: &mut dyn ChunkTranslator, frames: &[OwnedTestFrame]) {
    for f in frames {
        let _ = t.on_frame(Frame {
            event: f.event.as_deref(),
            data: &f.data,
            message_type: f.message_type.as_deref(),
        });
    }
    let _ = t.finish();
}

/// Decodes `wire` as the gateway does (engine/native.rs) and feeds every frame to `t`.
fn feed_wire(t: &mut dyn ChunkTranslator, framing: StreamFraming, wire: &[u8], chunk: usize) {
    match framing {
        StreamFraming::Sse => {
            let mut dec = SseDecoder::default();
            for piece in wire.chunks(chunk) {
                dec.push(piece);
                while let Some(ev) = dec.next_event() {
                    let Ok(ev) = ev else { return };
                    let f = Frame {
                        event: ev.event.as_deref(),
                        data: ev.data.as_bytes(),
                        message_type: None,
                    };
                    if t.on_frame(f).is_err() {
                        return;
                    }
                }
            }
            if let Some(ev) = dec.finish() {
                let f = Frame {
                    event: ev.event.as_deref(),
                    data: ev.data.as_bytes(),
                    message_type: None,
                };
                if t.on_frame(f).is_err() {
                    return;
                }
            }
        }
        StreamFraming::AwsEventStream => {
            let mut dec = EventStreamDecoder::new();
            for piece in wire.chunks(chunk) {
                dec.push(piece);
                while let Some(frame) = dec.next_frame() {
                    let Ok(frame) = frame else { return };
                    if t.on_frame(frame.as_frame()).is_err() {
                        return;
                    }
                }
            }
        }
    }
    let _ = t.finish();
}

/// Runs one input against the adapter for `native` (see the module docs for the layout).
pub fn run(native: Native, model: &str, vertex_model: &str, data: &[u8]) {
    let Some((&flags, payload)) = data.split_first() else {
        return;
    };
    let (native, model) =
        if flags & 0b1000 != 0 && matches!(native, Native::Anthropic | Native::Google) {
            (Native::VertexAi, vertex_model)
        } else {
            (native, model)
        };
    let Ok((a, model)) = adapter(native, model) else {
        return;
    };
    let a: &dyn NativeAdapter = a;
    let mut options = ProviderOptions::new();
    options.insert("aws_region".into(), "us-east-1".into());
    options.insert("vertex_project_id".into(), "p".into());
    options.insert("vertex_region".into(), "us-central1".into());
    let cx = WireContext {
        model,
        stream: true,
        include_usage: flags & 1 != 0,
        response_id: "chatcmpl-fuzz",
        created: 1_700_000_000,
        options: &options,
    };
    let high = usize::from(flags >> 4);
    match (flags >> 1) & 0b11 {
        0 => {
            let mut t = a.chat_stream(&cx);
            feed_wire(&mut *t, a.stream_framing(), payload, high + 1);
        }
        1 => {
            let mut t = a.chat_stream(&cx);
            feed_frames(&mut *t, &frames(payload));
        }
        2 => {
            let cx = WireContext {
                stream: false,
                ..cx
            };
            let _ = a.chat_response(payload, &cx);
            let _ = a.embeddings_response(payload, &cx);
        }
        _ => {
            let status = [
                400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529, 200, 0,
            ][high];
            let _ = a.error_response(status, payload);
        }
    }
}
