//! OpenAI chat and embeddings requests -> Workers AI model inputs
//! (<https://developers.cloudflare.com/workers-ai/models/>: text generation takes `messages`,
//! sampling options, `tools` and `response_format`; text embeddings take `text`).

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Role, ToolChoice,
};
use switchyard_types::embeddings::EmbeddingsRequest;

use super::invalid;
use crate::native::{insert_sampling, TranslateError, WireContext};

/// Workers AI inputs without an OpenAI equivalent, copied from the request's unknown members.
const PASSTHROUGH: &[&str] = &["top_k", "repetition_penalty", "raw", "lora"];

pub(super) fn chat_body(req: &ChatRequest, cx: &WireContext<'_>) -> Result<Value, TranslateError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Workers AI returns one generation per request; `n` greater than 1 is not supported",
            "n",
        ));
    }
    if req.stop.as_ref().is_some_and(|s| !s.to_vec().is_empty()) {
        return Err(invalid(
            "Workers AI text generation has no stop sequences; remove `stop`",
            "stop",
        ));
    }
    let mut body = Map::new();
    let messages = req
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(cx.stream));
    if let Some(m) = req.max_output_tokens() {
        body.insert("max_tokens".into(), json!(m));
    }
    insert_sampling(
        &mut body,
        req,
        [
            "temperature",
            "top_p",
            "frequency_penalty",
            "presence_penalty",
        ],
    );
    if let Some(seed) = req.seed {
        body.insert("seed".into(), json!(seed));
    }
    if let Some(tools) = req.tools.as_deref().filter(|t| !t.is_empty()) {
        let send = match &req.tool_choice {
            None => true,
            Some(ToolChoice::Mode(m)) if m == "auto" => true,
            Some(ToolChoice::Mode(m)) if m == "none" => false,
            Some(_) => {
                return Err(invalid(
                    "Workers AI lets the model choose its tools; only tool_choice `auto` or `none` is supported",
                    "tool_choice",
                ))
            }
        };
        if let Some(i) = tools.iter().position(|t| t.kind != "function") {
            return Err(invalid(
                "only function tools are supported on Workers AI",
                &format!("tools[{i}].type"),
            ));
        }
        if send {
            let tools: Vec<Value> = tools
                .iter()
                .map(|t| {
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
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        // Workers AI's `json_schema` is the schema itself, not OpenAI's `{name, schema}`.
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let schema = json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"}));
            body.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": schema}),
            );
        }
        Some(ResponseFormat::Text) | None => {}
    }
    for key in PASSTHROUGH {
        if let Some(v) = req.extra.get(*key) {
            body.insert((*key).into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// One OpenAI message -> a Workers AI `{role, content}` message (with the tool-call members of
/// assistant and tool turns). Content is text only.
fn message(m: &Message, i: usize) -> Result<Value, TranslateError> {
    let role = match m.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        Role::Function => {
            return Err(invalid(
                "legacy `function` role messages are not supported; use `tool` messages",
                &format!("messages[{i}].role"),
            ))
        }
    };
    if let Some(Content::Parts(parts)) = &m.content {
        if let Some(j) = parts
            .iter()
            .position(|p| !matches!(p, ContentPart::Text { .. }))
        {
            return Err(invalid(
                "only text content is supported on Workers AI",
                &format!("messages[{i}].content[{j}]"),
            ));
        }
    }
    let mut out = Map::new();
    out.insert("role".into(), json!(role));
    out.insert(
        "content".into(),
        json!(m
            .content
            .as_ref()
            .map(Content::joined_text)
            .unwrap_or_default()),
    );
    if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
        out.insert("tool_calls".into(), json!(calls));
    }
    if let Some(id) = &m.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
    }
    Ok(Value::Object(out))
}

pub(super) fn embeddings_body(req: &EmbeddingsRequest) -> Result<Value, TranslateError> {
    let texts = req.input.texts().ok_or_else(|| {
        invalid(
            "token-array inputs are not supported on Workers AI; send text",
            "input",
        )
    })?;
    if texts.is_empty() {
        return Err(invalid("input must not be empty", "input"));
    }
    let mut body = Map::new();
    body.insert("text".into(), json!(texts));
    if let Some(p) = req.extra.get("pooling") {
        body.insert("pooling".into(), p.clone());
    }
    Ok(Value::Object(body))
}
