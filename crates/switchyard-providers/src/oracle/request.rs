//! OpenAI chat requests -> OCI `ChatDetails` with a `GenericChatRequest` (`apiFormat: GENERIC`):
//! messages as `{role: SYSTEM|USER|ASSISTANT|TOOL, content: [{type: TEXT|IMAGE, …}]}`, function
//! tools as `{type: FUNCTION, name, description, parameters}`, assistant tool calls as
//! `toolCalls: [{id, type: FUNCTION, name, arguments}]`, tool results with `toolCallId`.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Role, ToolChoice,
};

use super::{invalid, option, COMPARTMENT_OPTION, SERVING_MODE_OPTION};
use crate::native::{insert_sampling, TranslateError, WireContext};

/// `ChatDetails`: `{compartmentId, servingMode, chatRequest}`.
pub(super) fn chat_details(
    req: &ChatRequest,
    cx: &WireContext<'_>,
) -> Result<Value, TranslateError> {
    let compartment = option(cx.options, COMPARTMENT_OPTION).ok_or_else(|| {
        invalid(
            "oracle needs oracle_compartment_id (the OCID of the compartment to bill)",
            COMPARTMENT_OPTION,
        )
    })?;
    if cx.model.trim().is_empty() {
        return Err(invalid("model must not be empty", "model"));
    }
    let mode = option(cx.options, SERVING_MODE_OPTION)
        .unwrap_or("ON_DEMAND")
        .to_ascii_uppercase();
    let serving = match mode.as_str() {
        "ON_DEMAND" => {
            // Cohere's chat models on OCI take the COHERE API format, which is not mapped.
            if cx.model.starts_with("cohere.") {
                return Err(invalid(
                    "Cohere models on OCI need the COHERE API format, which this gateway does not translate yet; use a GENERIC-format model (meta.*, xai.*, google.*, openai.*)",
                    "model",
                ));
            }
            json!({"servingType": "ON_DEMAND", "modelId": cx.model})
        }
        "DEDICATED" => json!({"servingType": "DEDICATED", "endpointId": cx.model}),
        _ => {
            return Err(invalid(
                "oracle_serving_mode must be ON_DEMAND or DEDICATED",
                SERVING_MODE_OPTION,
            ))
        }
    };
    Ok(json!({
        "compartmentId": compartment,
        "servingMode": serving,
        "chatRequest": generic_request(req, cx)?,
    }))
}

/// Members of the request OCI takes under another name, copied from its unknown members.
const PASSTHROUGH: &[(&str, &str)] = &[("top_k", "topK"), ("logit_bias", "logitBias")];

