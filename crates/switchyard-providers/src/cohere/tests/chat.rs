use super::*;

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn respond(body: &str) -> Value {
    serde_json::to_value(
        Cohere
            .chat_response(body.as_bytes(), &cx(false, false))
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn golden_full_request_matches_the_cohere_fixture() {
    let req = fixture_json(include_str!(
        "../../../fixtures/cohere/request_full.openai.json"
    ));
    let want = fixture_json(include_str!(
        "../../../fixtures/cohere/request_full.cohere.json"
    ));
    assert_eq!(body(req), want);
}

#[test]
fn system_and_developer_messages_stay_in_place_as_system_role() {
    let b = body(json!({"model": "m", "messages": [
        {"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        user("hi"),
        {"role": "system", "content": "later"}
    ]}));
    assert_eq!(
        b["messages"],
        json!([
            {"role": "system", "content": "a\nb"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "later"}
        ])
    );
}

#[test]
fn multi_turn_conversation_keeps_every_turn_and_skips_empty_assistant_turns() {
    let b = body(json!({"model": "m", "messages": [
        user("one"), {"role": "assistant", "content": "two"}, user("three"),
        {"role": "assistant", "content": null}, user("four")
    ]}));
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"},
            {"role": "user", "content": "four"}
        ])
    );
}

#[test]
fn sampling_parameters_map_to_cohere_names() {
    let b = body(
        json!({"model": "m", "messages": [user("x")], "temperature": 0.1,
        "top_p": 0.9, "max_completion_tokens": 77, "stop": "END", "seed": 5,
        "frequency_penalty": 0.3, "presence_penalty": 0.4}),
    );
    assert_eq!(b["temperature"], 0.1);
    assert_eq!(b["p"], 0.9);
    assert_eq!(b["max_tokens"], 77);
    assert_eq!(b["stop_sequences"], json!(["END"]));
    assert_eq!(b["seed"], 5);
    assert_eq!(b["frequency_penalty"], 0.3);
    assert_eq!(b["presence_penalty"], 0.4);
    assert!(b.get("top_p").is_none() && b.get("stop").is_none());
}

#[test]
fn openai_only_members_are_dropped() {
    let b = body(json!({"model": "m", "messages": [user("x")], "user": "u",
        "logprobs": true, "parallel_tool_calls": false, "logit_bias": {"1": 1}}));
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["messages", "model", "stream"]);
}

#[test]
fn n_above_one_is_rejected() {
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")], "n": 3}));
    assert_eq!(p.as_deref(), Some("n"));
}

#[test]
fn images_pass_as_image_url_parts_for_data_and_http_urls() {
    let b = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}}
        ]}]}),
    );
    assert_eq!(
        b["messages"][0]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}}
        ])
    );
}

#[test]
fn non_text_parts_outside_user_messages_and_unknown_parts_are_rejected() {
    let (_, p) = body_err(
        json!({"model": "m", "messages": [{"role": "system", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}),
    );
    assert_eq!(p.as_deref(), Some("messages[0].content[0]"));
    let (_, p) = body_err(
        json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "x"}, {"type": "input_audio", "input_audio": {}}]}]}),
    );
    assert_eq!(p.as_deref(), Some("messages[0].content[1]"));
    let (_, p) = body_err(
        json!({"model": "m", "messages": [{"role": "function", "name": "f", "content": "x"}]}),
    );
    assert_eq!(p.as_deref(), Some("messages[0].role"));
}

#[test]
fn tools_keep_their_json_schema_and_strict_sets_strict_tools() {
    let b = body(json!({"model": "m", "messages": [user("x")], "tools": [
        {"type": "function", "function": {"name": "f", "strict": true,
            "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}},
        {"type": "function", "function": {"name": "g", "description": "gee"}}
    ]}));
    assert_eq!(
        b["tools"],
        json!([
            {"type": "function", "function": {"name": "f",
                "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}},
            {"type": "function", "function": {"name": "g", "description": "gee",
                "parameters": {"type": "object", "properties": {}}}}
        ])
    );
    assert_eq!(b["strict_tools"], true);
    assert!(b.get("tool_choice").is_none());
}

fn with_choice(choice: Value) -> Value {
    body(json!({"model": "m", "messages": [user("x")], "tools": [
        {"type": "function", "function": {"name": "f"}},
        {"type": "function", "function": {"name": "g"}}
    ], "tool_choice": choice}))
}

#[test]
fn tool_choice_maps_to_required_none_or_omitted() {
    assert!(with_choice(json!("auto")).get("tool_choice").is_none());
    assert_eq!(with_choice(json!("required"))["tool_choice"], "REQUIRED");
    assert_eq!(with_choice(json!("none"))["tool_choice"], "NONE");
}

#[test]
fn named_tool_choice_sends_only_that_tool_as_required() {
    let b = with_choice(json!({"type": "function", "function": {"name": "g"}}));
    assert_eq!(b["tool_choice"], "REQUIRED");
    assert_eq!(b["tools"].as_array().unwrap().len(), 1);
    assert_eq!(b["tools"][0]["function"]["name"], "g");
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": {"type": "function", "function": {"name": "zzz"}}}));
    assert_eq!(p.as_deref(), Some("tool_choice"));
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "maybe"}));
    assert_eq!(p.as_deref(), Some("tool_choice"));
}

#[test]
fn tool_calls_and_results_feed_back_in_cohere_shape() {
    let b = body(json!({"model": "m", "messages": [
        user("x"),
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"}
    ]}));
    assert_eq!(
        b["messages"][1],
        json!({"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{\"a\":1}"}}]})
    );
    assert_eq!(
        b["messages"][2],
        json!({"role": "tool", "tool_call_id": "c1", "content": "42"})
    );
    let (_, p) = body_err(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}));
    assert_eq!(p.as_deref(), Some("messages[0].tool_call_id"));
}

