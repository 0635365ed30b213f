//! Stability's v2beta Stable Image generation
//! (<https://platform.stability.ai/docs/api-reference#tag/Generate>):
//! `POST /v2beta/stable-image/generate/{core|ultra|sd3}`, `multipart/form-data` with
//! `prompt`, `negative_prompt`, `aspect_ratio`, `seed`, `style_preset`, `output_format`,
//! `model` (sd3 only), `cfg_scale` (sd3 only) and `accept: application/json` ->
//! `{"image":"<b64>","finish_reason":"SUCCESS"|"CONTENT_FILTERED","seed"}`. One image per call.
//!
//! Mapping: `size` -> the nearest supported `aspect_ratio` (an explicit `aspect_ratio` wins);
//! `style` (unless DALL·E's `vivid`/`natural`) or `style_preset` -> `style_preset`;
//! `output_format` `png`/`jpeg`/`webp`. Image-to-image (`image`, `strength`) needs a file
//! upload and is refused.

use switchyard_types::images::{nearest_aspect_ratio, ImageData, ImagesRequest, ImagesResponse};

use super::multipart::form;
use super::style_preset;
use crate::image_only::{bad, content_filtered, param, prompt};
use crate::native::{TranslateError, WireContext, WireRequest};

/// The aspect ratios the v2beta generate endpoints accept.
const ASPECT_RATIOS: [&str; 9] = [
    "1:1", "16:9", "9:16", "3:2", "2:3", "5:4", "4:5", "21:9", "9:21",
];

pub(super) fn request(
    req: &ImagesRequest,
    route: &str,
    model: Option<&str>,
    cx: &WireContext<'_>,
) -> Result<WireRequest, TranslateError> {
    let text = prompt(&req.prompt)?;
    req.require_base64_output("Stability AI").map_err(param)?;
    if req.count().map_err(param)? != 1 {
        return Err(bad(
            "Stability AI's Stable Image API generates one image per request: set n to 1",
            "n",
        ));
    }
    for key in ["image", "strength"] {
        if req.extra.get(key).is_some_and(|v| !v.is_null()) {
            return Err(bad(
                format!("{key}: image-to-image is not supported through /v1/images/generations"),
                key,
            ));
        }
    }
    let mut fields: Vec<(&str, String)> = vec![("prompt", text.to_owned())];
    if let Some(m) = model {
        fields.push(("model", m.to_owned()));
    }
    if let Some(n) = req.extra_str("negative_prompt").map_err(param)? {
        fields.push(("negative_prompt", n.to_owned()));
    }
    let ratio = match req.extra_str("aspect_ratio").map_err(param)? {
        Some(r) => Some(r),
        None => req
            .dimensions()
            .map_err(param)?
            .and_then(|(w, h)| nearest_aspect_ratio(w, h, &ASPECT_RATIOS)),
    };
    if let Some(r) = ratio {
        fields.push(("aspect_ratio", r.to_owned()));
    }
    if let Some(s) = req.extra_u32("seed").map_err(param)? {
        fields.push(("seed", s.to_string()));
    }
    if let Some(p) = style_preset(req)? {
        fields.push(("style_preset", p.to_owned()));
    }
    if route == "sd3" {
        if let Some(c) = req.extra_f64("cfg_scale").map_err(param)? {
            fields.push(("cfg_scale", c.to_string()));
        }
    }
    match req.output_format.as_deref() {
        None => {}
        Some(f @ ("png" | "jpeg" | "webp")) => fields.push(("output_format", f.to_owned())),
        Some("jpg") => fields.push(("output_format", "jpeg".to_owned())),
        Some(other) => {
            return Err(bad(
                format!("Stability AI generates png, jpeg or webp images, not {other:?}"),
                "output_format",
            ))
        }
    }
    let (body, content_type) = form(&fields, cx.response_id)?;
    Ok(WireRequest {
        path: format!("/v2beta/stable-image/generate/{route}"),
        headers: vec![
            ("content-type".into(), content_type),
            ("accept".into(), "application/json".into()),
        ],
        body,
    })
}

fn invalid(what: &str) -> TranslateError {
    TranslateError::InvalidResponse(format!("Stability AI v2beta: {what}"))
}

#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// The image; a `CONTENT_FILTERED` finish reason (Stability returns a blurred image) is a
/// content-policy 400, as OpenAI reports a refused prompt.
pub(super) fn response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ImagesResponse, TranslateError> {
    let a: Answer = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
    if a.finish_reason.as_deref() == Some("CONTENT_FILTERED") {
        return Err(content_filtered(
            "Stability AI filtered the generated image".into(),
        ));
    }
    let image = a
        .image
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("no `image` in the response"))?;
    Ok(ImagesResponse {
        created: cx.created,
        data: vec![ImageData::b64(image)],
        usage: None,
    })
}
