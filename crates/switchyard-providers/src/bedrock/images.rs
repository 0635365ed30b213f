//! OpenAI image generation -> Bedrock `InvokeModel` for Amazon Titan Image Generator / Nova
//! Canvas and Stability AI models.
//!
//! - Titan Image Generator (`amazon.titan-image-generator-*`,
//!   <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html>)
//!   and Nova Canvas (`amazon.nova-canvas-*`, same `TEXT_IMAGE` task):
//!   `{"taskType":"TEXT_IMAGE","textToImageParams":{"text","negativeText"?},
//!   "imageGenerationConfig":{"numberOfImages","width"?,"height"?,"quality"?,"cfgScale"?,"seed"?}}`
//!   -> `{"images":["<b64>"],"error":null}`.
//! - Stability (`stability.sd3-5-large-v1:0`, `stability.stable-image-ultra-v1:1`,
//!   `stability.stable-image-core-v1:1`, …,
//!   <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-3-5-large.html>):
//!   `{"prompt","negative_prompt"?,"aspect_ratio"?,"seed"?,"output_format"?,"mode"?}`
//!   -> `{"images":["<b64>"],"finish_reasons":[null],"seeds":[…]}`; one image per call.

use serde_json::{json, Map, Value};
use switchyard_types::images::{
    nearest_aspect_ratio, ImageData, ImagesParamError, ImagesRequest, ImagesResponse,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::encode_model_id;
use crate::native::{TranslateError, WireContext, WireRequest};

/// The aspect ratios Stability's Bedrock models accept.
const STABILITY_ASPECT_RATIOS: [&str; 9] = [
    "1:1", "16:9", "9:16", "3:2", "2:3", "5:4", "4:5", "21:9", "9:21",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Titan Image Generator and Nova Canvas: the `TEXT_IMAGE` task shape.
    TitanNova,
    /// Stable Diffusion 3 / 3.5 (takes `mode`).
    StabilitySd3,
    /// Stable Image Ultra / Core and other current Stability models.
    Stability,
}

/// The foundation-model id inside a model id: the last segment of an ARN
/// (`…:foundation-model/amazon.nova-canvas-v1:0`), without a cross-region inference profile
/// prefix (`us.stability.…`).
fn base_id(model: &str) -> &str {
    let id = model.rsplit('/').next().unwrap_or(model);
    let known = |s: &str| s.starts_with("amazon.") || s.starts_with("stability.");
    if known(id) {
        return id;
    }
    match id.split_once('.') {
        Some((_, rest)) if known(rest) => rest,
        _ => id,
    }
}

fn family(model: &str) -> Result<Family, TranslateError> {
    let id = base_id(model);
    if id.starts_with("amazon.titan-image-generator-") || id.starts_with("amazon.nova-canvas-") {
        Ok(Family::TitanNova)
    } else if id.starts_with("stability.stable-diffusion-xl") {
        Err(TranslateError::invalid_request(
            format!(
                "{model:?} uses Stability's legacy v1 request shape, which is not supported; use \
                 stability.sd3-5-large-v1:0, stability.stable-image-ultra-v1:1 or \
                 stability.stable-image-core-v1:1"
            ),
            Some("model"),
        ))
    } else if id.starts_with("stability.sd3-") {
        Ok(Family::StabilitySd3)
    } else if id.starts_with("stability.") {
        Ok(Family::Stability)
    } else {
        Err(TranslateError::invalid_request(
            format!(
                "image generation on Bedrock supports Amazon Titan Image Generator \
                 (amazon.titan-image-generator-*), Amazon Nova Canvas (amazon.nova-canvas-*) and \
                 Stability AI (stability.*) models, not {model:?}"
            ),
            Some("model"),
        ))
    }
}

fn param(e: ImagesParamError) -> TranslateError {
    TranslateError::InvalidRequest {
        message: e.message,
        param: Some(e.param),
    }
}

pub(super) fn request(
    req: &ImagesRequest,
    cx: &WireContext<'_>,
) -> Result<WireRequest, TranslateError> {
    let family = family(cx.model)?;
    if req.prompt.trim().is_empty() {
        return Err(TranslateError::invalid_request(
            "prompt must not be empty",
            Some("prompt"),
        ));
    }
    let body = match family {
        Family::TitanNova => titan_nova_body(req)?,
        Family::StabilitySd3 => stability_body(req, true)?,
        Family::Stability => stability_body(req, false)?,
    };
    Ok(WireRequest {
        path: format!("/model/{}/invoke", encode_model_id(cx.model)),
        headers: vec![("accept".into(), "application/json".into())],
        body: serde_json::to_vec(&body)
            .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
    })
}

fn titan_nova_body(req: &ImagesRequest) -> Result<Value, TranslateError> {
    req.require_base64_output("Titan Image Generator / Nova Canvas")
        .map_err(param)?;
    match req.output_format.as_deref() {
        None | Some("png") => {}
        Some(other) => {
            return Err(TranslateError::invalid_request(
                format!("Titan Image Generator / Nova Canvas generate png images, not {other:?}"),
                Some("output_format"),
            ))
        }
    }
    let mut text = Map::new();
    text.insert("text".into(), json!(req.prompt));
    if let Some(n) = req.extra_str("negative_prompt").map_err(param)? {
        text.insert("negativeText".into(), json!(n));
    }
    let mut config = Map::new();
    config.insert("numberOfImages".into(), json!(req.count().map_err(param)?));
    if let Some((w, h)) = req.dimensions().map_err(param)? {
        config.insert("width".into(), json!(w));
        config.insert("height".into(), json!(h));
    }
    if let Some(q) = req.quality.as_deref() {
        let q = if matches!(q, "hd" | "high") {
            "premium"
        } else {
            "standard"
        };
        config.insert("quality".into(), json!(q));
    }
    if let Some(c) = req.extra_f64("cfg_scale").map_err(param)? {
        config.insert("cfgScale".into(), json!(c));
    }
    if let Some(s) = req.extra_u32("seed").map_err(param)? {
        config.insert("seed".into(), json!(s));
    }
    Ok(json!({
        "taskType": "TEXT_IMAGE",
        "textToImageParams": Value::Object(text),
        "imageGenerationConfig": Value::Object(config),
    }))
}

fn stability_body(req: &ImagesRequest, sd3: bool) -> Result<Value, TranslateError> {
    req.require_base64_output("Stability AI on Bedrock")
        .map_err(param)?;
    if req.count().map_err(param)? != 1 {
        return Err(TranslateError::invalid_request(
            "Stability AI models on Bedrock generate one image per request: set n to 1",
            Some("n"),
        ));
    }
    let mut b = Map::new();
    b.insert("prompt".into(), json!(req.prompt));
    if sd3 {
        b.insert("mode".into(), json!("text-to-image"));
    }
    let ratio = match req.extra_str("aspect_ratio").map_err(param)? {
        Some(r) => Some(r),
        None => req
            .dimensions()
            .map_err(param)?
            .and_then(|(w, h)| nearest_aspect_ratio(w, h, &STABILITY_ASPECT_RATIOS)),
    };
    if let Some(r) = ratio {
        b.insert("aspect_ratio".into(), json!(r));
    }
    if let Some(n) = req.extra_str("negative_prompt").map_err(param)? {
        b.insert("negative_prompt".into(), json!(n));
    }
    if let Some(s) = req.extra_u32("seed").map_err(param)? {
        b.insert("seed".into(), json!(s));
    }
    match req.output_format.as_deref() {
        None => {}
        Some("png") => {
            b.insert("output_format".into(), json!("png"));
        }
        Some("jpeg" | "jpg") => {
            b.insert("output_format".into(), json!("jpeg"));
        }
        Some(other) => {
            return Err(TranslateError::invalid_request(
                format!("Stability AI on Bedrock generates png or jpeg images, not {other:?}"),
                Some("output_format"),
            ))
        }
    }
    Ok(Value::Object(b))
}

fn invalid(what: &str) -> TranslateError {
    TranslateError::InvalidResponse(format!("Bedrock image generation: {what}"))
}

fn upstream(status: u16, kind: ErrorKind, message: String, code: &str) -> TranslateError {
    TranslateError::Upstream {
        status,
        error: ErrorEnvelope::new(kind, message).with_code(code),
    }
}

fn content_filter(message: String) -> TranslateError {
    upstream(
        400,
        ErrorKind::InvalidRequestError,
        message,
        "content_policy_violation",
    )
}

/// `images` as base64 strings (empty strings are not images); absent or `null` is empty.
fn images(v: &Value) -> Result<Vec<String>, TranslateError> {
    match v.get("images") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect())
            .ok_or_else(|| invalid("`images` is not an array of base64 strings")),
        Some(_) => Err(invalid("`images` is not an array")),
    }
}