#[test]
fn json_modes_map_to_cohere_response_format() {
    let b = body(json!({"model": "m", "messages": [user("x")],
        "response_format": {"type": "json_object"}}));
    assert_eq!(b["response_format"], json!({"type": "json_object"}));
    let b = body(json!({"model": "m", "messages": [user("x")],
        "response_format": {"type": "json_schema", "json_schema": {"name": "person", "strict": true,
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}));
    assert_eq!(
        b["response_format"],
        json!({"type": "json_object", "json_schema":
            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}})
    );
    let b =
        body(json!({"model": "m", "messages": [user("x")], "response_format": {"type": "text"}}));
    assert!(b.get("response_format").is_none());
}

#[test]
fn cohere_specific_members_pass_through() {
    let b = body(json!({"model": "m", "messages": [user("x")],
        "documents": [{"id": "d1", "data": {"text": "t"}}], "citation_options": {"mode": "FAST"},
        "thinking": {"type": "enabled", "token_budget": 100}, "k": 5}));
    assert_eq!(b["documents"][0]["id"], "d1");
    assert_eq!(b["citation_options"]["mode"], "FAST");
    assert_eq!(b["thinking"]["token_budget"], 100);
    assert_eq!(b["k"], 5);
}

#[test]
fn golden_text_response_with_billed_usage_and_cached_tokens() {
    assert_eq!(
        respond(include_str!("../../../fixtures/cohere/response_text.json")),
        fixture_json(include_str!(
            "../../../fixtures/cohere/response_text.expected.json"
        ))
    );
}

#[test]
fn golden_parallel_tool_call_response_with_tool_plan_as_content() {
    assert_eq!(
        respond(include_str!(
            "../../../fixtures/cohere/response_tool_calls.json"
        )),
        fixture_json(include_str!(
            "../../../fixtures/cohere/response_tool_calls.expected.json"
        ))
    );
}

#[test]
fn finish_reasons_map_and_error_finishes_are_upstream_errors() {
    for (reason, want) in [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_calls"),
        ("max_tokens", "length"),
        ("content_blocked", "content_filter"),
    ] {
        let v = respond(&format!(
            r#"{{"id":"x","finish_reason":"{reason}","message":{{"role":"assistant","content":[{{"type":"text","text":"t"}}]}}}}"#
        ));
        assert_eq!(v["choices"][0]["finish_reason"], want, "{reason}");
    }
    let r = Cohere.chat_response(
        br#"{"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[]}}"#,
        &cx(false, false),
    );
    assert!(matches!(
        r,
        Err(TranslateError::Upstream { status: 500, .. })
    ));
    let r = Cohere.chat_response(
        br#"{"id":"x","finish_reason":"TIMEOUT","message":{"role":"assistant","content":[]}}"#,
        &cx(false, false),
    );
    match r {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 504);
            assert_eq!(error.error.kind, "timeout_error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn usage_falls_back_to_token_counts_and_accepts_float_numbers() {
    let v = respond(
        r#"{"id":"x","finish_reason":"COMPLETE","message":{"role":"assistant",
        "content":[{"type":"text","text":"t"}]},"usage":{"tokens":{"input_tokens":10.0,"output_tokens":2}}}"#,
    );
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12})
    );
}

#[test]
fn cached_tokens_never_exceed_prompt_tokens() {
    let v = respond(
        r#"{"id":"x","finish_reason":"COMPLETE","message":{"role":"assistant",
        "content":[]},"usage":{"billed_units":{"input_tokens":5,"output_tokens":1},"cached_tokens":64}}"#,
    );
    assert_eq!(v["usage"]["prompt_tokens"], 5);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
}

#[test]
fn thinking_content_is_dropped_and_missing_id_uses_the_context_id() {
    let v = respond(
        r#"{"finish_reason":"COMPLETE","message":{"role":"assistant","content":[
        {"type":"thinking","thinking":"hmm"},{"type":"text","text":"answer"}]}}"#,
    );
    assert_eq!(v["id"], "chatcmpl-test");
    assert_eq!(v["choices"][0]["message"]["content"], "answer");
    assert!(v.get("usage").is_none());
}

#[test]
fn malformed_responses_are_invalid_response_errors() {
    for b in ["nope", r#"{"id":"x","finish_reason":"COMPLETE"}"#] {
        assert!(matches!(
            Cohere.chat_response(b.as_bytes(), &cx(false, false)),
            Err(TranslateError::InvalidResponse(_))
        ));
    }
}
