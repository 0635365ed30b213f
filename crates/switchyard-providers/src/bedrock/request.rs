//! OpenAI chat request -> Bedrock `Converse` / `ConverseStream` request body.
//!
//! API reference: <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>.
//!
//! Prompt caching: a `cache_control` marker on a content part, a message, or a tool adds a
//! `{"cachePoint": {"type": "default"}}` block after what it marks (tools only for non-Amazon
//! models, as Portkey does). Claude's extended thinking (`thinking`, or `reasoning_effort` mapped
//! by the rules in `anthropic::thinking`) goes in `additionalModelRequestFields.thinking`.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Role, Tool, ToolChoice,
};

use crate::anthropic::thinking;
use crate::native::TranslateError;

/// The tool Switchyard adds to emulate `response_format` json modes (a forced tool call whose
/// input is the JSON answer). Responses turn its call back into message content.
pub(super) const JSON_TOOL_NAME: &str = "switchyard_json_response";

/// Request members copied verbatim from the OpenAI body's unknown fields into the Converse body.
const PASSTHROUGH: &[&str] = &[
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "guardrailConfig",
    "performanceConfig",
    "requestMetadata",
];

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

/// The block Converse caches the prompt up to.
fn cache_point() -> Value {
    json!({ "cachePoint": { "type": "default" } })
}

/// Whether a client `cache_control` marker asks for caching.
fn wants_cache(marker: Option<&Value>) -> bool {
    thinking::cache_control(marker).is_some()
}

/// Claude models (foundation ids, inference profiles such as `us.anthropic.…`, and ARNs naming
/// them) take Anthropic's `thinking` in `additionalModelRequestFields`.
fn is_claude(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    m.contains("anthropic.") || m.contains("claude")
}

/// Builds the Converse JSON body.
pub(super) fn converse_body(req: &ChatRequest, model: &str) -> Result<Value, TranslateError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Bedrock Converse returns one choice per request; `n` greater than 1 is not supported",
            "n",
        ));
    }
    let mut body = Map::new();
    let (system, messages) = convert_messages(&req.messages)?;
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(messages));

    let claude_thinking = if is_claude(model) {
        thinking::thinking(req)?
    } else {
        None
    };
    let budget = thinking::budget(claude_thinking.as_ref());
    let mut inference = Map::new();
    if budget > 0 {
        // Claude requires maxTokens > budget_tokens (the rule in `anthropic::thinking`).
        let max = thinking::max_tokens(req.max_output_tokens(), budget);
        inference.insert("maxTokens".into(), json!(max));
    } else if let Some(m) = req.max_output_tokens() {
        inference.insert("maxTokens".into(), json!(m));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if let Some(stop) = &req.stop {
        let stop = stop.to_vec();
        if !stop.is_empty() {
            inference.insert("stopSequences".into(), json!(stop));
        }
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }

    let has_tool_history = body
        .get("messages")
        .and_then(Value::as_array)
        .is_some_and(|ms| ms.iter().any(message_has_tool_blocks));
    let amazon = model.to_ascii_lowercase().contains("amazon");
    if let Some(tc) = tool_config(req, has_tool_history, amazon)? {
        body.insert("toolConfig".into(), tc);
    }
    for key in PASSTHROUGH {
        if let Some(v) = req.extra.get(*key) {
            body.insert((*key).into(), v.clone());
        }
    }
    if let Some(t) = claude_thinking {
        let fields = body
            .entry("additionalModelRequestFields")
            .or_insert_with(|| Value::Object(Map::new()));
        match fields.as_object_mut() {
            // The client's own additionalModelRequestFields.thinking wins.
            Some(obj) => {
                obj.entry("thinking").or_insert(t);
            }
            None => {
                return Err(invalid(
                    "additionalModelRequestFields must be an object",
                    "additionalModelRequestFields",
                ))
            }
        }
    }
    Ok(Value::Object(body))
}

fn message_has_tool_blocks(m: &Value) -> bool {
    m.get("content").and_then(Value::as_array).is_some_and(|c| {
        c.iter()
            .any(|b| b.get("toolUse").is_some() || b.get("toolResult").is_some())
    })
}

/// Splits system prompts out and converts the conversation, merging consecutive messages of
/// the same Bedrock role (tool results travel in `user` messages).
fn convert_messages(messages: &[Message]) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let marked = wants_cache(m.cache_control.as_ref());
        let (role, mut blocks) = match m.role {
            Role::System | Role::Developer => {
                system.extend(system_blocks(m.content.as_ref(), i)?);
                if marked && !system.is_empty() {
                    system.push(cache_point());
                }
                continue;
            }
            Role::User => ("user", user_blocks(m.content.as_ref(), i)?),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool => ("user", vec![tool_result_block(m, i)?]),
            Role::Function => {
                return Err(invalid(
                    "legacy `function` role messages are not supported; use `tool` messages",
                    &format!("messages[{i}].role"),
                ))
            }
        };
        if blocks.is_empty() {
            continue;
        }
        if marked {
            blocks.push(cache_point());
        }
        match turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    Ok((system, messages))
}

fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "text": text }))
}

fn system_blocks(content: Option<&Content>, i: usize) -> Result<Vec<Value>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(text_block(t).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, p) in parts.iter().enumerate() {
                match p {
                    ContentPart::Text {
                        text,
                        cache_control,
                    } => {
                        out.extend(text_block(text));
                        if wants_cache(cache_control.as_ref()) {
                            out.push(cache_point());
                        }
                    }
                    _ => {
                        return Err(invalid(
                            "system messages may only contain text parts on Bedrock",
                            &format!("messages[{i}].content[{j}]"),
                        ))
                    }
                }
            }
            Ok(out)
        }
    }
}

fn user_blocks(content: Option<&Content>, i: usize) -> Result<Vec<Value>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(text_block(t).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, p) in parts.iter().enumerate() {
                let param = format!("messages[{i}].content[{j}]");
                let marker = match p {
                    ContentPart::Text { cache_control, .. }
                    | ContentPart::ImageUrl { cache_control, .. } => cache_control.as_ref(),
                    _ => None,
                };
                match p {
                    ContentPart::Text { text, .. } => out.extend(text_block(text)),
                    ContentPart::ImageUrl { image_url, .. } => {
                        let Some(data) = image_url.as_data_url() else {
                            return Err(invalid(
                                "Bedrock Converse only accepts inline images: send the image as a \
                                 base64 data URL (data:image/png;base64,...); http(s) image URLs \
                                 are not fetched",
                                &param,
                            ));
                        };
                        let format = image_format(data.mime_type).ok_or_else(|| {
                            invalid(
                                format!(
                                    "unsupported image type {:?}: Bedrock accepts png, jpeg, gif \
                                     and webp",
                                    data.mime_type
                                ),
                                &param,
                            )
                        })?;
                        out.push(json!({
                            "image": {"format": format, "source": {"bytes": data.base64_data}}
                        }));
                    }
                    _ => {
                        return Err(invalid(
                            "only text and image_url content parts are supported on Bedrock",
                            &param,
                        ))
                    }
                }
                if wants_cache(marker) {
                    out.push(cache_point());
                }
            }
            Ok(out)
        }
    }
}

fn image_format(mime: &str) -> Option<&'static str> {
    match mime.to_ascii_lowercase().as_str() {
        "image/png" => Some("png"),
        "image/jpeg" | "image/jpg" => Some("jpeg"),
        "image/gif" => Some("gif"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

fn assistant_blocks(m: &Message, i: usize) -> Result<Vec<Value>, TranslateError> {
    let mut out = match (&m.content_blocks, &m.content) {
        // Portkey's `content_blocks ?? content`: thinking from an earlier answer (with its
        // signature) goes back before the tool calls, as Claude requires with thinking on.
        (Some(blocks), _) if !blocks.is_empty() => native_blocks(blocks, i)?,
        (_, None) => Vec::new(),
        (_, Some(c)) => text_block(&c.joined_text()).into_iter().collect(),
    };
    for (j, call) in m.tool_calls.iter().flatten().enumerate() {
        let args = call.function.arguments.trim();
        let input: Value = if args.is_empty() {
            json!({})
        } else {
            serde_json::from_str(args).map_err(|e| {
                invalid(
                    format!("tool call arguments are not valid JSON: {e}"),
                    &format!("messages[{i}].tool_calls[{j}].function.arguments"),
                )
            })?
        };
        out.push(json!({
            "toolUse": {"toolUseId": call.id, "name": call.function.name, "input": input}
        }));
    }
    Ok(out)
}

/// An assistant message's `content_blocks` (the Anthropic-style blocks a non-strict answer
/// carried: `text`, `thinking` with `signature`, `redacted_thinking`) -> Converse blocks.
/// `tool_use` blocks are left out (the calls come from `tool_calls`); other types are skipped, as
/// Portkey does.
fn native_blocks(blocks: &[Value], i: usize) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::with_capacity(blocks.len());
    for (j, b) in blocks.iter().enumerate() {
        let field = |k: &str| b.get(k).and_then(Value::as_str);
        match field("type") {
            Some("text") => out.extend(text_block(field("text").unwrap_or_default())),
            Some("thinking") => {
                let mut text = Map::new();
                text.insert("text".into(), json!(field("thinking").unwrap_or_default()));
                if let Some(sig) = field("signature").filter(|s| !s.is_empty()) {
                    text.insert("signature".into(), json!(sig));
                }
                out.push(json!({ "reasoningContent": { "reasoningText": text } }));
            }
            Some("redacted_thinking") => {
                let data = field("data").unwrap_or_default();
                out.push(json!({ "reasoningContent": { "redactedContent": data } }));
            }
            Some(_) => {}
            None => {
                return Err(invalid(
                    "content_blocks entries must be objects with a `type`",
                    &format!("messages[{i}].content_blocks[{j}]"),
                ))
            }
        }
        if wants_cache(b.get("cache_control")) {
            out.push(cache_point());
        }
    }
    Ok(out)
}

fn tool_result_block(m: &Message, i: usize) -> Result<Value, TranslateError> {
    let id = m
        .tool_call_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            invalid(
                "tool messages need a tool_call_id",
                &format!("messages[{i}].tool_call_id"),
            )
        })?;
    let text = m
        .content
        .as_ref()
        .map(Content::joined_text)
        .unwrap_or_default();
    Ok(json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}}))
}

