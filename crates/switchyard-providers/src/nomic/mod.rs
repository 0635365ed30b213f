//! Nomic Atlas text embeddings: `POST /v1/embedding/text` at `https://api-atlas.nomic.ai`
//! (<https://docs.nomic.ai/reference/api/embed-text-v-1-embedding-text-post>), `texts` in,
//! `embeddings` out. Embeddings only: chat is refused by the catalogue before any I/O. The
//! gateway adds the `Authorization: Bearer` key.

use serde_json::{json, Map, Value};
use switchyard_types::chat::{ChatChunk, ChatRequest, ChatResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, TranslateError, WireContext,
    WireRequest,
};

/// The default Nomic API host (Portkey's base URL, without its `/v1`).
pub const BASE_URL: &str = "https://api-atlas.nomic.ai";

/// The model Portkey sends when the request names none.
const DEFAULT_MODEL: &str = "nomic-embed-text-v1";

/// Nomic members without an OpenAI equivalent, copied from the request's unknown members.
const PASSTHROUGH: &[&str] = &["long_text_mode", "max_tokens_per_text"];

/// The Nomic adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nomic;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

fn no_chat() -> TranslateError {
    invalid("Nomic serves embeddings only", "model")
}

/// Nomic's `task_type`: the request's own `task_type`, else its `input_type` (the name Cohere,
/// Voyage and Portkey's other embedders use), else none (Nomic's default, `search_document`).
fn task_type(req: &EmbeddingsRequest) -> Result<Option<&'static str>, TranslateError> {
    let (param, value) = match (req.extra.get("task_type"), req.extra.get("input_type")) {
        (Some(v), _) => ("task_type", v),
        (None, Some(v)) => ("input_type", v),
        (None, None) => return Ok(None),
    };
    let known = match value.as_str() {
        Some("search_document" | "document") => "search_document",
        Some("search_query" | "query") => "search_query",
        Some("classification") => "classification",
        Some("clustering") => "clustering",
        _ => {
            return Err(invalid(
                format!("{param} {value} is not one of search_document, search_query, classification, clustering"),
                param,
            ))
        }
    };
    Ok(Some(known))
}

impl NativeAdapter for Nomic {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(no_chat())
    }

    fn chat_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "Nomic serves embeddings only".into(),
        ))
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(NoChat)
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let texts = req.input.texts().ok_or_else(|| {
            invalid(
                "token-array inputs are not supported on Nomic; send text",
                "input",
            )
        })?;
        if texts.is_empty() {
            return Err(invalid("input must not be empty", "input"));
        }
        let mut b = Map::new();
        let model = if cx.model.is_empty() {
            DEFAULT_MODEL
        } else {
            cx.model
        };
        b.insert("model".into(), json!(model));
        b.insert("texts".into(), json!(texts));
        if let Some(t) = task_type(req)? {
            b.insert("task_type".into(), json!(t));
        }
        if let Some(d) = req.dimensions {
            b.insert("dimensionality".into(), json!(d));
        }
        for key in PASSTHROUGH {
            if let Some(v) = req.extra.get(*key) {
                b.insert((*key).into(), v.clone());
            }
        }
        Ok(WireRequest {
            path: "/v1/embedding/text".into(),
            headers: Vec::new(),
            body: serde_json::to_vec(&Value::Object(b))
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
        })
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        let bad = |what: &str| TranslateError::InvalidResponse(format!("Nomic embed: {what}"));
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
        let vectors = v
            .get("embeddings")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no `embeddings` member"))?
            .iter()
            .map(|row| {
                row.as_array()?
                    .iter()
                    .map(|x| x.as_f64().map(|f| f as f32))
                    .collect::<Option<Vec<f32>>>()
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`embeddings` are not arrays of numbers"))?;
        let tokens = v
            .pointer("/usage/prompt_tokens")
            .or_else(|| v.pointer("/usage/total_tokens"))
            .and_then(Value::as_f64)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(0, |n| n.round() as u64);
        let model = match cx.model {
            "" => v
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_MODEL),
            m => m,
        };
        Ok(EmbeddingsResponse::from_vectors(model, vectors, tokens))
    }

    /// A non-2xx Nomic body: FastAPI's `{"detail": "<message>"}` or, for validation errors,
    /// `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` (the first, as `loc: msg`).
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| match v.get("detail") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(items)) => items.first().map(|first| {
                    let msg = first
                        .get("msg")
                        .and_then(Value::as_str)
                        .unwrap_or("invalid request");
                    let loc: Vec<String> = first
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    if loc.is_empty() {
                        msg.to_owned()
                    } else {
                        format!("{}: {msg}", loc.join("."))
                    }
                }),
                _ => None,
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| {
                let raw = String::from_utf8_lossy(body);
                let raw = raw.trim();
                if raw.is_empty() {
                    format!("Nomic returned HTTP {status}")
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
        Err(TranslateError::InvalidResponse(
            "Nomic serves embeddings only".into(),
        ))
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "Nomic serves embeddings only".into(),
        ))
    }
}

#[cfg(test)]
mod tests;
