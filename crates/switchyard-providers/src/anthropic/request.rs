//! OpenAI chat request -> Anthropic Messages request body (shared by the Anthropic API and
//! Claude on Vertex AI; the caller adds `model` or `anthropic_version`).

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, ImageUrl, Message, ResponseFormat, Role, Tool, ToolChoice,
};

use super::thinking;
use crate::native::TranslateError;

/// The name of the tool that carries `response_format` output. The response and stream
/// translators turn calls to it back into message content, so client tools may not use it.
pub(super) const JSON_TOOL_NAME: &str = "switchyard_json_response";

fn invalid(message: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(message, Some(param))
}

/// Builds the Messages API body for `req`, without `model` / `anthropic_version`.
pub(super) fn build_body(
    req: &ChatRequest,
    stream: bool,
) -> Result<Map<String, Value>, TranslateError> {
    check_unsupported(req)?;
    let (system, messages) = convert_messages(&req.messages)?;
    let thinking = thinking::thinking(req)?;
    let mut body = Map::new();
    let budget = thinking::budget(thinking.as_ref());
    body.insert(
        "max_tokens".into(),
        json!(thinking::max_tokens(req.max_output_tokens(), budget)),
    );
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(messages));
    let (tools, tool_choice) = convert_tools(req)?;
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(stop) = &req.stop {
        let stops = stop.to_vec();
        if !stops.is_empty() {
            body.insert("stop_sequences".into(), json!(stops));
        }
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(top_k) = req.extra.get("top_k").filter(|v| v.is_u64()) {
        body.insert("top_k".into(), top_k.clone());
    }
    if let Some(thinking) = thinking {
        body.insert("thinking".into(), thinking);
    }
    if let Some(user) = req.user.as_deref().filter(|u| !u.is_empty()) {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Ok(body)
}

/// Parameters Anthropic cannot honour and whose absence would change what the client gets back.
fn check_unsupported(req: &ChatRequest) -> Result<(), TranslateError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Anthropic returns one choice per request; `n` must be 1",
            "n",
        ));
    }
    if req.extra.get("logprobs").and_then(Value::as_bool) == Some(true) {
        return Err(invalid(
            "Anthropic does not return log probabilities",
            "logprobs",
        ));
    }
    if let Some(t) = req.temperature {
        if !(0.0..=1.0).contains(&t) {
            return Err(invalid(
                "Anthropic accepts `temperature` between 0 and 1",
                "temperature",
            ));
        }
    }
    Ok(())
}

/// Splits the conversation into top-level `system` text blocks and alternating turns.
fn convert_messages(messages: &[Message]) -> Result<(Vec<Value>, Vec<Value>), TranslateError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let (role, mut blocks) = match m.role {
            Role::System | Role::Developer => {
                let mut blocks = system_blocks(m.content.as_ref(), &param)?;
                mark_last(&mut blocks, m.cache_control.as_ref());
                system.extend(blocks);
                continue;
            }
            Role::User => ("user", content_blocks(m.content.as_ref(), &param, true)?),
            Role::Assistant => ("assistant", assistant_blocks(m, &param)?),
            Role::Tool => ("user", vec![tool_result_block(m, &param)?]),
            Role::Function => {
                return Err(invalid(
                    "the deprecated `function` role is not supported; use `tool` messages",
                    &format!("{param}.role"),
                ))
            }
        };
        if blocks.is_empty() {
            continue;
        }
        mark_last(&mut blocks, m.cache_control.as_ref());
        // Anthropic requires alternating turns: consecutive same-role messages (e.g. several
        // tool results, or tool results followed by user text) become one turn.
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    if turns.is_empty() {
        return Err(invalid(
            "at least one user or assistant message with content is required",
            "messages",
        ));
    }
    let messages = turns
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    Ok((system, messages))
}

fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "type": "text", "text": text }))
}

/// A text block carrying the part's `cache_control`, if any.
fn marked_text_block(text: &str, cache_control: Option<&Value>) -> Option<Value> {
    let mut block = text_block(text)?;
    thinking::mark(&mut block, cache_control);
    Some(block)
}

