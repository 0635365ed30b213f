//! Bytez's model API: chat completions become `POST https://api.bytez.com/models/v2/{model}`
//! with `{"messages", "stream": false, "params": {…}}`, answered `{"error": null, "output":
//! {"role": "assistant", "content": "…"}}`. Sources: Bytez's HTTP reference, "Run a model"
//! (<https://docs.bytez.com/http/model/run>: `POST /models/v2/{modelId}`, `Authorization: Key
//! <key>`, `messages` with roles `system`/`user`/`assistant`, `params` "model-specific") and its
//! chat example (<https://docs.bytez.com/http-reference/examples/open-source/chat/chat>: the
//! `{error, output}` answer), and Portkey's `src/providers/bytez/`, whose request this adapter
//! writes:
//!
//! - `max_tokens` → `params.max_new_tokens` (default 100), `temperature` → `params.temperature`
//!   (default 1, held to 0..=2), `top_p` → `params.top_p` (default 1, held to 0..=1);
//! - the answer's `output` is the message; `finish_reason: "stop"`; Bytez reports no token
//!   counts (Portkey writes `-1`s; here there is no `usage`).
//!
//! Streaming is refused: Portkey forwards `stream` but translates no Bytez stream, and Bytez
//! documents its text stream's framing nowhere. The gateway adds `Authorization: Key <key>`.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{
    ChatChunk, ChatRequest, ChatResponse, Content, ContentPart, FinishReason, ResponseMessage, Role,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, TranslateError, WireContext,
    WireRequest,
};

/// Bytez's API host (Portkey's base URL; what a `custom_host` replaces).
pub const BASE_URL: &str = "https://api.bytez.com";

/// Portkey's defaults, sent when the request has none.
const DEFAULT_MAX_NEW_TOKENS: u32 = 100;
const DEFAULT_TEMPERATURE: f64 = 1.0;
const DEFAULT_TOP_P: f64 = 1.0;

/// The Bytez adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bytez;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

/// A model id made of `/`-separated segments of letters, digits, `-`, `_` and `.` (e.g.
/// `Qwen/Qwen3-4B`, `openai-community/gpt2`), none empty, `.` or `..`.
fn model_ok(model: &str) -> bool {
    !model.is_empty()
        && model.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// Refuses what Bytez's chat cannot honour and whose absence would change the answer.
fn refuse_unsupported(req: &ChatRequest) -> Result<(), TranslateError> {
    if req.is_stream() {
        return Err(invalid(
            "streaming is not supported for Bytez (its stream format is undocumented)",
            "stream",
        ));
    }
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid("Bytez returns one choice; n must be 1", "n"));
    }
    if req.tools.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(invalid("tools are not supported on Bytez", "tools"));
    }
    if req.response_format.is_some() {
        return Err(invalid(
            "response_format is not supported on Bytez",
            "response_format",
        ));
    }
    if req.stop.is_some() {
        return Err(invalid("stop is not supported on Bytez", "stop"));
    }
    for (name, v) in [
        ("presence_penalty", req.presence_penalty),
        ("frequency_penalty", req.frequency_penalty),
    ] {
        if v.is_some_and(|x| x != 0.0) {
            return Err(invalid(format!("{name} is not supported on Bytez"), name));
        }
    }
    for key in ["logprobs", "top_logprobs", "logit_bias"] {
        match req.extra.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(Value::Object(o)) if o.is_empty() => {}
            Some(_) => return Err(invalid(format!("{key} is not supported on Bytez"), key)),
        }
    }
    Ok(())
}

