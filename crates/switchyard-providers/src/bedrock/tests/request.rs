use super::*;

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

#[test]
fn golden_full_request_matches_the_converse_fixture() {
    let req = fixture_json(include_str!(
        "../../../fixtures/bedrock/request_full.openai.json"
    ));
    let want = fixture_json(include_str!(
        "../../../fixtures/bedrock/request_full.converse.json"
    ));
    assert_eq!(body(req), want);
}

#[test]
fn system_and_developer_messages_become_system_blocks_anywhere_in_the_list() {
    let b = body(json!({"model": "m", "messages": [
        {"role": "system", "content": "Be terse."},
        user("hi"),
        {"role": "developer", "content": "Use French."}
    ]}));
    assert_eq!(
        b["system"],
        json!([{"text": "Be terse."}, {"text": "Use French."}])
    );
    assert_eq!(
        b["messages"],
        json!([{"role": "user", "content": [{"text": "hi"}]}])
    );
}

#[test]
fn no_system_member_without_system_messages() {
    let b = body(json!({"model": "m", "messages": [user("hi")]}));
    assert!(b.get("system").is_none());
    assert!(b.get("inferenceConfig").is_none());
    assert!(b.get("toolConfig").is_none());
}

#[test]
fn multi_turn_keeps_roles_and_merges_consecutive_same_role_messages() {
    let b = body(json!({"model": "m", "messages": [
        user("one"),
        user("two"),
        {"role": "assistant", "content": "three"},
        user("four")
    ]}));
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": [{"text": "one"}, {"text": "two"}]},
            {"role": "assistant", "content": [{"text": "three"}]},
            {"role": "user", "content": [{"text": "four"}]}
        ])
    );
}

#[test]
fn empty_text_is_not_sent_as_a_blank_block() {
    let b = body(json!({"model": "m", "messages": [
        user("hi"),
        {"role": "assistant", "content": ""},
        user("again")
    ]}));
    // The empty assistant turn disappears, so the user turns merge.
    assert_eq!(
        b["messages"],
        json!([{"role": "user", "content": [{"text": "hi"}, {"text": "again"}]}])
    );
}

#[test]
fn sampling_parameters_map_to_inference_config() {
    let b = body(json!({"model": "m", "messages": [user("x")],
        "temperature": 0.7, "top_p": 0.5, "max_completion_tokens": 99, "max_tokens": 5,
        "stop": "STOP"}));
    assert_eq!(
        b["inferenceConfig"],
        json!({"maxTokens": 99, "temperature": 0.7, "topP": 0.5, "stopSequences": ["STOP"]})
    );
}

#[test]
fn seed_penalties_user_and_parallel_tool_calls_are_dropped() {
    let b = body(json!({"model": "m", "messages": [user("x")], "seed": 42,
        "presence_penalty": 1.0, "frequency_penalty": 1.0, "user": "u",
        "parallel_tool_calls": false, "logit_bias": {"1": 2}}));
    assert_eq!(
        b,
        json!({"messages": [{"role": "user", "content": [{"text": "x"}]}]})
    );
}

#[test]
fn n_above_one_is_rejected() {
    let (msg, param) = body_err(json!({"model": "m", "messages": [user("x")], "n": 2}));
    assert_eq!(param.as_deref(), Some("n"));
    assert!(msg.contains("one choice"));
    // n = 1 is fine.
    body(json!({"model": "m", "messages": [user("x")], "n": 1}));
}

#[test]
fn data_url_images_become_image_blocks() {
    for (mime, format) in [
        ("image/png", "png"),
        ("image/jpeg", "jpeg"),
        ("image/jpg", "jpeg"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
    ] {
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": format!("data:{mime};base64,QUJD")}}
            ]}]}),
        );
        assert_eq!(
            b["messages"][0]["content"][0],
            json!({"image": {"format": format, "source": {"bytes": "QUJD"}}})
        );
    }
}

#[test]
fn http_image_urls_are_rejected_with_a_clear_message() {
    let (msg, param) = body_err(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
        ]}]}),
    );
    assert_eq!(param.as_deref(), Some("messages[0].content[1]"));
    assert!(msg.contains("data URL"), "{msg}");
}

#[test]
fn unsupported_image_types_and_parts_are_rejected() {
    let (msg, _) = body_err(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/tiff;base64,QUJD"}}
        ]}]}),
    );
    assert!(msg.contains("image/tiff"));
    let (_, param) = body_err(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}}
        ]}]}),
    );
    assert_eq!(param.as_deref(), Some("messages[0].content[0]"));
    let (_, param) = body_err(
        json!({"model": "m", "messages": [{"role": "system", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}
        ]}]}),
    );
    assert_eq!(param.as_deref(), Some("messages[0].content[0]"));
}

