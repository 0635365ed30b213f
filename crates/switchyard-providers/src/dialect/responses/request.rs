//! Responses request -> chat request.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, JsonSchemaFormat,
    Message, NamedFunction, NamedToolChoice, ResponseFormat, Role, StreamOptions, Tool, ToolCall,
    ToolChoice,
};

use super::response::echo_defaults;
use super::{fnv1a, Echo, Translated};
use crate::native::TranslateError;

/// Tool types of OpenAI's own (built-in or hosted) tools, refused for other targets.
const OPENAI_ONLY_TOOLS: &str = "web_search, file_search, computer_use_preview, \
code_interpreter, mcp, image_generation, local_shell, shell, apply_patch, custom";

/// Translates a Responses request. `history` is the conversation `previous_response_id` names,
/// oldest first: the input items and output items of every earlier response in the chain.
pub fn request_to_chat(body: &[u8], history: &[Value]) -> Result<Translated, TranslateError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::invalid_request(format!("the request body is not valid JSON: {e}"), None)
    })?;
    let Value::Object(req) = root else {
        return Err(TranslateError::invalid_request(
            "the request body must be a JSON object",
            None,
        ));
    };
    let req = Obj {
        map: &req,
        path: String::new(),
    };

    let model = req
        .str("model")?
        .ok_or_else(|| missing("model"))?
        .to_owned();
    for key in ["prompt", "conversation"] {
        if req.get(key).is_some() {
            return Err(TranslateError::invalid_request(
                format!("`{key}` is only available on OpenAI targets"),
                Some(key),
            ));
        }
    }

    let mut messages = Vec::new();
    if let Some(instructions) = req.str("instructions")? {
        if !instructions.is_empty() {
            messages.push(Message::text(Role::System, instructions));
        }
    }
    let input_items = match req.get("input") {
        None => return Err(missing("input")),
        Some(Value::String(s)) => vec![json!({
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": s}],
        })],
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(wrong_type("input", "a string or an array")),
    };
    let mut convert = Converter::default();
    for (i, item) in history.iter().enumerate() {
        convert.item(item, &format!("history[{i}]"))?;
    }
    for (i, item) in input_items.iter().enumerate() {
        convert.item(item, &format!("input[{i}]"))?;
    }
    // An assistant message with neither text nor calls says nothing, and providers refuse it.
    messages.extend(
        convert
            .messages
            .into_iter()
            .filter(|m| m.role != Role::Assistant || m.content.is_some() || m.tool_calls.is_some()),
    );

    let tools = tools(&req)?;
    let has_tools = !tools.is_empty();
    let tool_choice = tool_choice(&req)?;
    let parallel_tool_calls = req.bool("parallel_tool_calls")?;
    let max_tokens = match req.get("max_output_tokens") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| wrong_type("max_output_tokens", "a non-negative integer"))?,
        ),
    };
    let stream = req.bool("stream")?.unwrap_or(false);

    let mut extra = Map::new();
    if let Some(reasoning) = req.obj("reasoning")? {
        if let Some(effort) = reasoning.str("effort")? {
            extra.insert("reasoning_effort".into(), Value::String(effort.to_owned()));
        }
    }

    let chat = ChatRequest {
        model,
        messages,
        temperature: req.f64("temperature")?,
        top_p: req.f64("top_p")?,
        max_tokens,
        stream: stream.then_some(true),
        stream_options: stream.then_some(StreamOptions {
            include_usage: Some(true),
        }),
        tools: has_tools.then_some(tools),
        tool_choice: tool_choice.filter(|_| has_tools),
        parallel_tool_calls: parallel_tool_calls.filter(|_| has_tools),
        response_format: response_format(&req)?,
        user: req.str("user")?.map(str::to_owned),
        extra,
        ..ChatRequest::default()
    };
    let seed = fnv1a(body, 0xcbf2_9ce4_8422_2325);
    let input_items = input_items
        .into_iter()
        .enumerate()
        .map(|(i, item)| normalise_item(item, seed, i))
        .collect();
    Ok(Translated {
        chat,
        input_items,
        echo: echo(req.map),
    })
}

