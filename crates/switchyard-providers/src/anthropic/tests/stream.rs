//! Anthropic SSE -> OpenAI `chat.completion.chunk`s.

use switchyard_types::chat::{FinishReason, Role};

use super::*;

fn run(sse: &str, include_usage: bool) -> StreamRun {
    let opts = ProviderOptions::new();
    run_stream(
        &super::super::Anthropic,
        sse,
        &cx("claude-sonnet-4-5", true, include_usage, &opts),
    )
}

#[test]
fn golden_text_stream_with_include_usage_ends_with_a_usage_chunk() {
    let out = run(fixture!("stream_text.sse"), true);
    assert!(out.error.is_none());
    assert!(out.finish.unwrap().unwrap().is_empty());
    assert_eq!(
        to_value(&out.chunks),
        json(fixture!("stream_text.chunks.json"))
    );
}

#[test]
fn text_stream_without_include_usage_has_no_usage_chunk() {
    let out = run(fixture!("stream_text.sse"), false);
    assert_eq!(out.chunks.len(), 4);
    assert!(out
        .chunks
        .iter()
        .all(|c| c.usage.is_none() && c.choices.len() == 1));
    assert_eq!(
        out.chunks[3].choices[0].finish_reason,
        Some(FinishReason::Stop)
    );
}

#[test]
fn golden_parallel_tool_use_stream_emits_indexed_argument_deltas() {
    let out = run(fixture!("stream_tool_use.sse"), false);
    assert!(out.error.is_none());
    assert_eq!(
        to_value(&out.chunks),
        json(fixture!("stream_tool_use.chunks.json"))
    );
}

#[test]
fn thinking_deltas_are_skipped_and_only_text_is_streamed() {
    let out = run(fixture!("stream_thinking.sse"), false);
    assert!(out.error.is_none());
    assert_eq!(
        streamed_text(&out.chunks),
        "The greatest common divisor of 1071 and 462 is **21**."
    );
    assert_eq!(
        out.chunks.len(),
        3,
        "role chunk, one text chunk, finish chunk"
    );
    assert_eq!(out.chunks[0].id, "msg_01GcdThinking7rQpV2");
}

#[test]
fn json_mode_stream_turns_tool_input_into_content_and_finishes_with_stop() {
    let out = run(fixture!("stream_json.sse"), true);
    assert!(out.error.is_none());
    assert!(out
        .chunks
        .iter()
        .all(|c| c.choices.iter().all(|ch| ch.delta.tool_calls.is_none())));
    let text = streamed_text(&out.chunks);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["participants"], serde_json::json!(["Alice", "Bob"]));
    let finish = &out.chunks[out.chunks.len() - 2];
    assert_eq!(finish.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = out.chunks.last().unwrap().usage.clone().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (849, 47));
}

#[test]
fn error_event_mid_stream_is_an_upstream_error_after_the_text_so_far() {
    let out = run(fixture!("stream_error.sse"), true);
    assert_eq!(streamed_text(&out.chunks), "Once upon");
    match out.error {
        Some(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 529);
            assert_eq!(error.error.kind, "server_error");
            assert_eq!(error.error.code.as_deref(), Some("overloaded_error"));
            assert_eq!(error.error.message, "Overloaded");
        }
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

#[test]
fn stream_that_ends_without_message_stop_fails_on_finish() {
    let out = run(fixture!("stream_truncated.sse"), true);
    assert!(out.error.is_none());
    assert_eq!(streamed_text(&out.chunks), "Once upon a time");
    assert!(
        out.chunks
            .iter()
            .all(|c| c.choices.iter().all(|ch| ch.finish_reason.is_none())),
        "no finish chunk before message_stop"
    );
    assert!(matches!(
        out.finish,
        Some(Err(TranslateError::InvalidResponse(_)))
    ));
}

fn frame(data: &str) -> Frame<'_> {
    Frame {
        event: None,
        data: data.as_bytes(),
        message_type: None,
    }
}

#[test]
fn first_chunk_carries_the_role_even_without_message_start() {
    let opts = ProviderOptions::new();
    let mut t = super::super::Anthropic.chat_stream(&cx("m", true, false, &opts));
    t.on_frame(frame(
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    ))
    .unwrap();
    let chunks = t
        .on_frame(frame(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ))
        .unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(
        chunks[0].id, RESPONSE_ID,
        "no message id yet: the context id"
    );
    assert_eq!(
        (chunks[0].created, chunks[0].model.as_str()),
        (CREATED, "m")
    );
    let more = t
        .on_frame(frame(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}"#,
        ))
        .unwrap();
    assert_eq!(more[0].choices[0].delta.role, None);
}

#[test]
fn input_json_delta_for_an_unknown_block_is_an_invalid_response() {
    let opts = ProviderOptions::new();
    let mut t = super::super::Anthropic.chat_stream(&cx("m", true, false, &opts));
    let err = t
        .on_frame(frame(
            r#"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
        ))
        .unwrap_err();
    assert!(matches!(err, TranslateError::InvalidResponse(_)));
}

#[test]
fn malformed_event_data_is_an_invalid_response_and_blank_data_is_ignored() {
    let opts = ProviderOptions::new();
    let mut t = super::super::Anthropic.chat_stream(&cx("m", true, false, &opts));
    assert!(t.on_frame(frame("  ")).unwrap().is_empty());
    assert!(matches!(
        t.on_frame(frame("{oops")),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn unknown_events_and_frames_after_message_stop_yield_nothing() {
    let opts = ProviderOptions::new();
    let mut t = super::super::Anthropic.chat_stream(&cx("m", true, false, &opts));
    assert!(t
        .on_frame(frame(r#"{"type":"brand_new_event","x":1}"#))
        .unwrap()
        .is_empty());
    assert_eq!(
        t.on_frame(frame(r#"{"type":"message_stop"}"#))
            .unwrap()
            .len(),
        1
    );
    let late =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"#;
    assert!(t.on_frame(frame(late)).unwrap().is_empty());
    assert!(t.finish().unwrap().is_empty());
}

#[test]
fn refusal_stop_reason_streams_content_filter() {
    let opts = ProviderOptions::new();
    let mut t = super::super::Anthropic.chat_stream(&cx("m", true, false, &opts));
    t.on_frame(frame(
        r#"{"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":3}}"#,
    ))
    .unwrap();
    let chunks = t.on_frame(frame(r#"{"type":"message_stop"}"#)).unwrap();
    assert_eq!(
        chunks[0].choices[0].finish_reason,
        Some(FinishReason::ContentFilter)
    );
}