#[test]
fn tools_convert_to_tool_specs_with_json_schema() {
    let b = body(json!({"model": "m", "messages": [user("x")], "tools": [
        {"type": "function", "function": {"name": "f", "description": "does f",
            "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "g"}}
    ]}));
    assert_eq!(
        b["toolConfig"],
        json!({"tools": [
            {"toolSpec": {"name": "f", "description": "does f",
                "inputSchema": {"json": {"type": "object", "properties": {"a": {"type": "integer"}}}}}},
            {"toolSpec": {"name": "g",
                "inputSchema": {"json": {"type": "object", "properties": {}}}}}
        ]})
    );
}

fn with_choice(choice: Value) -> Value {
    body(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": choice}))
}

#[test]
fn tool_choice_modes_map_to_auto_any_and_tool() {
    assert_eq!(
        with_choice(json!("auto"))["toolConfig"]["toolChoice"],
        json!({"auto": {}})
    );
    assert_eq!(
        with_choice(json!("required"))["toolConfig"]["toolChoice"],
        json!({"any": {}})
    );
    assert_eq!(
        with_choice(json!({"type": "function", "function": {"name": "f"}}))["toolConfig"]
            ["toolChoice"],
        json!({"tool": {"name": "f"}})
    );
}

#[test]
fn tool_choice_none_omits_tools_when_there_is_no_tool_history() {
    let b = with_choice(json!("none"));
    assert!(b.get("toolConfig").is_none());
}

#[test]
fn tool_choice_none_keeps_tools_without_a_choice_when_history_has_tool_blocks() {
    let b = body(json!({"model": "m", "messages": [
        user("x"),
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"}
    ],
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "tool_choice": "none"}));
    assert!(b["toolConfig"]["tools"].is_array());
    assert!(b["toolConfig"].get("toolChoice").is_none());
}

#[test]
fn unknown_tool_choice_and_missing_named_tool_are_rejected() {
    let req = |c: Value| {
        body_err(json!({"model": "m", "messages": [user("x")],
            "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": c}))
    };
    assert_eq!(req(json!("sometimes")).1.as_deref(), Some("tool_choice"));
    let (msg, _) = req(json!({"type": "function", "function": {"name": "nope"}}));
    assert!(msg.contains("nope"));
}

#[test]
fn non_function_tools_and_the_reserved_tool_name_are_rejected() {
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "code_interpreter", "function": {"name": "c"}}]}));
    assert_eq!(p.as_deref(), Some("tools[0].type"));
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "function", "function": {"name": "switchyard_json_response"}}]}));
    assert_eq!(p.as_deref(), Some("tools[0].function.name"));
}

#[test]
fn parallel_tool_calls_and_results_feed_back_as_tool_use_and_tool_result() {
    let b = body(json!({"model": "m", "messages": [
        user("weather?"),
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "w", "arguments": "{\"c\":\"P\"}"}},
            {"id": "b", "type": "function", "function": {"name": "w", "arguments": ""}}
        ]},
        {"role": "tool", "tool_call_id": "a", "content": "sun"},
        {"role": "tool", "tool_call_id": "b", "content": "rain"}
    ], "tools": [{"type": "function", "function": {"name": "w"}}]}));
    assert_eq!(
        b["messages"][1],
        json!({"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "a", "name": "w", "input": {"c": "P"}}},
            {"toolUse": {"toolUseId": "b", "name": "w", "input": {}}}
        ]})
    );
    assert_eq!(
        b["messages"][2],
        json!({"role": "user", "content": [
            {"toolResult": {"toolUseId": "a", "content": [{"text": "sun"}]}},
            {"toolResult": {"toolUseId": "b", "content": [{"text": "rain"}]}}
        ]})
    );
}

#[test]
fn invalid_tool_arguments_and_missing_tool_call_ids_are_rejected() {
    let (_, p) = body_err(json!({"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "a", "type": "function",
            "function": {"name": "w", "arguments": "{not json"}}]}
    ]}));
    assert_eq!(
        p.as_deref(),
        Some("messages[0].tool_calls[0].function.arguments")
    );
    let (_, p) = body_err(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}));
    assert_eq!(p.as_deref(), Some("messages[0].tool_call_id"));
    let (_, p) = body_err(json!({"model": "m", "messages": [
        {"role": "function", "name": "f", "content": "x"}]}));
    assert_eq!(p.as_deref(), Some("messages[0].role"));
}

#[test]
fn json_schema_response_format_forces_the_json_tool() {
    let b = body(
        json!({"model": "m", "messages": [user("capital of France?")],
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer",
            "schema": {"type": "object", "properties": {"capital": {"type": "string"}}}}}}),
    );
    assert_eq!(
        b["toolConfig"],
        json!({
            "tools": [{"toolSpec": {"name": "switchyard_json_response",
                "description": "Respond with a JSON object that matches the answer schema.",
                "inputSchema": {"json": {"type": "object", "properties": {"capital": {"type": "string"}}}}}}],
            "toolChoice": {"tool": {"name": "switchyard_json_response"}}
        })
    );
}

#[test]
fn json_object_response_format_forces_a_free_form_object_tool() {
    let b = body(json!({"model": "m", "messages": [user("x")],
        "response_format": {"type": "json_object"}}));
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"],
        json!({"json": {"type": "object"}})
    );
    assert_eq!(
        b["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "switchyard_json_response"}})
    );
    let b = body(json!({"model": "m", "messages": [user("x")],
        "response_format": {"type": "text"}}));
    assert!(b.get("toolConfig").is_none());
}

#[test]
fn json_response_format_with_tools_is_rejected() {
    let (_, p) = body_err(json!({"model": "m", "messages": [user("x")],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "response_format": {"type": "json_object"}}));
    assert_eq!(p.as_deref(), Some("response_format"));
}

#[test]
fn bedrock_specific_members_pass_through() {
    let b = body(json!({"model": "m", "messages": [user("x")],
        "additionalModelRequestFields": {"top_k": 40},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
        "performanceConfig": {"latency": "optimized"},
        "requestMetadata": {"team": "a"},
        "something_else": 1}));
    assert_eq!(b["additionalModelRequestFields"], json!({"top_k": 40}));
    assert_eq!(
        b["additionalModelResponseFieldPaths"],
        json!(["/stop_sequence"])
    );
    assert_eq!(b["performanceConfig"], json!({"latency": "optimized"}));
    assert_eq!(b["requestMetadata"], json!({"team": "a"}));
    assert!(b.get("something_else").is_none());
}

#[test]
fn requests_carry_no_extra_headers() {
    let wire = Bedrock
        .chat_request(
            &chat(json!({"model": "m", "messages": [user("x")]})),
            &cx(false, false),
        )
        .unwrap();
    assert!(wire.headers.is_empty());
}