/// The echoed fields, as written, with OpenAI's defaults for the absent ones.
fn echo(req: &Map<String, Value>) -> Echo {
    let mut out = Map::new();
    for (key, default) in echo_defaults() {
        let value = req.get(key).filter(|v| !v.is_null()).cloned();
        out.insert(key.into(), value.unwrap_or(default));
    }
    for key in [
        "prompt_cache_key",
        "safety_identifier",
        "max_tool_calls",
        "top_logprobs",
    ] {
        if let Some(v) = req.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    Echo(out)
}

/// An input item as `input_items` lists it: with an `id`, a `type`, a `status`, and a message's
/// string content as parts.
fn normalise_item(item: Value, seed: u64, index: usize) -> Value {
    let Value::Object(mut item) = item else {
        return item;
    };
    let kind = match item.get("type").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None if item.contains_key("role") => {
            item.insert("type".into(), json!("message"));
            "message".to_owned()
        }
        None => return Value::Object(item),
    };
    if kind == "message" {
        let assistant = item.get("role").and_then(Value::as_str) == Some("assistant");
        if let Some(Value::String(text)) = item.get("content") {
            let part = if assistant {
                json!({"type": "output_text", "text": text, "annotations": []})
            } else {
                json!({"type": "input_text", "text": text})
            };
            item.insert("content".into(), json!([part]));
        }
    }
    if matches!(
        kind.as_str(),
        "message" | "function_call" | "function_call_output"
    ) && !item.contains_key("status")
    {
        item.insert("status".into(), json!("completed"));
    }
    if item.get("id").and_then(Value::as_str).is_none() {
        let prefix = match kind.as_str() {
            "message" => "msg",
            "function_call" => "fc",
            "function_call_output" => "fco",
            "reasoning" => "rs",
            _ => "item",
        };
        let index = u64::try_from(index).unwrap_or(u64::MAX);
        let h = fnv1a(&index.to_le_bytes(), seed);
        item.insert("id".into(), json!(format!("{prefix}_{seed:016x}{h:016x}")));
    }
    Value::Object(item)
}

/// Items -> chat messages, merging function calls into the assistant turn before them.
#[derive(Default)]
struct Converter {
    messages: Vec<Message>,
}

impl Converter {
    fn item(&mut self, item: &Value, path: &str) -> Result<(), TranslateError> {
        let Value::Object(map) = item else {
            return Err(wrong_type(path, "an object"));
        };
        let o = Obj {
            map,
            path: path.to_owned(),
        };
        match o.str("type")? {
            Some("message") => self.message(&o),
            None if o.get("role").is_some() => self.message(&o),
            Some("function_call") => self.function_call(&o),
            Some("function_call_output") => self.function_call_output(&o),
            Some("reasoning") => Ok(()),
            Some("item_reference") => Err(item_reference(path)),
            None if o.get("id").is_some() => Err(item_reference(path)),
            None => Err(missing(&o.at("type"))),
            Some(other) => Err(TranslateError::invalid_request(
                format!("input items of type `{other}` are only available on OpenAI targets"),
                Some(&o.at("type")),
            )),
        }
    }

    fn message(&mut self, o: &Obj<'_>) -> Result<(), TranslateError> {
        let role = o.str("role")?.ok_or_else(|| missing(&o.at("role")))?;
        let parts = match o.get("content") {
            None => return Err(missing(&o.at("content"))),
            Some(Value::String(s)) => vec![ContentPart::text(s.clone())],
            Some(Value::Array(parts)) => parts
                .iter()
                .enumerate()
                .map(|(j, p)| part(p, &format!("{}[{j}]", o.at("content"))))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(wrong_type(&o.at("content"), "a string or an array")),
        };
        let message = match role {
            "user" => Message {
                content: Some(user_content(parts)),
                ..Message::text(Role::User, "")
            },
            "assistant" => {
                let text = text_only(parts, "", &o.at("content"))?;
                Message {
                    content: (!text.is_empty()).then_some(Content::Text(text)),
                    ..Message::text(Role::Assistant, "")
                }
            }
            "system" | "developer" => {
                Message::text(Role::System, text_only(parts, "\n", &o.at("content"))?)
            }
            other => {
                return Err(TranslateError::invalid_request(
                    format!(
                        "invalid role `{other}`: expected user, assistant, system or developer"
                    ),
                    Some(&o.at("role")),
                ))
            }
        };
        self.messages.push(message);
        Ok(())
    }

