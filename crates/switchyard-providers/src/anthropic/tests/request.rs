//! OpenAI request -> Anthropic `POST /v1/messages` body.

use serde_json::json;

use super::*;

#[test]
fn golden_basic_request_maps_system_sampling_stop_and_user() {
    let req = chat_request(json(fixture!("req_basic.openai.json")));
    let wire = anthropic_wire(&req).unwrap();
    assert_eq!(wire.path, "/messages");
    let body: Value = serde_json::from_slice(&wire.body).unwrap();
    assert_eq!(body, json(fixture!("req_basic.anthropic.json")));
}

#[test]
fn golden_tools_request_maps_images_parallel_calls_and_merged_tool_results() {
    let body = anthropic_body(json(fixture!("req_tools.openai.json")));
    assert_eq!(body, json(fixture!("req_tools.anthropic.json")));
}

#[test]
fn golden_json_schema_request_uses_a_forced_tool_and_streams() {
    let body = anthropic_body(json(fixture!("req_json_schema.openai.json")));
    assert_eq!(body, json(fixture!("req_json_schema.anthropic.json")));
}

fn minimal() -> Value {
    json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]})
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn version_header_defaults_and_options_set_version_and_beta() {
    let req = chat_request(minimal());
    let wire = anthropic_wire(&req).unwrap();
    assert_eq!(
        wire.headers,
        vec![("anthropic-version".to_owned(), "2023-06-01".to_owned())]
    );

    let opts = options(&[
        ("anthropic_version", "2024-01-01"),
        (
            "anthropic_beta",
            "prompt-caching-2024-07-31,pdfs-2024-09-25",
        ),
    ]);
    let wire = super::super::Anthropic
        .chat_request(&req, &cx("claude-sonnet-4-5", false, false, &opts))
        .unwrap();
    assert_eq!(
        wire.headers,
        vec![
            ("anthropic-version".to_owned(), "2024-01-01".to_owned()),
            (
                "anthropic-beta".to_owned(),
                "prompt-caching-2024-07-31,pdfs-2024-09-25".to_owned()
            ),
        ]
    );
}

#[test]
fn model_comes_from_the_context_not_the_request() {
    let req = chat_request(minimal());
    let opts = ProviderOptions::new();
    let wire = super::super::Anthropic
        .chat_request(&req, &cx("claude-opus-4-1-20250805", false, false, &opts))
        .unwrap();
    let body: Value = serde_json::from_slice(&wire.body).unwrap();
    assert_eq!(body["model"], "claude-opus-4-1-20250805");
}

#[test]
fn max_tokens_defaults_to_4096_and_accepts_the_legacy_name() {
    assert_eq!(anthropic_body(minimal())["max_tokens"], 4096);
    assert_eq!(
        anthropic_body(with(minimal(), json!({"max_tokens": 77})))["max_tokens"],
        77
    );
    let both = with(
        minimal(),
        json!({"max_tokens": 77, "max_completion_tokens": 55}),
    );
    assert_eq!(anthropic_body(both)["max_tokens"], 55);
}

#[test]
fn thinking_passes_through_and_raises_the_default_max_tokens_above_its_budget() {
    let thinking = json!({"type": "enabled", "budget_tokens": 10000});
    let body = anthropic_body(with(minimal(), json!({"thinking": thinking})));
    assert_eq!(body["thinking"], thinking);
    assert_eq!(body["max_tokens"], 14096);
    let small = json!({"type": "enabled", "budget_tokens": 1024});
    assert_eq!(
        anthropic_body(with(minimal(), json!({"thinking": small})))["max_tokens"],
        4096
    );
}

#[test]
fn stop_string_becomes_a_one_element_stop_sequences() {
    let body = anthropic_body(with(minimal(), json!({"stop": "###"})));
    assert_eq!(body["stop_sequences"], json!(["###"]));
    let body = anthropic_body(with(minimal(), json!({"stop": []})));
    assert!(body.get("stop_sequences").is_none());
}

#[test]
fn seed_penalties_and_logit_bias_are_dropped() {
    let body = anthropic_body(with(
        minimal(),
        json!({"seed": 7, "presence_penalty": 1.0, "frequency_penalty": 1.0,
               "logit_bias": {"1": 1}, "service_tier": "flex", "store": true}),
    ));
    for key in [
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "service_tier",
        "store",
    ] {
        assert!(body.get(key).is_none(), "{key} should be dropped");
    }
}

#[test]
fn temperature_and_top_p_pass_through_and_temperature_above_one_is_rejected() {
    let body = anthropic_body(with(minimal(), json!({"temperature": 1.0, "top_p": 0.5})));
    assert_eq!(body["temperature"], 1.0);
    assert_eq!(body["top_p"], 0.5);
    let err = anthropic_error(with(minimal(), json!({"temperature": 1.5})));
    assert_eq!(invalid_param(&err), Some("temperature"));
}

