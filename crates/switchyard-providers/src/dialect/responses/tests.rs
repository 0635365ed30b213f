//! Request and response translation.

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatResponse, Content, ContentPart, FinishReason, FunctionCall, ResponseFormat,
    ResponseMessage, Role, ToolCall, ToolChoice, Usage,
};

use super::*;
use crate::native::TranslateError;

fn translate(body: Value) -> Translated {
    request_to_chat(body.to_string().as_bytes(), &[]).unwrap()
}

fn refused(body: Value) -> (String, Option<String>) {
    match request_to_chat(body.to_string().as_bytes(), &[]) {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn chat_json(t: &Translated) -> Value {
    serde_json::to_value(&t.chat).unwrap()
}

#[test]
fn string_input_with_instructions() {
    let t = translate(json!({
        "model": "claude-sonnet-4", "instructions": "Be brief.", "input": "Hi there"
    }));
    assert_eq!(
        chat_json(&t),
        json!({
            "model": "claude-sonnet-4",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi there"}
            ]
        })
    );
    assert_eq!(t.input_items.len(), 1);
    let item = &t.input_items[0];
    assert_eq!(item["type"], "message");
    assert_eq!(item["role"], "user");
    assert_eq!(item["status"], "completed");
    assert_eq!(
        item["content"],
        json!([{"type": "input_text", "text": "Hi there"}])
    );
    assert!(item["id"].as_str().unwrap().starts_with("msg_"));
    // Deterministic for the same body.
    let again = translate(json!({
        "model": "claude-sonnet-4", "instructions": "Be brief.", "input": "Hi there"
    }));
    assert_eq!(again.input_items, t.input_items);
    // Echo defaults.
    let e = &t.echo.0;
    assert_eq!(e["instructions"], "Be brief.");
    assert_eq!(e["tool_choice"], "auto");
    assert_eq!(e["tools"], json!([]));
    assert_eq!(e["parallel_tool_calls"], true);
    assert_eq!(e["text"], json!({"format": {"type": "text"}}));
    assert_eq!(e["metadata"], json!({}));
    assert_eq!(e["truncation"], "disabled");
    assert_eq!(e["store"], true);
    assert_eq!(e["model"], "claude-sonnet-4");
}

#[test]
fn item_list_with_parts_and_roles() {
    let t = translate(json!({
        "model": "m",
        "input": [
            {"role": "developer", "content": "Answer in French."},
            {"type": "message", "role": "system", "content": [
                {"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}
            ]},
            {"role": "user", "content": [
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": "https://x/y.png", "detail": "high"},
                {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBER"}
            ]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Un chat.", "annotations": []}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "user", "content": [{"type": "input_text", "text": "Merci"}], "extra_member": 1}
        ]
    }));
    let m = &t.chat.messages;
    assert_eq!(m.len(), 5);
    assert_eq!(m[0].role, Role::System);
    assert_eq!(
        m[0].content,
        Some(Content::Text("Answer in French.".into()))
    );
    assert_eq!(m[1].content, Some(Content::Text("a\nb".into())));
    assert_eq!(m[2].role, Role::User);
    let Some(Content::Parts(parts)) = &m[2].content else {
        panic!("parts expected")
    };
    assert_eq!(parts.len(), 3);
    assert_eq!(
        serde_json::to_value(&parts[1]).unwrap(),
        json!({"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}})
    );
    assert_eq!(
        serde_json::to_value(&parts[2]).unwrap(),
        json!({"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBER"}})
    );
    assert_eq!(m[3].role, Role::Assistant);
    assert_eq!(m[3].content, Some(Content::Text("Un chat.".into())));
    assert_eq!(m[4].content, Some(Content::Text("Merci".into())));
    // Input items keep every item (reasoning too), with ids and types.
    assert_eq!(t.input_items.len(), 6);
    assert_eq!(t.input_items[0]["type"], "message");
    assert_eq!(
        t.input_items[0]["content"],
        json!([{"type": "input_text", "text": "Answer in French."}])
    );
    assert_eq!(t.input_items[4]["id"], "rs_1");
    let ids: std::collections::HashSet<_> =
        t.input_items.iter().map(|i| i["id"].to_string()).collect();
    assert_eq!(ids.len(), 6);
}

#[test]
fn history_comes_before_input() {
    let history = vec![
        json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "one"}]}),
        json!({"id": "msg_a", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "two", "annotations": []}]}),
    ];
    let body = json!({"model": "m", "instructions": "sys", "input": "three"});
    let t = request_to_chat(body.to_string().as_bytes(), &history).unwrap();
    let texts: Vec<_> = t
        .chat
        .messages
        .iter()
        .map(|m| (m.role, m.content.as_ref().unwrap().joined_text()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (Role::System, "sys".to_owned()),
            (Role::User, "one".to_owned()),
            (Role::Assistant, "two".to_owned()),
            (Role::User, "three".to_owned()),
        ]
    );
    // History is not part of the request's own input items.
    assert_eq!(t.input_items.len(), 1);
}

