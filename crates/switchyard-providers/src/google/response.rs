//! Gemini `GenerateContentResponse` and error bodies → OpenAI shapes, shared by the non-stream
//! and stream translations.

use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatResponse, Choice, CompletionTokensDetails, FinishReason, FunctionCall, PromptTokensDetails,
    ResponseMessage, Role, ToolCall, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{TranslateError, WireContext};

/// One `GenerateContentResponse` (a whole answer, or one stream frame).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GenerateContentResponse {
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub response_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Candidate {
    #[serde(default)]
    pub content: Option<CandidateContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub logprobs_result: Option<LogprobsResult>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CandidateContent {
    #[serde(default)]
    pub parts: Vec<Part>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Part {
    #[serde(default)]
    pub text: Option<String>,
    /// `true` on thought-summary parts, which are not answer text.
    #[serde(default)]
    pub thought: Option<Value>,
    #[serde(default)]
    pub function_call: Option<FunctionCallPart>,
    /// Gemini's encrypted reasoning state, on a function-call part (or a text part).
    #[serde(default)]
    pub thought_signature: Option<String>,
}

impl Part {
    fn is_thought(&self) -> bool {
        self.thought.as_ref().and_then(Value::as_bool) == Some(true)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct FunctionCallPart {
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
    #[serde(default)]
    pub total_token_count: Option<u64>,
    #[serde(default)]
    pub cached_content_token_count: u64,
    #[serde(default)]
    pub thoughts_token_count: u64,
    #[serde(default)]
    pub tool_use_prompt_token_count: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogprobsResult {
    #[serde(default)]
    pub top_candidates: Vec<TopCandidates>,
    #[serde(default)]
    pub chosen_candidates: Vec<LogprobCandidate>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TopCandidates {
    #[serde(default)]
    pub candidates: Vec<LogprobCandidate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogprobCandidate {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub log_probability: f64,
}

/// `usageMetadata` → OpenAI usage. Prompt = prompt + tool-use prompt tokens; completion =
/// candidates + thoughts (OpenAI counts reasoning inside completion tokens); total = Gemini's
/// total (or the sum).
pub(super) fn usage(u: &UsageMetadata) -> Usage {
    let prompt = u
        .prompt_token_count
        .saturating_add(u.tool_use_prompt_token_count);
    let completion = u
        .candidates_token_count
        .saturating_add(u.thoughts_token_count);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: u
            .total_token_count
            .unwrap_or(prompt.saturating_add(completion)),
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: u.cached_content_token_count,
        }),
        completion_tokens_details: Some(CompletionTokensDetails {
            reasoning_tokens: u.thoughts_token_count,
        }),
    }
}

/// `finishReason` → OpenAI. `STOP` with function calls is `tool_calls`.
pub(super) fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION"
        | "MODEL_ARMOR" => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Tool-call ids: `call_<tag>_<n>`, `n` counting function calls across the whole response (all
/// candidates, all frames), `tag` the last 16 alphanumerics of the response id so ids differ
/// between turns (`call_<n>` when there is no id). At most 40 characters, as OpenAI requires.
#[derive(Debug, Clone)]
pub(super) struct CallIds {
    tag: String,
    next: u32,
}

impl CallIds {
    pub(super) fn new(response_id: &str) -> Self {
        let alnum: Vec<char> = response_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let tag: String = alnum[alnum.len().saturating_sub(16)..].iter().collect();
        CallIds { tag, next: 0 }
    }

    pub(super) fn next_id(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        if self.tag.is_empty() {
            format!("call_{n}")
        } else {
            format!("call_{}_{n}", self.tag)
        }
    }
}

/// One function call of a candidate: name, arguments JSON, and its `thoughtSignature`.
pub(super) type Call = (String, String, Option<String>);

/// What one candidate says: answer text (thoughts excluded) and function calls.
pub(super) fn candidate_output(c: &Candidate) -> (Option<String>, Vec<Call>) {
    let mut text: Option<String> = None;
    let mut calls = Vec::new();
    for part in c.content.iter().flat_map(|c| c.parts.iter()) {
        if let Some(fc) = &part.function_call {
            let args = match &fc.args {
                Some(a @ Value::Object(_)) => a.to_string(),
                _ => "{}".to_owned(),
            };
            calls.push((fc.name.clone(), args, part.thought_signature.clone()));
        } else if let Some(t) = part.text.as_deref().filter(|t| !t.is_empty()) {
            if !part.is_thought() {
                text.get_or_insert_with(String::new).push_str(t);
            }
        }
    }
    (text, calls)
}

/// What a non-strict answer adds for one candidate: the thought-summary text (for
/// `reasoning_content`) and Portkey's `content_blocks` (`{"type": "thinking", "thinking"}` for
/// thought parts, `{"type": "text", "text"}` for answer text). A function call's
/// `thoughtSignature` goes on its tool call instead (`function.thought_signature`, as Portkey
/// writes it), which the client sends back on the next turn.
pub(super) fn native_blocks(c: &Candidate) -> (Option<String>, Vec<Value>) {
    let mut thoughts: Option<String> = None;
    let mut blocks = Vec::new();
    for part in c.content.iter().flat_map(|c| c.parts.iter()) {
        if part.function_call.is_some() {
            continue;
        }
        if let Some(t) = part.text.as_deref().filter(|t| !t.is_empty()) {
            if part.is_thought() {
                thoughts.get_or_insert_with(String::new).push_str(t);
                blocks.push(json!({ "type": "thinking", "thinking": t }));
            } else {
                blocks.push(json!({ "type": "text", "text": t }));
            }
        }
    }
    (thoughts, blocks)
}

/// The id an answer gets: Gemini's `responseId`, else the gateway's.
pub(super) fn response_id(r: &GenerateContentResponse, cx: &WireContext<'_>) -> String {
    r.response_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| cx.response_id.to_owned())
}

/// Parses one JSON body as a `GenerateContentResponse`, turning an `{"error":…}` body into
/// `TranslateError::Upstream`.
pub(super) fn parse(body: &[u8]) -> Result<GenerateContentResponse, TranslateError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::InvalidResponse(format!("Gemini response is not JSON: {e}"))
    })?;
    parse_value(value)
}

/// [`parse`] for an already decoded value.
pub(super) fn parse_value(value: Value) -> Result<GenerateContentResponse, TranslateError> {
    if let Some(err) = value.get("error").filter(|e| e.is_object()) {
        let status = err
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400)
            .unwrap_or(500);
        return Err(TranslateError::Upstream {
            status,
            error: google_error(status, err),
        });
    }
    serde_json::from_value(value).map_err(|e| {
        TranslateError::InvalidResponse(format!("unexpected Gemini response shape: {e}"))
    })
}

