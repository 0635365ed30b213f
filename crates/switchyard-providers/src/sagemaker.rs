//! Amazon SageMaker endpoints, as Portkey's `sagemaker` provider serves them: proxy only. A
//! `/v1/{path}` request (e.g. `POST /v1/endpoints/{endpoint}/invocations`) goes to
//! `https://runtime.sagemaker.{aws_region}.amazonaws.com/{path}` with the client's body as it
//! is (its shape is the model container's), signed with AWS SigV4 for service `sagemaker` by the
//! gateway. Portkey's `amzn_sagemaker_*` options become the runtime's `X-Amzn-SageMaker-*`
//! headers ([`NativeAdapter::proxy_headers`]). No OpenAI endpoint is translated.

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::ErrorEnvelope;

use crate::image_only::error_envelope;
use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// The SageMaker adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sagemaker;

/// Options (Portkey's names, `x-portkey-amzn-sagemaker-*` headers) and the runtime headers
/// they become (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>).
const OPTION_HEADERS: [(&str, &str); 8] = [
    (
        "amzn_sagemaker_custom_attributes",
        "x-amzn-sagemaker-custom-attributes",
    ),
    (
        "amzn_sagemaker_target_model",
        "x-amzn-sagemaker-target-model",
    ),
    (
        "amzn_sagemaker_target_variant",
        "x-amzn-sagemaker-target-variant",
    ),
    (
        "amzn_sagemaker_target_container_hostname",
        "x-amzn-sagemaker-target-container-hostname",
    ),
    (
        "amzn_sagemaker_inference_id",
        "x-amzn-sagemaker-inference-id",
    ),
    (
        "amzn_sagemaker_enable_explanations",
        "x-amzn-sagemaker-enable-explanations",
    ),
    (
        "amzn_sagemaker_inference_component",
        "x-amzn-sagemaker-inference-component",
    ),
    ("amzn_sagemaker_session_id", "x-amzn-sagemaker-session-id"),
];

fn proxy_only() -> TranslateError {
    TranslateError::invalid_request(
        "sagemaker is served through the pass-through proxy only: send \
         POST /v1/endpoints/{endpoint}/invocations with the model container's body",
        Some("model"),
    )
}

struct NoStream;

impl ChunkTranslator for NoStream {
    fn on_frame(
        &mut self,
        _frame: crate::native::Frame<'_>,
    ) -> Result<Vec<switchyard_types::chat::ChatChunk>, TranslateError> {
        Err(proxy_only())
    }

    fn finish(&mut self) -> Result<Vec<switchyard_types::chat::ChatChunk>, TranslateError> {
        Err(proxy_only())
    }
}

impl NativeAdapter for Sagemaker {
    fn base_url(&self, options: &ProviderOptions) -> Result<String, TranslateError> {
        let region = options
            .get("aws_region")
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                TranslateError::invalid_request(
                    "sagemaker needs an AWS region: set aws_region (x-portkey-aws-region)",
                    Some("aws_region"),
                )
            })?;
        let valid = region.len() <= 32
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(TranslateError::invalid_request(
                format!("invalid AWS region {region:?}"),
                Some("aws_region"),
            ));
        }
        Ok(format!("https://runtime.sagemaker.{region}.amazonaws.com"))
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(proxy_only())
    }

    fn chat_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        Err(proxy_only())
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(NoStream)
    }

    fn proxy_headers(&self, options: &ProviderOptions) -> Vec<(String, String)> {
        OPTION_HEADERS
            .iter()
            .filter_map(|(option, header)| {
                let v = options.get(*option)?.trim();
                (!v.is_empty()).then(|| ((*header).to_owned(), v.to_owned()))
            })
            .collect()
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error_envelope("SageMaker", status, body, &["message", "Message"], None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> ProviderOptions {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_base_url_is_the_regional_runtime() {
        assert_eq!(
            Sagemaker
                .base_url(&opts(&[("aws_region", "eu-west-1")]))
                .unwrap(),
            "https://runtime.sagemaker.eu-west-1.amazonaws.com"
        );
        assert!(Sagemaker.base_url(&opts(&[])).is_err());
        assert!(Sagemaker
            .base_url(&opts(&[("aws_region", "x.evil.com/")]))
            .is_err());
    }

    #[test]
    fn sagemaker_options_become_runtime_headers() {
        let h = Sagemaker.proxy_headers(&opts(&[
            ("amzn_sagemaker_custom_attributes", "trace=1"),
            ("amzn_sagemaker_target_variant", "blue"),
            ("aws_region", "us-east-1"),
        ]));
        assert_eq!(
            h,
            [
                (
                    "x-amzn-sagemaker-custom-attributes".to_owned(),
                    "trace=1".to_owned()
                ),
                (
                    "x-amzn-sagemaker-target-variant".to_owned(),
                    "blue".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn runtime_errors_keep_their_message() {
        let e = Sagemaker.error_response(
            424,
            br#"{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (400)"}"#,
        );
        assert_eq!(e.error.message, "Received client error (400)");
    }
}
