//! Anthropic Messages request -> OpenAI [`ChatRequest`]. The mapping (and every member that is
//! dropped) is listed in the module docs of [`super`].
//!
//! The body is read as a JSON tree and walked by hand rather than through derived types, so an
//! error names the exact member that is wrong (`messages[2].content[0].source.media_type`) and a
//! member this code does not know is never an error.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, JsonSchemaFormat,
    Message, NamedFunction, NamedToolChoice, ResponseFormat, Role, Stop, StreamOptions, Tool,
    ToolCall, ToolChoice,
};

use crate::native::TranslateError;

fn invalid(message: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(message, Some(param))
}

/// A member that must be a string when present (`null` counts as absent).
fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<&'a str>, TranslateError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("`{param}` must be a string"), param)),
    }
}

/// A member that must be a string.
fn req_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<&'a str, TranslateError> {
    opt_str(obj, key, param)?.ok_or_else(|| invalid(format!("`{param}` is required"), param))
}

fn opt_f64(obj: &Map<String, Value>, key: &str) -> Result<Option<f64>, TranslateError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(format!("`{key}` must be a number"), key)),
    }
}

fn opt_bool(
    obj: &Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<bool>, TranslateError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("`{param}` must be a boolean"), param)),
    }
}

/// A non-negative integer member.
fn opt_u64(
    obj: &Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<u64>, TranslateError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(format!("`{param}` must be a non-negative integer"), param)),
    }
}

fn as_object<'a>(v: &'a Value, param: &str) -> Result<&'a Map<String, Value>, TranslateError> {
    v.as_object()
        .ok_or_else(|| invalid(format!("`{param}` must be an object"), param))
}

fn opt_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<&'a [Value]>, TranslateError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(invalid(format!("`{param}` must be an array"), param)),
    }
}

/// Translates a Messages request body; see the module docs of [`super`].
pub(super) fn request_to_chat(body: &[u8]) -> Result<ChatRequest, TranslateError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::invalid_request(format!("request body is not valid JSON: {e}"), None)
    })?;
    let Value::Object(root) = root else {
        return Err(TranslateError::invalid_request(
            "request body must be a JSON object",
            None,
        ));
    };

    let mut req = ChatRequest {
        model: req_str(&root, "model", "model")?.to_owned(),
        ..ChatRequest::default()
    };

    if let Some(system) = system_text(&root)? {
        req.messages.push(Message::text(Role::System, system));
    }
    let messages = opt_array(&root, "messages", "messages")?
        .ok_or_else(|| invalid("`messages` is required", "messages"))?;
    for (i, m) in messages.iter().enumerate() {
        translate_message(m, i, &mut req.messages)?;
    }

    if let Some(max) = opt_u64(&root, "max_tokens", "max_tokens")? {
        let max =
            u32::try_from(max).map_err(|_| invalid("`max_tokens` is too large", "max_tokens"))?;
        req.max_tokens = Some(max);
    }
    if let Some(stops) = opt_array(&root, "stop_sequences", "stop_sequences")? {
        let stops = stops
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_str().map(str::to_owned).ok_or_else(|| {
                    let p = format!("stop_sequences[{i}]");
                    invalid(format!("`{p}` must be a string"), &p)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !stops.is_empty() {
            req.stop = Some(Stop::Many(stops));
        }
    }
    req.temperature = opt_f64(&root, "temperature")?;
    req.top_p = opt_f64(&root, "top_p")?;
    if let Some(meta) = root.get("metadata").filter(|v| !v.is_null()) {
        let meta = as_object(meta, "metadata")?;
        req.user = opt_str(meta, "user_id", "metadata.user_id")?.map(str::to_owned);
    }
    if opt_bool(&root, "stream", "stream")? == Some(true) {
        req.stream = Some(true);
        req.stream_options = Some(StreamOptions {
            include_usage: Some(true),
        });
    }

    let tools = translate_tools(&root)?;
    if !tools.is_empty() {
        req.tools = Some(tools);
        if let Some(choice) = root.get("tool_choice").filter(|v| !v.is_null()) {
            let (choice, parallel) = translate_tool_choice(choice)?;
            req.tool_choice = choice;
            req.parallel_tool_calls = parallel;
        }
    }

    if let Some(effort) = reasoning_effort(&root)? {
        req.extra
            .insert("reasoning_effort".into(), Value::String(effort.into()));
    }
    req.response_format = output_format(&root)?;
    Ok(req)
}

/// `system`: a string or an array of text blocks, joined with `\n`.
fn system_text(root: &Map<String, Value>) -> Result<Option<String>, TranslateError> {
    let text = match root.get("system") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (i, b) in blocks.iter().enumerate() {
                let param = format!("system[{i}]");
                let b = as_object(b, &param)?;
                match opt_str(b, "type", &format!("{param}.type"))? {
                    Some("text") => {
                        parts.push(req_str(b, "text", &format!("{param}.text"))?.to_owned());
                    }
                    other => {
                        return Err(invalid(
                            format!(
                                "`{param}.type` must be `text`, not `{}`",
                                other.unwrap_or("(no type)")
                            ),
                            &format!("{param}.type"),
                        ))
                    }
                }
            }
            parts.join("\n")
        }
        Some(_) => {
            return Err(invalid(
                "`system` must be a string or an array of text blocks",
                "system",
            ))
        }
    };
    Ok((!text.is_empty()).then_some(text))
}