#[test]
fn n_above_one_and_logprobs_are_rejected() {
    assert_eq!(
        invalid_param(&anthropic_error(with(minimal(), json!({"n": 2})))),
        Some("n")
    );
    assert!(anthropic_body(with(minimal(), json!({"n": 1})))
        .get("n")
        .is_none());
    let err = anthropic_error(with(minimal(), json!({"logprobs": true})));
    assert_eq!(invalid_param(&err), Some("logprobs"));
    assert!(anthropic_body(with(minimal(), json!({"logprobs": false})))
        .get("logprobs")
        .is_none());
}

#[test]
fn user_becomes_metadata_user_id() {
    let body = anthropic_body(with(minimal(), json!({"user": "u-42"})));
    assert_eq!(body["metadata"], json!({"user_id": "u-42"}));
    assert!(anthropic_body(minimal()).get("metadata").is_none());
}

#[test]
fn stream_flag_follows_the_context() {
    assert_eq!(
        anthropic_body(with(minimal(), json!({"stream": true})))["stream"],
        true
    );
    assert!(anthropic_body(minimal()).get("stream").is_none());
}

#[test]
fn invalid_json_tool_arguments_are_rejected_with_their_param() {
    let msgs = json!([
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": "}}
        ]}
    ]);
    let err = anthropic_error(with(minimal(), json!({"messages": msgs})));
    assert_eq!(
        invalid_param(&err),
        Some("messages[1].tool_calls[0].function.arguments")
    );
    assert!(err.to_string().contains("not valid JSON"));
}

#[test]
fn non_object_tool_arguments_are_rejected_and_empty_ones_become_an_empty_object() {
    let call = |args: &str| {
        json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "f", "arguments": args}}
            ]}
        ]})
    };
    let err = anthropic_error(with(minimal(), call("[1, 2]")));
    assert!(err.to_string().contains("JSON object"));
    let body = anthropic_body(with(minimal(), call("")));
    assert_eq!(
        body["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "t1", "name": "f", "input": {}}])
    );
}

#[test]
fn empty_assistant_text_is_skipped_next_to_tool_calls() {
    let body = anthropic_body(with(
        minimal(),
        json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "t1", "content": "ok"}
        ]}),
    ));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}
        ])
    );
}

#[test]
fn tool_message_without_tool_call_id_is_rejected() {
    let err = anthropic_error(with(
        minimal(),
        json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "tool", "content": "42"}
        ]}),
    ));
    assert_eq!(invalid_param(&err), Some("messages[1].tool_call_id"));
}

#[test]
fn function_role_and_system_only_conversations_are_rejected() {
    let err = anthropic_error(with(
        minimal(),
        json!({"messages": [
            {"role": "function", "name": "f", "content": "42"}
        ]}),
    ));
    assert_eq!(invalid_param(&err), Some("messages[0].role"));
    let err = anthropic_error(with(
        minimal(),
        json!({"messages": [
            {"role": "system", "content": "be nice"}
        ]}),
    ));
    assert_eq!(invalid_param(&err), Some("messages"));
}

#[test]
fn system_message_with_an_image_is_rejected() {
    let err = anthropic_error(with(
        minimal(),
        json!({"messages": [
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]},
            {"role": "user", "content": "hi"}
        ]}),
    ));
    assert_eq!(invalid_param(&err), Some("messages[0].content[0]"));
}

fn user_parts(parts: Value) -> Value {
    with(
        minimal(),
        json!({"messages": [{"role": "user", "content": parts}]}),
    )
}

#[test]
fn image_urls_that_are_neither_base64_data_nor_http_are_rejected() {
    for url in [
        "data:image/png,rawbytes",
        "ftp://example.com/cat.png",
        "gs://bucket/cat.png",
    ] {
        let err = anthropic_error(user_parts(
            json!([{"type": "image_url", "image_url": {"url": url}}]),
        ));
        assert_eq!(
            invalid_param(&err),
            Some("messages[0].content[0].image_url.url"),
            "{url}"
        );
    }
    let body = anthropic_body(user_parts(
        json!([{"type": "image_url", "image_url": {"url": "HTTPS://Example.com/Cat.png"}}]),
    ));
    assert_eq!(
        body["messages"][0]["content"][0]["source"],
        json!({"type": "url", "url": "HTTPS://Example.com/Cat.png"})
    );
}

#[test]
fn pdf_file_part_becomes_a_document_block_and_audio_is_rejected() {
    let body = anthropic_body(user_parts(json!([
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQ="}},
        {"type": "text", "text": "Summarise"}
    ])));
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQ="}},
            {"type": "text", "text": "Summarise"}
        ])
    );
    let err = anthropic_error(user_parts(
        json!([{"type": "file", "file": {"file_id": "file-abc"}}]),
    ));
    assert_eq!(invalid_param(&err), Some("messages[0].content[0].file"));
    let err = anthropic_error(user_parts(
        json!([{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]),
    ));
    assert_eq!(invalid_param(&err), Some("messages[0].content[0]"));
}

fn tool(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}})
}

fn choice_for(extra: Value) -> Option<Value> {
    anthropic_body(with(minimal(), extra))
        .get("tool_choice")
        .cloned()
}

