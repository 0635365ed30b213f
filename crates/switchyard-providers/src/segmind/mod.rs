//! Segmind's serverless models (`https://api.segmind.com/v1/{model}`, `x-api-key`): OpenAI image
//! generation only, as Portkey's `segmind` provider maps it
//! (<https://www.segmind.com/models/sdxl1.0-txt2img/api>).
//!
//! Request: `prompt`; `n` -> `samples` (1–10); `size` -> `img_width`/`img_height`; `steps` ->
//! `num_inference_steps`; `qr_size` -> `size`; `style` as it is (DALL·E's `vivid`/`natural`
//! dropped); every other member (`negative_prompt`, `scheduler`, `guidance_scale`, `seed`,
//! `strength`, `refiner`, `high_noise_fraction`, `control_scale`, `qr_text`, …) passed as it
//! is, since each Segmind model has its own parameters; `base64: true` always. Portkey's
//! defaults for the SDXL parameters are not sent: each model's own defaults apply.
//!
//! Response: `{"image":"<b64>"|["<b64>",…],"status",…}`; a model that answers with the image
//! bytes themselves (PNG, JPEG, WebP) is base64-encoded. Images come back as base64 only:
//! `response_format: "url"` is refused before any I/O.

use base64::Engine as _;
use serde_json::{json, Map, Value};
use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::images::{ImageData, ImagesRequest, ImagesResponse};
use switchyard_types::ErrorEnvelope;

use crate::image_only::{bad, error_envelope, no_chat, param, prompt, NoChatStream};
use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// The default Segmind API base (the model id is the path under it).
pub const BASE_URL: &str = "https://api.segmind.com/v1";

const NAME: &str = "Segmind";

/// The most images one call generates (Portkey's bound on `samples`).
const MAX_SAMPLES: u32 = 10;

/// The Segmind adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segmind;

/// The members read into Segmind's names here; not copied as they are.
const MAPPED: &[&str] = &[
    "steps",
    "qr_size",
    "base64",
    "samples",
    "img_width",
    "img_height",
];

fn model_path(model: &str) -> Result<String, TranslateError> {
    let safe = !model.is_empty()
        && !model.starts_with('.')
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !safe {
        return Err(bad(
            format!(
                "Segmind needs a model id (e.g. sdxl1.0-txt2img) of letters, digits, '-', '_' \
                 and '.', got {model:?}"
            ),
            "model",
        ));
    }
    Ok(format!("/{model}"))
}

fn body(req: &ImagesRequest) -> Result<Value, TranslateError> {
    let text = prompt(&req.prompt)?;
    req.require_base64_output(NAME).map_err(param)?;
    let n = req.count().map_err(param)?;
    if n > MAX_SAMPLES {
        return Err(bad(
            format!("Segmind generates at most {MAX_SAMPLES} images per request"),
            "n",
        ));
    }
    let mut b = Map::new();
    b.insert("prompt".into(), json!(text));
    b.insert("samples".into(), json!(n));
    if let Some((w, h)) = req.dimensions().map_err(param)? {
        b.insert("img_width".into(), json!(w));
        b.insert("img_height".into(), json!(h));
    }
    if let Some(s) = req
        .style
        .as_deref()
        .filter(|s| !s.is_empty() && !matches!(*s, "vivid" | "natural"))
    {
        b.insert("style".into(), json!(s));
    }
    if let Some(steps) = req.extra_u32("steps").map_err(param)? {
        b.insert("num_inference_steps".into(), json!(steps));
    }
    if let Some(size) = req.extra_u32("qr_size").map_err(param)? {
        b.insert("size".into(), json!(size));
    }
    for (k, v) in &req.extra {
        if !MAPPED.contains(&k.as_str()) && !v.is_null() {
            b.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    b.insert("base64".into(), json!(true));
    Ok(Value::Object(b))
}

fn invalid(what: &str) -> TranslateError {
    TranslateError::InvalidResponse(format!("Segmind: {what}"))
}

/// Whether `body` is image bytes (PNG, JPEG, WebP) rather than JSON.
fn is_image(body: &[u8]) -> bool {
    body.starts_with(b"\x89PNG\r\n\x1a\n")
        || body.starts_with(&[0xff, 0xd8, 0xff])
        || (body.len() >= 12 && body.starts_with(b"RIFF") && body.get(8..12) == Some(b"WEBP"))
}

fn response(body: &[u8], cx: &WireContext<'_>) -> Result<ImagesResponse, TranslateError> {
    let images: Vec<String> = if is_image(body) {
        vec![base64::engine::general_purpose::STANDARD.encode(body)]
    } else {
        let v: Value = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
        match v.get("image") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("`image` is not a list of base64 strings"))?,
            _ => return Err(invalid("no `image` in the response")),
        }
    };
    let data: Vec<ImageData> = images
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(ImageData::b64)
        .collect();
    if data.is_empty() {
        return Err(invalid("an empty `image`"));
    }
    Ok(ImagesResponse {
        created: cx.created,
        data,
        usage: None,
    })
}

impl NativeAdapter for Segmind {
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
        let path = model_path(cx.model)?;
        let body = body(req)?;
        Ok(WireRequest {
            path,
            headers: Vec::new(),
            body: serde_json::to_vec(&body)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
        })
    }

    fn images_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ImagesResponse, TranslateError> {
        response(body, cx)
    }

    /// Segmind errors are `{"error": "…"}` or `{"html-message": "…"}` (406: not enough
    /// credits).
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error_envelope(
            NAME,
            status,
            body,
            &["error", "html-message", "message", "detail"],
            None,
        )
    }
}

#[cfg(test)]
mod tests;
