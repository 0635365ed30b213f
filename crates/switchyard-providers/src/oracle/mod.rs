//! OCI Generative AI (`oracle`) through its native inference API: `POST /20231130/actions/chat`
//! under `https://inference.generativeai.{oracle_region}.oci.oraclecloud.com`, with OCI's
//! `ChatDetails` body (`compartmentId`, `servingMode`, and a `chatRequest` in the `GENERIC`
//! API format), JSON or SSE (`isStream`). See
//! <https://docs.oracle.com/iaas/api/#/en/generative-ai-inference/20231130/ChatResult/Chat>.
//!
//! Requests are signed with OCI's HTTP signature (API-key auth) by the gateway
//! (`switchyard_gateway::auth::oci`); nothing here touches credentials.

mod request;
mod response;
mod stream;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::ErrorEnvelope;

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, StreamFraming, TranslateError, WireContext,
    WireRequest,
};

/// The OCI region (`x-portkey-oracle-region`, a config's `oracleRegion`): `us-chicago-1`, ….
pub const REGION_OPTION: &str = "oracle_region";
/// The compartment OCID the request is billed to (`oracle_compartment_id`).
pub const COMPARTMENT_OPTION: &str = "oracle_compartment_id";
/// `ON_DEMAND` (default: `model` is a model id such as `meta.llama-3.3-70b-instruct`) or
/// `DEDICATED` (`model` is the OCID of a dedicated AI cluster endpoint).
pub const SERVING_MODE_OPTION: &str = "oracle_serving_mode";
/// The API version path segment (`20231130`, the only one published).
pub const API_VERSION_OPTION: &str = "oracle_api_version";

const DEFAULT_API_VERSION: &str = "20231130";

/// The OCI Generative AI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oracle;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

/// A non-blank option, trimmed.
fn option<'a>(options: &'a ProviderOptions, name: &str) -> Option<&'a str> {
    options
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// `/{version}/actions/chat`; the version is digits only.
fn chat_path(options: &ProviderOptions) -> Result<String, TranslateError> {
    let version = option(options, API_VERSION_OPTION).unwrap_or(DEFAULT_API_VERSION);
    if !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "oracle_api_version must be digits, like 20231130",
            API_VERSION_OPTION,
        ));
    }
    Ok(format!("/{version}/actions/chat"))
}

impl NativeAdapter for Oracle {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        let region = option(options, REGION_OPTION).ok_or_else(|| {
            invalid(
                "oracle needs oracle_region (like us-chicago-1), or a custom_host",
                REGION_OPTION,
            )
        })?;
        let label = region.len() <= 63
            && !region.starts_with('-')
            && !region.ends_with('-')
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !label {
            return Err(invalid(
                "oracle_region may hold only letters, digits and '-' (like us-chicago-1)",
                REGION_OPTION,
            ));
        }
        Ok(format!(
            "https://inference.generativeai.{}.oci.oraclecloud.com",
            region.to_ascii_lowercase()
        ))
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let path = chat_path(cx.options)?;
        let body = request::chat_details(req, cx)?;
        let body = serde_json::to_vec(&body)
            .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?;
        Ok(WireRequest {
            path,
            headers: Vec::new(),
            body,
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
        Box::new(stream::OracleStream::new(cx))
    }

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::Sse
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        response::error_response(status, body)
    }
}

#[cfg(test)]
mod tests;