/// A message-level `cache_control` (Portkey's form for string content) marks the message's last
/// block: Anthropic caches the prompt prefix up to and including the marked block.
fn mark_last(blocks: &mut [Value], cache_control: Option<&Value>) {
    if let Some(last) = blocks.last_mut() {
        thinking::mark(last, cache_control);
    }
}

fn system_blocks(content: Option<&Content>, param: &str) -> Result<Vec<Value>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(s)) => Ok(text_block(s).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text {
                        text,
                        cache_control,
                    } => out.extend(marked_text_block(text, cache_control.as_ref())),
                    _ => {
                        return Err(invalid(
                            "system and developer messages may only contain text",
                            &format!("{param}.content[{j}]"),
                        ))
                    }
                }
            }
            Ok(out)
        }
    }
}

/// User (and tool-result) content: text, images and PDF files.
fn content_blocks(
    content: Option<&Content>,
    param: &str,
    allow_documents: bool,
) -> Result<Vec<Value>, TranslateError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(s)) => Ok(text_block(s).into_iter().collect()),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let p = format!("{param}.content[{j}]");
                match part {
                    ContentPart::Text {
                        text,
                        cache_control,
                    } => out.extend(marked_text_block(text, cache_control.as_ref())),
                    ContentPart::ImageUrl {
                        image_url,
                        cache_control,
                    } => {
                        let mut block = image_block(image_url, &p)?;
                        thinking::mark(&mut block, cache_control.as_ref());
                        out.push(block);
                    }
                    ContentPart::File { file } if allow_documents => {
                        out.push(document_block(file, &p)?)
                    }
                    ContentPart::InputAudio { .. } => {
                        return Err(invalid("Anthropic does not accept audio input", &p))
                    }
                    ContentPart::File { .. } => {
                        return Err(invalid("file parts are not allowed here", &p))
                    }
                    ContentPart::Other(v) => {
                        let kind = v.get("type").and_then(Value::as_str).unwrap_or("unknown");
                        return Err(invalid(
                            format!("content part type `{kind}` is not supported by Anthropic"),
                            &p,
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// `data:<mime>;base64,...` -> base64 source; `http(s)://` -> URL source.
fn image_block(image: &ImageUrl, param: &str) -> Result<Value, TranslateError> {
    if let Some(data) = image.as_data_url() {
        return Ok(json!({
            "type": "image",
            "source": { "type": "base64", "media_type": data.mime_type, "data": data.base64_data }
        }));
    }
    let url = image.url.as_str();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(json!({ "type": "image", "source": { "type": "url", "url": url } }));
    }
    let msg = if lower.starts_with("data:") {
        "image data URLs must be base64-encoded (data:<mime>;base64,<data>)"
    } else {
        "image URLs must be http(s) URLs or base64 data URLs"
    };
    Err(invalid(msg, &format!("{param}.image_url.url")))
}

/// An OpenAI `file` part with inline PDF data -> a `document` block.
fn document_block(file: &Value, param: &str) -> Result<Value, TranslateError> {
    let data_url = file.get("file_data").and_then(Value::as_str);
    let parsed = data_url.and_then(|u| {
        ImageUrl {
            url: u.to_owned(),
            detail: None,
        }
        .as_data_url()
        .filter(|d| d.mime_type == "application/pdf")
        .map(|d| d.base64_data.to_owned())
    });
    match parsed {
        Some(data) => Ok(json!({
            "type": "document",
            "source": { "type": "base64", "media_type": "application/pdf", "data": data }
        })),
        None => Err(invalid(
            "only inline PDF files (file_data: data:application/pdf;base64,...) are supported",
            &format!("{param}.file"),
        )),
    }
}

fn assistant_blocks(m: &Message, param: &str) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::new();
    // Portkey's `content_blocks ?? content`: the provider's own blocks of an earlier answer
    // (thinking with its signature, redacted_thinking, text) go back before the tool calls.
    let native = m.content_blocks.as_deref().filter(|b| !b.is_empty());
    match (native, &m.content) {
        (Some(blocks), _) => out.extend(native_blocks(blocks, param)?),
        (None, None) => {}
        (None, Some(Content::Text(s))) => out.extend(text_block(s)),
        (None, Some(Content::Parts(parts))) => {
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text, .. } => out.extend(text_block(text)),
                    // An earlier refusal carries no content Claude needs to continue from.
                    ContentPart::Other(v)
                        if v.get("type").and_then(Value::as_str) == Some("refusal") => {}
                    _ => {
                        return Err(invalid(
                            "assistant messages may only contain text",
                            &format!("{param}.content[{j}]"),
                        ))
                    }
                }
            }
        }
    }
    for (j, call) in m.tool_calls.iter().flatten().enumerate() {
        let p = format!("{param}.tool_calls[{j}]");
        if call.kind != "function" {
            return Err(invalid(
                "only `function` tool calls are supported",
                &format!("{p}.type"),
            ));
        }
        let input = parse_arguments(&call.function.arguments, &format!("{p}.function.arguments"))?;
        out.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.function.name,
            "input": input,
        }));
    }
    Ok(out)
}

