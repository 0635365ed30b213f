//! OpenAI image generation ↔ Imagen `predict` on the Gemini API and on Vertex AI.
//!
//! Request (<https://ai.google.dev/gemini-api/docs/imagen>,
//! <https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api>):
//! `{"instances":[{"prompt"}],"parameters":{"sampleCount","aspectRatio","personGeneration",
//! "includeRaiReason","outputOptions":{"mimeType","compressionQuality"}}}`, plus on Vertex AI
//! only `negativePrompt`, `seed` and `addWatermark` (the Gemini API refuses them).
//! Response: `{"predictions":[{"bytesBase64Encoded","mimeType","prompt"?,"raiFilteredReason"?}]}`.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchyard_types::images::{
    nearest_aspect_ratio, ImageData, ImagesParamError, ImagesRequest, ImagesResponse,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{TranslateError, WireContext};

/// Which Imagen host the body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Host {
    GeminiApi,
    Vertex,
}

/// The aspect ratios every Imagen 3 / 4 model accepts.
pub(super) const ASPECT_RATIOS: [&str; 5] = ["1:1", "3:4", "4:3", "9:16", "16:9"];

fn param(e: ImagesParamError) -> TranslateError {
    TranslateError::InvalidRequest {
        message: e.message,
        param: Some(e.param),
    }
}

/// Gemini image models (`gemini-2.5-flash-image`, …) answer through `generateContent`, not
/// `predict`: point the client at chat completions instead of a confusing upstream 404.
pub(super) fn check_model(model: &str) -> Result<(), TranslateError> {
    if model.starts_with("gemini") {
        return Err(TranslateError::invalid_request(
            format!(
                "{model:?} generates images through chat completions; /v1/images/generations \
                 supports Imagen models (e.g. imagen-4.0-generate-001)"
            ),
            Some("model"),
        ));
    }
    Ok(())
}

/// The Imagen `predict` body for an OpenAI request.
pub(super) fn body(req: &ImagesRequest, host: Host) -> Result<Value, TranslateError> {
    if req.prompt.trim().is_empty() {
        return Err(TranslateError::invalid_request(
            "prompt must not be empty",
            Some("prompt"),
        ));
    }
    req.require_base64_output("Imagen").map_err(param)?;

    let mut p = Map::new();
    // Always explicit: Imagen's own default is 4 images, OpenAI's is 1.
    p.insert("sampleCount".into(), json!(req.count().map_err(param)?));
    let ratio = match req.extra_str("aspect_ratio").map_err(param)? {
        Some(r) => Some(r),
        None => req
            .dimensions()
            .map_err(param)?
            .and_then(|(w, h)| nearest_aspect_ratio(w, h, &ASPECT_RATIOS)),
    };
    if let Some(r) = ratio {
        p.insert("aspectRatio".into(), json!(r));
    }
    if let Some(pg) = req.extra_str("person_generation").map_err(param)? {
        p.insert("personGeneration".into(), json!(pg));
    }
    // Filtered images then come back with a reason instead of silently missing.
    p.insert("includeRaiReason".into(), json!(true));

    let mut output = Map::new();
    match req.output_format.as_deref() {
        None => {}
        Some("png") => {
            output.insert("mimeType".into(), json!("image/png"));
        }
        Some("jpeg" | "jpg") => {
            output.insert("mimeType".into(), json!("image/jpeg"));
        }
        Some(other) => {
            return Err(TranslateError::invalid_request(
                format!("Imagen generates png or jpeg images, not {other:?}"),
                Some("output_format"),
            ))
        }
    }
    if let Some(q) = req.extra_u32("output_compression").map_err(param)? {
        if q > 100 {
            return Err(TranslateError::invalid_request(
                "output_compression must be from 0 to 100",
                Some("output_compression"),
            ));
        }
        output.insert("compressionQuality".into(), json!(q));
    }
    if !output.is_empty() {
        p.insert("outputOptions".into(), Value::Object(output));
    }

    let negative = req.extra_str("negative_prompt").map_err(param)?;
    let seed = req.extra_u32("seed").map_err(param)?;
    let watermark = req.extra_bool("add_watermark").map_err(param)?;
    match host {
        Host::Vertex => {
            if let Some(n) = negative {
                p.insert("negativePrompt".into(), json!(n));
            }
            if let Some(s) = seed {
                p.insert("seed".into(), json!(s));
            }
            if let Some(w) = watermark {
                p.insert("addWatermark".into(), json!(w));
            }
        }
        Host::GeminiApi => {
            let unsupported = [
                ("negative_prompt", negative.is_some()),
                ("seed", seed.is_some()),
                ("add_watermark", watermark.is_some()),
            ];
            if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
                return Err(TranslateError::invalid_request(
                    format!(
                        "Imagen on the Gemini API does not accept {name}; use Imagen on \
                         Vertex AI for it"
                    ),
                    Some(name),
                ));
            }
        }
    }

    Ok(json!({
        "instances": [{ "prompt": req.prompt }],
        "parameters": Value::Object(p),
    }))
}

#[derive(Deserialize)]
struct PredictResponse {
    #[serde(default)]
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Prediction {
    #[serde(default)]
    bytes_base64_encoded: Option<String>,
    /// The prompt Imagen actually used, when it rewrote it (`enhancePrompt`).
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    rai_filtered_reason: Option<String>,
}

fn content_filter(message: String) -> TranslateError {
    TranslateError::Upstream {
        status: 400,
        error: ErrorEnvelope::new(ErrorKind::InvalidRequestError, message)
            .with_code("content_policy_violation"),
    }
}

/// A 2xx `predict` body → OpenAI images response (`b64_json`, `created` from the context).
///
/// Predictions without image bytes are either filtered images (`raiFilteredReason`) or safety
/// attribute entries; they are left out. When no image is left the answer is a 400 content
/// filter error: Imagen omits images its safety filters removed, and an empty body means all
/// were removed.
pub(super) fn response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ImagesResponse, TranslateError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::InvalidResponse(format!("Imagen response is not JSON: {e}"))
    })?;
    if let Some(err) = value.get("error").filter(|e| e.is_object()) {
        let status = err
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400)
            .unwrap_or(500);
        return Err(TranslateError::Upstream {
            status,
            error: super::response::google_error(status, err),
        });
    }
    if !value.is_object() {
        return Err(TranslateError::InvalidResponse(
            "Imagen response is not a JSON object".into(),
        ));
    }
    let r: PredictResponse = serde_json::from_value(value).map_err(|e| {
        TranslateError::InvalidResponse(format!("unexpected Imagen response shape: {e}"))
    })?;
    let mut data = Vec::with_capacity(r.predictions.len());
    let mut reasons = Vec::new();
    for p in r.predictions {
        match p.bytes_base64_encoded.filter(|b| !b.is_empty()) {
            Some(b64) => data.push(ImageData {
                b64_json: Some(b64),
                url: None,
                revised_prompt: p.prompt.filter(|s| !s.is_empty()),
            }),
            None => {
                if let Some(reason) = p.rai_filtered_reason.filter(|s| !s.is_empty()) {
                    reasons.push(reason);
                }
            }
        }
    }
    if data.is_empty() {
        let message = if reasons.is_empty() {
            "Imagen returned no images: its safety filters removed every image".to_owned()
        } else {
            format!(
                "Imagen's safety filters blocked the images: {}",
                reasons.join("; ")
            )
        };
        return Err(content_filter(message));
    }
    Ok(ImagesResponse {
        created: cx.created,
        data,
        usage: None,
    })
}
