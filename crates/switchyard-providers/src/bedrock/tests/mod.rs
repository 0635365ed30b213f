//! Bedrock adapter tests. Fixtures live in `fixtures/bedrock/`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use switchyard_types::chat::ChatRequest;

use super::*;
use crate::native::{Frame, ProviderOptions, WireContext};

mod embeddings;
mod images;
mod reasoning;
mod request;
mod response;
mod stream;

pub(super) const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

pub(super) fn no_options() -> &'static ProviderOptions {
    static EMPTY: std::sync::OnceLock<ProviderOptions> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

pub(super) fn cx(stream: bool, include_usage: bool) -> WireContext<'static> {
    WireContext {
        model: MODEL,
        stream,
        include_usage,
        response_id: "chatcmpl-test",
        created: 1_700_000_000,
        options: no_options(),
        strict: true,
    }
}

pub(super) fn cx_model(model: &'static str) -> WireContext<'static> {
    WireContext {
        model,
        ..cx(false, false)
    }
}

pub(super) fn chat(req: Value) -> ChatRequest {
    serde_json::from_value(req).unwrap()
}

/// The Converse body for an OpenAI request (non-streaming).
pub(super) fn body(req: Value) -> Value {
    let wire = Bedrock.chat_request(&chat(req), &cx(false, false)).unwrap();
    serde_json::from_slice(&wire.body).unwrap()
}

pub(super) fn body_err(req: Value) -> (String, Option<String>) {
    match Bedrock.chat_request(&chat(req), &cx(false, false)) {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

pub(super) fn fixture_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn base_url_needs_a_valid_region() {
    let mut o = ProviderOptions::new();
    assert!(matches!(
        Bedrock.base_url(&o),
        Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == "aws_region"
    ));
    o.insert("aws_region".into(), "eu-west-3".into());
    assert_eq!(
        Bedrock.base_url(&o).unwrap(),
        "https://bedrock-runtime.eu-west-3.amazonaws.com"
    );
    o.insert("aws_region".into(), "evil.com/x".into());
    assert!(Bedrock.base_url(&o).is_err());
}

#[test]
fn stream_framing_is_aws_event_stream() {
    assert_eq!(Bedrock.stream_framing(), StreamFraming::AwsEventStream);
}

#[test]
fn model_ids_are_percent_encoded_as_one_path_segment() {
    assert_eq!(
        encode_model_id("anthropic.claude-3-haiku-20240307-v1:0"),
        "anthropic.claude-3-haiku-20240307-v1%3A0"
    );
    assert_eq!(
        encode_model_id(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
        ),
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3"
    );
    assert_eq!(encode_model_id("a b~é"), "a%20b~%C3%A9");
}

#[test]
fn chat_paths_pick_converse_or_converse_stream() {
    let req = chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    let plain = Bedrock.chat_request(&req, &cx(false, false)).unwrap();
    assert_eq!(
        plain.path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let streamed = Bedrock.chat_request(&req, &cx(true, false)).unwrap();
    assert_eq!(
        streamed.path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    );
    // The body is the same either way: ConverseStream takes the Converse body.
    assert_eq!(plain.body, streamed.body);
}

#[test]
fn empty_model_is_rejected() {
    let req = chat(json!({"model": "", "messages": []}));
    assert!(matches!(
        Bedrock.chat_request(&req, &cx_model("")),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

/// Decodes a `.eventstream` fixture with the real decoder and runs the frames through the
/// translator, as the gateway does.
pub(super) fn run_wire_stream(
    bytes: &[u8],
    include_usage: bool,
) -> (Vec<Value>, Result<(), TranslateError>) {
    let mut dec = EventStreamDecoder::new();
    dec.push(bytes);
    let mut t = Bedrock.chat_stream(&cx(true, include_usage));
    let mut out = Vec::new();
    while let Some(frame) = dec.next_frame() {
        let frame = frame.unwrap();
        match t.on_frame(frame.as_frame()) {
            Ok(chunks) => out.extend(chunks.iter().map(|c| serde_json::to_value(c).unwrap())),
            Err(e) => return (out, Err(e)),
        }
    }
    dec.finish().unwrap();
    match t.finish() {
        Ok(chunks) => {
            out.extend(chunks.iter().map(|c| serde_json::to_value(c).unwrap()));
            (out, Ok(()))
        }
        Err(e) => (out, Err(e)),
    }
}

pub(super) fn event(name: &'static str, data: &'static str) -> Frame<'static> {
    Frame {
        event: Some(name),
        data: data.as_bytes(),
        message_type: Some("event"),
    }
}
