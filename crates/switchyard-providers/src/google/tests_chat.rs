//! OpenAI chat request → Gemini / Vertex AI wire request.

use serde_json::{json, Value};
use switchyard_types::chat::ChatRequest;

use super::request::{gemini3_or_later, guess_mime, SKIP_SIGNATURE};
use super::{Gemini, VertexGemini};
use crate::native::{NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest};

pub(super) fn options(pairs: &[(&str, &str)]) -> ProviderOptions {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(super) fn cx<'a>(
    model: &'a str,
    stream: bool,
    options: &'a ProviderOptions,
) -> WireContext<'a> {
    WireContext {
        model,
        stream,
        include_usage: false,
        response_id: "chatcmpl-gw-1",
        created: 1_750_000_000,
        options,
        strict: true,
    }
}

pub(super) fn chat(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

pub(super) fn body_of(w: &WireRequest) -> Value {
    serde_json::from_slice(&w.body).unwrap()
}

/// The Gemini body for a request on `model`.
pub(super) fn gemini_body(model: &str, v: Value) -> Value {
    let o = options(&[]);
    body_of(
        &Gemini
            .chat_request(&chat(v), &cx(model, false, &o))
            .unwrap(),
    )
}

pub(super) fn gemini_err(model: &str, v: Value) -> (String, Option<String>) {
    let o = options(&[]);
    match Gemini
        .chat_request(&chat(v), &cx(model, false, &o))
        .unwrap_err()
    {
        TranslateError::InvalidRequest { message, param } => (message, param),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

pub(super) fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

pub(super) fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

#[test]
fn conversation_golden_maps_system_turns_tools_images_and_sampling() {
    let input: Value = serde_json::from_str(include_str!(
        "../../fixtures/google/request_conversation.json"
    ))
    .unwrap();
    let expected: Value = serde_json::from_str(include_str!(
        "../../fixtures/google/request_conversation.expected.json"
    ))
    .unwrap();
    let o = options(&[]);
    let w = Gemini
        .chat_request(&chat(input), &cx("gemini-2.5-flash", false, &o))
        .unwrap();
    assert_eq!(w.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert!(w.headers.is_empty());
    assert_eq!(body_of(&w), expected);
}

#[test]
fn streaming_uses_stream_generate_content_with_sse() {
    let o = options(&[]);
    let w = Gemini
        .chat_request(
            &chat(json!({"model": "m", "messages": [user("hi")], "stream": true})),
            &cx("models/gemini-2.0-flash", true, &o),
        )
        .unwrap();
    assert_eq!(
        w.path,
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
}

#[test]
fn gemini_base_url_is_the_generative_language_host() {
    assert_eq!(
        Gemini.base_url(&options(&[])).unwrap(),
        "https://generativelanguage.googleapis.com"
    );
}

#[test]
fn vertex_addresses_the_publisher_model_in_the_project_and_region() {
    let o = options(&[
        ("vertex_region", "europe-west4"),
        ("vertex_project_id", "acme-prod"),
    ]);
    assert_eq!(
        VertexGemini.base_url(&o).unwrap(),
        "https://europe-west4-aiplatform.googleapis.com"
    );
    let req = chat(json!({"model": "m", "messages": [user("hi")]}));
    let w = VertexGemini
        .chat_request(&req, &cx("gemini-2.5-pro", false, &o))
        .unwrap();
    assert_eq!(
        w.path,
        "/v1/projects/acme-prod/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
    );
    let s = VertexGemini
        .chat_request(&req, &cx("gemini-2.5-pro", true, &o))
        .unwrap();
    assert!(s
        .path
        .ends_with("/models/gemini-2.5-pro:streamGenerateContent?alt=sse"));
    // Same body as the Gemini API.
    let g = Gemini
        .chat_request(&req, &cx("gemini-2.5-pro", false, &o))
        .unwrap();
    assert_eq!(body_of(&w), body_of(&g));
}

#[test]
fn vertex_global_region_uses_the_regionless_host() {
    let o = options(&[("vertex_region", "global"), ("vertex_project_id", "p1")]);
    assert_eq!(
        VertexGemini.base_url(&o).unwrap(),
        "https://aiplatform.googleapis.com"
    );
    let req = chat(json!({"model": "m", "messages": [user("hi")]}));
    let w = VertexGemini
        .chat_request(&req, &cx("gemini-2.5-flash", false, &o))
        .unwrap();
    assert!(w
        .path
        .starts_with("/v1/projects/p1/locations/global/publishers/google/models/"));
}

#[test]
fn vertex_missing_or_unsafe_options_are_invalid_requests_naming_the_option() {
    let req = chat(json!({"model": "m", "messages": [user("hi")]}));
    let param_of = |e: TranslateError| match e {
        TranslateError::InvalidRequest { param, .. } => param,
        other => panic!("{other:?}"),
    };
    let no_region = options(&[("vertex_project_id", "p")]);
    assert_eq!(
        param_of(VertexGemini.base_url(&no_region).unwrap_err()).as_deref(),
        Some("vertex_region")
    );
    let no_project = options(&[("vertex_region", "us-central1")]);
    let e = VertexGemini
        .chat_request(&req, &cx("gemini-2.5-pro", false, &no_project))
        .unwrap_err();
    assert_eq!(param_of(e).as_deref(), Some("vertex_project_id"));
    let evil = options(&[("vertex_region", "evil.com/x"), ("vertex_project_id", "p")]);
    assert_eq!(
        param_of(VertexGemini.base_url(&evil).unwrap_err()).as_deref(),
        Some("vertex_region")
    );
    let dotted = options(&[
        ("vertex_region", "attacker.example"),
        ("vertex_project_id", "p"),
    ]);
    assert!(VertexGemini.base_url(&dotted).is_err());
}

#[test]
fn model_ids_that_would_alter_the_path_are_rejected() {
    let (_, param) = gemini_err(
        "gemini-2.0-flash:streamGenerateContent?x=",
        json!({"model": "m", "messages": [user("hi")]}),
    );
    assert_eq!(param.as_deref(), Some("model"));
    let (_, param) = gemini_err(
        "../../v1/files",
        json!({"model": "m", "messages": [user("hi")]}),
    );
    assert_eq!(param.as_deref(), Some("model"));
}

#[test]
fn only_system_messages_is_an_invalid_request() {
    let (msg, param) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [{"role": "system", "content": "be nice"}]}),
    );
    assert!(msg.contains("at least one"), "{msg}");
    assert_eq!(param.as_deref(), Some("messages"));
}

#[test]
fn system_message_with_an_image_is_rejected() {
    let (_, param) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
            user("hi")
        ]}),
    );
    assert_eq!(param.as_deref(), Some("messages[0].content"));
}

