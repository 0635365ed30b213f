use super::*;

#[test]
fn golden_text_stream_with_usage_chunk_and_cohere_id() {
    let (chunks, end) = run_sse(
        include_str!("../../../fixtures/cohere/stream_text.sse"),
        true,
    );
    end.unwrap();
    assert_eq!(
        Value::Array(chunks),
        fixture_json(include_str!(
            "../../../fixtures/cohere/stream_text.expected.json"
        ))
    );
}

#[test]
fn usage_chunk_only_when_include_usage() {
    let (chunks, end) = run_sse(
        include_str!("../../../fixtures/cohere/stream_text.sse"),
        false,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn golden_parallel_tool_call_stream_with_argument_deltas() {
    let (chunks, end) = run_sse(
        include_str!("../../../fixtures/cohere/stream_tool_calls.sse"),
        true,
    );
    end.unwrap();
    assert_eq!(
        Value::Array(chunks),
        fixture_json(include_str!(
            "../../../fixtures/cohere/stream_tool_calls.expected.json"
        ))
    );
}

#[test]
fn error_finish_mid_stream_is_an_upstream_error() {
    let (chunks, end) = run_sse(
        include_str!("../../../fixtures/cohere/stream_error.sse"),
        true,
    );
    assert_eq!(chunks.len(), 2, "content before the error still streams");
    match end {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 500);
            assert_eq!(error.error.kind, "api_error");
            assert_eq!(
                error.error.message,
                "internal server error, please try again later"
            );
            assert_eq!(error.error.code.as_deref(), Some("ERROR"));
        }
        other => panic!("expected Upstream, got {other:?}"),
    }
}

#[test]
fn stream_without_message_end_fails_at_finish() {
    let sse = "event: message-start\ndata: {\"id\":\"a\",\"type\":\"message-start\"}\n\n\
               event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"cut\"}}}}\n\n";
    let (chunks, end) = run_sse(sse, true);
    assert_eq!(chunks.len(), 2);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(m)) if m.contains("message-end")));
}

fn frames(events: &[&str]) -> (Vec<Value>, Result<(), TranslateError>) {
    crate::test_sse::run_frames(
        Cohere.chat_stream(&cx(true, false)),
        events.iter().map(|e| Frame {
            event: None,
            data: e.as_bytes(),
            message_type: None,
        }),
    )
}

#[test]
fn thinking_content_is_not_streamed() {
    let (chunks, end) = frames(&[
        r#"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"thinking","thinking":""}}}}"#,
        r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"hmm"}}}}"#,
        r#"{"type":"content-start","index":1,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
        r#"{"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"ok"}}}}"#,
        r#"{"type":"message-end","delta":{"finish_reason":"MAX_TOKENS"}}"#,
    ]);
    end.unwrap();
    assert_eq!(chunks.len(), 2);
    // No message-start: the role rides on the first chunk; the context id is used.
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "ok"})
    );
    assert_eq!(chunks[0]["id"], "chatcmpl-test");
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "length");
}

#[test]
fn tool_call_delta_without_start_and_non_json_data_are_invalid() {
    let (_, end) = frames(&[
        r#"{"type":"tool-call-delta","index":4,"delta":{"message":{"tool_calls":{"function":{"arguments":"{}"}}}}}"#,
    ]);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(_))));
    let (_, end) = frames(&["{nope"]);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(_))));
}

#[test]
fn error_event_is_an_upstream_error_and_done_marker_is_ignored() {
    let (_, end) = frames(&[r#"{"type":"error","message":"overloaded"}"#]);
    assert!(
        matches!(end, Err(TranslateError::Upstream { status: 500, error }) if error.error.message == "overloaded")
    );
    let (chunks, end) = frames(&[
        r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}"#,
        "[DONE]",
    ]);
    end.unwrap();
    assert_eq!(chunks.len(), 1);
}

#[test]
fn event_name_is_used_when_the_payload_has_no_type() {
    let mut t = Cohere.chat_stream(&cx(true, false));
    let c = t
        .on_frame(Frame {
            event: Some("content-delta"),
            data: br#"{"index":0,"delta":{"message":{"content":{"text":"hey"}}}}"#,
            message_type: None,
        })
        .unwrap();
    assert_eq!(c[0].choices[0].delta.content.as_deref(), Some("hey"));
}
