//! Amazon Bedrock through the Converse API (chat, streaming, tools, vision, JSON via a forced
//! tool) and `InvokeModel` for Titan / Cohere embeddings.
//!
//! Base URL `https://bedrock-runtime.{aws_region}.amazonaws.com` (option `aws_region`); paths
//! `/model/{modelId}/converse`, `/model/{modelId}/converse-stream`, `/model/{modelId}/invoke`.
//! Requests are unsigned: the gateway adds SigV4. See `docs/providers/bedrock.md` for every
//! mapping rule.

mod embeddings;
pub mod error;
pub mod eventstream;
mod images;
mod request;
mod response;
mod stream;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::images::{ImagesRequest, ImagesResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, StreamFraming, TranslateError, WireContext,
    WireRequest,
};

pub use eventstream::{EventStreamDecoder, EventStreamError, HeaderValue, OwnedFrame};

/// The option naming the AWS region (`x-portkey-aws-region`).
pub const OPTION_AWS_REGION: &str = "aws_region";

/// The Bedrock adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bedrock;

/// Percent-encodes a model id as one URI path segment, as the AWS SDKs do for `httpLabel`s:
/// every byte except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is escaped, so
/// `anthropic.claude-3-haiku-20240307-v1:0` becomes `...-v1%3A0` and an ARN's `:` and `/` stay
/// inside the segment. (SigV4 canonicalisation encodes this path once more; that is the
/// signer's job.)
pub(crate) fn encode_model_id(model: &str) -> String {
    let mut out = String::with_capacity(model.len() * 3 / 2);
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn model_required(cx: &WireContext<'_>) -> Result<(), TranslateError> {
    if cx.model.is_empty() {
        return Err(TranslateError::invalid_request(
            "a Bedrock model id is required",
            Some("model"),
        ));
    }
    Ok(())
}

impl NativeAdapter for Bedrock {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        let region = options
            .get(OPTION_AWS_REGION)
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                TranslateError::invalid_request(
                    "Bedrock needs an AWS region: set aws_region (x-portkey-aws-region)",
                    Some(OPTION_AWS_REGION),
                )
            })?;
        if !valid_region(region) {
            return Err(TranslateError::invalid_request(
                format!("invalid AWS region {region:?}"),
                Some(OPTION_AWS_REGION),
            ));
        }
        Ok(format!("https://bedrock-runtime.{region}.amazonaws.com"))
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        model_required(cx)?;
        let body = request::converse_body(req, cx.model)?;
        let op = if cx.stream {
            "converse-stream"
        } else {
            "converse"
        };
        Ok(WireRequest {
            path: format!("/model/{}/{op}", encode_model_id(cx.model)),
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
        Box::new(stream::ConverseStream::new(cx))
    }

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::AwsEventStream
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        model_required(cx)?;
        embeddings::request(req, cx)
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        embeddings::response(body, cx)
    }

    fn images_request(
        &self,
        req: &ImagesRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        model_required(cx)?;
        images::request(req, cx)
    }

    fn images_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        images::response(body, cx)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error::error_response(status, None, body)
    }

    fn error_type_header(&self) -> Option<&'static str> {
        Some(error::ERROR_TYPE_HEADER)
    }

    fn error_response_typed(
        &self,
        status: u16,
        error_type: Option<&str>,
        body: &[u8],
    ) -> ErrorEnvelope {
        error::error_response(status, error_type, body)
    }
}

#[cfg(test)]
mod tests;