#[test]
fn tool_result_name_comes_from_the_latest_assistant_call_with_that_id() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "tools": [weather_tool()], "messages": [
            user("weather?"),
            {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "[1, 2]"},
            {"role": "assistant", "content": "Done."},
            user("and the time?"),
            {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_time", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "42"}
        ]}),
    );
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"content": [1, 2]}})
    );
    assert_eq!(
        contents[5]["parts"][0]["functionCall"],
        json!({"name": "get_time", "args": {}})
    );
    assert_eq!(
        contents[6]["parts"][0]["functionResponse"],
        json!({"name": "get_time", "response": {"content": 42}})
    );
    let roles: Vec<&str> = contents
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "model", "user", "model", "user", "model", "user"]
    );
}

#[test]
fn tool_result_for_an_unknown_call_id_is_rejected() {
    let (msg, param) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [
            user("hi"),
            {"role": "tool", "tool_call_id": "call_zzz", "content": "x"}
        ]}),
    );
    assert!(msg.contains("call_zzz"), "{msg}");
    assert_eq!(param.as_deref(), Some("messages[1].tool_call_id"));
}

#[test]
fn invalid_tool_call_arguments_are_a_400_naming_the_call() {
    let (msg, param) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [
            user("hi"),
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\":"}}]}
        ]}),
    );
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert_eq!(
        param.as_deref(),
        Some("messages[1].tool_calls[0].function.arguments")
    );
    let (msg, _) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [
            user("hi"),
            {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}
        ]}),
    );
    assert!(msg.contains("JSON object"), "{msg}");
}

