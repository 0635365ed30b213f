//! NVIDIA Triton Inference Server through its generate extension: `/v1/completions` becomes
//! `POST {custom_host}/generate` with `{"text_input": …}` and Triton's `text_output` becomes the
//! completion. Sources: NVIDIA's "Generate Extension" protocol document
//! (<https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/protocol/extension_generate.html>:
//! `POST v2/models/${MODEL_NAME}[/versions/${MODEL_VERSION}]/generate`, request
//! `{"text_input", "parameters"?}` where "any additional properties in the request object are
//! passed either as parameters or tensors", response `{"model_name", "model_version",
//! "text_output"}`, errors `{"error": "<message>"}`) and Portkey's `src/providers/triton/`,
//! whose request this adapter writes:
//!
//! - the address is the `custom_host` (Portkey's, e.g. `http://localhost:8000/v2/models/mymodel`,
//!   so it names the model) plus `/generate`; there is no default host;
//! - the body's members are top-level, as Portkey sends them: `text_input` (the prompt),
//!   `max_tokens` (default 100), `temperature` (default 0.7, held to 0..=1), `top_p` (default
//!   0.7), `top_k` (default 50), `stop_words` (from `stop`), `bad_words`;
//! - the answer has no token counts and no finish reason: no `usage`, `finish_reason: "stop"`.
//!
//! Completions only; chat is refused by the catalogue before any I/O, and so is streaming (Portkey
//! maps no stream for Triton). No credentials by default; a key, if given, is a bearer token.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{ChatChunk, ChatRequest, ChatResponse};
use switchyard_types::completions::{CompletionsRequest, CompletionsResponse, Prompt};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, TranslateError, WireContext,
    WireRequest,
};

/// Portkey's defaults, sent when the request has none (its config marks them required).
const DEFAULT_MAX_TOKENS: u32 = 100;
const DEFAULT_TEMPERATURE: f64 = 0.7;
const DEFAULT_TOP_P: f64 = 0.7;
const DEFAULT_TOP_K: u64 = 50;

/// OpenAI completions members with no Triton equivalent: refused when they ask for something
/// (see [`refuse_unsupported`]), never copied.
const OPENAI_ONLY: &[&str] = &[
    "best_of",
    "echo",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "presence_penalty",
    "seed",
    "suffix",
];

/// The Triton adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Triton;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

const COMPLETIONS_ONLY: &str = "Triton serves completions (/v1/completions) only";

/// The one prompt Triton's `text_input` takes.
fn text_input(prompt: &Prompt) -> Result<&str, TranslateError> {
    match prompt {
        Prompt::One(s) => Ok(s),
        Prompt::Many(v) => match v.as_slice() {
            [one] => Ok(one.as_str()),
            _ => Err(invalid(
                "Triton's generate endpoint takes one prompt per request",
                "prompt",
            )),
        },
        Prompt::Tokens(_) | Prompt::ManyTokens(_) => Err(invalid(
            "token-array prompts are not supported on Triton; send text",
            "prompt",
        )),
    }
}

/// Refuses what would change the answer if it were dropped. `seed` is dropped (as for other
/// providers without one: it does not change what an answer may contain).
fn refuse_unsupported(req: &CompletionsRequest) -> Result<(), TranslateError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid("Triton returns one completion; n must be 1", "n"));
    }
    if req.is_stream() {
        return Err(invalid(
            "streaming is not supported for Triton completions",
            "stream",
        ));
    }
    let asks = |key: &str| match req.extra.get(key) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => match key {
            "best_of" => n.as_f64() != Some(1.0),
            // Any `logprobs` count asks for log probabilities.
            "logprobs" => true,
            _ => n.as_f64() != Some(0.0),
        },
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    };
    for key in ["best_of", "echo", "logprobs", "suffix", "logit_bias"] {
        if asks(key) {
            return Err(invalid(format!("{key} is not supported on Triton"), key));
        }
    }
    for key in ["presence_penalty", "frequency_penalty"] {
        if asks(key) {
            return Err(invalid(
                format!(
                    "{key} is not supported on Triton (send the model's own parameter instead)"
                ),
                key,
            ));
        }
    }
    Ok(())
}

