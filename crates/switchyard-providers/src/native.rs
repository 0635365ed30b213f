//! The seam every native (non-OpenAI-shaped) provider adapter implements.
//!
//! An adapter is pure: it turns an OpenAI request into the provider's wire request
//! ([`WireRequest`]: a path under the provider's base URL, extra headers, body bytes) and the
//! provider's response, stream frames and error bodies back into OpenAI shapes. Authentication
//! (API-key headers, AWS SigV4, OAuth tokens) and all I/O stay in the gateway.

use std::collections::BTreeMap;

use switchyard_types::chat::{
    ChatChunk, ChatRequest, ChatResponse, Delta, FinishReason, Role, Usage,
};
use switchyard_types::completions::{CompletionsRequest, CompletionsResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::images::{ImagesRequest, ImagesResponse};
use switchyard_types::rerank::{RerankRequest, RerankResponse};
use switchyard_types::ErrorEnvelope;

/// Provider-specific settings for one target, by Portkey's snake_case names without the
/// `x-portkey-` prefix: `anthropic_version`, `anthropic_beta`, `aws_region`,
/// `vertex_project_id`, `vertex_region`, `azure_resource_name`, `azure_deployment_id`,
/// `azure_api_version`, … They come from `x-portkey-*` request headers, the Gateway Config
/// target, or the server's config file.
pub type ProviderOptions = BTreeMap<String, String>;

/// Per-request facts a translation needs besides the request itself.
#[derive(Debug, Clone)]
pub struct WireContext<'a> {
    /// The upstream model id (after `override_params` and `provider/model` resolution).
    pub model: &'a str,
    pub stream: bool,
    /// `stream_options.include_usage` was set: end the stream with a usage chunk.
    pub include_usage: bool,
    /// The `id` to give OpenAI-shaped responses and chunks when the provider has none.
    pub response_id: &'a str,
    /// Unix seconds, for `created`.
    pub created: u64,
    pub options: &'a ProviderOptions,
    /// Portkey's `strict_open_ai_compliance` (true unless the client or config says `false`):
    /// when false, answers also carry what OpenAI's shape has no place for (Anthropic's
    /// `content_blocks` with thinking signatures, reasoning text).
    pub strict: bool,
}

/// A provider wire request, minus authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// Path and query appended to the provider's base URL, starting with `/`.
    pub path: String,
    /// Headers besides `content-type` and credentials (e.g. `anthropic-version`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How a provider frames its streaming response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFraming {
    /// `text/event-stream`.
    Sse,
    /// AWS `application/vnd.amazon.eventstream` binary frames.
    AwsEventStream,
}

/// One decoded upstream stream frame: an SSE event or an AWS event-stream message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The SSE `event:` field, or the AWS `:event-type` (or `:exception-type`) header.
    pub event: Option<&'a str>,
    /// The SSE `data` or the AWS message payload.
    pub data: &'a [u8],
    /// For AWS frames, `:message-type` (`event` or `exception`); `None` for SSE.
    pub message_type: Option<&'a str>,
}

/// Why a translation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranslateError {
    /// The request asks for something the provider cannot do: a 400 before any I/O.
    #[error("{message}")]
    InvalidRequest {
        message: String,
        param: Option<String>,
    },
    /// The provider's bytes are not what its API documents: a 502.
    #[error("invalid response from provider: {0}")]
    InvalidResponse(String),
    /// The provider reported an error (inside a 200 stream, or a body recognised as an error).
    #[error("{}", .error.error.message)]
    Upstream { status: u16, error: ErrorEnvelope },
}

impl TranslateError {
    pub fn invalid_request(message: impl Into<String>, param: Option<&str>) -> Self {
        TranslateError::InvalidRequest {
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }
}

/// What every chunk of one single-choice stream shares: its id, model and creation time, and
/// whether the assistant role went out yet (the first chunk carries it).
#[derive(Debug, Clone)]
pub struct ChunkHead {
    pub id: String,
    pub model: String,
    pub created: u64,
    pub role_sent: bool,
}

impl ChunkHead {
    pub fn new(cx: &WireContext<'_>) -> Self {
        ChunkHead {
            id: cx.response_id.to_owned(),
            model: cx.model.to_owned(),
            created: cx.created,
            role_sent: false,
        }
    }

