//! The provider catalogue and pure translation between the OpenAI shape and provider formats.
//!
//! - [`catalog`]: every provider Switchyard can reach, by Portkey slug. OpenAI-compatible hosts
//!   are rows of data (base URL, path prefix, auth style); they need no translation at all.
//! - Native adapters (providers with their own API shape) implement pure request/response/stream
//!   translation and are dispatched by [`ProviderKind`].
//!
//! Nothing here performs I/O: a request goes in, wire bytes come out, and back.

pub mod anthropic;
pub mod bedrock;
pub mod bytez;
pub mod catalog;
pub mod cohere;
pub mod dialect;
pub mod embedding_hosts;
pub mod google;
pub mod image_only;
pub mod native;
pub mod nomic;
pub mod oracle;
pub mod predibase;
pub mod rerank;
pub mod sagemaker;
pub mod segmind;
pub mod stability;
#[cfg(test)]
mod test_sse;
pub mod triton;
pub mod workers_ai;

pub use catalog::{lookup, AuthStyle, Endpoint, Native, ProviderKind, ProviderSpec, CATALOG};

/// The adapter for a native provider and model (Vertex AI serves Claude models through the
/// Anthropic adapter and every other model through Gemini's), and the model id to send. On
/// Vertex AI a model may name its publisher as Portkey writes it (`anthropic.claude-…`,
/// `google.gemini-…`): the prefix picks the adapter and is not part of the model id. A
/// publisher this gateway does not translate for is refused.
pub fn adapter(
    native: Native,
    model: &str,
) -> Result<(&'static dyn native::NativeAdapter, &str), native::TranslateError> {
    Ok(match native {
        Native::Anthropic => (&anthropic::Anthropic, model),
        Native::Google => (&google::Gemini, model),
        Native::VertexAi => match model.split_once('.') {
            Some(("anthropic", m)) => (&anthropic::VertexAnthropic, m),
            Some(("google", m)) => (&google::VertexGemini, m),
            Some((publisher @ ("meta" | "mistralai" | "endpoints"), _)) => {
                return Err(native::TranslateError::invalid_request(
                    format!("Vertex AI models of publisher `{publisher}` are not supported; use a google or anthropic model"),
                    Some("model"),
                ))
            }
            _ if model.starts_with("claude") => (&anthropic::VertexAnthropic, model),
            _ => (&google::VertexGemini, model),
        },
        Native::Bedrock => (&bedrock::Bedrock, model),
        Native::Cohere => (&cohere::Cohere, model),
        Native::StabilityAi => (&stability::Stability, model),
        Native::Segmind => (&segmind::Segmind, model),
        Native::Sagemaker => (&sagemaker::Sagemaker, model),
        Native::WorkersAi => (&workers_ai::WorkersAi, model),
        Native::Nomic => (&nomic::Nomic, model),
        Native::Predibase => (&predibase::Predibase, model),
        Native::Triton => (&triton::Triton, model),
        Native::Bytez => (&bytez::Bytez, model),
        Native::Oracle => (&oracle::Oracle, model),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_publisher_prefixes_pick_the_adapter_and_leave_the_model_id() {
        let (a, m) = adapter(Native::VertexAi, "anthropic.claude-3-5-sonnet@20240620").unwrap();
        assert_eq!(m, "claude-3-5-sonnet@20240620");
        assert_eq!(
            a.base_url(&[("vertex_region".to_owned(), "us-east5".to_owned())].into())
                .unwrap(),
            "https://us-east5-aiplatform.googleapis.com"
        );
        let (_, m) = adapter(Native::VertexAi, "google.gemini-2.0-flash").unwrap();
        assert_eq!(m, "gemini-2.0-flash");
        let (_, m) = adapter(Native::VertexAi, "gemini-1.5-pro-002").unwrap();
        assert_eq!(m, "gemini-1.5-pro-002");
        assert!(adapter(Native::VertexAi, "meta.llama-3.1-405b").is_err());
        // Only Vertex reads a prefix: a Bedrock model id keeps its dots.
        let (_, m) = adapter(Native::Bedrock, "anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!(m, "anthropic.claude-3-haiku-20240307-v1:0");
    }
}
