//! Tools, tool_choice, response_format, sampling and thinking parameters → Gemini request.

use serde_json::{json, Value};

use super::tests_chat::{gemini_body, gemini_err, user, weather_tool};

#[test]
fn tool_choice_modes_map_to_function_calling_config() {
    let with = |choice: Value| {
        gemini_body("gemini-2.5-flash", json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": choice}))["toolConfig"].clone()
    };
    assert_eq!(
        with(json!("none")),
        json!({"functionCallingConfig": {"mode": "NONE"}})
    );
    assert_eq!(
        with(json!("auto")),
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
    assert_eq!(
        with(json!("required")),
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );
    assert_eq!(
        with(json!({"type": "function", "function": {"name": "get_weather"}})),
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
    );
}

#[test]
fn tool_choice_errors_and_tool_free_auto() {
    let (_, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": {"type": "function", "function": {"name": "nope"}}}),
    );
    assert_eq!(p.as_deref(), Some("tool_choice"));
    let (_, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tool_choice": "required"}),
    );
    assert_eq!(p.as_deref(), Some("tool_choice"));
    let (_, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": "sometimes"}),
    );
    assert_eq!(p.as_deref(), Some("tool_choice"));
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tool_choice": "auto"}),
    );
    assert!(body.get("toolConfig").is_none());
    assert!(body.get("tools").is_none());
}

#[test]
fn tools_without_parameters_omit_them_and_strict_is_dropped() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tools": [
            {"type": "function", "function": {"name": "now", "description": "current time", "parameters": {"type": "object", "properties": {}}, "strict": true}},
            {"type": "function", "function": {"name": "ping"}}
        ]}),
    );
    assert_eq!(
        body["tools"],
        json!([{"functionDeclarations": [{"name": "now", "description": "current time"}, {"name": "ping"}]}])
    );
}

#[test]
fn tool_parameter_schema_errors_name_the_tool() {
    let (msg, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "tools": [
            weather_tool(),
            {"type": "function", "function": {"name": "tree", "parameters": {"$ref": "#/$defs/N", "$defs": {"N": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/N"}}}}}}}}
        ]}),
    );
    assert!(msg.contains("recursive"), "{msg}");
    assert_eq!(p.as_deref(), Some("tools[1].function.parameters"));
}

#[test]
fn json_mode_sets_the_response_mime_type() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "json_object"}}),
    );
    assert_eq!(
        body["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    let text = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "text"}}),
    );
    assert!(text.get("generationConfig").is_none());
}

#[test]
fn json_schema_sets_a_converted_response_schema() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}, "score": {"type": ["integer", "null"]}},
            "required": ["answer", "score"],
            "additionalProperties": false
        }}}}),
    );
    assert_eq!(
        body["generationConfig"],
        json!({
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}, "score": {"type": "INTEGER", "nullable": true}}, "required": ["answer", "score"]}
        })
    );
    let free = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "json_schema", "json_schema": {"name": "any", "schema": {"type": "object", "additionalProperties": true}}}}),
    );
    assert_eq!(
        free["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
}

#[test]
fn stop_seed_temperature_top_p_and_max_tokens_map_to_generation_config() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")],
        "stop": "###", "seed": -3, "temperature": 0, "top_p": 1, "max_tokens": 64, "n": 2, "top_k": 40}),
    );
    assert_eq!(
        body["generationConfig"],
        json!({
            "stopSequences": ["###"], "seed": -3, "temperature": 0.0, "topP": 1.0, "maxOutputTokens": 64, "candidateCount": 2, "topK": 40
        })
    );
    let both = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "max_tokens": 64, "max_completion_tokens": 128}),
    );
    assert_eq!(both["generationConfig"]["maxOutputTokens"], 128);
}

#[test]
fn logprobs_map_and_logit_bias_is_rejected() {
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "logprobs": true, "top_logprobs": 3}),
    );
    assert_eq!(
        body["generationConfig"],
        json!({"responseLogprobs": true, "logprobs": 3})
    );
    let (_, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "logit_bias": {"50256": -100}}),
    );
    assert_eq!(p.as_deref(), Some("logit_bias"));
    let empty = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "logit_bias": {}}),
    );
    assert!(empty.get("generationConfig").is_none());
}

#[test]
fn reasoning_effort_maps_to_budget_before_gemini_3_and_level_after() {
    let effort = |model: &str, e: &str| {
        gemini_body(
            model,
            json!({"model": "m", "messages": [user("hi")], "reasoning_effort": e}),
        )["generationConfig"]["thinkingConfig"]
            .clone()
    };
    assert_eq!(
        effort("gemini-2.5-flash", "low"),
        json!({"thinkingBudget": 1024})
    );
    assert_eq!(
        effort("gemini-2.5-flash", "medium"),
        json!({"thinkingBudget": 8192})
    );
    assert_eq!(
        effort("gemini-2.5-flash", "high"),
        json!({"thinkingBudget": 24576})
    );
    assert_eq!(
        effort("gemini-2.5-flash", "none"),
        json!({"thinkingBudget": 0})
    );
    assert_eq!(
        effort("gemini-3-pro-preview", "low"),
        json!({"thinkingLevel": "low"})
    );
    assert_eq!(
        effort("gemini-3-flash", "none"),
        json!({"thinkingLevel": "minimal"})
    );
    let (_, p) = gemini_err(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "reasoning_effort": "max"}),
    );
    assert_eq!(p.as_deref(), Some("reasoning_effort"));
    let thinking = gemini_body(
        "gemini-2.5-pro",
        json!({"model": "m", "messages": [user("hi")], "thinking": {"type": "enabled", "budget_tokens": 2048}}),
    );
    assert_eq!(
        thinking["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 2048})
    );
}

#[test]
fn safety_settings_pass_through() {
    let s = json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]);
    let body = gemini_body(
        "gemini-2.5-flash",
        json!({"model": "m", "messages": [user("hi")], "safety_settings": s.clone()}),
    );
    assert_eq!(body["safetySettings"], s);
}