    /// A one-choice chunk; the stream's first also carries `role: assistant`.
    pub fn chunk(&mut self, mut delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some(Role::Assistant);
        }
        ChatChunk::single(
            self.id.clone(),
            self.created,
            self.model.clone(),
            delta,
            finish,
        )
    }

    /// The usage chunk (no choices) that ends a stream whose client asked for usage.
    pub fn usage(&self, usage: Usage) -> ChatChunk {
        ChatChunk::new(
            self.id.clone(),
            self.created,
            self.model.clone(),
            Vec::new(),
            Some(usage),
        )
    }
}

/// The OpenAI sampling numbers a request sent — `temperature`, `top_p`, `frequency_penalty`,
/// `presence_penalty`, in that order — put into `body` under the provider's member names
/// (`names`, in the same order); a number not sent is left out.
pub(crate) fn insert_sampling(
    body: &mut serde_json::Map<String, serde_json::Value>,
    req: &ChatRequest,
    names: [&str; 4],
) {
    let values = [
        req.temperature,
        req.top_p,
        req.frequency_penalty,
        req.presence_penalty,
    ];
    for (name, v) in names.into_iter().zip(values) {
        if let Some(v) = v {
            body.insert(name.into(), serde_json::json!(v));
        }
    }
}

/// Turns a provider's stream frames into OpenAI `chat.completion.chunk`s. One per request.
pub trait ChunkTranslator: Send {
    /// Handles one frame, returning the chunks it yields (possibly none).
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError>;
    /// The stream ended: returns any final chunks (e.g. the usage chunk). An error means the
    /// stream ended before the provider said it was complete.
    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError>;
}

/// A native provider adapter. Every method is pure.
pub trait NativeAdapter: Sync {
    /// The provider's default base URL, which may depend on options (region, resource name).
    /// `custom_host` replaces it.
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError>;

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError>;

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError>;

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator>;

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::Sse
    }

    /// Embeddings, for providers that offer them.
    fn embeddings_request(
        &self,
        _req: &EmbeddingsRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(TranslateError::invalid_request(
            "this provider does not offer embeddings",
            Some("model"),
        ))
    }

    fn embeddings_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "this provider does not offer embeddings".into(),
        ))
    }

    /// Completions (`/v1/completions`), for providers with a native text-generation API. The
    /// gateway refuses `stream: true` completions before calling this (no native completions
    /// stream is translated).
    fn completions_request(
        &self,
        _req: &CompletionsRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(TranslateError::invalid_request(
            "this provider does not offer completions",
            Some("model"),
        ))
    }

    fn completions_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<CompletionsResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "this provider does not offer completions".into(),
        ))
    }

    /// Image generation (`/v1/images/generations`), for providers with a native image API.
    fn images_request(
        &self,
        _req: &ImagesRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(TranslateError::invalid_request(
            "this provider does not offer image generation",
            Some("model"),
        ))
    }

    fn images_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "this provider does not offer image generation".into(),
        ))
    }

    /// Rerank (`/v1/rerank`, Cohere's v2 shape), for providers with a rerank API.
    fn rerank_request(
        &self,
        _req: &RerankRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(TranslateError::invalid_request(
            "this provider does not offer rerank",
            Some("model"),
        ))
    }

    fn rerank_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<RerankResponse, TranslateError> {
        Err(TranslateError::InvalidResponse(
            "this provider does not offer rerank".into(),
        ))
    }

    /// Headers a pass-through (`/v1/*` proxy) request to this provider carries, from its
    /// options (e.g. SageMaker's `X-Amzn-SageMaker-*`). None by default.
    fn proxy_headers(&self, _options: &ProviderOptions) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Maps a non-2xx response body to an OpenAI error (the status is kept by the caller).
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope;

    /// The response header naming the provider's error type (Bedrock's `x-amzn-ErrorType`),
    /// lower-case, for providers that type their errors by header. The gateway passes its value
    /// to [`NativeAdapter::error_response_typed`].
    fn error_type_header(&self) -> Option<&'static str> {
        None
    }

    /// [`NativeAdapter::error_response`] with the value of [`NativeAdapter::error_type_header`]
    /// (`None` when the adapter names no header or the response lacks it).
    fn error_response_typed(
        &self,
        status: u16,
        _error_type: Option<&str>,
        body: &[u8],
    ) -> ErrorEnvelope {
        self.error_response(status, body)
    }
}
