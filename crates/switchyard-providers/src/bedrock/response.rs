//! Bedrock `Converse` response, usage, stop reasons and errors -> OpenAI shapes.

use serde::Deserialize;
use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, FinishReason, FunctionCall, PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};

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
        let mut usage = Usage::new(
            self.input_tokens.saturating_add(read).saturating_add(write),
            self.output_tokens,
        );
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
    let mut reasoning = String::new();
    // Portkey's `content_blocks` (non-strict only), Anthropic-style: text, thinking with its
    // signature, redacted_thinking.
    let mut native = Vec::new();
    for block in &message.content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
            native.push(serde_json::json!({ "type": "text", "text": t }));
        } else if let Some(rc) = block.get("reasoningContent") {
            if let Some(rt) = rc.get("reasoningText") {
                let thought = rt.get("text").and_then(Value::as_str).unwrap_or_default();
                reasoning.push_str(thought);
                let mut b = serde_json::Map::new();
                b.insert("type".into(), "thinking".into());
                b.insert("thinking".into(), thought.into());
                if let Some(sig) = rt.get("signature").and_then(Value::as_str) {
                    b.insert("signature".into(), sig.into());
                }
                native.push(Value::Object(b));
            } else if let Some(data) = rc.get("redactedContent").and_then(Value::as_str) {
                native.push(serde_json::json!({ "type": "redacted_thinking", "data": data }));
            }
        } else if let Some(tu) = block.get("toolUse") {
            let name = tu.get("name").and_then(Value::as_str).unwrap_or_default();
            let input = tu
                .get("input")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            if name == JSON_TOOL_NAME {
                json_answer = true;
                text.push_str(&input.to_string());
                native.push(serde_json::json!({ "type": "text", "text": input.to_string() }));
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
                    thought_signature: None,
                    name: name.to_owned(),
                    arguments: input.to_string(),
                },
            });
        }
        // citationsContent, image, ... have no OpenAI counterpart: dropped.
    }
    let mut finish = finish_reason(&stop);
    if json_answer && finish == FinishReason::ToolCalls {
        finish = FinishReason::Stop;
    }
    let mut message = ResponseMessage::assistant(text, calls);
    if !cx.strict {
        message.reasoning_content = (!reasoning.is_empty()).then_some(reasoning);
        message.content_blocks = Some(native);
    }
    Ok(ChatResponse::single(
        cx.response_id.to_owned(),
        cx.created,
        cx.model.to_owned(),
        message,
        Some(finish),
        resp.usage.map(TokenUsage::to_openai),
    ))
}

// Errors (bodies and stream exception frames) are mapped in `super::error`.
pub(super) use super::error::stream_exception;
