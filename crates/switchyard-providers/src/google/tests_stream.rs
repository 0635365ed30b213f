//! `streamGenerateContent?alt=sse` transcripts → chunks.

use serde_json::{json, Value};
use switchyard_types::chat::{ChatChunk, FinishReason, Role};
use switchyard_types::sse::SseDecoder;

use super::tests_chat::options;
use super::{Gemini, VertexGemini};
use crate::native::{ChunkTranslator, Frame, NativeAdapter, TranslateError, WireContext};

/// Decodes an SSE transcript into `data` payloads, as the gateway does.
fn frames(sse: &[u8]) -> Vec<String> {
    let mut d = SseDecoder::default();
    d.push(sse);
    let mut out = Vec::new();
    while let Some(ev) = d.next_event() {
        out.push(ev.unwrap().data);
    }
    out.extend(d.finish().map(|e| e.data));
    out
}

struct Run {
    chunks: Vec<ChatChunk>,
    frame_error: Option<TranslateError>,
    finish: Result<Vec<ChatChunk>, TranslateError>,
}

fn run_with(adapter: &dyn NativeAdapter, sse: &[u8], include_usage: bool) -> Run {
    let o = options(&[("vertex_region", "us-central1"), ("vertex_project_id", "p")]);
    let cx = WireContext {
        model: "gemini-2.5-flash",
        stream: true,
        include_usage,
        response_id: "chatcmpl-gw-9",
        created: 1_750_000_000,
        options: &o,
        strict: true,
    };
    let mut t: Box<dyn ChunkTranslator> = adapter.chat_stream(&cx);
    let mut chunks = Vec::new();
    let mut frame_error = None;
    for data in frames(sse) {
        let frame = Frame {
            event: None,
            data: data.as_bytes(),
            message_type: None,
        };
        match t.on_frame(frame) {
            Ok(c) => chunks.extend(c),
            Err(e) => {
                frame_error = Some(e);
                break;
            }
        }
    }
    let finish = t.finish();
    Run {
        chunks,
        frame_error,
        finish,
    }
}

fn run(sse: &[u8], include_usage: bool) -> Run {
    run_with(&Gemini, sse, include_usage)
}

fn text_of(chunks: &[ChatChunk], index: u32) -> String {
    chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter(|c| c.index == index)
        .filter_map(|c| c.delta.content.clone())
        .collect()
}

#[test]
fn text_stream_golden_without_usage() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_text.sse"),
        false,
    );
    assert!(r.frame_error.is_none());
    assert_eq!(
        r.finish.unwrap(),
        Vec::new(),
        "no usage chunk unless include_usage"
    );
    let got: Vec<Value> = r
        .chunks
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "mW0saJL5Ku2w1dkPy8qK8Qk", "object": "chat.completion.chunk", "created": 1750000000,
               "model": "gemini-2.5-flash", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    assert_eq!(
        got,
        vec![
            chunk(
                json!({"role": "assistant", "content": "The capital"}),
                Value::Null
            ),
            chunk(json!({"content": " of France is"}), Value::Null),
            chunk(json!({"content": " Paris."}), json!("stop")),
        ]
    );
}

#[test]
fn include_usage_adds_a_final_usage_chunk_from_the_last_frame() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_text.sse"),
        true,
    );
    assert!(r.chunks.iter().all(|c| c.usage.is_none()));
    let tail = r.finish.unwrap();
    assert_eq!(tail.len(), 1);
    let v = serde_json::to_value(&tail[0]).unwrap();
    assert_eq!(v["choices"], json!([]));
    assert_eq!(v["id"], "mW0saJL5Ku2w1dkPy8qK8Qk");
    assert_eq!(
        v["usage"],
        json!({
            "prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        })
    );
}

#[test]
fn function_calls_arrive_whole_with_ids_names_and_arguments_in_one_delta() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_tool_calls.sse"),
        true,
    );
    assert!(r.frame_error.is_none());
    assert_eq!(r.chunks.len(), 3);
    assert_eq!(r.chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(
        r.chunks[0].choices[0].delta.content.as_deref(),
        Some("Let me look that up.")
    );
    let calls = serde_json::to_value(&r.chunks[1].choices[0].delta).unwrap();
    assert_eq!(
        calls,
        json!({"tool_calls": [
            {"index": 0, "id": "call_SKvW7mtkP8MHZ0Q4_0", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"location\":\"Tokyo\"}"}},
            {"index": 1, "id": "call_SKvW7mtkP8MHZ0Q4_1", "type": "function",
             "function": {"name": "get_time", "arguments": "{\"timezone\":\"Asia/Tokyo\"}"}}
        ]})
    );
    let last = &r.chunks[2].choices[0];
    assert_eq!(last.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(last.delta.content, None, "empty text parts add no content");
    let usage = r.finish.unwrap()[0].usage.clone().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (120, 70, 190)
    );
    assert_eq!(usage.prompt_tokens_details.unwrap().cached_tokens, 64);
    assert_eq!(
        usage.completion_tokens_details.unwrap().reasoning_tokens,
        40
    );
}

#[test]
fn streamed_and_whole_responses_give_the_same_tool_call_ids() {
    // Same responseId and call order → same ids as the non-stream translation.
    let r = run(
        include_bytes!("../../fixtures/google/stream_tool_calls.sse"),
        false,
    );
    let ids: Vec<String> = r
        .chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|t| t.id.clone())
        .collect();
    let mut calls = super::response::CallIds::new("Ak8vaOjSKvW7mtkP8MHZ0Q4");
    assert_eq!(ids, vec![calls.next_id(), calls.next_id()]);
}