/// An assistant message's `content_blocks`, sent as they are, except `tool_use` blocks (the
/// tool calls come from `tool_calls`, as in Portkey).
fn native_blocks(blocks: &[Value], param: &str) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("tool_use") => {}
            Some(_) if block.is_object() => out.push(block.clone()),
            _ => {
                return Err(invalid(
                    "content_blocks entries must be objects with a `type`",
                    &format!("{param}.content_blocks[{j}]"),
                ))
            }
        }
    }
    Ok(out)
}

/// OpenAI sends tool arguments as a JSON string; Anthropic wants the object.
fn parse_arguments(arguments: &str, param: &str) -> Result<Value, TranslateError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(invalid("tool call arguments must be a JSON object", param)),
        Err(e) => Err(invalid(
            format!("tool call arguments are not valid JSON: {e}"),
            param,
        )),
    }
}

fn tool_result_block(m: &Message, param: &str) -> Result<Value, TranslateError> {
    let id = m
        .tool_call_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            invalid(
                "tool messages need a `tool_call_id`",
                &format!("{param}.tool_call_id"),
            )
        })?;
    let mut block = Map::new();
    block.insert("type".into(), json!("tool_result"));
    block.insert("tool_use_id".into(), json!(id));
    match &m.content {
        Some(Content::Text(s)) if !s.is_empty() => {
            block.insert("content".into(), json!(s));
        }
        Some(Content::Parts(_)) => {
            let blocks = content_blocks(m.content.as_ref(), param, false)?;
            if !blocks.is_empty() {
                block.insert("content".into(), Value::Array(blocks));
            }
        }
        _ => {}
    }
    Ok(Value::Object(block))
}

/// A JSON Schema usable as Anthropic `input_schema` (whose root must be an object).
fn object_schema(schema: Option<&Value>, param: &str) -> Result<Value, TranslateError> {
    match schema {
        None | Some(Value::Null) => Ok(json!({ "type": "object", "properties": {} })),
        Some(Value::Object(map)) => match map.get("type") {
            None => {
                let mut map = map.clone();
                map.insert("type".into(), json!("object"));
                Ok(Value::Object(map))
            }
            Some(t) if t == "object" => Ok(Value::Object(map.clone())),
            Some(_) => Err(invalid(
                "the schema's root `type` must be \"object\"",
                param,
            )),
        },
        Some(_) => Err(invalid("the schema must be a JSON object", param)),
    }
}

