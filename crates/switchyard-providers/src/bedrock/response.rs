//! Bedrock `Converse` response, usage, stop reasons and errors -> OpenAI shapes.

use serde::Deserialize;
use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, FinishReason, FunctionCall, PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::request::JSON_TOOL_NAME;
use crate::native::{TranslateError, WireContext};

/// `TokenUsage` (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html>).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    /// OpenAI usage. Bedrock's `inputTokens` excludes tokens read from or written to the prompt
    /// cache, while OpenAI's `prompt_tokens` includes cached tokens, so both cache counts are
    /// added; `cached_tokens` is the cache-read count.
    pub(super) fn to_openai(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let write = self.cache_write_input_tokens.unwrap_or(0);
        let mut usage = Usage::new(self.input_tokens + read + write, self.output_tokens);
        if self.cache_read_input_tokens.is_some() || self.cache_write_input_tokens.is_some() {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: read,
            });
        }
        usage
    }
}

/// Converse `stopReason` -> OpenAI `finish_reason`.
pub(super) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, and anything newer.
        _ => FinishReason::Stop,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    output: Option<ConverseOutput>,
    stop_reason: Option<String>,
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct ConverseOutput {
    message: Option<OutputMessage>,
}

#[derive(Deserialize)]
struct OutputMessage {
    #[serde(default)]
    content: Vec<Value>,
}

pub(super) fn chat_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ChatResponse, TranslateError> {
    let resp: ConverseResponse = serde_json::from_slice(body)
        .map_err(|e| TranslateError::InvalidResponse(format!("Converse response: {e}")))?;
    let message = resp.output.and_then(|o| o.message).ok_or_else(|| {
        TranslateError::InvalidResponse("Converse response has no output.message".into())
    })?;
    let stop = resp.stop_reason.ok_or_else(|| {
        TranslateError::InvalidResponse("Converse response has no stopReason".into())
    })?;

    let mut text = String::new();
    let mut calls = Vec::new();
    let mut json_answer = false;
    for block in &message.content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(tu) = block.get("toolUse") {
            let name = tu.get("name").and_then(Value::as_str).unwrap_or_default();
            let input = tu
                .get("input")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            if name == JSON_TOOL_NAME {
                json_answer = true;
                text.push_str(&input.to_string());
                continue;
            }
            calls.push(ToolCall {
                id: tu
                    .get("toolUseId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                kind: "function".into(),
                function: FunctionCall {
                    name: name.to_owned(),
                    arguments: input.to_string(),
                },
            });
        }
        // reasoningContent, citationsContent, image, ... have no OpenAI counterpart: dropped.
    }
    let mut finish = finish_reason(&stop);
    if json_answer && finish == FinishReason::ToolCalls {
        finish = FinishReason::Stop;
    }
    Ok(ChatResponse::single(
        cx.response_id.to_owned(),
        cx.created,
        cx.model.to_owned(),
        ResponseMessage::assistant(text, calls),
        Some(finish),
        resp.usage.map(TokenUsage::to_openai),
    ))
}

fn str_field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| v.get(*n).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// `x-amzn-ErrorType`-style names (`ValidationException:http://...`, `...#ThrottlingException`)
/// reduced to the bare exception name.
fn bare_type(t: &str) -> &str {
    let t = t.split(':').next().unwrap_or(t);
    t.rsplit('#').next().unwrap_or(t)
}

/// A non-2xx Bedrock body (`{"message": ".."}`, sometimes `Message`, sometimes with `__type`)
/// -> OpenAI error. The `type` follows the HTTP status; the AWS exception name, when the body
/// carries one, becomes `code`.
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    let kind = ErrorKind::for_status(status);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| str_field(v, &["message", "Message", "errorMessage"]).map(str::to_owned))
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("Bedrock returned HTTP {status}")
            } else {
                raw.chars().take(1000).collect()
            }
        });
    let mut env = ErrorEnvelope::new(kind, message);
    if let Some(t) = parsed
        .as_ref()
        .and_then(|v| str_field(v, &["__type", "code"]))
    {
        env = env.with_code(bare_type(t));
    }
    env
}

/// The HTTP status and OpenAI kind for a ConverseStream exception event
/// (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html>).
fn exception_status(exception: &str) -> u16 {
    let e = exception.to_ascii_lowercase();
    let e = e.strip_suffix("exception").unwrap_or(&e);
    match e {
        "throttling" | "modelnotready" | "servicequotaexceeded" => 429,
        "validation" => 400,
        "accessdenied" => 403,
        "resourcenotfound" => 404,
        "modeltimeout" => 408,
        "serviceunavailable" => 503,
        // internalServer, modelStreamError (AWS lists 424 for it, but to a client it is a
        // failure of the model mid-stream, i.e. a server error) and anything unknown.
        _ => 500,
    }
}

/// An exception frame -> `TranslateError::Upstream`.
pub(super) fn stream_exception(exception: &str, payload: &[u8]) -> TranslateError {
    let status = exception_status(exception);
    let v: Option<Value> = serde_json::from_slice(payload).ok();
    let mut message = v
        .as_ref()
        .and_then(|v| str_field(v, &["message", "Message"]))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Bedrock stream failed with {exception}"));
    if let Some(original) = v.as_ref().and_then(|v| str_field(v, &["originalMessage"])) {
        message = format!("{message}: {original}");
    }
    TranslateError::Upstream {
        status,
        error: ErrorEnvelope::new(ErrorKind::for_status(status), message).with_code(exception),
    }
}
