//! Messages request -> chat request.

use serde_json::json;

use super::{refused, to_chat, to_chat_json};
use crate::dialect::anthropic::request_to_chat;
use crate::native::TranslateError;

#[test]
fn a_basic_request_maps_every_parameter() {
    let chat = to_chat_json(json!({
        "model": "gpt-4o",
        "max_tokens": 1024,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "Hello"}],
        "stop_sequences": ["\n\nHuman:", "END"],
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "metadata": {"user_id": "user-123"},
        "stream": true,
        "service_tier": "auto",
        "container": "c-1",
        "mcp_servers": [],
        "some_future_member": {"x": 1}
    }));
    assert_eq!(
        chat,
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hello"}
            ],
            "max_tokens": 1024,
            "stop": ["\n\nHuman:", "END"],
            "temperature": 0.5,
            "top_p": 0.9,
            "user": "user-123",
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn system_blocks_are_joined_and_cache_control_ignored() {
    let chat = to_chat(json!({
        "model": "m", "max_tokens": 10,
        "system": [
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be careful."}
        ],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ]}]
    }));
    let v = serde_json::to_value(&chat.messages).unwrap();
    assert_eq!(
        v,
        json!([
            {"role": "system", "content": "You are Claude Code.\nBe careful."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]}
        ])
    );
    // An empty system prompt adds no message.
    let chat = to_chat(json!({"model": "m", "system": [], "messages": []}));
    assert!(chat.messages.is_empty());
}

#[test]
fn images_and_documents_become_openai_parts() {
    let chat = to_chat_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
            {"type": "document", "title": "report.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0y"}, "citations": {"enabled": true}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}, "context": "ignored"},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}},
            {"type": "text", "text": "What are these?"}
        ]}]
    }));
    assert_eq!(
        chat["messages"][0]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0x", "filename": "report.pdf"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0y", "filename": "document.pdf"}},
            {"type": "text", "text": "plain words"},
            {"type": "text", "text": "a\nb"},
            {"type": "text", "text": "What are these?"}
        ])
    );
}

#[test]
fn tool_use_and_tool_result_round_trip_in_order() {
    let chat = to_chat_json(json!({
        "model": "m", "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "Weather in SF and Tokyo?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two calls.", "signature": "EqQB"},
                {"type": "redacted_thinking", "data": "abc"},
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "San Francisco, CA"}},
                {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"location": "Tokyo"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "15 degrees"},
                {"type": "text", "text": "And also:"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": true, "content": [
                    {"type": "text", "text": "service down"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                    {"type": "text", "text": "retry later"}
                ]}
            ]}
        ]
    }));
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "user", "content": "Weather in SF and Tokyo?"},
            {"role": "assistant", "content": "Checking both.", "tool_calls": [
                {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"San Francisco, CA\"}"}},
                {"id": "toolu_02", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Tokyo\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_01", "content": "15 degrees"},
            {"role": "tool", "tool_call_id": "toolu_02", "content": "service down\nretry later"},
            {"role": "user", "content": [{"type": "text", "text": "And also:"}]}
        ])
    );
}

#[test]
fn assistant_turns_without_text_or_calls() {
    let chat = to_chat_json(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}]},
            {"role": "assistant", "content": "prefill {"}
        ]
    }));
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "user", "content": "q"},
            {"role": "assistant", "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "t", "content": ""},
            {"role": "assistant", "content": "prefill {"}
        ])
    );
}

#[test]
fn tools_and_tool_choice_variants() {
    let base = |choice: serde_json::Value| {
        to_chat_json(json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{
                "name": "get_weather",
                "description": "Get the weather",
                "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
                "cache_control": {"type": "ephemeral"}
            }, {"type": "custom", "name": "noop", "input_schema": {"type": "object"}, "strict": true}],
            "tool_choice": choice
        }))
    };
    let chat = base(json!({"type": "auto"}));
    assert_eq!(
        chat["tools"],
        json!([
            {"type": "function", "function": {
                "name": "get_weather", "description": "Get the weather",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
            }},
            {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}, "strict": true}}
        ])
    );
    assert_eq!(chat["tool_choice"], "auto");
    assert!(chat.get("parallel_tool_calls").is_none());
    assert_eq!(base(json!({"type": "any"}))["tool_choice"], "required");
    assert_eq!(base(json!({"type": "none"}))["tool_choice"], "none");
    let named =
        base(json!({"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true}));
    assert_eq!(
        named["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    assert_eq!(named["parallel_tool_calls"], false);
    let any = base(json!({"type": "any", "disable_parallel_tool_use": false}));
    assert!(any.get("parallel_tool_calls").is_none());
    assert_eq!(
        refused(json!({"model": "m", "messages": [], "tools": [{"name": "f"}], "tool_choice": {"type": "tool"}})).1.as_deref(),
        Some("tool_choice.name")
    );
    // Without tools, tool_choice is left out (OpenAI refuses it without tools).
    let chat = to_chat_json(
        json!({"model": "m", "messages": [], "tool_choice": {"type": "any", "disable_parallel_tool_use": true}}),
    );
    assert!(chat.get("tool_choice").is_none() && chat.get("parallel_tool_calls").is_none());
}

#[test]
fn server_tools_are_refused() {
    for kind in [
        "web_search_20250305",
        "bash_20250124",
        "text_editor_20250728",
        "computer_20250124",
        "code_execution_20250825",
    ] {
        let (message, param) = refused(json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}, {"type": kind, "name": "x"}]
        }));
        assert!(
            message.contains(kind) && message.contains("Claude"),
            "{message}"
        );
        assert_eq!(param.as_deref(), Some("tools"));
    }
}