fn generic_request(req: &ChatRequest, cx: &WireContext<'_>) -> Result<Value, TranslateError> {
    let mut body = Map::new();
    body.insert("apiFormat".into(), json!("GENERIC"));
    let messages = req
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    body.insert("messages".into(), Value::Array(messages));
    if cx.stream {
        body.insert("isStream".into(), json!(true));
        // Usage arrives in a last event only when asked for; the gateway always wants it.
        body.insert("streamOptions".into(), json!({"isIncludeUsage": true}));
    }
    if let Some(m) = req.max_output_tokens() {
        body.insert("maxTokens".into(), json!(m));
    }
    insert_sampling(
        &mut body,
        req,
        ["temperature", "topP", "frequencyPenalty", "presencePenalty"],
    );
    if let Some(seed) = req.seed {
        body.insert("seed".into(), json!(seed));
    }
    if let Some(n) = req.n {
        body.insert("numGenerations".into(), json!(n));
    }
    if let Some(stop) = req
        .stop
        .as_ref()
        .map(|s| s.to_vec())
        .filter(|s| !s.is_empty())
    {
        body.insert("stop".into(), json!(stop));
    }
    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        let tools = tools
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if t.kind != "function" {
                    return Err(invalid(
                        "only function tools are supported on OCI Generative AI",
                        &format!("tools[{i}].type"),
                    ));
                }
                let mut f = Map::new();
                f.insert("type".into(), json!("FUNCTION"));
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
                Ok(Value::Object(f))
            })
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    match &req.tool_choice {
        None => {}
        Some(ToolChoice::Mode(m)) => {
            let kind = match m.as_str() {
                "auto" => "AUTO",
                "none" => "NONE",
                "required" => "REQUIRED",
                _ => {
                    return Err(invalid(
                        "tool_choice must be auto, none, required or a named function",
                        "tool_choice",
                    ))
                }
            };
            body.insert("toolChoice".into(), json!({"type": kind}));
        }
        Some(ToolChoice::Named(named)) => {
            body.insert(
                "toolChoice".into(),
                json!({"type": "FUNCTION", "name": named.function.name}),
            );
        }
    }
    if let Some(p) = req.parallel_tool_calls {
        body.insert("isParallelToolCalls".into(), json!(p));
    }
    match &req.response_format {
        None => {}
        Some(ResponseFormat::Text) => {
            body.insert("responseFormat".into(), json!({"type": "TEXT"}));
        }
        Some(ResponseFormat::JsonObject) => {
            body.insert("responseFormat".into(), json!({"type": "JSON_OBJECT"}));
        }
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let mut s = Map::new();
            s.insert("name".into(), json!(json_schema.name));
            if let Some(d) = &json_schema.description {
                s.insert("description".into(), json!(d));
            }
            if let Some(schema) = &json_schema.schema {
                s.insert("schema".into(), schema.clone());
            }
            if let Some(strict) = json_schema.strict {
                s.insert("isStrict".into(), json!(strict));
            }
            body.insert(
                "responseFormat".into(),
                json!({"type": "JSON_SCHEMA", "jsonSchema": s}),
            );
        }
    }
    if let Some(effort) = req.extra.get("reasoning_effort").and_then(Value::as_str) {
        body.insert("reasoningEffort".into(), json!(effort.to_ascii_uppercase()));
    }
    for (from, to) in PASSTHROUGH {
        if let Some(v) = req.extra.get(*from) {
            body.insert((*to).into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// One OpenAI message -> an OCI `Message`.
fn message(m: &Message, i: usize) -> Result<Value, TranslateError> {
    let role = match m.role {
        Role::System | Role::Developer => "SYSTEM",
        Role::User => "USER",
        Role::Assistant => "ASSISTANT",
        Role::Tool => "TOOL",
        Role::Function => {
            return Err(invalid(
                "legacy `function` role messages are not supported; use `tool` messages",
                &format!("messages[{i}].role"),
            ))
        }
    };
    let mut out = Map::new();
    out.insert("role".into(), json!(role));
    let content = match &m.content {
        None => Vec::new(),
        Some(Content::Text(t)) if t.is_empty() => Vec::new(),
        Some(Content::Text(t)) => vec![json!({"type": "TEXT", "text": t})],
        Some(Content::Parts(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| part(p, m.role, i, j))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if !content.is_empty() {
        out.insert("content".into(), Value::Array(content));
    }
    if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
        let calls: Vec<Value> = calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "FUNCTION", "name": c.function.name,
                       "arguments": c.function.arguments})
            })
            .collect();
        out.insert("toolCalls".into(), Value::Array(calls));
    }
    if m.role == Role::Tool {
        let id = m.tool_call_id.as_deref().ok_or_else(|| {
            invalid(
                "tool messages need tool_call_id",
                &format!("messages[{i}].tool_call_id"),
            )
        })?;
        out.insert("toolCallId".into(), json!(id));
    }
    Ok(Value::Object(out))
}

/// One content part: text, or an image (by URL or `data:` URL) in a user message.
fn part(p: &ContentPart, role: Role, i: usize, j: usize) -> Result<Value, TranslateError> {
    match p {
        ContentPart::Text { text, .. } => Ok(json!({"type": "TEXT", "text": text})),
        ContentPart::ImageUrl { image_url, .. } if role == Role::User => {
            let mut url = Map::new();
            url.insert("url".into(), json!(image_url.url));
            if let Some(d) = &image_url.detail {
                url.insert("detail".into(), json!(d.to_ascii_uppercase()));
            }
            Ok(json!({"type": "IMAGE", "imageUrl": url}))
        }
        ContentPart::ImageUrl { .. } => Err(invalid(
            "images are supported in user messages only",
            &format!("messages[{i}].content[{j}]"),
        )),
        _ => Err(invalid(
            "only text and image content is supported on OCI Generative AI",
            &format!("messages[{i}].content[{j}]"),
        )),
    }
}
