//! Stability's v1 text-to-image (<https://platform.stability.ai/docs/api-reference#tag/SDXL-1.0-and-SD1.6/operation/textToImage>):
//! `POST /v1/generation/{engine}/text-to-image` with
//! `{"text_prompts":[{"text","weight"}],"samples","width","height","style_preset","cfg_scale",
//! "clip_guidance_preset","sampler","seed","steps","extras"}` ->
//! `{"artifacts":[{"base64","finishReason":"SUCCESS"|"CONTENT_FILTERED"|"ERROR","seed"}]}`.
//!
//! Mapping (Portkey's, plus `negative_prompt` as a prompt of weight -1): `prompt` -> the first
//! text prompt (weight 1); `n` -> `samples` (1–10); `size` -> `width`/`height`; `style` (or
//! `style_preset`) -> `style_preset`; `cfg_scale`, `clip_guidance_preset`, `sampler`, `seed`,
//! `steps`, `extras` as they are.

use serde_json::{json, Map, Value};
use switchyard_types::images::{ImageData, ImagesRequest, ImagesResponse};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::style_preset;
use crate::image_only::{bad, content_filtered, param, prompt};
use crate::native::{TranslateError, WireContext, WireRequest};

/// The most images one v1 call generates.
const MAX_SAMPLES: u32 = 10;

pub(super) fn request(req: &ImagesRequest, engine: &str) -> Result<WireRequest, TranslateError> {
    let text = prompt(&req.prompt)?;
    req.require_base64_output("Stability AI").map_err(param)?;
    let mut prompts = vec![json!({"text": text, "weight": 1})];
    if let Some(neg) = req.extra_str("negative_prompt").map_err(param)? {
        if !neg.trim().is_empty() {
            prompts.push(json!({"text": neg, "weight": -1}));
        }
    }
    let mut b = Map::new();
    b.insert("text_prompts".into(), Value::Array(prompts));
    let n = req.count().map_err(param)?;
    if n > MAX_SAMPLES {
        return Err(bad(
            format!("Stability AI v1 generates at most {MAX_SAMPLES} images per request"),
            "n",
        ));
    }
    b.insert("samples".into(), json!(n));
    if let Some((w, h)) = req.dimensions().map_err(param)? {
        b.insert("width".into(), json!(w));
        b.insert("height".into(), json!(h));
    }
    if let Some(p) = style_preset(req)? {
        b.insert("style_preset".into(), json!(p));
    }
    if let Some(c) = req.extra_f64("cfg_scale").map_err(param)? {
        b.insert("cfg_scale".into(), json!(c));
    }
    for key in ["clip_guidance_preset", "sampler"] {
        if let Some(s) = req.extra_str(key).map_err(param)? {
            b.insert(key.into(), json!(s));
        }
    }
    for key in ["seed", "steps"] {
        if let Some(s) = req.extra_u32(key).map_err(param)? {
            b.insert(key.into(), json!(s));
        }
    }
    match req.extra.get("extras") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => {
            b.insert("extras".into(), v.clone());
        }
        Some(_) => return Err(bad("extras must be an object", "extras")),
    }
    Ok(WireRequest {
        path: format!("/v1/generation/{engine}/text-to-image"),
        headers: vec![("accept".into(), "application/json".into())],
        body: serde_json::to_vec(&Value::Object(b))
            .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
    })
}

fn invalid(what: &str) -> TranslateError {
    TranslateError::InvalidResponse(format!("Stability AI v1: {what}"))
}

/// The `SUCCESS` artifacts as images. Filtered artifacts (Stability blurs them) are dropped;
/// when none is left the request fails: a content-policy 400 if any was filtered, else a 500.
pub(super) fn response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ImagesResponse, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
    let artifacts = v
        .get("artifacts")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no `artifacts` array"))?;
    let mut data = Vec::with_capacity(artifacts.len());
    let (mut filtered, mut failed) = (0usize, 0usize);
    for a in artifacts {
        let reason = a.get("finishReason").and_then(Value::as_str);
        match reason {
            None | Some("SUCCESS") => {
                let b64 = a
                    .get("base64")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| invalid("an artifact has no `base64` image"))?;
                data.push(ImageData::b64(b64));
            }
            Some("CONTENT_FILTERED") => filtered += 1,
            Some(_) => failed += 1,
        }
    }
    if data.is_empty() {
        return Err(if filtered > 0 {
            content_filtered("Stability AI filtered the generated image(s)".into())
        } else if failed > 0 {
            TranslateError::Upstream {
                status: 500,
                error: ErrorEnvelope::new(
                    ErrorKind::ApiError,
                    "Stability AI failed to generate the image(s)",
                )
                .with_code("model_error"),
            }
        } else {
            invalid("no artifacts in the response")
        });
    }
    Ok(ImagesResponse {
        created: cx.created,
        data,
        usage: None,
    })
}