#[test]
fn thinking_budget_becomes_reasoning_effort() {
    let effort = |thinking: serde_json::Value| {
        to_chat(json!({"model": "m", "messages": [], "thinking": thinking}))
            .extra
            .get("reasoning_effort")
            .cloned()
    };
    assert_eq!(
        effort(json!({"type": "enabled", "budget_tokens": 1024})),
        Some(json!("low"))
    );
    assert_eq!(
        effort(json!({"type": "enabled", "budget_tokens": 4096})),
        Some(json!("medium"))
    );
    assert_eq!(
        effort(json!({"type": "enabled", "budget_tokens": 16383})),
        Some(json!("medium"))
    );
    assert_eq!(
        effort(json!({"type": "enabled", "budget_tokens": 16384})),
        Some(json!("high"))
    );
    assert_eq!(effort(json!({"type": "disabled"})), None);
    let chat = to_chat(json!({"model": "m", "messages": [], "output_config": {"effort": "max"}}));
    assert_eq!(chat.extra.get("reasoning_effort"), Some(&json!("high")));
}

#[test]
fn output_format_becomes_a_json_schema_response_format() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let chat = to_chat_json(json!({
        "model": "m", "messages": [],
        "output_config": {"format": {"type": "json_schema", "schema": schema}}
    }));
    assert_eq!(
        chat["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": true}})
    );
    let beta = to_chat_json(json!({
        "model": "m", "messages": [],
        "output_format": {"type": "json_schema", "schema": schema}
    }));
    assert_eq!(beta["response_format"], chat["response_format"]);
}

#[test]
fn sources_and_blocks_only_claude_has_are_refused() {
    let cases = [
        (
            json!({"type": "image", "source": {"type": "file", "file_id": "file_1"}}),
            "messages[0].content[0].source.type",
        ),
        (
            json!({"type": "document", "source": {"type": "url", "url": "https://x/y.pdf"}}),
            "messages[0].content[0].source.type",
        ),
        (
            json!({"type": "container_upload", "file_id": "f"}),
            "messages[0].content[0].type",
        ),
    ];
    for (block, want) in cases {
        let (message, param) = refused(json!({
            "model": "m", "messages": [{"role": "user", "content": [block]}]
        }));
        assert_eq!(param.as_deref(), Some(want), "{message}");
        assert!(message.contains("Claude"), "{message}");
    }
}

#[test]
fn malformed_bodies_name_the_member() {
    let cases = [
        (json!({"messages": []}), "model"),
        (json!({"model": 5, "messages": []}), "model"),
        (json!({"model": "m"}), "messages"),
        (json!({"model": "m", "messages": {}}), "messages"),
        (json!({"model": "m", "messages": [5]}), "messages[0]"),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user"}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 3}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "messages[0].content[0].text",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]}]}),
            "messages[0].content[0].source.media_type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "tool_result"}]}]}),
            "messages[0].content[0].tool_use_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "t"}]}]}),
            "messages[0].content[0].name",
        ),
        (
            json!({"model": "m", "messages": [], "max_tokens": -1}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "messages": [], "max_tokens": 5_000_000_000u64}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "messages": [], "max_tokens": 1.5}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "messages": [], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": "m", "messages": [], "stop_sequences": ["a", 1]}),
            "stop_sequences[1]",
        ),
        (json!({"model": "m", "messages": [], "system": 1}), "system"),
        (
            json!({"model": "m", "messages": [], "system": [{"type": "image"}]}),
            "system[0].type",
        ),
        (
            json!({"model": "m", "messages": [], "metadata": {"user_id": 1}}),
            "metadata.user_id",
        ),
        (
            json!({"model": "m", "messages": [], "stream": "yes"}),
            "stream",
        ),
        (
            json!({"model": "m", "messages": [], "tools": [{"input_schema": {}}]}),
            "tools[0].name",
        ),
        (
            json!({"model": "m", "messages": [], "tools": [{"name": "f", "input_schema": []}]}),
            "tools[0].input_schema",
        ),
        (
            json!({"model": "m", "messages": [], "tools": [{"name": "f"}], "tool_choice": {"type": "sometimes"}}),
            "tool_choice.type",
        ),
        (
            json!({"model": "m", "messages": [], "thinking": {"type": "enabled", "budget_tokens": "lots"}}),
            "thinking.budget_tokens",
        ),
    ];
    for (body, want) in cases {
        let (message, param) = refused(body.clone());
        assert_eq!(param.as_deref(), Some(want), "{body}: {message}");
        assert!(message.contains(want), "{body}: {message}");
    }
    for raw in [
        &b""[..],
        b"not json",
        b"[1,2]",
        b"\"str\"",
        b"{\"model\":",
        b"\xff\xfe",
    ] {
        match request_to_chat(raw) {
            Err(TranslateError::InvalidRequest { .. }) => {}
            other => panic!("{raw:?}: {other:?}"),
        }
    }
}

#[test]
fn unknown_members_and_nulls_are_ignored() {
    let chat = to_chat_json(json!({
        "model": "m",
        "max_tokens": null,
        "system": null,
        "temperature": null,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi", "citations": [], "future": true}
        ], "future_member": 1}],
        "tools": null,
        "metadata": {"other": 1},
        "context_management": {"edits": []},
        "thinking": {"type": "adaptive"}
    }));
    assert_eq!(
        chat,
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    );
}
