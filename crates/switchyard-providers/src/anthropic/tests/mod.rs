//! Tests for the Anthropic and Vertex AI Claude adapters. Fixtures live in
//! `fixtures/anthropic/` (bodies and SSE transcripts as they are on the wire).

mod errors;
mod reasoning;
mod request;
mod response;
mod stream;
mod vertex;

use serde_json::Value;
use switchyard_types::chat::{ChatChunk, ChatRequest};
use switchyard_types::sse::SseDecoder;

use crate::native::{
    Frame, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

pub(super) const CREATED: u64 = 1_700_000_000;
pub(super) const RESPONSE_ID: &str = "chatcmpl-switchyard-1";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/anthropic/",
            $name
        ))
    };
}
pub(super) use fixture;

pub(super) fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

pub(super) fn options(pairs: &[(&str, &str)]) -> ProviderOptions {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(super) fn cx<'a>(
    model: &'a str,
    stream: bool,
    include_usage: bool,
    options: &'a ProviderOptions,
) -> WireContext<'a> {
    WireContext {
        model,
        stream,
        include_usage,
        response_id: RESPONSE_ID,
        created: CREATED,
        options,
        strict: true,
    }
}

pub(super) fn chat_request(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

/// Translates `req` with the Anthropic adapter (no options) and returns the wire request.
pub(super) fn anthropic_wire(req: &ChatRequest) -> Result<WireRequest, TranslateError> {
    let opts = ProviderOptions::new();
    let cx = cx(&req.model, req.is_stream(), false, &opts);
    super::Anthropic.chat_request(req, &cx)
}

/// The Anthropic body for an OpenAI request given as JSON.
pub(super) fn anthropic_body(v: Value) -> Value {
    let wire = anthropic_wire(&chat_request(v)).unwrap();
    serde_json::from_slice(&wire.body).unwrap()
}

/// The error for an OpenAI request given as JSON.
pub(super) fn anthropic_error(v: Value) -> TranslateError {
    anthropic_wire(&chat_request(v)).unwrap_err()
}

pub(super) fn invalid_param(err: &TranslateError) -> Option<&str> {
    match err {
        TranslateError::InvalidRequest { param, .. } => param.as_deref(),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// The outcome of feeding an SSE transcript to a stream translator.
pub(super) struct StreamRun {
    pub chunks: Vec<ChatChunk>,
    /// The first error `on_frame` returned (the run stops there).
    pub error: Option<TranslateError>,
    /// What `finish()` returned, if no frame failed.
    pub finish: Option<Result<Vec<ChatChunk>, TranslateError>>,
}

pub(super) fn run_stream(
    adapter: &dyn NativeAdapter,
    sse: &str,
    cx: &WireContext<'_>,
) -> StreamRun {
    let mut translator = adapter.chat_stream(cx);
    let mut decoder = SseDecoder::default();
    decoder.push(sse.as_bytes());
    let mut chunks = Vec::new();
    let mut events = Vec::new();
    while let Some(ev) = decoder.next_event() {
        events.push(ev.unwrap());
    }
    events.extend(decoder.finish());
    for ev in &events {
        let frame = Frame {
            event: ev.event.as_deref(),
            data: ev.data.as_bytes(),
            message_type: None,
        };
        match translator.on_frame(frame) {
            Ok(c) => chunks.extend(c),
            Err(e) => {
                return StreamRun {
                    chunks,
                    error: Some(e),
                    finish: None,
                }
            }
        }
    }
    let finish = translator.finish();
    if let Ok(c) = &finish {
        chunks.extend(c.iter().cloned());
    }
    StreamRun {
        chunks,
        error: None,
        finish: Some(finish),
    }
}

pub(super) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// All `delta.content` of the chunks, concatenated.
pub(super) fn streamed_text(chunks: &[ChatChunk]) -> String {
    chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}