fn convert_tool(tool: &Tool, j: usize) -> Result<Value, TranslateError> {
    let p = format!("tools[{j}]");
    if tool.kind != "function" {
        return Err(invalid(
            "only `function` tools are supported",
            &format!("{p}.type"),
        ));
    }
    let f = &tool.function;
    if f.name == JSON_TOOL_NAME {
        return Err(invalid(
            format!("the tool name `{JSON_TOOL_NAME}` is reserved"),
            &format!("{p}.function.name"),
        ));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(f.name));
    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
        out.insert("description".into(), json!(d));
    }
    let schema = object_schema(f.parameters.as_ref(), &format!("{p}.function.parameters"))?;
    out.insert("input_schema".into(), schema);
    if let Some(cc) = thinking::cache_control(tool.cache_control.as_ref()) {
        out.insert("cache_control".into(), cc);
    }
    Ok(Value::Object(out))
}

/// The forced tool that implements `response_format` (see the module docs).
fn json_tool(format: &ResponseFormat) -> Result<Option<Value>, TranslateError> {
    let (description, schema) = match format {
        ResponseFormat::Text => return Ok(None),
        ResponseFormat::JsonObject => (
            "Reply to the user by calling this tool: its input is your complete answer, as a JSON object."
                .to_owned(),
            json!({ "type": "object" }),
        ),
        ResponseFormat::JsonSchema { json_schema } => {
            let mut d = format!(
                "Reply to the user by calling this tool: its input is your complete answer, in the `{}` format.",
                json_schema.name
            );
            if let Some(extra) = json_schema.description.as_deref().filter(|s| !s.is_empty()) {
                d.push(' ');
                d.push_str(extra);
            }
            let schema = object_schema(json_schema.schema.as_ref(), "response_format.json_schema.schema")?;
            (d, schema)
        }
    };
    Ok(Some(json!({
        "name": JSON_TOOL_NAME,
        "description": description,
        "input_schema": schema,
    })))
}

/// `tools`, `tool_choice`, `parallel_tool_calls` and `response_format` -> Anthropic `tools` and
/// `tool_choice`.
fn convert_tools(req: &ChatRequest) -> Result<(Vec<Value>, Option<Value>), TranslateError> {
    let mut tools = req
        .tools
        .iter()
        .flatten()
        .enumerate()
        .map(|(j, t)| convert_tool(t, j))
        .collect::<Result<Vec<_>, _>>()?;
    let has_client_tools = !tools.is_empty();

    let mut choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => has_client_tools.then(|| json!({ "type": "auto" })),
            "none" => has_client_tools.then(|| json!({ "type": "none" })),
            "required" if has_client_tools => Some(json!({ "type": "any" })),
            "required" => {
                return Err(invalid(
                    "`tool_choice: required` needs `tools`",
                    "tool_choice",
                ))
            }
            other => {
                return Err(invalid(
                    format!("unknown tool_choice `{other}`"),
                    "tool_choice",
                ))
            }
        },
        Some(ToolChoice::Named(named)) => {
            let name = named.function.name.as_str();
            let known = req.tools.iter().flatten().any(|t| t.function.name == name);
            if !known {
                return Err(invalid(
                    format!("tool_choice names `{name}`, which is not in `tools`"),
                    "tool_choice",
                ));
            }
            Some(json!({ "type": "tool", "name": name }))
        }
    };

    if let Some(tool) = req
        .response_format
        .as_ref()
        .map(json_tool)
        .transpose()?
        .flatten()
    {
        tools.push(tool);
        let forced = json!({ "type": "tool", "name": JSON_TOOL_NAME });
        choice = match choice {
            // Client tools the model may use: it must call one of them or the JSON tool.
            _ if !has_client_tools => Some(forced),
            Some(c) if c["type"] == "none" => Some(forced),
            Some(c) if c["type"] == "tool" => Some(c),
            _ => Some(json!({ "type": "any" })),
        };
    }

    if req.parallel_tool_calls == Some(false) && !tools.is_empty() {
        let mut c = choice.unwrap_or_else(|| json!({ "type": "auto" }));
        if c["type"] != "none" {
            if let Some(obj) = c.as_object_mut() {
                obj.insert("disable_parallel_tool_use".into(), Value::Bool(true));
            }
        }
        choice = Some(c);
    }
    Ok((tools, choice))
}
