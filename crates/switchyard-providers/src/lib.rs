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
pub mod catalog;
pub mod cohere;
pub mod google;
pub mod native;

pub use catalog::{lookup, AuthStyle, Endpoint, Native, ProviderKind, ProviderSpec, CATALOG};

/// The adapter for a native provider and model (Vertex AI serves Claude models through the
/// Anthropic adapter and every other model through Gemini's).
pub fn adapter(native: Native, model: &str) -> &'static dyn native::NativeAdapter {
    match native {
        Native::Anthropic => &anthropic::Anthropic,
        Native::Google => &google::Gemini,
        Native::VertexAi if model.starts_with("claude") => &anthropic::VertexAnthropic,
        Native::VertexAi => &google::VertexGemini,
        Native::Bedrock => &bedrock::Bedrock,
        Native::Cohere => &cohere::Cohere,
    }
}