/// One Messages `messages[i]` -> one or more chat messages appended to `out`.
fn translate_message(m: &Value, i: usize, out: &mut Vec<Message>) -> Result<(), TranslateError> {
    let param = format!("messages[{i}]");
    let m = as_object(m, &param)?;
    let role = req_str(m, "role", &format!("{param}.role"))?;
    let content_param = format!("{param}.content");
    let blocks = match m.get("content") {
        Some(Value::String(s)) => {
            let role = match role {
                "user" => Role::User,
                "assistant" => Role::Assistant,
                _ => return Err(bad_role(&param)),
            };
            out.push(Message::text(role, s.clone()));
            return Ok(());
        }
        Some(Value::Array(blocks)) => blocks,
        None | Some(Value::Null) => {
            return Err(invalid(
                format!("`{content_param}` is required"),
                &content_param,
            ))
        }
        Some(_) => {
            return Err(invalid(
                format!("`{content_param}` must be a string or an array of content blocks"),
                &content_param,
            ))
        }
    };
    match role {
        "user" => user_blocks(blocks, &content_param, out),
        "assistant" => assistant_blocks(blocks, &content_param, out),
        _ => Err(bad_role(&param)),
    }
}

fn bad_role(param: &str) -> TranslateError {
    let p = format!("{param}.role");
    invalid(format!("`{p}` must be `user` or `assistant`"), &p)
}

/// A block's `type`.
fn block_type<'a>(b: &'a Map<String, Value>, param: &str) -> Result<&'a str, TranslateError> {
    req_str(b, "type", &format!("{param}.type"))
}

/// User blocks: `tool_result` blocks become `tool` messages (in order, first); everything else
/// forms one user message after them.
fn user_blocks(
    blocks: &[Value],
    param: &str,
    out: &mut Vec<Message>,
) -> Result<(), TranslateError> {
    let mut parts = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let bp = format!("{param}[{j}]");
        let b = as_object(b, &bp)?;
        match block_type(b, &bp)? {
            "tool_result" => out.push(tool_result(b, &bp)?),
            "thinking" | "redacted_thinking" => {}
            kind => parts.extend(content_part(kind, b, &bp)?),
        }
    }
    if !parts.is_empty() {
        out.push(Message {
            content: Some(Content::Parts(parts)),
            ..Message::text(Role::User, "")
        });
    }
    Ok(())
}

/// The content parts of a user-side block (`text`, `image`, `document`, `search_result`).
fn content_part(
    kind: &str,
    b: &Map<String, Value>,
    param: &str,
) -> Result<Vec<ContentPart>, TranslateError> {
    match kind {
        // `cache_control` is not carried over: the chat request may go to an OpenAI-compatible
        // host, which refuses members it does not know (Claude targets get the body as is).
        "text" => Ok(vec![ContentPart::text(req_str(
            b,
            "text",
            &format!("{param}.text"),
        )?)]),
        "image" => Ok(vec![image_part(b, param)?]),
        "document" => document_parts(b, param),
        "search_result" => {
            let text = nested_text(b.get("content"), &format!("{param}.content"))?;
            Ok(vec![ContentPart::text(text)])
        }
        other => Err(unsupported_block(other, param)),
    }
}

fn unsupported_block(kind: &str, param: &str) -> TranslateError {
    let p = format!("{param}.type");
    invalid(
        format!(
            "content block type `{kind}` is not supported for this target (only on Claude targets)"
        ),
        &p,
    )
}

fn source<'a>(
    b: &'a Map<String, Value>,
    param: &str,
) -> Result<(&'a Map<String, Value>, &'a str, String), TranslateError> {
    let sp = format!("{param}.source");
    let src = as_object(
        b.get("source")
            .ok_or_else(|| invalid(format!("`{sp}` is required"), &sp))?,
        &sp,
    )?;
    let kind = req_str(src, "type", &format!("{sp}.type"))?;
    Ok((src, kind, sp))
}