/// A whole `generateContent` answer → `chat.completion`.
pub(super) fn chat_response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ChatResponse, TranslateError> {
    let r = parse(body)?;
    let id = response_id(&r, cx);
    let mut ids = CallIds::new(&id);
    let mut choices = Vec::with_capacity(r.candidates.len().max(1));
    for (pos, c) in r.candidates.iter().enumerate() {
        let (text, calls) = candidate_output(c);
        let tool_calls: Vec<ToolCall> = calls
            .into_iter()
            .map(|(name, arguments, signature)| ToolCall {
                id: ids.next_id(),
                kind: "function".into(),
                function: FunctionCall {
                    name,
                    arguments,
                    thought_signature: signature.filter(|_| !cx.strict),
                },
            })
            .collect();
        let reason = c.finish_reason.as_deref().unwrap_or("STOP");
        let (reasoning_content, content_blocks) = if cx.strict {
            (None, None)
        } else {
            let (thoughts, blocks) = native_blocks(c);
            (thoughts, (!blocks.is_empty()).then_some(blocks))
        };
        choices.push(Choice {
            index: c.index.unwrap_or(pos as u32),
            finish_reason: Some(finish_reason(reason, !tool_calls.is_empty())),
            message: ResponseMessage {
                role: Role::Assistant,
                content: text,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                refusal: None,
                reasoning_content,
                content_blocks,
            },
            logprobs: c.logprobs_result.as_ref().map(logprobs),
        });
    }
    if choices.is_empty() {
        // No candidates: the prompt was blocked (promptFeedback.blockReason), or nothing came
        // back at all. Either way the caller gets an empty, filtered answer.
        if r.prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_ref())
            .is_none()
        {
            return Err(TranslateError::InvalidResponse(
                "Gemini response has neither candidates nor promptFeedback.blockReason".into(),
            ));
        }
        choices.push(Choice {
            index: 0,
            finish_reason: Some(FinishReason::ContentFilter),
            message: ResponseMessage {
                role: Role::Assistant,
                content: None,
                tool_calls: None,
                refusal: None,
                reasoning_content: None,
                content_blocks: None,
            },
            logprobs: None,
        });
    }
    Ok(ChatResponse {
        id,
        object: "chat.completion".into(),
        created: cx.created,
        model: cx.model.to_owned(),
        choices,
        usage: Some(
            r.usage_metadata
                .as_ref()
                .map(usage)
                .unwrap_or_else(|| Usage::new(0, 0)),
        ),
        system_fingerprint: None,
    })
}