pub(super) fn tool_call_response() -> ChatResponse {
    ChatResponse::single(
        "chatcmpl-1".into(),
        1,
        "claude-sonnet-4".into(),
        ResponseMessage::assistant(
            "Let me check.".into(),
            vec![
                ToolCall {
                    id: "toolu_1".into(),
                    kind: "function".into(),
                    function: FunctionCall {
                        thought_signature: None,
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                    },
                },
                ToolCall {
                    id: "toolu_2".into(),
                    kind: "function".into(),
                    function: FunctionCall {
                        thought_signature: None,
                        name: "get_time".into(),
                        arguments: r#"{"tz":"CET"}"#.into(),
                    },
                },
            ],
        ),
        Some(FinishReason::ToolCalls),
        Some(Usage::new(20, 10)),
    )
}

#[test]
fn function_calls_round_trip_through_history() {
    let first = translate(json!({"model": "m", "input": "weather and time in Paris?"}));
    let resp = response_from_chat(&tool_call_response(), &first.echo, "resp_abc", 7).unwrap();
    let mut history = first.input_items.clone();
    history.extend(output_items(&resp));
    assert_eq!(history.len(), 4);
    let body = json!({
        "model": "m",
        "previous_response_id": "resp_abc",
        "input": [
            {"type": "function_call_output", "call_id": "toolu_1", "output": "18C"},
            {"type": "function_call_output", "call_id": "toolu_2", "output": [{"type": "input_text", "text": "14:00"}]}
        ]
    });
    let t = request_to_chat(body.to_string().as_bytes(), &history).unwrap();
    assert_eq!(
        serde_json::to_value(&t.chat.messages).unwrap(),
        json!([
            {"role": "user", "content": "weather and time in Paris?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}}
            ]},
            {"role": "tool", "content": "18C", "tool_call_id": "toolu_1"},
            {"role": "tool", "content": "14:00", "tool_call_id": "toolu_2"}
        ])
    );
    assert!(!t.chat.extra.contains_key("previous_response_id"));
    assert_eq!(t.echo.0["previous_response_id"], "resp_abc");
    assert_eq!(t.input_items[0]["status"], "completed");
    assert!(t.input_items[0]["id"].as_str().unwrap().starts_with("fco_"));
}

#[test]
fn consecutive_function_calls_without_text_share_one_message() {
    let t = translate(json!({"model": "m", "input": [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
        {"type": "reasoning", "summary": []},
        {"type": "function_call", "call_id": "c2", "name": "b", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "1"},
        {"type": "function_call_output", "call_id": "c2", "output": "2"},
        {"type": "function_call", "call_id": "c3", "name": "a", "arguments": "{}"}
    ]}));
    let m = &t.chat.messages;
    assert_eq!(m.len(), 5);
    assert_eq!(m[1].role, Role::Assistant);
    assert_eq!(m[1].content, None);
    assert_eq!(m[1].tool_calls.as_ref().unwrap().len(), 2);
    assert_eq!(m[4].tool_calls.as_ref().unwrap()[0].id, "c3");
}

