//! Cohere through its v2 API: `POST /v2/chat` (chat and SSE streaming, tools, vision, JSON
//! mode) and `POST /v2/embed`. Base URL `https://api.cohere.com`; the gateway adds the
//! `Authorization: Bearer` key. See `docs/providers/cohere.md` for every mapping rule.

mod embeddings;
mod request;
mod response;
mod stream;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::rerank::{RerankRequest, RerankResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, StreamFraming, TranslateError, WireContext,
    WireRequest,
};

/// The default Cohere API host.
pub const BASE_URL: &str = "https://api.cohere.com";

/// The Cohere adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cohere;

impl NativeAdapter for Cohere {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        if cx.model.is_empty() {
            return Err(TranslateError::invalid_request(
                "a Cohere model is required",
                Some("model"),
            ));
        }
        let body = request::chat_body(req, cx)?;
        Ok(WireRequest {
            path: "/v2/chat".into(),
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
        response::chat_response(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::CohereStream::new(cx))
    }

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::Sse
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        embeddings::request(req, cx)
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        embeddings::response(body, cx)
    }

    /// `POST /v2/rerank`: Cohere's own shape, which the gateway serves, passes as it is.
    fn rerank_request(
        &self,
        req: &RerankRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Ok(WireRequest {
            path: "/v2/rerank".into(),
            headers: Vec::new(),
            body: crate::rerank::request_body(
                crate::rerank::Dialect::Cohere,
                req,
                cx.model,
                "Cohere",
            )?,
        })
    }

    fn rerank_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<RerankResponse, TranslateError> {
        crate::rerank::response(crate::rerank::Dialect::Cohere, body, cx.response_id)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        response::error_response(status, body)
    }
}

#[cfg(test)]
mod tests;