fn tool_spec(name: &str, description: Option<&str>, schema: Value) -> Value {
    let mut spec = Map::new();
    spec.insert("name".into(), json!(name));
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        spec.insert("description".into(), json!(d));
    }
    spec.insert("inputSchema".into(), json!({ "json": schema }));
    json!({ "toolSpec": spec })
}

fn function_tools(tools: &[Tool], amazon: bool) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        out.push(function_tool(i, t)?);
        // Amazon models do not cache tool definitions (Portkey leaves the point out for them).
        if !amazon && wants_cache(t.cache_control.as_ref()) {
            out.push(cache_point());
        }
    }
    Ok(out)
}

fn function_tool(i: usize, t: &Tool) -> Result<Value, TranslateError> {
    if t.kind != "function" {
        return Err(invalid(
            format!(
                "tool type {:?} is not supported; only function tools",
                t.kind
            ),
            &format!("tools[{i}].type"),
        ));
    }
    if t.function.name == JSON_TOOL_NAME {
        return Err(invalid(
            format!("the tool name {JSON_TOOL_NAME} is reserved by the gateway"),
            &format!("tools[{i}].function.name"),
        ));
    }
    let schema = t
        .function
        .parameters
        .clone()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    Ok(tool_spec(
        &t.function.name,
        t.function.description.as_deref(),
        schema,
    ))
}

/// `toolConfig` from `tools`, `tool_choice` and `response_format`.
fn tool_config(
    req: &ChatRequest,
    has_tool_history: bool,
    amazon: bool,
) -> Result<Option<Value>, TranslateError> {
    let tools = req.tools.as_deref().unwrap_or_default();
    let json_format = match &req.response_format {
        Some(ResponseFormat::JsonObject) => Some((
            json!({"type": "object"}),
            "Respond with a JSON object.".to_owned(),
        )),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some((
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"})),
            json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with a JSON object that matches the {} schema.",
                    json_schema.name
                )
            }),
        )),
        Some(ResponseFormat::Text) | None => None,
    };
    if let Some((schema, description)) = json_format {
        if !tools.is_empty() {
            return Err(invalid(
                "response_format json_object/json_schema cannot be combined with tools on \
                 Bedrock: JSON output is produced by forcing a tool call",
                "response_format",
            ));
        }
        return Ok(Some(json!({
            "tools": [tool_spec(JSON_TOOL_NAME, Some(&description), schema)],
            "toolChoice": {"tool": {"name": JSON_TOOL_NAME}},
        })));
    }
    if tools.is_empty() {
        return Ok(None);
    }
    let specs = function_tools(tools, amazon)?;
    let choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => Some(json!({"auto": {}})),
            "required" => Some(json!({"any": {}})),
            "none" => {
                // Converse has no "none" choice. Without tool history the tools are left out,
                // which guarantees no call; with history Bedrock requires `toolConfig`, so the
                // tools stay and the choice is left to the model (documented).
                if !has_tool_history {
                    return Ok(None);
                }
                None
            }
            other => {
                return Err(invalid(
                    format!("unknown tool_choice {other:?}"),
                    "tool_choice",
                ))
            }
        },
        Some(ToolChoice::Named(named)) => {
            if !tools.iter().any(|t| t.function.name == named.function.name) {
                return Err(invalid(
                    format!(
                        "tool_choice names {:?}, which is not in tools",
                        named.function.name
                    ),
                    "tool_choice",
                ));
            }
            Some(json!({"tool": {"name": named.function.name}}))
        }
    };
    let mut tc = Map::new();
    tc.insert("tools".into(), Value::Array(specs));
    if let Some(c) = choice {
        tc.insert("toolChoice".into(), c);
    }
    Ok(Some(Value::Object(tc)))
}
