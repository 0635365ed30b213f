//! OpenAI chat request -> Cohere v2 `POST /v2/chat` body
//! (<https://docs.cohere.com/reference/chat>).

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Role, Tool, ToolChoice,
};

use crate::native::{insert_sampling, TranslateError, WireContext};

/// Cohere-only members copied verbatim from the OpenAI body's unknown fields.
const PASSTHROUGH: &[&str] = &[
    "documents",
    "citation_options",
    "safety_mode",
    "thinking",
    "k",
];

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

pub(super) fn chat_body(req: &ChatRequest, cx: &WireContext<'_>) -> Result<Value, TranslateError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Cohere returns one generation per chat request; `n` greater than 1 is not supported",
            "n",
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(cx.model));
    body.insert("stream".into(), json!(cx.stream));
    let messages = req
        .messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| convert_message(m, i).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    body.insert("messages".into(), Value::Array(messages));

    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        let (tools, choice) = tools_and_choice(tools, req.tool_choice.as_ref())?;
        if tools.iter().any(|t| t.function.strict == Some(true)) {
            body.insert("strict_tools".into(), json!(true));
        }
        body.insert(
            "tools".into(),
            Value::Array(tools.iter().map(|t| tool(t)).collect()),
        );
        if let Some(c) = choice {
            body.insert("tool_choice".into(), json!(c));
        }
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let mut rf = Map::new();
            rf.insert("type".into(), json!("json_object"));
            if let Some(schema) = &json_schema.schema {
                rf.insert("json_schema".into(), schema.clone());
            }
            body.insert("response_format".into(), Value::Object(rf));
        }
        Some(ResponseFormat::Text) | None => {}
    }
    insert_sampling(
        &mut body,
        req,
        ["temperature", "p", "frequency_penalty", "presence_penalty"],
    );
    if let Some(m) = req.max_output_tokens() {
        body.insert("max_tokens".into(), json!(m));
    }
    if let Some(stop) = &req.stop {
        let stop = stop.to_vec();
        if !stop.is_empty() {
            body.insert("stop_sequences".into(), json!(stop));
        }
    }
    if let Some(seed) = req.seed {
        body.insert("seed".into(), json!(seed));
    }
    if let Some(k) = req.extra.get("top_k") {
        body.insert("k".into(), k.clone());
    }
    for key in PASSTHROUGH {
        if let Some(v) = req.extra.get(*key) {
            body.insert((*key).into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

fn text_only(content: Option<&Content>, i: usize, role: &str) -> Result<String, TranslateError> {
    if let Some(Content::Parts(parts)) = content {
        if let Some(j) = parts
            .iter()
            .position(|p| !matches!(p, ContentPart::Text { .. }))
        {
            return Err(invalid(
                format!("{role} messages may only contain text parts on Cohere"),
                &format!("messages[{i}].content[{j}]"),
            ));
        }
    }
    Ok(content.map(Content::joined_text).unwrap_or_default())
}

/// One OpenAI message -> one Cohere message (`None` for an assistant turn with nothing in it).
fn convert_message(m: &Message, i: usize) -> Result<Option<Value>, TranslateError> {
    match m.role {
        Role::System | Role::Developer => Ok(Some(json!({
            "role": "system",
            "content": text_only(m.content.as_ref(), i, "system")?,
        }))),
        Role::User => Ok(Some(json!({
            "role": "user",
            "content": user_content(m.content.as_ref(), i)?,
        }))),
        Role::Assistant => {
            let text = text_only(m.content.as_ref(), i, "assistant")?;
            let calls = m.tool_calls.as_deref().unwrap_or_default();
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            if calls.is_empty() {
                if text.is_empty() {
                    return Ok(None);
                }
                out.insert("content".into(), json!(text));
            } else {
                // Text next to tool calls is Cohere's `tool_plan` (see the response side).
                if !text.is_empty() {
                    out.insert("tool_plan".into(), json!(text));
                }
                let calls: Vec<Value> = calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.function.name, "arguments": c.function.arguments},
                        })
                    })
                    .collect();
                out.insert("tool_calls".into(), Value::Array(calls));
            }
            Ok(Some(Value::Object(out)))
        }
        Role::Tool => {
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
            Ok(Some(json!({
                "role": "tool",
                "tool_call_id": id,
                "content": text_only(m.content.as_ref(), i, "tool")?,
            })))
        }
        Role::Function => Err(invalid(
            "legacy `function` role messages are not supported; use `tool` messages",
            &format!("messages[{i}].role"),
        )),
    }
}

fn user_content(content: Option<&Content>, i: usize) -> Result<Value, TranslateError> {
    match content {
        None => Ok(json!("")),
        Some(Content::Text(t)) => Ok(json!(t)),
        Some(Content::Parts(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| match p {
                ContentPart::Text { text, .. } => Ok(json!({"type": "text", "text": text})),
                ContentPart::ImageUrl { image_url, .. } => {
                    let mut img = Map::new();
                    img.insert("url".into(), json!(image_url.url));
                    if let Some(d) = &image_url.detail {
                        img.insert("detail".into(), json!(d));
                    }
                    Ok(json!({"type": "image_url", "image_url": img}))
                }
                _ => Err(invalid(
                    "only text and image_url content parts are supported on Cohere",
                    &format!("messages[{i}].content[{j}]"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
    }
}

fn tool(t: &Tool) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), json!(t.function.name));
    if let Some(d) = &t.function.description {
        f.insert("description".into(), json!(d));
    }
    f.insert(
        "parameters".into(),
        t.function
            .parameters
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
    );
    json!({"type": "function", "function": f})
}

/// The tools to send and Cohere's `tool_choice` (`REQUIRED` / `NONE`; absent means auto). A
/// named choice has no Cohere equivalent, so it is expressed as "only that tool, and required".
fn tools_and_choice<'a>(
    tools: &'a [Tool],
    choice: Option<&ToolChoice>,
) -> Result<(Vec<&'a Tool>, Option<&'static str>), TranslateError> {
    if let Some(i) = tools.iter().position(|t| t.kind != "function") {
        return Err(invalid(
            format!(
                "tool type {:?} is not supported; only function tools",
                tools[i].kind
            ),
            &format!("tools[{i}].type"),
        ));
    }
    let all: Vec<&Tool> = tools.iter().collect();
    match choice {
        None => Ok((all, None)),
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => Ok((all, None)),
            "required" => Ok((all, Some("REQUIRED"))),
            "none" => Ok((all, Some("NONE"))),
            other => Err(invalid(
                format!("unknown tool_choice {other:?}"),
                "tool_choice",
            )),
        },
        Some(ToolChoice::Named(named)) => {
            let only: Vec<&Tool> = tools
                .iter()
                .filter(|t| t.function.name == named.function.name)
                .collect();
            if only.is_empty() {
                return Err(invalid(
                    format!(
                        "tool_choice names {:?}, which is not in tools",
                        named.function.name
                    ),
                    "tool_choice",
                ));
            }
            Ok((only, Some("REQUIRED")))
        }
    }
}