#[test]
fn tool_choice_modes_map_to_auto_any_none_and_tool() {
    let tools = json!([tool("a"), tool("b")]);
    assert_eq!(
        choice_for(json!({"tools": tools, "tool_choice": "auto"})),
        Some(json!({"type": "auto"}))
    );
    assert_eq!(
        choice_for(json!({"tools": tools, "tool_choice": "required"})),
        Some(json!({"type": "any"}))
    );
    assert_eq!(
        choice_for(json!({"tools": tools, "tool_choice": "none"})),
        Some(json!({"type": "none"}))
    );
    assert_eq!(
        choice_for(
            json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "b"}}})
        ),
        Some(json!({"type": "tool", "name": "b"}))
    );
    assert_eq!(choice_for(json!({"tools": tools})), None);
}

#[test]
fn tool_choice_without_matching_tools_is_rejected_or_dropped() {
    let named = json!({"tools": [tool("a")], "tool_choice": {"type": "function", "function": {"name": "zzz"}}});
    assert_eq!(
        invalid_param(&anthropic_error(with(minimal(), named))),
        Some("tool_choice")
    );
    let required = json!({"tool_choice": "required"});
    assert_eq!(
        invalid_param(&anthropic_error(with(minimal(), required))),
        Some("tool_choice")
    );
    let bogus = json!({"tools": [tool("a")], "tool_choice": "sometimes"});
    assert_eq!(
        invalid_param(&anthropic_error(with(minimal(), bogus))),
        Some("tool_choice")
    );
    assert_eq!(choice_for(json!({"tool_choice": "none"})), None);
    assert_eq!(choice_for(json!({"tool_choice": "auto"})), None);
}

#[test]
fn parallel_tool_calls_false_disables_parallel_use_except_with_none() {
    assert_eq!(
        choice_for(json!({"tools": [tool("a")], "parallel_tool_calls": false})),
        Some(json!({"type": "auto", "disable_parallel_tool_use": true}))
    );
    assert_eq!(
        choice_for(
            json!({"tools": [tool("a")], "tool_choice": "none", "parallel_tool_calls": false})
        ),
        Some(json!({"type": "none"}))
    );
    assert_eq!(
        choice_for(json!({"tools": [tool("a")], "parallel_tool_calls": true})),
        None
    );
    assert_eq!(choice_for(json!({"parallel_tool_calls": false})), None);
}

#[test]
fn tool_parameters_schema_is_kept_and_completed_to_an_object_root() {
    let body = anthropic_body(with(
        minimal(),
        json!({"tools": [
            {"type": "function", "function": {"name": "f", "description": "", "parameters": {"properties": {"q": {"type": "string"}}}}}
        ]}),
    ));
    assert_eq!(
        body["tools"],
        json!([{"name": "f", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}])
    );
    let err = anthropic_error(with(
        minimal(),
        json!({"tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}
        ]}),
    ));
    assert_eq!(invalid_param(&err), Some("tools[0].function.parameters"));
    let err = anthropic_error(with(
        minimal(),
        json!({"tools": [{"type": "custom", "function": {"name": "f"}}]}),
    ));
    assert_eq!(invalid_param(&err), Some("tools[0].type"));
}

#[test]
fn json_object_mode_forces_a_tool_with_an_open_object_schema() {
    let body = anthropic_body(with(
        minimal(),
        json!({"response_format": {"type": "json_object"}}),
    ));
    assert_eq!(body["tools"][0]["name"], "switchyard_json_response");
    assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "switchyard_json_response"})
    );
    let text = anthropic_body(with(
        minimal(),
        json!({"response_format": {"type": "text"}}),
    ));
    assert!(text.get("tools").is_none() && text.get("tool_choice").is_none());
}

#[test]
fn json_schema_with_client_tools_requires_some_tool_and_keeps_a_named_choice() {
    let rf = json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}}});
    let body = anthropic_body(with(
        minimal(),
        json!({"tools": [tool("a")], "response_format": rf}),
    ));
    let names: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "switchyard_json_response"]);
    assert_eq!(body["tool_choice"], json!({"type": "any"}));
    let named = json!({"tools": [tool("a")], "response_format": rf,
                       "tool_choice": {"type": "function", "function": {"name": "a"}}});
    assert_eq!(
        choice_for(named),
        Some(json!({"type": "tool", "name": "a"}))
    );
    let none = json!({"tools": [tool("a")], "response_format": rf, "tool_choice": "none"});
    assert_eq!(
        choice_for(none),
        Some(json!({"type": "tool", "name": "switchyard_json_response"}))
    );
    let bad =
        json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "array"}}});
    let err = anthropic_error(with(minimal(), json!({"response_format": bad})));
    assert_eq!(
        invalid_param(&err),
        Some("response_format.json_schema.schema")
    );
}

#[test]
fn client_tool_may_not_use_the_reserved_json_tool_name() {
    let err = anthropic_error(with(
        minimal(),
        json!({"tools": [tool("switchyard_json_response")]}),
    ));
    assert_eq!(invalid_param(&err), Some("tools[0].function.name"));
}
