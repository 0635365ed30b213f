//! Anthropic `message` response -> OpenAI `chat.completion`.

use serde::Deserialize;
use serde_json::Value;
use switchyard_types::chat::{
    ChatResponse, FinishReason, FunctionCall, PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};

use super::error::upstream_error;
use super::request::JSON_TOOL_NAME;
use crate::native::{TranslateError, WireContext};

/// Anthropic `usage`. Every field is optional: stream events carry partial, cumulative counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub(super) struct AnthropicUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Takes every count `newer` reports (stream counts are cumulative, so later wins).
    pub fn merge(&mut self, newer: &AnthropicUsage) {
        self.input_tokens = newer.input_tokens.or(self.input_tokens);
        self.output_tokens = newer.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = newer
            .cache_creation_input_tokens
            .or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = newer
            .cache_read_input_tokens
            .or(self.cache_read_input_tokens);
    }

    /// OpenAI usage: `prompt_tokens` counts every input token (uncached + cache reads + cache
    /// writes, which Anthropic reports separately); cache reads are `cached_tokens`.
    pub fn to_openai(self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0);
        let prompt = self
            .input_tokens
            .unwrap_or(0)
            .saturating_add(cached)
            .saturating_add(self.cache_creation_input_tokens.unwrap_or(0));
        let mut usage = Usage::new(prompt, self.output_tokens.unwrap_or(0));
        usage.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: cached,
        });
        usage
    }
}

/// Anthropic `stop_reason` -> OpenAI `finish_reason`. `tool_use` is `tool_calls` only when the
/// client sees tool calls (a call to the JSON-mode tool is ordinary content).
pub(super) fn finish_reason(
    stop_reason: Option<&str>,
    has_tool_calls: bool,
) -> Option<FinishReason> {
    Some(match stop_reason? {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" if has_tool_calls => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn, tool_use without client tool calls, and any
        // reason added later.
        _ => FinishReason::Stop,
    })
}

#[derive(Debug, Deserialize)]
struct MessageBody {
    id: String,
    #[serde(default)]
    content: Vec<Value>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// redacted_thinking, server tool blocks, …: nothing OpenAI chat can carry.
    #[serde(other)]
    Other,
}

/// Serialises a tool input object as OpenAI's `arguments` string.
pub(super) fn arguments_string(input: &Value) -> String {
    match input {
        Value::Null => "{}".to_owned(),
        v => v.to_string(),
    }
}

pub(super) fn translate(body: &[u8], cx: &WireContext<'_>) -> Result<ChatResponse, TranslateError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::InvalidResponse(format!("Anthropic response is not JSON: {e}"))
    })?;
    match value.get("type").and_then(Value::as_str) {
        Some("message") => {}
        Some("error") => return Err(upstream_error(&value)),
        other => {
            return Err(TranslateError::InvalidResponse(format!(
                "expected an Anthropic message, got type {other:?}"
            )))
        }
    }
    let msg: MessageBody = serde_json::from_value(value).map_err(|e| {
        TranslateError::InvalidResponse(format!("malformed Anthropic message: {e}"))
    })?;

    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    // Portkey's `content_blocks` (non-strict only): every block but tool_use, as received; the
    // JSON-mode tool's answer is a text block, as it is text to the client.
    let mut native = Vec::new();
    for raw in msg.content {
        let block = serde_json::from_value::<Block>(raw.clone()).map_err(|e| {
            TranslateError::InvalidResponse(format!("malformed Anthropic content block: {e}"))
        })?;
        match block {
            Block::ToolUse { name, input, .. } if name == JSON_TOOL_NAME => {
                let json = arguments_string(&input);
                native.push(serde_json::json!({ "type": "text", "text": json }));
                text.push_str(&json);
                continue;
            }
            Block::ToolUse { .. } => {}
            _ => native.push(raw),
        }
        match block {
            Block::Text { text: t } => text.push_str(&t),
            Block::Thinking { thinking } => reasoning.push_str(&thinking),
            Block::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                kind: "function".into(),
                function: FunctionCall {
                    thought_signature: None,
                    name,
                    arguments: arguments_string(&input),
                },
            }),
            Block::Other => {}
        }
    }
    let has_tool_calls = !tool_calls.is_empty();
    let id = if msg.id.is_empty() {
        cx.response_id.to_owned()
    } else {
        msg.id
    };
    let mut message = ResponseMessage::assistant(text, tool_calls);
    if !cx.strict {
        message.reasoning_content = (!reasoning.is_empty()).then_some(reasoning);
        message.content_blocks = Some(native);
    }
    Ok(ChatResponse::single(
        id,
        cx.created,
        cx.model.to_owned(),
        message,
        finish_reason(msg.stop_reason.as_deref(), has_tool_calls),
        msg.usage.map(AnthropicUsage::to_openai),
    ))
}