fn image_part(b: &Map<String, Value>, param: &str) -> Result<ContentPart, TranslateError> {
    let (src, kind, sp) = source(b, param)?;
    let url = match kind {
        "base64" => {
            let media = req_str(src, "media_type", &format!("{sp}.media_type"))?;
            let data = req_str(src, "data", &format!("{sp}.data"))?;
            format!("data:{media};base64,{data}")
        }
        "url" => req_str(src, "url", &format!("{sp}.url"))?.to_owned(),
        other => {
            return Err(invalid(
                format!("image source type `{other}` is only available on Claude targets"),
                &format!("{sp}.type"),
            ))
        }
    };
    Ok(ContentPart::image(ImageUrl { url, detail: None }))
}

fn document_parts(b: &Map<String, Value>, param: &str) -> Result<Vec<ContentPart>, TranslateError> {
    let (src, kind, sp) = source(b, param)?;
    match kind {
        "base64" => {
            let media = opt_str(src, "media_type", &format!("{sp}.media_type"))?
                .unwrap_or("application/pdf");
            let data = req_str(src, "data", &format!("{sp}.data"))?;
            let filename = opt_str(b, "title", &format!("{param}.title"))?
                .filter(|t| !t.is_empty())
                .unwrap_or("document.pdf");
            Ok(vec![ContentPart::File {
                file: json!({
                    "file_data": format!("data:{media};base64,{data}"),
                    "filename": filename,
                }),
            }])
        }
        "text" => Ok(vec![ContentPart::text(req_str(
            src,
            "data",
            &format!("{sp}.data"),
        )?)]),
        "content" => {
            let text = nested_text(src.get("content"), &format!("{sp}.content"))?;
            Ok(vec![ContentPart::text(text)])
        }
        other => Err(invalid(
            format!("document source type `{other}` is only available on Claude targets"),
            &format!("{sp}.type"),
        )),
    }
}

/// The text of a string or an array of blocks (text blocks joined with `\n`; other blocks, such
/// as images, are dropped).
fn nested_text(v: Option<&Value>, param: &str) -> Result<String, TranslateError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                let bp = format!("{param}[{k}]");
                let b = as_object(b, &bp)?;
                if opt_str(b, "type", &format!("{bp}.type"))? == Some("text") {
                    texts.push(req_str(b, "text", &format!("{bp}.text"))?);
                }
            }
            Ok(texts.join("\n"))
        }
        Some(_) => Err(invalid(
            format!("`{param}` must be a string or an array of content blocks"),
            param,
        )),
    }
}

fn tool_result(b: &Map<String, Value>, param: &str) -> Result<Message, TranslateError> {
    let id = req_str(b, "tool_use_id", &format!("{param}.tool_use_id"))?;
    opt_bool(b, "is_error", &format!("{param}.is_error"))?;
    let text = nested_text(b.get("content"), &format!("{param}.content"))?;
    Ok(Message {
        tool_call_id: Some(id.to_owned()),
        ..Message::text(Role::Tool, text)
    })
}

/// Assistant blocks: text joined with `\n`, `tool_use` -> `tool_calls`; thinking dropped.
fn assistant_blocks(
    blocks: &[Value],
    param: &str,
    out: &mut Vec<Message>,
) -> Result<(), TranslateError> {
    let mut texts: Vec<&str> = Vec::new();
    let mut calls = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let bp = format!("{param}[{j}]");
        let b = as_object(b, &bp)?;
        match block_type(b, &bp)? {
            "text" => texts.push(req_str(b, "text", &format!("{bp}.text"))?),
            "tool_use" => {
                let id = req_str(b, "id", &format!("{bp}.id"))?;
                let name = req_str(b, "name", &format!("{bp}.name"))?;
                let arguments = match b.get("input") {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(input) => serde_json::to_string(input).map_err(|e| {
                        invalid(
                            format!("`{bp}.input` cannot be encoded: {e}"),
                            &format!("{bp}.input"),
                        )
                    })?,
                };
                calls.push(ToolCall {
                    id: id.to_owned(),
                    kind: "function".into(),
                    function: FunctionCall {
                        thought_signature: None,
                        name: name.to_owned(),
                        arguments,
                    },
                });
            }
            "thinking" | "redacted_thinking" => {}
            other => return Err(unsupported_block(other, &bp)),
        }
    }
    let text = texts.join("\n");
    if text.is_empty() && calls.is_empty() {
        // Only thinking (or nothing): there is no assistant turn left to send.
        return Ok(());
    }
    out.push(Message {
        content: (!text.is_empty()).then_some(Content::Text(text)),
        tool_calls: (!calls.is_empty()).then_some(calls),
        ..Message::text(Role::Assistant, "")
    });
    Ok(())
}