    fn function_call(&mut self, o: &Obj<'_>) -> Result<(), TranslateError> {
        let call = ToolCall {
            id: o.req_str("call_id")?.to_owned(),
            kind: "function".into(),
            function: FunctionCall {
                thought_signature: None,
                name: o.req_str("name")?.to_owned(),
                arguments: o.req_str("arguments")?.to_owned(),
            },
        };
        match self.messages.last_mut() {
            Some(last) if last.role == Role::Assistant => {
                last.tool_calls.get_or_insert_with(Vec::new).push(call);
            }
            _ => self.messages.push(Message {
                content: None,
                tool_calls: Some(vec![call]),
                ..Message::text(Role::Assistant, "")
            }),
        }
        Ok(())
    }

    fn function_call_output(&mut self, o: &Obj<'_>) -> Result<(), TranslateError> {
        let call_id = o.req_str("call_id")?.to_owned();
        let content = match o.get("output") {
            None => return Err(missing(&o.at("output"))),
            Some(Value::String(s)) => Content::Text(s.clone()),
            Some(Value::Array(parts)) => user_content(
                parts
                    .iter()
                    .enumerate()
                    .map(|(j, p)| part(p, &format!("{}[{j}]", o.at("output"))))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(wrong_type(&o.at("output"), "a string or an array")),
        };
        self.messages.push(Message {
            content: Some(content),
            tool_call_id: Some(call_id),
            ..Message::text(Role::Tool, "")
        });
        Ok(())
    }
}

/// One text part as a string, others as parts.
fn user_content(mut parts: Vec<ContentPart>) -> Content {
    if parts.len() == 1 {
        if let Some(ContentPart::Text { text, .. }) = parts.first_mut() {
            return Content::Text(std::mem::take(text));
        }
    }
    Content::Parts(parts)
}

/// The text of text-only content, joined by `sep`.
fn text_only(parts: Vec<ContentPart>, sep: &str, path: &str) -> Result<String, TranslateError> {
    let mut texts = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            ContentPart::Text { text, .. } => texts.push(text),
            _ => {
                return Err(TranslateError::invalid_request(
                    "only text parts are supported in assistant, system and developer messages",
                    Some(path),
                ))
            }
        }
    }
    Ok(texts.join(sep))
}

/// A Responses content part -> a chat content part.
fn part(p: &Value, path: &str) -> Result<ContentPart, TranslateError> {
    let Value::Object(map) = p else {
        return Err(wrong_type(path, "an object"));
    };
    let o = Obj {
        map,
        path: path.to_owned(),
    };
    match o.req_str("type")? {
        "input_text" | "output_text" => Ok(ContentPart::text(o.req_str("text")?)),
        "refusal" => Ok(ContentPart::text(o.req_str("refusal")?)),
        "input_image" => {
            if o.get("file_id").is_some() && o.get("image_url").is_none() {
                return Err(TranslateError::invalid_request(
                    "images by `file_id` are only available on OpenAI targets; send `image_url` (a URL or a data URL)",
                    Some(&o.at("file_id")),
                ));
            }
            Ok(ContentPart::ImageUrl {
                image_url: ImageUrl {
                    url: o.req_str("image_url")?.to_owned(),
                    detail: o.str("detail")?.map(str::to_owned),
                },
                cache_control: None,
            })
        }
        "input_file" => {
            let Some(data) = o.str("file_data")? else {
                let field = if o.get("file_id").is_some() {
                    "file_id"
                } else if o.get("file_url").is_some() {
                    "file_url"
                } else {
                    return Err(missing(&o.at("file_data")));
                };
                return Err(TranslateError::invalid_request(
                    format!(
                        "files by `{field}` are only available on OpenAI targets; send `file_data`"
                    ),
                    Some(&o.at(field)),
                ));
            };
            let mut file = Map::new();
            file.insert("file_data".into(), Value::String(data.to_owned()));
            if let Some(name) = o.str("filename")? {
                file.insert("filename".into(), Value::String(name.to_owned()));
            }
            Ok(ContentPart::File {
                file: Value::Object(file),
            })
        }
        other => Err(TranslateError::invalid_request(
            format!("content parts of type `{other}` are not supported"),
            Some(&o.at("type")),
        )),
    }
}

