//! Anthropic `message` -> OpenAI `chat.completion`.

use switchyard_types::chat::FinishReason;

use super::super::response::{finish_reason, AnthropicUsage};
use super::*;

fn translate(body: &str) -> Result<switchyard_types::chat::ChatResponse, TranslateError> {
    let opts = ProviderOptions::new();
    super::super::Anthropic.chat_response(
        body.as_bytes(),
        &cx("claude-sonnet-4-5", false, false, &opts),
    )
}

#[test]
fn golden_text_response_joins_text_blocks_and_counts_cached_tokens() {
    let resp = translate(fixture!("resp_text.json")).unwrap();
    assert_eq!(to_value(&resp), json(fixture!("resp_text.openai.json")));
}

#[test]
fn golden_parallel_tool_use_response_becomes_tool_calls() {
    let resp = translate(fixture!("resp_tool_use.json")).unwrap();
    assert_eq!(to_value(&resp), json(fixture!("resp_tool_use.openai.json")));
}

#[test]
fn json_mode_tool_input_becomes_content_with_finish_reason_stop() {
    let resp = translate(fixture!("resp_json.json")).unwrap();
    let choice = &resp.choices[0];
    assert!(choice.message.tool_calls.is_none());
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
    let content: Value = serde_json::from_str(choice.message.content.as_deref().unwrap()).unwrap();
    assert_eq!(
        content,
        serde_json::json!({"name": "Science fair", "date": "Friday", "participants": ["Alice", "Bob"]})
    );
}

#[test]
fn thinking_blocks_are_dropped_and_max_tokens_maps_to_length() {
    let resp = translate(fixture!("resp_thinking.json")).unwrap();
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("27 * 453 = 12,231")
    );
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Length));
    let usage = resp.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (40, 512, 552)
    );
    assert_eq!(usage.prompt_tokens_details.unwrap().cached_tokens, 0);
}

#[test]
fn response_id_falls_back_to_the_context_when_anthropic_gives_none() {
    let body = r#"{"id":"","type":"message","role":"assistant","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn"}"#;
    let resp = translate(body).unwrap();
    assert_eq!(resp.id, RESPONSE_ID);
    assert_eq!(resp.created, CREATED);
    assert!(resp.usage.is_none());
}

#[test]
fn stop_reasons_map_to_openai_finish_reasons() {
    let cases = [
        (Some("end_turn"), false, Some(FinishReason::Stop)),
        (Some("stop_sequence"), false, Some(FinishReason::Stop)),
        (Some("pause_turn"), false, Some(FinishReason::Stop)),
        (Some("max_tokens"), false, Some(FinishReason::Length)),
        (
            Some("model_context_window_exceeded"),
            false,
            Some(FinishReason::Length),
        ),
        (Some("tool_use"), true, Some(FinishReason::ToolCalls)),
        (Some("tool_use"), false, Some(FinishReason::Stop)),
        (Some("refusal"), false, Some(FinishReason::ContentFilter)),
        (Some("something_new"), false, Some(FinishReason::Stop)),
        (None, false, None),
    ];
    for (reason, tools, expected) in cases {
        assert_eq!(finish_reason(reason, tools), expected, "{reason:?}");
    }
}

#[test]
fn refusal_response_has_content_filter_finish_reason() {
    let body = r#"{"id":"msg_r","type":"message","role":"assistant","content":[],"stop_reason":"refusal","usage":{"input_tokens":10,"output_tokens":0}}"#;
    let resp = translate(body).unwrap();
    assert_eq!(
        resp.choices[0].finish_reason,
        Some(FinishReason::ContentFilter)
    );
    assert_eq!(resp.choices[0].message.content.as_deref(), Some(""));
}

#[test]
fn usage_sums_uncached_cache_read_and_cache_write_input_tokens() {
    let u = AnthropicUsage {
        input_tokens: Some(10),
        output_tokens: Some(5),
        cache_creation_input_tokens: Some(300),
        cache_read_input_tokens: Some(2000),
    }
    .to_openai();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (2310, 5, 2315)
    );
    assert_eq!(u.prompt_tokens_details.unwrap().cached_tokens, 2000);
}

#[test]
fn usage_merge_keeps_earlier_counts_that_a_later_event_omits() {
    let mut u = AnthropicUsage {
        input_tokens: Some(25),
        output_tokens: Some(1),
        cache_creation_input_tokens: None,
        cache_read_input_tokens: Some(7),
    };
    u.merge(&AnthropicUsage {
        output_tokens: Some(15),
        ..AnthropicUsage::default()
    });
    assert_eq!(u.input_tokens, Some(25));
    assert_eq!(u.output_tokens, Some(15));
    assert_eq!(u.cache_read_input_tokens, Some(7));
}

#[test]
fn error_body_in_a_success_response_becomes_an_upstream_error() {
    match translate(fixture!("error_overloaded.json")).unwrap_err() {
        TranslateError::Upstream { status, error } => {
            assert_eq!(status, 529);
            assert_eq!(error.error.kind, "server_error");
            assert_eq!(error.error.message, "Overloaded");
        }
        other => panic!("expected Upstream, got {other:?}"),
    }
}

#[test]
fn bodies_that_are_not_anthropic_messages_are_invalid_responses() {
    for body in [
        "not json",
        r#"{"object":"chat.completion"}"#,
        r#"{"type":"message","content":[]}"#,
    ] {
        assert!(
            matches!(translate(body), Err(TranslateError::InvalidResponse(_))),
            "{body}"
        );
    }
}
