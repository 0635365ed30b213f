//! OCI `ChatResult` (`{modelId, modelVersion, chatResponse: {apiFormat: GENERIC, timeCreated,
//! choices: [{index, message, finishReason}], usage}}`) -> OpenAI chat completions, and OCI
//! error bodies (`{"code": "...", "message": "..."}`) -> OpenAI errors.

use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, Choice, CompletionTokensDetails, FinishReason, FunctionCall, PromptTokensDetails,
    ResponseMessage, ToolCall, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{TranslateError, WireContext};

fn bad(what: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidResponse(format!("OCI Generative AI: {what}"))
}

fn count(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_u64)
}

/// OCI `Usage` (`promptTokens`, `completionTokens`, cached and reasoning token details).
pub(super) fn usage(u: &Value) -> Option<Usage> {
    if !u.is_object() {
        return None;
    }
    let mut usage = Usage::new(
        count(u.get("promptTokens")).unwrap_or(0),
        count(u.get("completionTokens")).unwrap_or(0),
    );
    if let Some(total) = count(u.get("totalTokens")) {
        usage.total_tokens = total.max(usage.total_tokens);
    }
    if let Some(cached) = count(u.pointer("/promptTokensDetails/cachedTokens")) {
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: cached,
        });
    }
    if let Some(reasoning) = count(u.pointer("/completionTokensDetails/reasoningTokens")) {
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: reasoning,
        });
    }
    Some(usage)
}

/// OCI finish reasons (`stop`, `length`, `tool_calls`, … in either case; `COMPLETE`,
/// `MAX_TOKENS` from some models) -> OpenAI's.
pub(super) fn finish_reason(reason: &str) -> FinishReason {
    match reason.to_ascii_lowercase().as_str() {
        "length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "tool_call" => FinishReason::ToolCalls,
        "content_filter" | "error_toxic" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// The `TEXT` parts of an OCI message, concatenated.
pub(super) fn text(message: &Value) -> String {
    message
        .get("content")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| {
                    p.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "TEXT")
                })
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// The model's reasoning text, when it gives one (`reasoningContent`).
pub(super) fn reasoning(message: &Value) -> Option<String> {
    message
        .get("reasoningContent")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// One OCI tool call (`{id, type: FUNCTION, name, arguments}`, or with the name and arguments
/// under `function`): (id, name, arguments as JSON text).
pub(super) fn call_parts(c: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let f = c.get("function").filter(|f| f.is_object()).unwrap_or(c);
    let id = c
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let arguments = match f.get("arguments") {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(other) => Some(other.to_string()),
    };
    (id, name, arguments)
}

fn tool_calls(message: &Value, id_prefix: &str) -> Vec<ToolCall> {
    let Some(list) = message.get("toolCalls").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let (id, name, arguments) = call_parts(c);
            ToolCall {
                id: id.unwrap_or_else(|| format!("{id_prefix}_call_{i}")),
                kind: "function".into(),
                function: FunctionCall::new(
                    name.unwrap_or_default(),
                    arguments.unwrap_or_else(|| "{}".into()),
                ),
            }
        })
        .collect()
}

pub(super) fn chat_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ChatResponse, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(bad)?;
    let r = v
        .get("chatResponse")
        .filter(|r| r.is_object())
        .ok_or_else(|| bad("no `chatResponse` object"))?;
    let list = r
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("`chatResponse` has no `choices` (only the GENERIC format is read)"))?;
    let mut choices = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let index = c
            .get("index")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .or_else(|| u32::try_from(i).ok())
            .unwrap_or(0);
        let empty = Value::Null;
        let m = c.get("message").unwrap_or(&empty);
        let calls = tool_calls(m, &format!("{}_{index}", cx.response_id));
        let finish = match c.get("finishReason").and_then(Value::as_str) {
            Some(r) => finish_reason(r),
            None if !calls.is_empty() => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        let finish = if finish == FinishReason::Stop && !calls.is_empty() {
            FinishReason::ToolCalls
        } else {
            finish
        };
        let mut message = ResponseMessage::assistant(text(m), calls);
        if !cx.strict {
            message.reasoning_content = reasoning(m);
        }
        choices.push(Choice {
            index,
            message,
            finish_reason: Some(finish),
            logprobs: None,
        });
    }
    if choices.is_empty() {
        return Err(bad("`chatResponse.choices` is empty"));
    }
    Ok(ChatResponse {
        id: cx.response_id.to_owned(),
        object: "chat.completion".into(),
        created: cx.created,
        model: cx.model.to_owned(),
        choices,
        usage: r.get("usage").and_then(usage),
        system_fingerprint: None,
    })
}

/// A non-2xx OCI body (`{"code": "NotAuthenticated", "message": "..."}`) -> OpenAI error: the
/// `type` follows the status, OCI's `code` is the `code`.
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let message = field("message").unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        if raw.is_empty() {
            format!("OCI Generative AI returned HTTP {status}")
        } else {
            raw.chars().take(1000).collect()
        }
    });
    let error = ErrorEnvelope::new(ErrorKind::for_status(status), message);
    match field("code") {
        Some(code) => error.with_code(code),
        None => error,
    }
}