/// `tools`: custom tools become functions; server tools are refused.
fn translate_tools(root: &Map<String, Value>) -> Result<Vec<Tool>, TranslateError> {
    let Some(tools) = opt_array(root, "tools", "tools")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let param = format!("tools[{i}]");
        let t = as_object(t, &param)?;
        match opt_str(t, "type", &format!("{param}.type"))? {
            None | Some("custom") => {}
            Some(kind) => {
                return Err(invalid(
                    format!(
                        "tool type `{kind}` (an Anthropic server tool) is only available on Claude targets"
                    ),
                    "tools",
                ))
            }
        }
        let name = req_str(t, "name", &format!("{param}.name"))?;
        let description = opt_str(t, "description", &format!("{param}.description"))?;
        let parameters = match t.get("input_schema") {
            None | Some(Value::Null) => None,
            Some(schema @ Value::Object(_)) => Some(schema.clone()),
            Some(_) => {
                let p = format!("{param}.input_schema");
                return Err(invalid(format!("`{p}` must be an object"), &p));
            }
        };
        let strict = opt_bool(t, "strict", &format!("{param}.strict"))?;
        out.push(Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: name.to_owned(),
                description: description.map(str::to_owned),
                parameters,
                strict,
            },
            cache_control: None,
        });
    }
    Ok(out)
}

/// `tool_choice` -> (`tool_choice`, `parallel_tool_calls`).
fn translate_tool_choice(
    choice: &Value,
) -> Result<(Option<ToolChoice>, Option<bool>), TranslateError> {
    let c = as_object(choice, "tool_choice")?;
    let mode = |m: &str| Some(ToolChoice::Mode(m.to_owned()));
    let tool_choice = match req_str(c, "type", "tool_choice.type")? {
        "auto" => mode("auto"),
        "any" => mode("required"),
        "none" => mode("none"),
        "tool" => Some(ToolChoice::Named(NamedToolChoice {
            kind: "function".into(),
            function: NamedFunction {
                name: req_str(c, "name", "tool_choice.name")?.to_owned(),
            },
        })),
        other => {
            return Err(invalid(
                format!("`tool_choice.type` `{other}` is not one of auto, any, tool, none"),
                "tool_choice.type",
            ))
        }
    };
    let disable = opt_bool(
        c,
        "disable_parallel_tool_use",
        "tool_choice.disable_parallel_tool_use",
    )?;
    Ok((tool_choice, (disable == Some(true)).then_some(false)))
}

/// `thinking` (`budget_tokens` -> low/medium/high) or else `output_config.effort`.
fn reasoning_effort(root: &Map<String, Value>) -> Result<Option<&'static str>, TranslateError> {
    if let Some(thinking) = root.get("thinking").filter(|v| !v.is_null()) {
        let t = as_object(thinking, "thinking")?;
        if opt_str(t, "type", "thinking.type")? == Some("enabled") {
            let budget = opt_u64(t, "budget_tokens", "thinking.budget_tokens")?;
            return Ok(Some(match budget {
                Some(b) if b < 4096 => "low",
                Some(b) if b < 16384 => "medium",
                Some(_) => "high",
                None => "medium",
            }));
        }
    }
    if let Some(config) = root.get("output_config").and_then(Value::as_object) {
        return Ok(match config.get("effort").and_then(Value::as_str) {
            Some("low") => Some("low"),
            Some("medium") => Some("medium"),
            Some("high" | "max") => Some("high"),
            _ => None,
        });
    }
    Ok(None)
}

/// `output_config.format` (or the beta `output_format`) `{"type":"json_schema","schema":..}` ->
/// `response_format` `json_schema`.
fn output_format(root: &Map<String, Value>) -> Result<Option<ResponseFormat>, TranslateError> {
    let (format, param) = match root
        .get("output_config")
        .and_then(Value::as_object)
        .and_then(|c| c.get("format"))
        .filter(|v| !v.is_null())
    {
        Some(f) => (f, "output_config.format"),
        None => match root.get("output_format").filter(|v| !v.is_null()) {
            Some(f) => (f, "output_format"),
            None => return Ok(None),
        },
    };
    let f = as_object(format, param)?;
    match req_str(f, "type", &format!("{param}.type"))? {
        "json_schema" => {
            let schema = f
                .get("schema")
                .filter(|s| s.is_object())
                .cloned()
                .ok_or_else(|| {
                    let p = format!("{param}.schema");
                    invalid(format!("`{p}` must be an object"), &p)
                })?;
            Ok(Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: "output".into(),
                    description: None,
                    schema: Some(schema),
                    strict: Some(true),
                },
            }))
        }
        other => Err(invalid(
            format!("`{param}.type` `{other}` is not supported; use `json_schema`"),
            &format!("{param}.type"),
        )),
    }
}
