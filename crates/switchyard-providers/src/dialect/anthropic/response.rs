//! OpenAI `chat.completion` -> Anthropic `message`, and OpenAI errors -> Anthropic errors.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{ChatResponse, FinishReason, ToolCall, Usage};
use switchyard_types::ErrorEnvelope;

use crate::native::TranslateError;

/// The error `type`s Anthropic documents.
const ANTHROPIC_ERROR_TYPES: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "timeout_error",
    "api_error",
    "overloaded_error",
];

/// The Anthropic error `type` for an HTTP status.
pub(super) fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        408 | 504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The envelope's `code` when it already is an Anthropic error type.
fn anthropic_code(error: &ErrorEnvelope) -> Option<&'static str> {
    let code = error.error.code.as_deref()?;
    ANTHROPIC_ERROR_TYPES.iter().copied().find(|t| *t == code)
}

/// The Anthropic error type for an error with a known status.
pub(super) fn error_type(status: u16, error: &ErrorEnvelope) -> &'static str {
    anthropic_code(error).unwrap_or_else(|| error_type_for_status(status))
}

/// The Anthropic error type for an error without a status (a failure mid-stream): the code if
/// it is an Anthropic type, else the OpenAI `type` (every OpenAI type but `server_error` has an
/// Anthropic namesake).
pub(super) fn error_type_without_status(error: &ErrorEnvelope) -> &'static str {
    anthropic_code(error).unwrap_or_else(|| {
        let kind = error.error.kind.as_str();
        ANTHROPIC_ERROR_TYPES
            .iter()
            .copied()
            .find(|t| *t == kind)
            .unwrap_or("api_error")
    })
}

/// `{"type":"error","error":{"type":..,"message":..}}`.
pub(super) fn error_json(kind: &str, error: &ErrorEnvelope) -> Value {
    json!({
        "type": "error",
        "error": {"type": kind, "message": error.error.message},
    })
}

pub(super) fn error_body(status: u16, error: &ErrorEnvelope) -> Vec<u8> {
    let v = error_json(error_type(status, error), error);
    serde_json::to_vec(&v).unwrap_or_else(|_| {
        br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec()
    })
}

/// OpenAI `finish_reason` -> Anthropic `stop_reason`. A stop (or a missing reason) after tool
/// calls is `tool_use`: some providers say `stop` when they call tools, and Anthropic clients
/// run tools on `tool_use`.
pub(super) fn stop_reason(finish: Option<FinishReason>, has_tool_calls: bool) -> &'static str {
    match finish {
        Some(FinishReason::Length) => "max_tokens",
        Some(FinishReason::ToolCalls | FinishReason::FunctionCall) => "tool_use",
        Some(FinishReason::ContentFilter) => "refusal",
        Some(FinishReason::Stop) | None if has_tool_calls => "tool_use",
        Some(FinishReason::Stop) | None => "end_turn",
    }
}

/// Anthropic's message id: kept when it already is one, else `msg_` + the chat id.
pub(super) fn message_id(chat_id: &str) -> String {
    if chat_id.starts_with("msg_") {
        chat_id.to_owned()
    } else {
        format!("msg_{chat_id}")
    }
}

/// The usage numbers Anthropic reports: `input_tokens` excludes cache reads, which are
/// `cache_read_input_tokens`. Returns (input, cache_read, output).
pub(super) fn usage_numbers(usage: &Usage) -> (u64, u64, u64) {
    let cached = usage
        .prompt_tokens_details
        .as_ref()
        .map_or(0, |d| d.cached_tokens);
    (
        usage.prompt_tokens.saturating_sub(cached),
        cached,
        usage.completion_tokens,
    )
}

/// A tool call's `arguments` as the `input` object: an empty string is `{}`, a JSON object is
/// itself, anything else (invalid or non-object JSON) is kept as `{"arguments": "<raw>"}`.
pub(super) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "arguments": arguments }),
    }
}

fn tool_use_block(call: &ToolCall, fallback_id: String) -> Value {
    let id = if call.id.is_empty() {
        fallback_id
    } else {
        call.id.clone()
    };
    json!({
        "type": "tool_use",
        "id": id,
        "name": call.function.name,
        "input": tool_input(&call.function.arguments),
    })
}

pub(super) fn response_from_chat(resp: &ChatResponse) -> Result<Vec<u8>, TranslateError> {
    let choice =
        resp.choices.iter().min_by_key(|c| c.index).ok_or_else(|| {
            TranslateError::InvalidResponse("chat response has no choices".into())
        })?;
    let msg = &choice.message;
    let mut content = Vec::new();
    // Non-Claude models have no signature to give; the SDKs accept an empty one.
    if let Some(thinking) = msg.reasoning_content.as_deref().filter(|t| !t.is_empty()) {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": ""}));
    }
    let text = msg
        .content
        .as_deref()
        .filter(|t| !t.is_empty())
        .or(msg.refusal.as_deref().filter(|t| !t.is_empty()));
    if let Some(text) = text {
        content.push(json!({"type": "text", "text": text}));
    }
    let calls = msg.tool_calls.as_deref().unwrap_or_default();
    for (i, call) in calls.iter().enumerate() {
        content.push(tool_use_block(call, format!("toolu_{}_{i}", resp.id)));
    }
    let refused = msg.content.as_deref().is_none_or(str::is_empty)
        && msg.refusal.as_deref().is_some_and(|r| !r.is_empty());
    let stop = if refused {
        "refusal"
    } else {
        stop_reason(choice.finish_reason, !calls.is_empty())
    };
    let (input, cached, output) = resp.usage.as_ref().map_or((0, 0, 0), usage_numbers);
    let body = json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": {
            "input_tokens": input,
            "output_tokens": output,
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0,
        },
    });
    serde_json::to_vec(&body)
        .map_err(|e| TranslateError::InvalidResponse(format!("cannot encode message: {e}")))
}
