//! Google Gemini: the Gemini API ([`Gemini`], `generativelanguage.googleapis.com`) and Gemini
//! on Vertex AI ([`VertexGemini`], `{region}-aiplatform.googleapis.com`). Both take the same
//! `GenerateContentRequest` body and answer with the same `GenerateContentResponse`; only the
//! addressing (and embeddings) differ. Rules and sources: `docs/providers/google.md`.

mod embeddings;
mod images;
mod request;
mod response;
mod schema;
mod stream;

#[cfg(test)]
mod tests_chat;
#[cfg(test)]
mod tests_config;
#[cfg(test)]
mod tests_images;
#[cfg(test)]
mod tests_misc;
#[cfg(test)]
mod tests_reasoning;
#[cfg(test)]
mod tests_schema;
#[cfg(test)]
mod tests_stream;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use switchyard_types::images::{ImagesRequest, ImagesResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// The Gemini API (Google AI Studio keys): `https://generativelanguage.googleapis.com/v1beta`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

/// Gemini on Vertex AI. Reads the options `vertex_region` (e.g. `us-central1`, or `global`) and
/// `vertex_project_id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct VertexGemini;

/// The Gemini API host.
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";

const OPT_REGION: &str = "vertex_region";
const OPT_PROJECT: &str = "vertex_project_id";

/// The model id as a path segment: a leading `models/` is dropped; characters that would change
/// the URL's meaning are refused.
fn model_segment(model: &str) -> Result<&str, TranslateError> {
    let m = model.strip_prefix("models/").unwrap_or(model);
    let ok = !m.is_empty()
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(m)
    } else {
        Err(TranslateError::invalid_request(
            format!("{model:?} is not a valid Gemini model id"),
            Some("model"),
        ))
    }
}

/// A required Vertex option, checked to be safe in a host name / path segment.
fn vertex_option<'a>(options: &'a ProviderOptions, key: &str) -> Result<&'a str, TranslateError> {
    let v = options.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(v) = v else {
        return Err(TranslateError::invalid_request(
            format!(
                "Vertex AI needs the `{key}` option (x-portkey-{} header)",
                key.replace('_', "-")
            ),
            Some(key),
        ));
    };
    let ok = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok && !(key == OPT_REGION && v.contains([':', '.', '_'])) {
        Ok(v)
    } else {
        Err(TranslateError::invalid_request(
            format!("invalid `{key}` option {v:?}"),
            Some(key),
        ))
    }
}

/// `https://{region}-aiplatform.googleapis.com`, or `https://aiplatform.googleapis.com` for the
/// `global` location.
fn vertex_base_url(options: &ProviderOptions) -> Result<String, TranslateError> {
    let region = vertex_option(options, OPT_REGION)?;
    Ok(if region == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{region}-aiplatform.googleapis.com")
    })
}

/// `/v1/projects/{project}/locations/{region}/publishers/google/models/{model}`.
fn vertex_model_path(options: &ProviderOptions, model: &str) -> Result<String, TranslateError> {
    let project = vertex_option(options, OPT_PROJECT)?;
    let region = vertex_option(options, OPT_REGION)?;
    let model = model_segment(model)?;
    Ok(format!(
        "/v1/projects/{project}/locations/{region}/publishers/google/models/{model}"
    ))
}

fn method(cx: &WireContext<'_>) -> &'static str {
    if cx.stream {
        ":streamGenerateContent?alt=sse"
    } else {
        ":generateContent"
    }
}

fn to_bytes(body: &serde_json::Value) -> Result<Vec<u8>, TranslateError> {
    serde_json::to_vec(body)
        .map_err(|e| TranslateError::invalid_request(format!("cannot encode request: {e}"), None))
}

fn wire(path: String, body: &serde_json::Value) -> Result<WireRequest, TranslateError> {
    Ok(WireRequest {
        path,
        headers: Vec::new(),
        body: to_bytes(body)?,
    })
}

impl NativeAdapter for Gemini {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(GEMINI_BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let model = model_segment(cx.model)?;
        let mut body = request::chat_body(req, model)?;
        if !cx.strict {
            request::include_thoughts(&mut body);
        }
        wire(format!("/v1beta/models/{model}{}", method(cx)), &body)
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        response::chat_response(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::GeminiStream::new(cx))
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let model = model_segment(cx.model)?;
        let body = embeddings::gemini_body(req, model)?;
        wire(format!("/v1beta/models/{model}:batchEmbedContents"), &body)
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        embeddings::gemini_response(body, cx.model)
    }

    fn images_request(
        &self,
        req: &ImagesRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let model = model_segment(cx.model)?;
        images::check_model(model)?;
        let body = images::body(req, images::Host::GeminiApi)?;
        wire(format!("/v1beta/models/{model}:predict"), &body)
    }

    fn images_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        images::response(body, cx)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        response::error_response(status, body)
    }
}

impl NativeAdapter for VertexGemini {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        vertex_base_url(options)
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = vertex_model_path(cx.options, cx.model)?;
        let mut body = request::chat_body(req, model_segment(cx.model)?)?;
        if !cx.strict {
            request::include_thoughts(&mut body);
        }
        wire(format!("{path}{}", method(cx)), &body)
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        response::chat_response(body, cx)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::GeminiStream::new(cx))
    }

    fn embeddings_request(
        &self,
        req: &EmbeddingsRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = vertex_model_path(cx.options, cx.model)?;
        let body = embeddings::vertex_body(req)?;
        wire(format!("{path}:predict"), &body)
    }

    fn embeddings_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<EmbeddingsResponse, TranslateError> {
        embeddings::vertex_response(body, cx.model)
    }

    fn images_request(
        &self,
        req: &ImagesRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = vertex_model_path(cx.options, cx.model)?;
        images::check_model(model_segment(cx.model)?)?;
        let body = images::body(req, images::Host::Vertex)?;
        wire(format!("{path}:predict"), &body)
    }

    fn images_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        images::response(body, cx)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        response::error_response(status, body)
    }
}
