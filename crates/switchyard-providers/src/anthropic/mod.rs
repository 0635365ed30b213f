//! Anthropic Messages API (`POST /v1/messages`) adapters: [`Anthropic`] for api.anthropic.com
//! and [`VertexAnthropic`] for Claude on Google Vertex AI (`:rawPredict` /
//! `:streamRawPredict`). Both share one translation; Vertex only moves the model into the path
//! and puts `anthropic_version` in the body. Every mapping rule is in `docs/providers/anthropic.md`.
//!
//! `response_format` (`json_object` / `json_schema`) is implemented with a forced tool whose
//! `input_schema` is the requested schema; its input comes back as message content.

pub(crate) mod error;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;
pub(crate) mod thinking;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// The Anthropic API's base URL. As in Portkey, it includes the API version, so a `custom_host`
/// for an Anthropic-compatible host is written `https://host/v1`.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com/v1";
/// `anthropic-version` sent when the `anthropic_version` option is unset.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";
/// The `anthropic_version` body member Vertex AI requires.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Option keys read from [`WireContext::options`].
pub const OPT_ANTHROPIC_VERSION: &str = "anthropic_version";
pub const OPT_ANTHROPIC_BETA: &str = "anthropic_beta";
pub const OPT_VERTEX_PROJECT_ID: &str = "vertex_project_id";
pub const OPT_VERTEX_REGION: &str = "vertex_region";

/// Claude through the Anthropic API.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

/// Claude through Google Vertex AI's Anthropic publisher models.
#[derive(Debug, Clone, Copy, Default)]
pub struct VertexAnthropic;

fn option<'a>(options: &'a ProviderOptions, key: &str) -> Option<&'a str> {
    options.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The `anthropic-beta` header, when the option is set.
fn beta_header(options: &ProviderOptions) -> Option<(String, String)> {
    option(options, OPT_ANTHROPIC_BETA).map(|b| ("anthropic-beta".to_owned(), b.to_owned()))
}

fn to_bytes(body: serde_json::Map<String, serde_json::Value>) -> Result<Vec<u8>, TranslateError> {
    serde_json::to_vec(&serde_json::Value::Object(body))
        .map_err(|e| TranslateError::invalid_request(format!("cannot encode request: {e}"), None))
}

impl NativeAdapter for Anthropic {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(ANTHROPIC_BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let mut body = request::build_body(req, cx.stream)?;
        body.insert(
            "model".into(),
            serde_json::Value::String(cx.model.to_owned()),
        );
        let version =
            option(cx.options, OPT_ANTHROPIC_VERSION).unwrap_or(DEFAULT_ANTHROPIC_VERSION);
        let mut headers = vec![("anthropic-version".to_owned(), version.to_owned())];
        headers.extend(beta_header(cx.options));
        Ok(WireRequest {
            path: "/messages".into(),
            headers,
            body: to_bytes(body)?,
        })
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        response::translate(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::AnthropicStream::new(cx))
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error::error_response(status, body)
    }
}

/// A required Vertex option that is safe to put in a URL (host label or path segment).
fn vertex_option<'a>(options: &'a ProviderOptions, key: &str) -> Result<&'a str, TranslateError> {
    let value = option(options, key).ok_or_else(|| {
        TranslateError::invalid_request(
            format!(
                "Claude on Vertex AI needs the `{key}` option (header x-portkey-{})",
                key.replace('_', "-")
            ),
            Some(key),
        )
    })?;
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !ok || (key == OPT_VERTEX_REGION && value.contains([':', '_', '.'])) {
        return Err(TranslateError::invalid_request(
            format!("`{key}` contains characters not allowed in a Vertex AI URL"),
            Some(key),
        ));
    }
    Ok(value)
}

impl NativeAdapter for VertexAnthropic {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        let region = vertex_option(options, OPT_VERTEX_REGION)?;
        if region == "global" {
            Ok("https://aiplatform.googleapis.com".to_owned())
        } else {
            Ok(format!("https://{region}-aiplatform.googleapis.com"))
        }
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let project = vertex_option(cx.options, OPT_VERTEX_PROJECT_ID)?;
        let region = vertex_option(cx.options, OPT_VERTEX_REGION)?;
        let model = cx.model;
        let model_ok = !model.is_empty()
            && model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if !model_ok {
            return Err(TranslateError::invalid_request(
                format!("`{model}` is not a valid Vertex AI Claude model id"),
                Some("model"),
            ));
        }
        let mut body = request::build_body(req, cx.stream)?;
        body.insert(
            "anthropic_version".into(),
            serde_json::Value::String(VERTEX_ANTHROPIC_VERSION.to_owned()),
        );
        let method = if cx.stream {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        Ok(WireRequest {
            path: format!(
                "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{method}"
            ),
            headers: beta_header(cx.options).into_iter().collect(),
            body: to_bytes(body)?,
        })
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        response::translate(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::AnthropicStream::new(cx))
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error::error_response(status, body)
    }
}