#[test]
fn parameters_map_to_chat() {
    let t = translate(json!({
        "model": "m", "input": "x", "stream": true,
        "tools": [{"type": "function", "name": "get_weather", "description": "Weather",
                   "parameters": {"type": "object", "properties": {}}, "strict": true}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": false, "max_output_tokens": 300, "temperature": 0.2, "top_p": 0.9,
        "reasoning": {"effort": "high", "summary": "auto"}, "user": "u1",
        "store": false, "metadata": {"k": "v"}, "truncation": "auto", "include": ["x"],
        "background": false, "service_tier": "auto", "prompt_cache_key": "p",
        "safety_identifier": "s", "text": {"format": {"type": "text"}, "verbosity": "low"}
    }));
    assert_eq!(
        chat_json(&t),
        json!({
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "stream": true, "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                       "parameters": {"type": "object", "properties": {}}, "strict": true}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false, "max_tokens": 300, "temperature": 0.2, "top_p": 0.9,
            "reasoning_effort": "high", "user": "u1"
        })
    );
    let e = &t.echo.0;
    assert_eq!(e["store"], false);
    assert_eq!(e["metadata"], json!({"k": "v"}));
    assert_eq!(e["max_output_tokens"], 300);
    assert_eq!(e["prompt_cache_key"], "p");
    assert_eq!(
        e["tool_choice"],
        json!({"type": "function", "name": "get_weather"})
    );
}

#[test]
fn tool_choice_modes_and_no_tools() {
    for mode in ["auto", "none", "required"] {
        let t = translate(json!({"model": "m", "input": "x", "tool_choice": mode,
            "tools": [{"type": "function", "name": "f"}]}));
        assert_eq!(t.chat.tool_choice, Some(ToolChoice::Mode(mode.into())));
        assert_eq!(t.chat.tools.as_ref().unwrap()[0].function.strict, None);
    }
    // Without tools neither tool_choice nor parallel_tool_calls is sent.
    let t = translate(
        json!({"model": "m", "input": "x", "tools": [], "tool_choice": "auto",
        "parallel_tool_calls": true}),
    );
    assert_eq!(
        chat_json(&t),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    );
}

#[test]
fn text_format_maps_to_response_format() {
    let t = translate(json!({"model": "m", "input": "x", "text": {"format": {
        "type": "json_schema", "name": "person", "strict": true,
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
    }}}));
    assert_eq!(
        serde_json::to_value(t.chat.response_format.as_ref().unwrap()).unwrap(),
        json!({"type": "json_schema", "json_schema": {"name": "person", "strict": true,
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}})
    );
    let t =
        translate(json!({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}}));
    assert_eq!(t.chat.response_format, Some(ResponseFormat::JsonObject));
    let t = translate(json!({"model": "m", "input": "x", "text": {"format": {"type": "text"}}}));
    assert_eq!(t.chat.response_format, None);
}

#[test]
fn openai_only_tools_are_refused() {
    for kind in [
        "web_search",
        "web_search_preview",
        "file_search",
        "computer_use_preview",
        "code_interpreter",
        "mcp",
        "image_generation",
        "local_shell",
        "custom",
    ] {
        let (message, param) = refused(json!({"model": "m", "input": "x",
            "tools": [{"type": "function", "name": "f"}, {"type": kind}]}));
        assert!(
            message.contains("only available on OpenAI targets"),
            "{message}"
        );
        assert!(message.contains(kind), "{message}");
        assert_eq!(param.as_deref(), Some("tools"));
    }
}

