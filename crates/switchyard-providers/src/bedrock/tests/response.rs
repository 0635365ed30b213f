use super::*;
use switchyard_types::chat::FinishReason;

fn respond(body: &str) -> Value {
    serde_json::to_value(
        Bedrock
            .chat_response(body.as_bytes(), &cx(false, false))
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn golden_text_response_with_cached_usage() {
    assert_eq!(
        respond(include_str!("../../../fixtures/bedrock/response_text.json")),
        fixture_json(include_str!(
            "../../../fixtures/bedrock/response_text.expected.json"
        ))
    );
}

#[test]
fn golden_parallel_tool_use_response() {
    assert_eq!(
        respond(include_str!(
            "../../../fixtures/bedrock/response_tool_use.json"
        )),
        fixture_json(include_str!(
            "../../../fixtures/bedrock/response_tool_use.expected.json"
        ))
    );
}

#[test]
fn forced_json_tool_answer_becomes_message_content() {
    let v = respond(include_str!(
        "../../../fixtures/bedrock/response_json_tool.json"
    ));
    let msg = &v["choices"][0]["message"];
    assert_eq!(
        serde_json::from_str::<Value>(msg["content"].as_str().unwrap()).unwrap(),
        json!({"capital": "Paris", "country": "France"})
    );
    assert!(msg.get("tool_calls").is_none());
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
}

#[test]
fn tool_calls_without_text_have_null_content() {
    let v = respond(
        r#"{"output":{"message":{"role":"assistant","content":[
        {"toolUse":{"toolUseId":"t1","name":"f","input":{}}}]}},"stopReason":"tool_use",
        "usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}"#,
    );
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    use super::super::response::finish_reason;
    assert_eq!(finish_reason("end_turn"), FinishReason::Stop);
    assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
    assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
    assert_eq!(
        finish_reason("model_context_window_exceeded"),
        FinishReason::Length
    );
    assert_eq!(finish_reason("tool_use"), FinishReason::ToolCalls);
    assert_eq!(
        finish_reason("guardrail_intervened"),
        FinishReason::ContentFilter
    );
    assert_eq!(
        finish_reason("content_filtered"),
        FinishReason::ContentFilter
    );
    for (stop, want) in [
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
    ] {
        let v = respond(&format!(
            r#"{{"output":{{"message":{{"role":"assistant","content":[{{"text":"x"}}]}}}},"stopReason":"{stop}"}}"#
        ));
        assert_eq!(v["choices"][0]["finish_reason"], want);
        assert!(v.get("usage").is_none());
    }
}

#[test]
fn reasoning_blocks_are_dropped_and_text_blocks_concatenated() {
    let v = respond(
        r#"{"output":{"message":{"role":"assistant","content":[
        {"reasoningContent":{"reasoningText":{"text":"hmm","signature":"s"}}},
        {"text":"a"},{"text":"b"}]}},"stopReason":"end_turn"}"#,
    );
    assert_eq!(v["choices"][0]["message"]["content"], "ab");
}

#[test]
fn malformed_responses_are_invalid_response_errors() {
    for body in [
        "not json",
        r#"{"stopReason":"end_turn"}"#,
        r#"{"output":{"message":{"role":"assistant","content":[]}}}"#,
    ] {
        assert!(
            matches!(
                Bedrock.chat_response(body.as_bytes(), &cx(false, false)),
                Err(TranslateError::InvalidResponse(_))
            ),
            "{body}"
        );
    }
}

#[test]
fn error_bodies_map_to_openai_errors_by_status() {
    let e = Bedrock.error_response(
        400,
        include_bytes!("../../../fixtures/bedrock/error_validation.json"),
    );
    assert_eq!(e.error.kind, "invalid_request_error");
    assert!(e
        .error
        .message
        .starts_with("The model returned the following errors"));
    let e = Bedrock.error_response(
        429,
        include_bytes!("../../../fixtures/bedrock/error_throttling.json"),
    );
    assert_eq!(e.error.kind, "rate_limit_error");
    assert_eq!(
        e.error.message,
        "Too many requests, please wait before trying again."
    );
    let e = Bedrock.error_response(
        403,
        br#"{"Message":"User: arn:aws:iam::1:user/x is not authorized"}"#,
    );
    assert_eq!(e.error.kind, "permission_error");
    assert!(e.error.message.starts_with("User: arn"));
    let e = Bedrock.error_response(
        404,
        br#"{"__type":"com.amazon.coral#ResourceNotFoundException","message":"Model not found"}"#,
    );
    assert_eq!(e.error.kind, "not_found_error");
    assert_eq!(e.error.code.as_deref(), Some("ResourceNotFoundException"));
    let e = Bedrock.error_response(503, b"");
    assert_eq!(e.error.kind, "api_error");
    assert_eq!(e.error.message, "Bedrock returned HTTP 503");
    let e = Bedrock.error_response(502, b"<html>Bad Gateway</html>");
    assert_eq!(e.error.message, "<html>Bad Gateway</html>");
}