pub(super) fn response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<ImagesResponse, TranslateError> {
    let family = family(cx.model)?;
    let v: Value = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
    if !v.is_object() {
        return Err(invalid("the body is not a JSON object"));
    }
    let images = images(&v)?;
    match family {
        Family::TitanNova => titan_nova_check(&v, &images)?,
        Family::StabilitySd3 | Family::Stability => stability_check(&v, &images)?,
    }
    Ok(ImagesResponse {
        created: cx.created,
        data: images.into_iter().map(ImageData::b64).collect(),
        usage: None,
    })
}

fn looks_like_filter(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "content filter",
        "blocked",
        "moderat",
        "responsible ai",
        "not allowed",
    ]
    .iter()
    .any(|k| m.contains(k))
}

/// Titan / Nova: an `error` string with no images is the provider refusing the request.
fn titan_nova_check(v: &Value, images: &[String]) -> Result<(), TranslateError> {
    let error = match v.get("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
        Some(_) => return Err(invalid("`error` is not a string")),
    };
    if !images.is_empty() {
        return Ok(());
    }
    match error {
        Some(e) if looks_like_filter(e) => Err(content_filter(e.to_owned())),
        Some(e) => Err(upstream(
            500,
            ErrorKind::ApiError,
            e.to_owned(),
            "model_error",
        )),
        None => Err(invalid("no images and no error in the response")),
    }
}

/// Stability: a non-null finish reason (`Filter reason: prompt`, `Filter reason: output image`,
/// `Inference error`, …) means the image was not generated.
fn stability_check(v: &Value, images: &[String]) -> Result<(), TranslateError> {
    let reasons: Vec<&str> = match v.get("finish_reasons") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| match r {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.as_str())),
                _ => Err(invalid("`finish_reasons` holds a non-string")),
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        Some(_) => return Err(invalid("`finish_reasons` is not an array")),
    };
    if let Some(reason) = reasons.first() {
        let message = format!("Stability AI did not return the image: {reason}");
        return Err(if reason.to_ascii_lowercase().starts_with("filter") {
            content_filter(message)
        } else {
            upstream(500, ErrorKind::ApiError, message, "model_error")
        });
    }
    if images.is_empty() {
        return Err(invalid("no images and no finish reason in the response"));
    }
    Ok(())
}