#[test]
fn unsupported_inputs_are_refused_with_their_param() {
    let cases = [
        (json!([1, 2]), None),
        (json!({"input": "x"}), Some("model")),
        (json!({"model": 3, "input": "x"}), Some("model")),
        (json!({"model": "m"}), Some("input")),
        (json!({"model": "m", "input": 5}), Some("input")),
        (
            json!({"model": "m", "input": "x", "temperature": "hot"}),
            Some("temperature"),
        ),
        (
            json!({"model": "m", "input": "x", "max_output_tokens": -1}),
            Some("max_output_tokens"),
        ),
        (
            json!({"model": "m", "input": "x", "max_output_tokens": 5_000_000_000_u64}),
            Some("max_output_tokens"),
        ),
        (
            json!({"model": "m", "input": "x", "stream": "yes"}),
            Some("stream"),
        ),
        (
            json!({"model": "m", "input": "x", "tools": {}}),
            Some("tools"),
        ),
        (
            json!({"model": "m", "input": "x", "tools": [{"type": "function"}]}),
            Some("tools[0].name"),
        ),
        (
            json!({"model": "m", "input": "x", "tool_choice": "sometimes"}),
            Some("tool_choice"),
        ),
        (
            json!({"model": "m", "input": "x", "tool_choice": {"type": "file_search"}}),
            Some("tool_choice"),
        ),
        (
            json!({"model": "m", "input": "x", "text": {"format": {"type": "yaml"}}}),
            Some("text.format.type"),
        ),
        (
            json!({"model": "m", "input": "x", "text": {"format": {"type": "json_schema"}}}),
            Some("text.format.name"),
        ),
        (
            json!({"model": "m", "input": "x", "prompt": {"id": "pmpt_1"}}),
            Some("prompt"),
        ),
        (json!({"model": "m", "input": [7]}), Some("input[0]")),
        (
            json!({"model": "m", "input": [{"content": "x"}]}),
            Some("input[0].type"),
        ),
        (
            json!({"model": "m", "input": [{"role": "critic", "content": "x"}]}),
            Some("input[0].role"),
        ),
        (
            json!({"model": "m", "input": [{"role": "user"}]}),
            Some("input[0].content"),
        ),
        (
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
            Some("input[0].content[0].type"),
        ),
        (
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]}),
            Some("input[0].content[0].file_id"),
        ),
        (
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file_1"}]}]}),
            Some("input[0].content[0].file_id"),
        ),
        (
            json!({"model": "m", "input": [{"role": "system", "content": [{"type": "input_image", "image_url": "u"}]}]}),
            Some("input[0].content"),
        ),
        (
            json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}),
            Some("input[0]"),
        ),
        (
            json!({"model": "m", "input": [{"id": "msg_1"}]}),
            Some("input[0]"),
        ),
        (
            json!({"model": "m", "input": [{"type": "web_search_call", "id": "ws_1"}]}),
            Some("input[0].type"),
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}),
            Some("input[0].call_id"),
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]}),
            Some("input[0].arguments"),
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call_output", "call_id": "c"}]}),
            Some("input[0].output"),
        ),
    ];
    for (body, param) in cases {
        let (message, got) = refused(body.clone());
        assert_eq!(got.as_deref(), param, "{body} -> {message}");
        assert!(!message.is_empty());
    }
    let (message, param) = match request_to_chat(b"{not json", &[]) {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("{other:?}"),
    };
    assert!(message.contains("JSON"));
    assert_eq!(param, None);
}

#[test]
fn nulls_read_as_absent() {
    let t = translate(
        json!({"model": "m", "input": "x", "temperature": null, "tools": null,
        "instructions": null, "text": null, "reasoning": {"effort": null}}),
    );
    assert_eq!(
        chat_json(&t),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    );
    assert_eq!(t.echo.0["tools"], json!([]));
}

#[test]
fn user_parts_keep_order_and_refusal_is_text() {
    let t = translate(json!({"model": "m", "input": [
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]}
    ]}));
    assert_eq!(
        t.chat.messages[0].content,
        Some(Content::Text("No.".into()))
    );
    assert_eq!(
        t.chat.messages[1].content,
        Some(Content::Parts(vec![
            ContentPart::text("a"),
            ContentPart::text("b")
        ]))
    );
    assert_eq!(t.input_items[0]["status"], "completed");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = request_to_chat(&body, &[]);
    }

    #[test]
    fn arbitrary_json_shapes_never_panic(
        model in prop_oneof![Just(json!("m")), Just(json!(1)), Just(Value::Null)],
        input in prop_oneof![
            Just(json!("hi")),
            Just(json!([{"role": "user", "content": [{"type": "input_image"}]}])),
            Just(json!([{"type": "function_call"}, {"type": "function_call_output", "output": [1]}])),
            Just(json!([{"role": "assistant", "content": null}, null, [], {}])),
            Just(json!({"role": "user"})),
        ],
        extra in prop_oneof![
            Just(json!({})),
            Just(json!({"tools": [{"type": "function", "name": 1}], "tool_choice": {}})),
            Just(json!({"text": {"format": {"type": "json_schema", "name": "n", "schema": 1}}})),
            Just(json!({"max_output_tokens": 1.5, "reasoning": "high"})),
        ],
        history in prop_oneof![Just(vec![]), Just(vec![json!(1), json!({"type": "message"})])],
    ) {
        let mut body = json!({"model": model, "input": input});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let _ = request_to_chat(body.to_string().as_bytes(), &history);
    }
}

#[test]
fn empty_assistant_messages_are_dropped() {
    let t = translate(json!({"model": "m", "input": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": []},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "b"}
    ]}));
    assert_eq!(t.chat.messages.len(), 2);
    assert_eq!(t.input_items.len(), 4);
}