/// `logprobsResult` → OpenAI `{"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}`
/// (OpenAI's spec requires both members; Gemini has no refusal tokens).
pub(super) fn logprobs(l: &LogprobsResult) -> Value {
    let entry = |c: &LogprobCandidate| json!({ "token": c.token, "logprob": c.log_probability, "bytes": c.token.as_bytes() });
    let content: Vec<Value> = l
        .chosen_candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let top: Vec<Value> = l
                .top_candidates
                .get(i)
                .map(|t| t.candidates.iter().map(entry).collect())
                .unwrap_or_default();
            let mut e = entry(c);
            e["top_logprobs"] = Value::Array(top);
            e
        })
        .collect();
    json!({ "content": content, "refusal": null })
}

/// The OpenAI error kind for a Google RPC status (`INVALID_ARGUMENT`, …), else by HTTP status.
fn kind_for(status: u16, rpc: Option<&str>, reason: Option<&str>) -> ErrorKind {
    if matches!(
        reason,
        Some("API_KEY_INVALID" | "API_KEY_EXPIRED" | "ACCESS_TOKEN_EXPIRED")
    ) {
        return ErrorKind::AuthenticationError;
    }
    match rpc {
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            ErrorKind::InvalidRequestError
        }
        Some("UNAUTHENTICATED") => ErrorKind::AuthenticationError,
        Some("PERMISSION_DENIED") => ErrorKind::PermissionError,
        Some("NOT_FOUND") => ErrorKind::NotFoundError,
        Some("RESOURCE_EXHAUSTED") => ErrorKind::RateLimitError,
        Some("DEADLINE_EXCEEDED") => ErrorKind::TimeoutError,
        Some("INTERNAL" | "UNAVAILABLE" | "UNKNOWN" | "DATA_LOSS") => ErrorKind::ApiError,
        _ => ErrorKind::for_status(status),
    }
}

/// A Google `error` object (`{code, message, status, details}`) → OpenAI error; `code` carries
/// the RPC status (e.g. `INVALID_ARGUMENT`).
pub(super) fn google_error(status: u16, err: &Value) -> ErrorEnvelope {
    let rpc = err.get("status").and_then(Value::as_str);
    let reason = err.get("details").and_then(Value::as_array).and_then(|ds| {
        ds.iter()
            .find_map(|d| d.get("reason").and_then(Value::as_str))
    });
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Google API error (HTTP {status})"));
    let env = ErrorEnvelope::new(kind_for(status, rpc, reason), message);
    match rpc {
        Some(r) => env.with_code(r),
        None => env,
    }
}

/// A non-2xx body (`{"error":…}`, or `[{"error":…}]` as streaming endpoints send it).
pub(super) fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let err = match &value {
        Some(Value::Array(items)) => items.iter().find_map(|i| i.get("error")),
        Some(v) => v.get("error"),
        None => None,
    };
    match err {
        Some(e) if e.is_object() => google_error(status, e),
        Some(Value::String(m)) => ErrorEnvelope::new(ErrorKind::for_status(status), m.clone()),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let message = if text.is_empty() {
                format!("Google API error (HTTP {status})")
            } else {
                text.chars().take(1000).collect()
            };
            ErrorEnvelope::new(ErrorKind::for_status(status), message)
        }
    }
}
