//! Chat response -> Response object, and the pieces the stream encoder shares.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{ChatResponse, FinishReason, Usage};

use super::{call_item_id, message_id, reasoning_id, Echo};
use crate::native::TranslateError;

/// The Response object (`"object": "response"`) for a chat completion. Only choice 0 is read.
pub fn response_from_chat(
    resp: &ChatResponse,
    echo: &Echo,
    id: &str,
    created_at: u64,
) -> Result<Value, TranslateError> {
    let choice = resp
        .choices
        .iter()
        .find(|c| c.index == 0)
        .or_else(|| resp.choices.first())
        .ok_or_else(|| {
            TranslateError::InvalidResponse("the chat response has no choices".into())
        })?;
    let (status, reason) = finish_status(choice.finish_reason);
    let msg = &choice.message;
    let text = msg.content.as_deref().unwrap_or("");
    let refusal = msg.refusal.as_deref().filter(|r| !r.is_empty());
    let mut output = Vec::new();
    if let Some(r) = msg.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        output.push(reasoning_item(&reasoning_id(id, 0), r, "completed"));
    }
    if !text.is_empty() || refusal.is_some() {
        let mut content = Vec::new();
        if !text.is_empty() {
            content.push(text_part(text));
        }
        if let Some(r) = refusal {
            content.push(json!({"type": "refusal", "refusal": r}));
        }
        output.push(message_item(&message_id(id, 0), content, "completed"));
    }
    for (n, call) in msg.tool_calls.iter().flatten().enumerate() {
        output.push(call_item(
            &call_item_id(id, n),
            &call.id,
            &call.function.name,
            &call.function.arguments,
            "completed",
        ));
    }
    if reason.is_some() {
        if let Some(last) = output.last_mut() {
            last["status"] = json!("incomplete");
        }
    }
    Ok(response_object(&Snapshot {
        echo,
        id,
        created_at,
        model: &resp.model,
        status,
        incomplete_reason: reason,
        output,
        usage: resp.usage.as_ref(),
        error: None,
    }))
}

/// The `output` items of a Response object (e.g. to keep as conversation history).
pub fn output_items(response: &Value) -> Vec<Value> {
    match response.get("output") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    }
}

/// A Response's `status` and `incomplete_details.reason` for a chat finish reason.
pub(crate) fn finish_status(finish: Option<FinishReason>) -> (&'static str, Option<&'static str>) {
    match finish {
        Some(FinishReason::Length) => ("incomplete", Some("max_output_tokens")),
        Some(FinishReason::ContentFilter) => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

/// An `output_text` content part.
pub(crate) fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `summary_text` part of a reasoning item.
pub(crate) fn summary_part(text: &str) -> Value {
    json!({"type": "summary_text", "text": text})
}

/// A `reasoning` output item: the model's reasoning text as its one summary part. There is no
/// `encrypted_content`: the reasoning of other providers cannot be handed back to OpenAI.
pub(crate) fn reasoning_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "reasoning",
        "summary": [summary_part(text)],
        "status": status,
    })
}

/// An assistant `message` output item.
pub(crate) fn message_item(id: &str, content: Vec<Value>, status: &str) -> Value {
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    })
}

/// A `function_call` output item.
pub(crate) fn call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
) -> Value {
    json!({
        "id": id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    })
}

/// A Response's `usage` (`null` when the provider reported none).
pub(crate) fn usage_json(usage: Option<&Usage>) -> Value {
    let Some(u) = usage else {
        return Value::Null;
    };
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .map_or(0, |d| d.cached_tokens);
    let reasoning = u
        .completion_tokens_details
        .as_ref()
        .map_or(0, |d| d.reasoning_tokens);
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": u.total_tokens,
    })
}

/// OpenAI's values for the echoed request fields a request left out.
pub(crate) fn echo_defaults() -> [(&'static str, Value); 15] {
    [
        ("model", Value::Null),
        ("instructions", Value::Null),
        ("tools", json!([])),
        ("tool_choice", json!("auto")),
        ("temperature", Value::Null),
        ("top_p", Value::Null),
        ("max_output_tokens", Value::Null),
        ("parallel_tool_calls", json!(true)),
        ("previous_response_id", Value::Null),
        ("store", json!(true)),
        ("text", json!({"format": {"type": "text"}})),
        ("metadata", json!({})),
        ("user", Value::Null),
        ("reasoning", Value::Null),
        ("truncation", json!("disabled")),
    ]
}

/// Everything a Response object is made of.
pub(crate) struct Snapshot<'a> {
    pub echo: &'a Echo,
    pub id: &'a str,
    pub created_at: u64,
    /// The model that answered; the request's model when empty.
    pub model: &'a str,
    pub status: &'a str,
    pub incomplete_reason: Option<&'a str>,
    pub output: Vec<Value>,
    pub usage: Option<&'a Usage>,
    /// `(code, message)` of a failed response.
    pub error: Option<(&'a str, &'a str)>,
}

/// The Response object.
pub(crate) fn response_object(s: &Snapshot<'_>) -> Value {
    let mut m = Map::new();
    for (key, default) in echo_defaults() {
        let value = s.echo.0.get(key).cloned().unwrap_or(default);
        m.insert(key.into(), value);
    }
    for (key, value) in &s.echo.0 {
        m.entry(key.clone()).or_insert_with(|| value.clone());
    }
    let model = if s.model.is_empty() {
        m.get("model")
            .cloned()
            .filter(Value::is_string)
            .unwrap_or(json!(""))
    } else {
        json!(s.model)
    };
    m.insert("model".into(), model);
    m.insert("id".into(), json!(s.id));
    m.insert("object".into(), json!("response"));
    m.insert("created_at".into(), json!(s.created_at));
    m.insert("status".into(), json!(s.status));
    m.insert(
        "error".into(),
        s.error.map_or(
            Value::Null,
            |(code, message)| json!({"code": code, "message": message}),
        ),
    );
    m.insert(
        "incomplete_details".into(),
        s.incomplete_reason
            .map_or(Value::Null, |r| json!({"reason": r})),
    );
    m.insert("output".into(), Value::Array(s.output.clone()));
    m.insert("usage".into(), usage_json(s.usage));
    Value::Object(m)
}