fn tools(req: &Obj<'_>) -> Result<Vec<Tool>, TranslateError> {
    let Some(list) = req.get("tools") else {
        return Ok(Vec::new());
    };
    let Value::Array(list) = list else {
        return Err(wrong_type("tools", "an array"));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let path = format!("tools[{i}]");
        let Value::Object(map) = t else {
            return Err(wrong_type(&path, "an object"));
        };
        let o = Obj { map, path };
        match o.req_str("type")? {
            "function" => {}
            other => {
                return Err(TranslateError::invalid_request(
                    format!(
                        "tools of type `{other}` are only available on OpenAI targets; \
                         other targets take `function` tools only (not {OPENAI_ONLY_TOOLS})"
                    ),
                    Some("tools"),
                ))
            }
        }
        let parameters = match o.get("parameters") {
            None => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => return Err(wrong_type(&o.at("parameters"), "an object")),
        };
        out.push(Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: o.req_str("name")?.to_owned(),
                description: o.str("description")?.map(str::to_owned),
                parameters,
                strict: o.bool("strict")?,
            },
            cache_control: None,
        });
    }
    Ok(out)
}

fn tool_choice(req: &Obj<'_>) -> Result<Option<ToolChoice>, TranslateError> {
    match req.get("tool_choice") {
        None => Ok(None),
        Some(Value::String(mode)) => match mode.as_str() {
            "auto" | "none" | "required" => Ok(Some(ToolChoice::Mode(mode.clone()))),
            other => Err(TranslateError::invalid_request(
                format!("invalid tool_choice `{other}`: expected auto, none or required"),
                Some("tool_choice"),
            )),
        },
        Some(Value::Object(map)) => {
            let o = Obj {
                map,
                path: "tool_choice".into(),
            };
            match o.req_str("type")? {
                "function" => Ok(Some(ToolChoice::Named(NamedToolChoice {
                    kind: "function".into(),
                    function: NamedFunction {
                        name: o.req_str("name")?.to_owned(),
                    },
                }))),
                other => Err(TranslateError::invalid_request(
                    format!("tool_choice of type `{other}` is only available on OpenAI targets"),
                    Some("tool_choice"),
                )),
            }
        }
        Some(_) => Err(wrong_type("tool_choice", "a string or an object")),
    }
}

fn response_format(req: &Obj<'_>) -> Result<Option<ResponseFormat>, TranslateError> {
    let Some(text) = req.obj("text")? else {
        return Ok(None);
    };
    let Some(format) = text.obj("format")? else {
        return Ok(None);
    };
    match format.req_str("type")? {
        "text" => Ok(None),
        "json_object" => Ok(Some(ResponseFormat::JsonObject)),
        "json_schema" => {
            let schema = match format.get("schema") {
                None => None,
                Some(v @ Value::Object(_)) => Some(v.clone()),
                Some(_) => return Err(wrong_type(&format.at("schema"), "an object")),
            };
            Ok(Some(ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: format.req_str("name")?.to_owned(),
                    description: format.str("description")?.map(str::to_owned),
                    schema,
                    strict: format.bool("strict")?,
                },
            }))
        }
        other => Err(TranslateError::invalid_request(
            format!(
                "invalid text.format type `{other}`: expected text, json_object or json_schema"
            ),
            Some("text.format.type"),
        )),
    }
}

/// A JSON object and its path in the request, for typed reads that name the field on error.
/// `null` members read as absent.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, TranslateError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(&self.at(key), "a string")),
        }
    }

    fn req_str(&self, key: &str) -> Result<&'a str, TranslateError> {
        self.str(key)?.ok_or_else(|| missing(&self.at(key)))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, TranslateError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(&self.at(key), "a boolean")),
        }
    }

    fn f64(&self, key: &str) -> Result<Option<f64>, TranslateError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.at(key), "a number")),
        }
    }

    fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, TranslateError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj {
                map,
                path: self.at(key),
            })),
            Some(_) => Err(wrong_type(&self.at(key), "an object")),
        }
    }
}

fn item_reference(path: &str) -> TranslateError {
    TranslateError::invalid_request(
        "item references are not supported on this target; send the items themselves or use previous_response_id",
        Some(path),
    )
}

fn missing(param: &str) -> TranslateError {
    TranslateError::invalid_request(
        format!("missing required parameter: '{param}'"),
        Some(param),
    )
}

fn wrong_type(param: &str, expected: &str) -> TranslateError {
    TranslateError::invalid_request(
        format!("invalid type for '{param}': expected {expected}"),
        Some(param),
    )
}