#[test]
fn gemini_3_replayed_calls_carry_the_placeholder_signature_on_each_steps_first_call() {
    let messages = json!([
        user("weather in two cities"),
        {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
            {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
        ]},
        {"role": "tool", "tool_call_id": "a", "content": "cold"},
        {"role": "tool", "tool_call_id": "b", "content": "warm"},
        {"role": "assistant", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Nice\"}"}}
        ]},
        {"role": "tool", "tool_call_id": "c", "content": "sunny"}
    ]);
    let v3 = gemini_body(
        "gemini-3-pro-preview",
        json!({"model": "m", "messages": messages.clone()}),
    );
    let parts = &v3["contents"][1]["parts"];
    assert_eq!(parts[0]["thoughtSignature"], SKIP_SIGNATURE);
    assert!(parts[1].get("thoughtSignature").is_none());
    assert_eq!(
        v3["contents"][3]["parts"][0]["thoughtSignature"],
        SKIP_SIGNATURE
    );
    let v25 = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": messages}),
    );
    assert!(v25["contents"][1]["parts"][0]
        .get("thoughtSignature")
        .is_none());
}

#[test]
fn gemini_generation_detection() {
    assert!(gemini3_or_later("gemini-3-pro-preview"));
    assert!(gemini3_or_later("gemini-3.1-flash"));
    assert!(gemini3_or_later("gemini-flash-latest"));
    assert!(gemini3_or_later("publishers/google/models/gemini-3-flash"));
    assert!(!gemini3_or_later("gemini-2.5-pro"));
    assert!(!gemini3_or_later("gemini-1.5-flash-002"));
    assert!(!gemini3_or_later("gemini-pro"));
    assert!(!gemini3_or_later("gemma-3-27b-it"));
}

#[test]
fn image_urls_become_inline_or_file_data() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}},
            {"type": "image_url", "image_url": {"url": "http://cdn.example.org/a/b/cat.webp#frag"}},
            {"type": "image_url", "image_url": {"url": "gs://bucket/scan.pdf"}},
            {"type": "image_url", "image_url": {"url": "https://example.org/render?id=7"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRiQ=", "format": "wav"}}
        ]}]}),
    );
    assert_eq!(
        body["contents"][0]["parts"],
        json!([
            {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}},
            {"fileData": {"mimeType": "image/webp", "fileUri": "http://cdn.example.org/a/b/cat.webp#frag"}},
            {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/scan.pdf"}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.org/render?id=7"}},
            {"inlineData": {"mimeType": "audio/wav", "data": "UklGRiQ="}}
        ])
    );
}

#[test]
fn unusable_image_urls_are_rejected() {
    let img = |url: &str| json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]});
    let (_, p) = gemini_err("gemini-2.5-flash", img("data:image/svg+xml,<svg/>"));
    assert_eq!(p.as_deref(), Some("messages[0].content[0].image_url.url"));
    let (_, p) = gemini_err("gemini-2.5-flash", img("ftp://example.org/a.png"));
    assert_eq!(p.as_deref(), Some("messages[0].content[0].image_url.url"));
}

#[test]
fn mime_guess_table() {
    assert_eq!(guess_mime("https://x/y/Photo.JPG"), "image/jpeg");
    assert_eq!(guess_mime("https://x/y.png?v=1.gif"), "image/png");
    assert_eq!(guess_mime("https://x/clip.mp4"), "video/mp4");
    assert_eq!(guess_mime("https://x/talk.mp3"), "audio/mp3");
    assert_eq!(guess_mime("https://x.org/noext"), "image/jpeg");
}

#[test]
fn consecutive_same_role_messages_merge_and_empty_ones_vanish() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [
            user("a"), {"role": "user", "content": ""}, user("b"),
            {"role": "assistant", "content": "c"}, {"role": "assistant", "content": [{"type": "text", "text": "d"}]},
            user("e")
        ]}),
    );
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}, {"text": "d"}]},
            {"role": "user", "parts": [{"text": "e"}]}
        ])
    );
}

#[test]
fn unsupported_content_part_types_are_rejected() {
    let (msg, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "x"}}]}]}),
    );
    assert!(msg.contains("video_url"), "{msg}");
    assert_eq!(p.as_deref(), Some("messages[0].content[0]"));
}