#[test]
fn error_frame_mid_stream_is_an_upstream_error() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_error.sse"),
        false,
    );
    assert_eq!(text_of(&r.chunks, 0), "Once upon a time");
    match r.frame_error {
        Some(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 503);
            assert_eq!(error.error.kind, "api_error");
            assert_eq!(error.error.code.as_deref(), Some("UNAVAILABLE"));
            assert_eq!(
                error.error.message,
                "The model is overloaded. Please try again later."
            );
        }
        other => panic!("expected Upstream, got {other:?}"),
    }
}

#[test]
fn stream_ending_without_a_finish_reason_fails_on_finish() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_truncated.sse"),
        true,
    );
    assert!(r.frame_error.is_none());
    assert_eq!(text_of(&r.chunks, 0), "Once upon a time there was a");
    assert!(r
        .chunks
        .iter()
        .all(|c| c.choices.iter().all(|c| c.finish_reason.is_none())));
    match r.finish {
        Err(TranslateError::InvalidResponse(m)) => assert!(m.contains("finishReason"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_stream_fails_on_finish() {
    let r = run(b"", false);
    assert!(r.chunks.is_empty());
    assert!(matches!(r.finish, Err(TranslateError::InvalidResponse(_))));
}

#[test]
fn blocked_prompt_stream_is_one_content_filter_chunk() {
    let r = run(
        include_bytes!("../../fixtures/google/stream_prompt_blocked.sse"),
        true,
    );
    assert_eq!(r.chunks.len(), 1);
    let c = &r.chunks[0].choices[0];
    assert_eq!(c.delta.role, Some(Role::Assistant));
    assert_eq!(c.finish_reason, Some(FinishReason::ContentFilter));
    let tail = r.finish.unwrap();
    assert_eq!(tail[0].usage.as_ref().unwrap().prompt_tokens, 31);
}

#[test]
fn two_candidates_stream_as_two_choices_each_with_role_and_finish() {
    let r = run_with(
        &VertexGemini,
        include_bytes!("../../fixtures/google/stream_two_candidates.sse"),
        false,
    );
    assert_eq!(text_of(&r.chunks, 0), "Red sky.");
    assert_eq!(text_of(&r.chunks, 1), "Blue sea");
    let firsts: Vec<(u32, Option<Role>)> = r
        .chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter(|c| c.delta.role.is_some())
        .map(|c| (c.index, c.delta.role))
        .collect();
    assert_eq!(
        firsts,
        vec![(0, Some(Role::Assistant)), (1, Some(Role::Assistant))]
    );
    let finishes: Vec<(u32, FinishReason)> = r
        .chunks
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.finish_reason.map(|f| (c.index, f)))
        .collect();
    assert_eq!(
        finishes,
        vec![(0, FinishReason::Stop), (1, FinishReason::Length)]
    );
    assert!(r.finish.is_ok());
}

#[test]
fn frames_without_news_yield_nothing_and_json_array_framing_is_accepted() {
    let o = options(&[]);
    let cx = WireContext {
        model: "gemini-2.0-flash",
        stream: true,
        include_usage: false,
        response_id: "gw",
        created: 1,
        options: &o,
        strict: true,
    };
    let mut t = Gemini.chat_stream(&cx);
    let frame = |d: &'static [u8]| Frame {
        event: None,
        data: d,
        message_type: None,
    };
    assert!(t.on_frame(frame(b"")).unwrap().is_empty());
    let arr = br#"[{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}]"#;
    let chunks = t.on_frame(frame(arr)).unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].id, "gw");
    assert_eq!(chunks[0].choices[0].delta.content.as_deref(), Some("Hi"));
    // A trailing usage-only frame after the finish adds no chunk.
    let usage_only =
        br#"{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}"#;
    assert!(t.on_frame(frame(usage_only)).unwrap().is_empty());
    assert!(t.finish().unwrap().is_empty());
    assert!(matches!(
        t.on_frame(frame(b"not json")),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn call_and_stop_in_one_frame_finish_as_tool_calls_and_later_frames_are_ignored() {
    let o = options(&[]);
    let cx = WireContext {
        model: "gemini-2.5-flash",
        stream: true,
        include_usage: false,
        response_id: "gw",
        created: 1,
        options: &o,
        strict: true,
    };
    let mut t = Gemini.chat_stream(&cx);
    let frame = |d: &'static [u8]| Frame {
        event: None,
        data: d,
        message_type: None,
    };
    let one = br#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}],"role":"model"},"finishReason":"STOP","index":0}]}"#;
    let chunks = t.on_frame(frame(one)).unwrap();
    assert_eq!(chunks.len(), 1);
    let c = &chunks[0].choices[0];
    assert_eq!(c.delta.role, Some(Role::Assistant));
    assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
    let call = &c.delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!((call.index, call.id.as_deref()), (0, Some("call_gw_0")));
    assert_eq!(call.function.arguments.as_deref(), Some("{\"a\":1}"));
    let late = br#"{"candidates":[{"content":{"parts":[{"text":"late"}]},"finishReason":"STOP","index":0}]}"#;
    assert!(t.on_frame(frame(late)).unwrap().is_empty());
    assert!(t.finish().unwrap().is_empty());
}
