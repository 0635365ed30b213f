//! Typed OpenAI chat-completions shapes, for translation to and from other providers' formats.
//!
//! OpenAI-compatible traffic never goes through these types (it passes through as bytes). Fields
//! a translator does not know land in `extra`, so nothing a client sent is lost on the way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /v1/chat/completions` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Every other member, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// `max_completion_tokens` if set, else the legacy `max_tokens`.
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|s| s.include_usage)
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

/// The author of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    #[default]
    Assistant,
    Tool,
    Function,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Portkey's provider-native content blocks of an assistant turn (Anthropic `thinking`
    /// and `redacted_thinking` blocks with their signatures, as a non-strict answer returned
    /// them): sent back so multi-turn tool use with extended thinking works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_blocks: Option<Vec<Value>>,
    /// Anthropic prompt caching on a message whose content is a string (Portkey's form):
    /// `{"type": "ephemeral"}` on the message's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: Some(Content::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            refusal: None,
            content_blocks: None,
            cache_control: None,
        }
    }
}

/// Message content: a plain string or an array of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl Content {
    /// The text parts joined with `\n` (images and other parts skipped).
    pub fn joined_text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `cache_control` (Anthropic prompt caching, as Portkey accepts it on OpenAI parts) is
    /// kept for providers that cache prompts; OpenAI-compatible hosts get the client's bytes.
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    ImageUrl {
        image_url: ImageUrl,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    InputAudio {
        input_audio: Value,
    },
    File {
        file: Value,
    },
    #[serde(untagged)]
    Other(Value),
}

