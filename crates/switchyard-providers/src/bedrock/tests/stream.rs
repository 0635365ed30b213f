use super::*;

fn chunks_of(
    frames: &[Frame<'_>],
    include_usage: bool,
) -> (Vec<Value>, Result<(), TranslateError>) {
    crate::test_sse::run_frames(
        Bedrock.chat_stream(&cx(true, include_usage)),
        frames.iter().copied(),
    )
}

#[test]
fn golden_text_stream_from_wire_bytes_with_usage_chunk() {
    let (chunks, end) = run_wire_stream(
        include_bytes!("../../../fixtures/bedrock/stream_text.eventstream"),
        true,
    );
    end.unwrap();
    assert_eq!(
        Value::Array(chunks),
        fixture_json(include_str!(
            "../../../fixtures/bedrock/stream_text.expected.json"
        ))
    );
}

#[test]
fn usage_chunk_only_when_include_usage() {
    let (chunks, end) = run_wire_stream(
        include_bytes!("../../../fixtures/bedrock/stream_text.eventstream"),
        false,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
}

#[test]
fn golden_parallel_tool_call_stream_with_argument_deltas_and_cached_usage() {
    let (chunks, end) = run_wire_stream(
        include_bytes!("../../../fixtures/bedrock/stream_tool_use.eventstream"),
        true,
    );
    end.unwrap();
    assert_eq!(
        Value::Array(chunks),
        fixture_json(include_str!(
            "../../../fixtures/bedrock/stream_tool_use.expected.json"
        ))
    );
}

#[test]
fn exception_frame_mid_stream_is_an_upstream_error() {
    let (chunks, end) = run_wire_stream(
        include_bytes!("../../../fixtures/bedrock/stream_throttled.eventstream"),
        true,
    );
    assert_eq!(chunks.len(), 2, "text before the exception still streams");
    match end {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 429);
            assert_eq!(error.error.kind, "rate_limit_error");
            assert_eq!(error.error.code.as_deref(), Some("ThrottlingException"));
            assert_eq!(
                error.error.message,
                "Too many requests, please wait before trying again."
            );
        }
        other => panic!("expected Upstream, got {other:?}"),
    }
}

#[test]
fn exception_types_get_fitting_statuses() {
    use base64::Engine as _;
    let captured = base64::engine::general_purpose::STANDARD
        .decode(
            include_str!("../../../fixtures/bedrock/model_stream_error_exception.eventstream.b64")
                .trim(),
        )
        .unwrap();
    let (_, end) = run_wire_stream(&captured, false);
    match end {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 500);
            assert_eq!(error.error.kind, "api_error");
            assert_eq!(
                error.error.message,
                "Model Stream Error: The model stream failed."
            );
        }
        other => panic!("expected Upstream, got {other:?}"),
    }
    for (exception, status, kind) in [
        ("validationException", 400, "invalid_request_error"),
        ("throttlingException", 429, "rate_limit_error"),
        ("internalServerException", 500, "api_error"),
        ("serviceUnavailableException", 503, "api_error"),
        ("modelTimeoutException", 408, "timeout_error"),
        ("somethingNewException", 500, "api_error"),
    ] {
        let mut t = Bedrock.chat_stream(&cx(true, false));
        let r = t.on_frame(Frame {
            event: Some(exception),
            data: br#"{"message":"m"}"#,
            message_type: Some("exception"),
        });
        match r {
            Err(TranslateError::Upstream { status: s, error }) => {
                assert_eq!(s, status, "{exception}");
                assert_eq!(error.error.kind, kind, "{exception}");
                assert_eq!(error.error.message, "m");
            }
            other => panic!("{exception}: {other:?}"),
        }
    }
}

#[test]
fn stream_without_message_stop_fails_at_finish() {
    let (chunks, end) = chunks_of(
        &[
            event("messageStart", r#"{"role":"assistant"}"#),
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"cut"}}"#,
            ),
        ],
        true,
    );
    assert_eq!(chunks.len(), 2);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(m)) if m.contains("messageStop")));
}

#[test]
fn metadata_before_message_stop_still_yields_a_trailing_usage_chunk() {
    let (chunks, end) = chunks_of(
        &[
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#,
            ),
            event(
                "metadata",
                r#"{"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}}"#,
            ),
            event("messageStop", r#"{"stopReason":"max_tokens"}"#),
        ],
        true,
    );
    end.unwrap();
    // No messageStart: the role rides on the first content chunk.
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "hi"})
    );
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "length");
    assert_eq!(chunks[2]["choices"], json!([]));
    assert_eq!(chunks[2]["usage"]["total_tokens"], 4);
}

#[test]
fn json_mode_tool_input_streams_as_content() {
    let (chunks, end) = chunks_of(
        &[
            event("messageStart", r#"{"role":"assistant"}"#),
            event(
                "contentBlockStart",
                r#"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":"switchyard_json_response"}}}"#,
            ),
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":"}}}"#,
            ),
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"1}"}}}"#,
            ),
            event("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            event("messageStop", r#"{"stopReason":"tool_use"}"#),
        ],
        false,
    );
    end.unwrap();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, r#"{"a":1}"#);
    assert!(chunks
        .iter()
        .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[test]
fn tool_delta_without_start_is_invalid() {
    let (_, end) = chunks_of(
        &[event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}}"#,
        )],
        false,
    );
    assert!(matches!(end, Err(TranslateError::InvalidResponse(_))));
}

#[test]
fn non_json_payload_is_invalid_and_reasoning_deltas_are_skipped() {
    let (_, end) = chunks_of(&[event("contentBlockDelta", "{oops")], false);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(_))));
    let (chunks, end) = chunks_of(
        &[
            event(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"think"}}}"#,
            ),
            event("messageStop", r#"{"stopReason":"end_turn"}"#),
        ],
        false,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant"})
    );
}

#[test]
fn wrapped_events_without_an_event_name_are_understood() {
    let frames = [
        Frame {
            event: None,
            data: br#"{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"x"}}}"#,
            message_type: None,
        },
        Frame {
            event: None,
            data: br#"{"messageStop":{"stopReason":"end_turn"}}"#,
            message_type: None,
        },
    ];
    let (chunks, end) = chunks_of(&frames, false);
    end.unwrap();
    assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "x");
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "stop");
    let (_, end) = chunks_of(
        &[Frame {
            event: None,
            data: br#"{"validationException":{"message":"bad"}}"#,
            message_type: None,
        }],
        false,
    );
    assert!(matches!(
        end,
        Err(TranslateError::Upstream { status: 400, .. })
    ));
}

#[test]
fn chunks_use_the_context_id_model_and_created() {
    let (chunks, _) = chunks_of(&[event("messageStart", r#"{"role":"assistant"}"#)], false);
    assert_eq!(chunks[0]["id"], "chatcmpl-test");
    assert_eq!(chunks[0]["model"], MODEL);
    assert_eq!(chunks[0]["created"], 1_700_000_000);
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
}
