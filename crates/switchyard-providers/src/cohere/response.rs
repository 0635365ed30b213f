//! Cohere v2 chat responses, usage, finish reasons and errors -> OpenAI shapes.

use serde::Deserialize;
use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, FinishReason, FunctionCall, PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{TranslateError, WireContext};

/// `usage` (<https://docs.cohere.com/reference/chat#response.body.usage>).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct CohereUsage {
    #[serde(default)]
    billed_units: Option<Units>,
    #[serde(default)]
    tokens: Option<Units>,
    #[serde(default)]
    cached_tokens: Option<f64>,
}

/// Counts are JSON numbers (the OpenAPI type is `number`, so `12.0` is possible).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Units {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

fn count(v: Option<f64>) -> Option<u64> {
    v.filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.round() as u64)
}

impl CohereUsage {
    /// OpenAI usage: the billed units (what the request is charged for) where Cohere reports
    /// them, else the raw token counts (which include Cohere's prompt template).
    pub(super) fn to_openai(&self) -> Usage {
        let pick = |f: fn(&Units) -> Option<f64>| {
            self.billed_units
                .as_ref()
                .and_then(|u| count(f(u)))
                .or_else(|| self.tokens.as_ref().and_then(|u| count(f(u))))
                .unwrap_or(0)
        };
        let mut usage = Usage::new(pick(|u| u.input_tokens), pick(|u| u.output_tokens));
        if let Some(cached) = count(self.cached_tokens) {
            // Cached tokens are part of the prompt; never report more than the prompt count.
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: cached.min(usage.prompt_tokens),
            });
        }
        usage
    }
}

/// Cohere `finish_reason` -> OpenAI, or the error a failed generation is.
pub(super) fn finish_reason(
    reason: &str,
    error: Option<&str>,
) -> Result<FinishReason, TranslateError> {
    let upstream = |status: u16, default: &str| TranslateError::Upstream {
        status,
        error: ErrorEnvelope::new(
            ErrorKind::for_status(status),
            error.filter(|e| !e.is_empty()).unwrap_or(default),
        )
        .with_code(reason),
    };
    match reason.to_ascii_uppercase().as_str() {
        "MAX_TOKENS" | "ERROR_LIMIT" => Ok(FinishReason::Length),
        "TOOL_CALL" => Ok(FinishReason::ToolCalls),
        "ERROR_TOXIC" | "CONTENT_BLOCKED" => Ok(FinishReason::ContentFilter),
        "ERROR" => Err(upstream(500, "Cohere reported an error during generation")),
        "TIMEOUT" => Err(upstream(504, "Cohere timed out during generation")),
        // COMPLETE, STOP_SEQUENCE, USER_CANCEL and anything newer.
        _ => Ok(FinishReason::Stop),
    }
}

#[derive(Deserialize)]
struct ChatBody {
    id: Option<String>,
    finish_reason: Option<String>,
    message: Option<AssistantMessage>,
    usage: Option<CohereUsage>,
}

#[derive(Deserialize)]
struct AssistantMessage {
    #[serde(default)]
    content: Option<Vec<Value>>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<CohereToolCall>>,
}

#[derive(Deserialize)]
struct CohereToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<CohereFunction>,
}

#[derive(Deserialize)]
struct CohereFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

pub(super) fn chat_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ChatResponse, TranslateError> {
    let resp: ChatBody = serde_json::from_slice(body)
        .map_err(|e| TranslateError::InvalidResponse(format!("Cohere chat response: {e}")))?;
    let message = resp
        .message
        .ok_or_else(|| TranslateError::InvalidResponse("Cohere response has no message".into()))?;
    let finish = finish_reason(resp.finish_reason.as_deref().unwrap_or("COMPLETE"), None)?;

    let mut text: String = message
        .content
        .iter()
        .flatten()
        .filter(|c| c.get("type").and_then(Value::as_str).unwrap_or("text") == "text")
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect();
    let calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .flatten()
        .map(|c| {
            let f = c.function.unwrap_or(CohereFunction {
                name: None,
                arguments: None,
            });
            ToolCall {
                id: c.id.unwrap_or_default(),
                kind: "function".into(),
                function: FunctionCall {
                    thought_signature: None,
                    name: f.name.unwrap_or_default(),
                    arguments: f.arguments.unwrap_or_else(|| "{}".into()),
                },
            }
        })
        .collect();
    if text.is_empty() {
        text = message.tool_plan.unwrap_or_default();
    }
    let id = resp
        .id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cx.response_id.to_owned());
    Ok(ChatResponse::single(
        id,
        cx.created,
        cx.model.to_owned(),
        ResponseMessage::assistant(text, calls),
        Some(finish),
        resp.usage.as_ref().map(CohereUsage::to_openai),
    ))
}

/// A non-2xx Cohere body (`{"id": "..", "message": ".."}`) -> OpenAI error. The `type` follows
/// the status; Cohere's 498 (invalid token) is an authentication error.
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    let kind = match status {
        498 => ErrorKind::AuthenticationError,
        499 => ErrorKind::ApiError,
        s => ErrorKind::for_status(s),
    };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.pointer("/error/message"))
                .and_then(Value::as_str)
        })
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("Cohere returned HTTP {status}")
            } else {
                raw.chars().take(1000).collect()
            }
        });
    ErrorEnvelope::new(kind, message)
}