impl NativeAdapter for Triton {
    /// No default host: Triton runs where its operator put it.
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Err(invalid(
            "triton needs a custom_host: the model's address, e.g. http://localhost:8000/v2/models/mymodel",
            "custom_host",
        ))
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(invalid(COMPLETIONS_ONLY, "model"))
    }

    fn chat_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(COMPLETIONS_ONLY.into()))
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(NoChat)
    }

    fn completions_request(
        &self,
        req: &CompletionsRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        refuse_unsupported(req)?;
        let mut b = Map::new();
        b.insert("text_input".into(), json!(text_input(&req.prompt)?));
        b.insert(
            "max_tokens".into(),
            json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
        );
        // Portkey holds temperature to Triton's 0..=1.
        let temperature = req
            .temperature
            .unwrap_or(DEFAULT_TEMPERATURE)
            .clamp(0.0, 1.0);
        b.insert("temperature".into(), json!(temperature));
        b.insert("top_p".into(), json!(req.top_p.unwrap_or(DEFAULT_TOP_P)));
        let top_k = match req.extra.get("top_k") {
            None | Some(Value::Null) => json!(DEFAULT_TOP_K),
            Some(v @ Value::Number(_)) => v.clone(),
            Some(_) => return Err(invalid("top_k must be a number", "top_k")),
        };
        b.insert("top_k".into(), top_k);
        if let Some(stop) = &req.stop {
            b.insert("stop_words".into(), json!(stop.to_vec()));
        }
        // Every other non-OpenAI member (`bad_words`, `parameters`, the model's own tensors
        // such as `repetition_penalty` or `end_id`) is copied as it is: Triton passes it to the
        // model as a parameter or tensor.
        for (k, v) in &req.extra {
            if k != "top_k" && !OPENAI_ONLY.contains(&k.as_str()) {
                b.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Ok(WireRequest {
            path: "/generate".into(),
            headers: Vec::new(),
            body: serde_json::to_vec(&Value::Object(b))
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
        })
    }

    fn completions_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<CompletionsResponse, TranslateError> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            TranslateError::InvalidResponse(format!("Triton generate response: {e}"))
        })?;
        if let Some(msg) = v.get("error").and_then(Value::as_str) {
            return Err(TranslateError::Upstream {
                status: 500,
                error: ErrorEnvelope::new(ErrorKind::ApiError, msg),
            });
        }
        let text = v
            .get("text_output")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TranslateError::InvalidResponse(
                    "Triton generate response has no text_output".into(),
                )
            })?;
        // Triton names the model that answered (the custom host picked it), as Portkey reports.
        let model = v
            .get("model_name")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or(cx.model);
        Ok(CompletionsResponse::single(
            cx.response_id,
            cx.created,
            model,
            text.to_owned(),
            "stop",
            None,
        ))
    }

    /// A non-2xx body: Triton's `{"error": "<message>"}`; the `type` follows the status.
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        let message = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| {
                let raw = String::from_utf8_lossy(body);
                let raw = raw.trim();
                if raw.is_empty() {
                    format!("Triton returned HTTP {status}")
                } else {
                    raw.chars().take(1000).collect()
                }
            });
        ErrorEnvelope::new(ErrorKind::for_status(status), message)
    }
}

/// The stream translator of a provider without chat: never reached (chat is refused first).
struct NoChat;

impl ChunkTranslator for NoChat {
    fn on_frame(&mut self, _frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(TranslateError::InvalidResponse(COMPLETIONS_ONLY.into()))
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(TranslateError::InvalidResponse(COMPLETIONS_ONLY.into()))
    }
}

#[cfg(test)]
mod tests;