/// OpenAI messages → Bytez's `{role, content}` with string content: `developer` is `system`,
/// text parts are joined with `\n`; other parts, tool turns and tool calls are refused.
fn messages(req: &ChatRequest) -> Result<Vec<Value>, TranslateError> {
    if req.messages.is_empty() {
        return Err(invalid("messages must not be empty", "messages"));
    }
    req.messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role {
                Role::System | Role::Developer => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool | Role::Function => {
                    return Err(invalid(
                        "tool messages are not supported on Bytez",
                        &format!("messages[{i}].role"),
                    ))
                }
            };
            if m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) {
                return Err(invalid(
                    "tool calls are not supported on Bytez",
                    &format!("messages[{i}].tool_calls"),
                ));
            }
            let content = match &m.content {
                None => String::new(),
                Some(Content::Text(s)) => s.clone(),
                Some(Content::Parts(parts)) => {
                    if let Some(j) = parts
                        .iter()
                        .position(|p| !matches!(p, ContentPart::Text { .. }))
                    {
                        return Err(invalid(
                            "only text content is supported on Bytez",
                            &format!("messages[{i}].content[{j}]"),
                        ));
                    }
                    Content::Parts(parts.clone()).joined_text()
                }
            };
            Ok(json!({"role": role, "content": content}))
        })
        .collect()
}

/// Bytez's `params`: the client's own `params` (model-specific), then the mapped OpenAI
/// parameters, then Portkey's defaults for what neither gave.
fn params(req: &ChatRequest) -> Result<Map<String, Value>, TranslateError> {
    let mut p = match req.extra.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(invalid("params must be an object", "params")),
    };
    if let Some(n) = req.max_output_tokens() {
        p.insert("max_new_tokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        p.insert("temperature".into(), json!(t.clamp(0.0, 2.0)));
    }
    if let Some(t) = req.top_p {
        p.insert("top_p".into(), json!(t.clamp(0.0, 1.0)));
    }
    p.entry("max_new_tokens")
        .or_insert(json!(DEFAULT_MAX_NEW_TOKENS));
    p.entry("temperature").or_insert(json!(DEFAULT_TEMPERATURE));
    p.entry("top_p").or_insert(json!(DEFAULT_TOP_P));
    Ok(p)
}

/// The assistant text of Bytez's `output`: a message's string content (or its text blocks),
/// or a bare string.
fn output_text(output: &Value) -> Option<String> {
    match output {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => match m.get("content")? {
            Value::String(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            Value::Array(blocks) => Some(
                blocks
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(""),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn error_message(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl NativeAdapter for Bytez {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        refuse_unsupported(req)?;
        if !model_ok(cx.model) {
            return Err(invalid(
                format!(
                    "{:?} is not a Bytez model id (e.g. Qwen/Qwen3-4B)",
                    cx.model
                ),
                "model",
            ));
        }
        let body = json!({
            "messages": messages(req)?,
            "stream": false,
            "params": params(req)?,
        });
        Ok(WireRequest {
            path: format!("/models/v2/{}", cx.model),
            headers: Vec::new(),
            body: serde_json::to_vec(&body)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
        })
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| TranslateError::InvalidResponse(format!("Bytez chat response: {e}")))?;
        if let Some(msg) = error_message(&v) {
            return Err(TranslateError::Upstream {
                status: 500,
                error: ErrorEnvelope::new(ErrorKind::ApiError, msg),
            });
        }
        let text = v.get("output").and_then(output_text).ok_or_else(|| {
            TranslateError::InvalidResponse("Bytez chat response has no output message".into())
        })?;
        Ok(ChatResponse::single(
            cx.response_id.to_owned(),
            cx.created,
            cx.model.to_owned(),
            ResponseMessage::assistant(text, Vec::new()),
            Some(FinishReason::Stop),
            None,
        ))
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(NoStream)
    }

    /// A non-2xx body: Bytez's `{"error": "<message>", "output": null}`; the `type` follows the
    /// status.
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| error_message(&v))
            .unwrap_or_else(|| {
                let raw = String::from_utf8_lossy(body);
                let raw = raw.trim();
                if raw.is_empty() {
                    format!("Bytez returned HTTP {status}")
                } else {
                    raw.chars().take(1000).collect()
                }
            });
        ErrorEnvelope::new(ErrorKind::for_status(status), message)
    }
}

/// Streams are refused before any I/O, so this is never reached.
struct NoStream;

impl ChunkTranslator for NoStream {
    fn on_frame(&mut self, _frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "Bytez streams are not translated".into(),
        ))
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "Bytez streams are not translated".into(),
        ))
    }
}

#[cfg(test)]
mod tests;
