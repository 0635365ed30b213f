//! Workers AI REST envelopes (`{"result": …, "success": …, "errors": [{code, message}]}`) ->
//! OpenAI chat completions, embeddings and errors.

use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, FinishReason, FunctionCall, ResponseMessage, ToolCall, Usage,
};
use switchyard_types::embeddings::EmbeddingsResponse;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{TranslateError, WireContext};

fn bad(what: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidResponse(format!("Workers AI: {what}"))
}

fn count(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_f64)
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.round() as u64)
}

/// `usage: {prompt_tokens, completion_tokens, total_tokens}`, when the model reports it.
pub(super) fn usage(v: &Value) -> Option<Usage> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    Some(Usage::new(
        count(u.get("prompt_tokens")).unwrap_or(0),
        count(u.get("completion_tokens")).unwrap_or(0),
    ))
}

/// The `errors` of a Cloudflare envelope as one message (`Error 7003: …, Error …`), if any.
fn errors_message(v: &Value) -> Option<String> {
    let list = v.get("errors")?.as_array()?;
    let parts: Vec<String> = list
        .iter()
        .filter_map(|e| {
            let msg = e.get("message").and_then(Value::as_str)?;
            Some(match e.get("code").filter(|c| !c.is_null()) {
                Some(Value::String(c)) => format!("Error {c}: {msg}"),
                Some(c) => format!("Error {c}: {msg}"),
                None => msg.to_owned(),
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The `result` of a successful envelope; an envelope with `success: false` is the error it
/// reports.
fn result(v: &Value) -> Result<&Value, TranslateError> {
    if v.get("success") == Some(&Value::Bool(false)) {
        let message = errors_message(v).unwrap_or_else(|| "Workers AI reported a failure".into());
        return Err(TranslateError::Upstream {
            status: 502,
            error: ErrorEnvelope::new(ErrorKind::ApiError, message),
        });
    }
    v.get("result")
        .filter(|r| r.is_object())
        .ok_or_else(|| bad("no `result` object"))
}

/// The generated text: a string, or (JSON mode) the object the model produced, as JSON text.
pub(super) fn response_text(v: &Value) -> String {
    match v.get("response") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Workers AI tool calls (`{id?, type?, function: {name, arguments}}`, or the older
/// `{name, arguments}`), with arguments as an object or a string -> OpenAI tool calls.
pub(super) fn tool_calls(v: &Value, id_prefix: &str) -> Vec<ToolCall> {
    let Some(list) = v.get("tool_calls").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let f = c.get("function").unwrap_or(c);
            let arguments = match f.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => "{}".to_owned(),
                Some(other) => other.to_string(),
            };
            ToolCall {
                id: c
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map_or_else(|| format!("{id_prefix}_call_{i}"), str::to_owned),
                kind: "function".into(),
                function: FunctionCall {
                    thought_signature: None,
                    name: f
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments,
                },
            }
        })
        .collect()
}

pub(super) fn chat_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ChatResponse, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(bad)?;
    let r = result(&v)?;
    let calls = tool_calls(r, cx.response_id);
    let finish = if calls.is_empty() {
        FinishReason::Stop
    } else {
        FinishReason::ToolCalls
    };
    Ok(ChatResponse::single(
        cx.response_id.to_owned(),
        cx.created,
        cx.model.to_owned(),
        ResponseMessage::assistant(response_text(r), calls),
        Some(finish),
        usage(r),
    ))
}

pub(super) fn embeddings_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<EmbeddingsResponse, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(bad)?;
    let r = result(&v)?;
    let vectors = r
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("embeddings `result` has no `data`"))?
        .iter()
        .map(|row| {
            row.as_array()?
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("`result.data` is not arrays of numbers"))?;
    // Workers AI reports no token counts for embeddings.
    Ok(EmbeddingsResponse::from_vectors(cx.model, vectors, 0))
}

/// A non-2xx Cloudflare body (`{"errors": [{"code", "message"}], "success": false}`) -> OpenAI
/// error; the `type` follows the status.
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            errors_message(v).or_else(|| {
                v.pointer("/error/message")
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("Workers AI returned HTTP {status}")
            } else {
                raw.chars().take(1000).collect()
            }
        });
    ErrorEnvelope::new(ErrorKind::for_status(status), message)
}