impl ContentPart {
    /// A text part without `cache_control`.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// An image part without `cache_control`.
    pub fn image(image_url: ImageUrl) -> Self {
        ContentPart::ImageUrl {
            image_url,
            cache_control: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A parsed `data:` URL (`data:<mime>;base64,<payload>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUrl<'a> {
    pub mime_type: &'a str,
    pub base64_data: &'a str,
}

impl ImageUrl {
    /// The image as inline base64 data, when the URL is a base64 `data:` URL.
    pub fn as_data_url(&self) -> Option<DataUrl<'_>> {
        let rest = self.url.strip_prefix("data:")?;
        let (meta, data) = rest.split_once(',')?;
        let mime = meta.strip_suffix(";base64")?;
        Some(DataUrl {
            mime_type: if mime.is_empty() { "image/png" } else { mime },
            base64_data: data,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionDef,
    /// Anthropic prompt caching on a tool definition (Portkey's form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`: `"none" | "auto" | "required"` or `{"type":"function","function":{"name":..}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(String),
    Named(NamedToolChoice),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: NamedFunction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedFunction {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// JSON-encoded arguments, as OpenAI sends them.
    pub arguments: String,
    /// Gemini's `thoughtSignature` of the call (Portkey's member): written when
    /// `strict_open_ai_compliance` is false, and sent back to Gemini on the next turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

impl FunctionCall {
    /// A call without a thought signature.
    pub fn new(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        FunctionCall {
            name: name.into(),
            arguments: arguments.into(),
            thought_signature: None,
        }
    }
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `chat.completion` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
}

impl ChatResponse {
    /// A `chat.completion` with one choice (index 0), as single-choice providers answer.
    pub fn single(
        id: String,
        created: u64,
        model: String,
        message: ResponseMessage,
        finish_reason: Option<FinishReason>,
        usage: Option<Usage>,
    ) -> Self {
        ChatResponse {
            id,
            object: "chat.completion".into(),
            created,
            model,
            choices: vec![Choice {
                index: 0,
                message,
                finish_reason,
                logprobs: None,
            }],
            usage,
            system_fingerprint: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    pub message: ResponseMessage,
    pub finish_reason: Option<FinishReason>,
    #[serde(default)]
    pub logprobs: Option<Value>,
}

/// Read through [`ResponseMessageWire`], which takes the reasoning under either name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ResponseMessageWire")]
pub struct ResponseMessage {
    pub role: Role,
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Always written, `null` when there is none: OpenAI's spec requires the member.
    #[serde(default)]
    pub refusal: Option<String>,
    /// The model's reasoning text. Read from `reasoning_content` (DeepSeek, vLLM, Together, …)
    /// or `reasoning` (Groq, OpenRouter, newer vLLM); written as `reasoning_content`, and only
    /// when there is some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Portkey's `content_blocks`: the provider's own content blocks (Anthropic `text`,
    /// `thinking` with its `signature`, `redacted_thinking`; Gemini thoughts and Bedrock
    /// reasoning in the same form), written only when `strict_open_ai_compliance` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_blocks: Option<Vec<Value>>,
}

/// [`ResponseMessage`] as received. Hosts send the reasoning as `reasoning_content`, as
/// `reasoning`, or under both names (vLLM and mlx servers during their rename), which a serde
/// `alias` would refuse as a duplicate field; a non-string value (an object some hosts use) is
/// ignored rather than failing the whole answer.
#[derive(Deserialize)]
struct ResponseMessageWire {
    role: Role,
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    reasoning_content: Option<Value>,
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    content_blocks: Option<Vec<Value>>,
}

impl From<ResponseMessageWire> for ResponseMessage {
    fn from(w: ResponseMessageWire) -> Self {
        ResponseMessage {
            role: w.role,
            content: w.content,
            tool_calls: w.tool_calls,
            refusal: w.refusal,
            reasoning_content: reasoning_text(w.reasoning_content, w.reasoning),
            content_blocks: w.content_blocks,
        }
    }
}

/// The reasoning text of a message or delta that may carry it as `reasoning_content`, as
/// `reasoning`, or both: the first non-empty string, else the first string.
fn reasoning_text(reasoning_content: Option<Value>, reasoning: Option<Value>) -> Option<String> {
    let as_string = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let (a, b) = (as_string(reasoning_content), as_string(reasoning));
    match (a, b) {
        (Some(a), _) if !a.is_empty() => Some(a),
        (_, Some(b)) if !b.is_empty() => Some(b),
        (a, b) => a.or(b),
    }
}

impl ResponseMessage {
    /// The assistant's answer: `content` is `null` when there is no text but tool calls (as
    /// OpenAI sends it), and `tool_calls` is absent when there are none.
    pub fn assistant(text: String, tool_calls: Vec<ToolCall>) -> Self {
        let has_calls = !tool_calls.is_empty();
        ResponseMessage {
            role: Role::Assistant,
            content: if text.is_empty() && has_calls {
                None
            } else {
                Some(text)
            },
            tool_calls: has_calls.then_some(tool_calls),
            refusal: None,
            reasoning_content: None,
            content_blocks: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    FunctionCall,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

impl Usage {
    pub fn new(prompt: u64, completion: u64) -> Self {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.saturating_add(completion),
            prompt_tokens_details: None,
            completion_tokens_details: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// `chat.completion.chunk` stream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ChatChunk {
    /// A `chat.completion.chunk` with the given choices and usage.
    pub fn new(
        id: String,
        created: u64,
        model: String,
        choices: Vec<ChunkChoice>,
        usage: Option<Usage>,
    ) -> Self {
        ChatChunk {
            id,
            object: "chat.completion.chunk".into(),
            created,
            model,
            choices,
            usage,
        }
    }

    /// A chunk with one choice (index 0), as single-choice providers stream them.
    pub fn single(
        id: String,
        created: u64,
        model: String,
        delta: Delta,
        finish_reason: Option<FinishReason>,
    ) -> Self {
        let choice = ChunkChoice {
            index: 0,
            delta,
            finish_reason,
        };
        Self::new(id, created, model, vec![choice], None)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<FinishReason>,
}

/// Read through [`DeltaWire`], which takes the reasoning under either name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "DeltaWire")]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// A fragment of the model's reasoning, as in [`ResponseMessage::reasoning_content`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Portkey's streamed `content_blocks` (`[{"index": n, "delta": {...}}]`), as in
    /// [`ResponseMessage::content_blocks`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_blocks: Option<Vec<Value>>,
}

/// [`Delta`] as received (see [`ResponseMessageWire`]).
#[derive(Deserialize)]
struct DeltaWire {
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(default)]
    reasoning_content: Option<Value>,
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    content_blocks: Option<Vec<Value>>,
}

impl From<DeltaWire> for Delta {
    fn from(w: DeltaWire) -> Self {
        Delta {
            role: w.role,
            content: w.content,
            tool_calls: w.tool_calls,
            reasoning_content: reasoning_text(w.reasoning_content, w.reasoning),
            content_blocks: w.content_blocks,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub function: FunctionCallDelta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// As in [`FunctionCall::thought_signature`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_unknown_members() {
        let raw = serde_json::json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"}
            ],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            "logit_bias": {"1": 2},
            "stop": "END"
        });
        let req: ChatRequest = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(req.extra["logit_bias"], serde_json::json!({"1": 2}));
        assert_eq!(req.stop, Some(Stop::One("END".into())));
        let Some(Content::Parts(parts)) = &req.messages[1].content else {
            panic!("parts expected")
        };
        let ContentPart::ImageUrl { image_url, .. } = &parts[1] else {
            panic!("image expected")
        };
        assert_eq!(image_url.as_data_url().unwrap().mime_type, "image/png");
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn response_message_always_carries_refusal() {
        let m = ResponseMessage::assistant("hi".into(), vec![]);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"role": "assistant", "content": "hi", "refusal": null})
        );
    }

    #[test]
    fn reasoning_is_read_under_either_name_and_written_only_when_present() {
        let m: ResponseMessage = serde_json::from_value(serde_json::json!({
            "role": "assistant", "content": "4", "reasoning_content": "2+2"
        }))
        .unwrap();
        assert_eq!(m.reasoning_content.as_deref(), Some("2+2"));
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"role": "assistant", "content": "4", "refusal": null,
                "reasoning_content": "2+2"})
        );
        let m: ResponseMessage = serde_json::from_value(serde_json::json!({
            "role": "assistant", "content": "4", "reasoning": "think"
        }))
        .unwrap();
        assert_eq!(m.reasoning_content.as_deref(), Some("think"));
        // Both names (vLLM during its rename), one of them null, or a non-string value.
        for (delta, want) in [
            (
                serde_json::json!({"reasoning_content": "a", "reasoning": "a"}),
                Some("a"),
            ),
            (
                serde_json::json!({"reasoning_content": null, "reasoning": "b"}),
                Some("b"),
            ),
            (
                serde_json::json!({"reasoning_content": "", "reasoning": "c"}),
                Some("c"),
            ),
            (serde_json::json!({"reasoning": {"effort": "low"}}), None),
            (serde_json::json!({"content": "x"}), None),
        ] {
            let d: Delta = serde_json::from_value(delta.clone()).unwrap();
            assert_eq!(d.reasoning_content.as_deref(), want, "{delta}");
        }
        // A chunk without reasoning serialises as before.
        let d: Delta = serde_json::from_value(serde_json::json!({"content": "x"})).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"content":"x"}"#);
        // The other members are read as before: `role` is required on a message.
        assert!(
            serde_json::from_value::<ResponseMessage>(serde_json::json!({"content": "x"})).is_err()
        );
    }

    #[test]
    fn max_output_tokens_prefers_the_new_name() {
        let req: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "m", "messages": [], "max_tokens": 5, "max_completion_tokens": 7
        }))
        .unwrap();
        assert_eq!(req.max_output_tokens(), Some(7));
    }

    #[test]
    fn prompt_caching_and_thinking_members_survive_a_round_trip() {
        let sent = serde_json::json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be terse.", "cache_control": {"type": "ephemeral"}},
                {"role": "user", "content": [
                    {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                    {"type": "image_url", "image_url": {"url": "https://x/a.png"},
                     "cache_control": {"type": "ephemeral"}}
                ]},
                {"role": "assistant",
                 "content_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}],
                 "tool_calls": [{"id": "c", "type": "function",
                                 "function": {"name": "f", "arguments": "{}", "thought_signature": "g"}}]}
            ],
            "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}}]
        });
        let req: ChatRequest = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(
            req.messages[2].tool_calls.as_ref().unwrap()[0]
                .function
                .thought_signature
                .as_deref(),
            Some("g")
        );
        assert_eq!(serde_json::to_value(&req).unwrap(), sent);
        // Absent members stay absent.
        let plain = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]});
        let req: ChatRequest = serde_json::from_value(plain.clone()).unwrap();
        assert_eq!(serde_json::to_value(&req).unwrap(), plain);
    }
}
