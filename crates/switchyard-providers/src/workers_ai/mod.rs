//! Cloudflare Workers AI through its REST API: `POST /ai/run/{model}` under
//! `https://api.cloudflare.com/client/v4/accounts/{workers_ai_account_id}` for chat (JSON and
//! SSE streaming) and embeddings, with Cloudflare's own bodies
//! (<https://developers.cloudflare.com/workers-ai/get-started/rest-api/>). As in Portkey, the
//! base URL (what a `custom_host` replaces) ends in `/ai/run` and the model is the path. The
//! gateway adds the `Authorization: Bearer` API token.

mod request;
mod response;
mod stream;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, StreamFraming, TranslateError, WireContext,
    WireRequest,
};

/// The option naming the Cloudflare account (`x-portkey-workers-ai-account-id`, a config's
/// `workersAiAccountId`).
pub const ACCOUNT_OPTION: &str = "workers_ai_account_id";

/// The Workers AI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkersAi;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

/// The model as a URL path: Workers AI ids look like `@cf/meta/llama-3.1-8b-instruct`.
fn model_path(model: &str) -> Result<String, TranslateError> {
    let ok = !model.is_empty()
        && !model.starts_with('/')
        && !model
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '/' | '-' | '_' | '.' | ':'));
    if !ok {
        return Err(invalid(
            format!(
                "{model:?} is not a Workers AI model id (like `@cf/meta/llama-3.1-8b-instruct`)"
            ),
            "model",
        ));
    }
    Ok(format!("/{model}"))
}

fn json_body(v: &serde_json::Value) -> Result<Vec<u8>, TranslateError> {
    serde_json::to_vec(v).map_err(|e| TranslateError::invalid_request(e.to_string(), None))
}

impl NativeAdapter for WorkersAi {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        let account = options
            .get(ACCOUNT_OPTION)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                invalid(
                    "workers-ai needs workers_ai_account_id (or a custom_host)",
                    ACCOUNT_OPTION,
                )
            })?;
        if !account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "workers_ai_account_id may hold only letters, digits, '-' and '_'",
                ACCOUNT_OPTION,
            ));
        }
        Ok(format!(
            "https://api.cloudflare.com/client/v4/accounts/{account}/ai/run"
        ))
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = model_path(cx.model)?;
        let body = request::chat_body(req, cx)?;
        Ok(WireRequest {
            path,
            headers: Vec::new(),
            body: json_body(&body)?,
        })
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        response::chat_response(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::WorkersAiStream::new(cx))
    }

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::Sse
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = model_path(cx.model)?;
        let body = request::embeddings_body(req)?;
        Ok(WireRequest {
            path,
            headers: Vec::new(),
            body: json_body(&body)?,
        })
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        response::embeddings_response(body, cx)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        response::error_response(status, body)
    }
}

#[cfg(test)]
mod tests;
