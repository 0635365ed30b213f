//! Stability AI's own API (`https://api.stability.ai`, `Authorization: Bearer`): OpenAI image
//! generation only, on the API version the model picks (as Portkey's `stability-ai` provider
//! does):
//!
//! - v1 (`stable-diffusion-*` engines, e.g. `stable-diffusion-xl-1024-v1-0`,
//!   `stable-diffusion-v1-6`): `POST /v1/generation/{engine}/text-to-image`, a JSON body with
//!   `text_prompts` -> `{"artifacts":[{"base64","finishReason","seed"}]}` ([`v1`]).
//! - v2beta Stable Image (`core`, `ultra`, `sd3` and the SD3 models `sd3.5-large`, …):
//!   `POST /v2beta/stable-image/generate/{core|ultra|sd3}`, a `multipart/form-data` body
//!   (`accept: application/json`) -> `{"image","finish_reason","seed"}` ([`v2`]).
//!
//! Images come back as base64 only: `response_format: "url"` is refused before any I/O.

mod multipart;
mod v1;
mod v2;

use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::images::{ImagesRequest, ImagesResponse};
use switchyard_types::ErrorEnvelope;

use crate::image_only::{error_envelope, no_chat, NoChatStream};
use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// The default Stability AI API host.
pub const BASE_URL: &str = "https://api.stability.ai";

const NAME: &str = "Stability AI";

/// The Stability AI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stability;

/// Which API a model is served by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api<'a> {
    /// v1 generation with this engine id.
    V1(&'a str),
    /// v2beta Stable Image: the route (`core`, `ultra`, `sd3`) and, for `sd3`, the `model`
    /// form field (`sd3.5-large`, …) when one was named.
    V2 {
        route: &'static str,
        model: Option<&'a str>,
    },
}

fn api(model: &str) -> Result<Api<'_>, TranslateError> {
    let safe = |m: &str| {
        m.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match model {
        "" => Err(TranslateError::invalid_request(
            "Stability AI needs a model: core, ultra, sd3 (or an SD3 model such as \
             sd3.5-large), or a v1 engine such as stable-diffusion-xl-1024-v1-0",
            Some("model"),
        )),
        "core" | "stable-image-core" => Ok(Api::V2 {
            route: "core",
            model: None,
        }),
        "ultra" | "stable-image-ultra" => Ok(Api::V2 {
            route: "ultra",
            model: None,
        }),
        "sd3" => Ok(Api::V2 {
            route: "sd3",
            model: None,
        }),
        m if m.starts_with("sd3") && safe(m) => Ok(Api::V2 {
            route: "sd3",
            model: Some(m),
        }),
        m if m.starts_with("stable-diffusion-") && safe(m) => Ok(Api::V1(m)),
        m => Err(TranslateError::invalid_request(
            format!(
                "Stability AI image generation supports core, ultra, sd3 and the SD3 models \
                 (sd3.5-large, …) on its v2beta API and stable-diffusion-* engines on its v1 \
                 API, not {m:?}"
            ),
            Some("model"),
        )),
    }
}

impl NativeAdapter for Stability {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(no_chat(NAME))
    }

    fn chat_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        Err(no_chat(NAME))
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(NoChatStream(NAME))
    }

    fn images_request(
        &self,
        req: &ImagesRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        match api(cx.model)? {
            Api::V1(engine) => v1::request(req, engine),
            Api::V2 { route, model } => v2::request(req, route, model, cx),
        }
    }

    fn images_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        match api(cx.model)? {
            Api::V1(_) => v1::response(body, cx),
            Api::V2 { .. } => v2::response(body, cx),
        }
    }

    /// v1 errors are `{"id","name","message"}`, v2beta errors `{"id","name","errors":[…]}`;
    /// `name` (`bad_request`, `content_moderation`, …) becomes the error `code`.
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error_envelope(NAME, status, body, &["errors", "message"], Some("name"))
    }
}

/// A Stability `style_preset`: the `style_preset` member, else `style` unless it is one of
/// DALL·E 3's (`vivid`, `natural`), which Stability has no equivalent for.
fn style_preset(req: &ImagesRequest) -> Result<Option<&str>, TranslateError> {
    if let Some(p) = req
        .extra_str("style_preset")
        .map_err(crate::image_only::param)?
    {
        return Ok(Some(p));
    }
    Ok(req
        .style
        .as_deref()
        .filter(|s| !s.is_empty() && !matches!(*s, "vivid" | "natural")))
}

#[cfg(test)]
mod tests;
