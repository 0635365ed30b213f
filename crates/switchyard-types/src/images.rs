//! Typed OpenAI image-generation shapes (`POST /v1/images/generations`), for translation to
//! providers with their own image APIs (Imagen, Titan / Nova Canvas, Stability on Bedrock).
//!
//! Members a translator does not know land in `extra`, so nothing a client sent is lost; the
//! helpers here read the common ones with the same checks for every provider.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /v1/images/generations` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagesRequest {
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// `"1024x1024"`, `"1792x1024"`, … or `"auto"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// `standard` / `hd` (DALL·E 3) or `low` / `medium` / `high` / `auto` (GPT Image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// `vivid` / `natural` (DALL·E 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// `url` or `b64_json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    /// `png`, `jpeg` or `webp` (GPT Image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// `transparent`, `opaque` or `auto` (GPT Image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Every other member, kept verbatim (e.g. `negative_prompt`, `seed`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The image-generation response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagesResponse {
    /// Unix seconds.
    pub created: u64,
    pub data: Vec<ImageData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
}

/// One generated image: base64 bytes or a URL, and the prompt the provider actually used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}

impl ImageData {
    /// A base64 image.
    pub fn b64(b64_json: impl Into<String>) -> Self {
        ImageData {
            b64_json: Some(b64_json.into()),
            ..ImageData::default()
        }
    }
}

/// A request member a translation cannot use, with the member's name (`param` of the error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagesParamError {
    pub message: String,
    pub param: String,
}

impl ImagesParamError {
    pub fn new(message: impl Into<String>, param: impl Into<String>) -> Self {
        ImagesParamError {
            message: message.into(),
            param: param.into(),
        }
    }
}

impl ImagesRequest {
    /// `size` as `(width, height)`: `None` when absent or `"auto"`; an error unless it is
    /// `"{W}x{H}"` with positive integers (`x` or `X`).
    pub fn dimensions(&self) -> Result<Option<(u32, u32)>, ImagesParamError> {
        let Some(size) = self.size.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if size.is_empty() || size.eq_ignore_ascii_case("auto") {
            return Ok(None);
        }
        let parsed = size
            .split_once(['x', 'X'])
            .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
            .filter(|(w, h)| *w > 0 && *h > 0);
        parsed.map(Some).ok_or_else(|| {
            ImagesParamError::new(
                format!("size must be \"{{width}}x{{height}}\" (e.g. \"1024x1024\") or \"auto\", got {size:?}"),
                "size",
            )
        })
    }

    /// The number of images (`n`, default 1); 0 is refused.
    pub fn count(&self) -> Result<u32, ImagesParamError> {
        match self.n {
            None => Ok(1),
            Some(0) => Err(ImagesParamError::new("n must be at least 1", "n")),
            Some(n) => Ok(n),
        }
    }

    /// Refuses what a provider that answers only with base64 image bytes cannot honour:
    /// `response_format: "url"` and `background: "transparent"`.
    pub fn require_base64_output(&self, provider: &str) -> Result<(), ImagesParamError> {
        match self.response_format.as_deref() {
            None | Some("b64_json") => {}
            Some(other) => {
                return Err(ImagesParamError::new(
                    format!(
                        "{provider} returns images as base64 only: set response_format to \
                         \"b64_json\" or leave it out (got {other:?})"
                    ),
                    "response_format",
                ))
            }
        }
        match self.background.as_deref() {
            None | Some("auto" | "opaque") => Ok(()),
            Some(other) => Err(ImagesParamError::new(
                format!("{provider} does not generate images with background {other:?}"),
                "background",
            )),
        }
    }

    /// A string member of `extra`; `null` counts as absent.
    pub fn extra_str(&self, key: &str) -> Result<Option<&str>, ImagesParamError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ImagesParamError::new(
                format!("{key} must be a string"),
                key,
            )),
        }
    }

    /// A non-negative integer member of `extra` that fits in 32 bits; `null` counts as absent.
    pub fn extra_u32(&self, key: &str) -> Result<Option<u32>, ImagesParamError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ImagesParamError::new(
                        format!("{key} must be an integer from 0 to {}", u32::MAX),
                        key,
                    )
                }),
        }
    }

    /// A finite number member of `extra`; `null` counts as absent.
    pub fn extra_f64(&self, key: &str) -> Result<Option<f64>, ImagesParamError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| ImagesParamError::new(format!("{key} must be a number"), key)),
        }
    }

    /// A boolean member of `extra`; `null` counts as absent.
    pub fn extra_bool(&self, key: &str) -> Result<Option<bool>, ImagesParamError> {
        match self.extra.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ImagesParamError::new(
                format!("{key} must be a boolean"),
                key,
            )),
        }
    }
}

/// The ratio in `supported` (each `"W:H"`) nearest to `width:height`, comparing logarithms of
/// the ratios so that 2:1 and 1:2 are equally far from 1:1. Ties go to the earlier entry.
/// `None` only when `supported` has no valid ratio.
pub fn nearest_aspect_ratio<'a>(width: u32, height: u32, supported: &[&'a str]) -> Option<&'a str> {
    if width == 0 || height == 0 {
        return None;
    }
    let target = (f64::from(width) / f64::from(height)).ln();
    let mut best: Option<(&'a str, f64)> = None;
    for &r in supported {
        let Some((w, h)) = r.split_once(':') else {
            continue;
        };
        let (Ok(w), Ok(h)) = (w.parse::<u32>(), h.parse::<u32>()) else {
            continue;
        };
        if w == 0 || h == 0 {
            continue;
        }
        let d = ((f64::from(w) / f64::from(h)).ln() - target).abs();
        if best.is_none_or(|(_, bd)| d < bd - 1e-12) {
            best = Some((r, d));
        }
    }
    best.map(|(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> ImagesRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn request_round_trips_and_keeps_unknown_members_in_extra() {
        let v = json!({
            "prompt": "a lighthouse", "model": "dall-e-3", "n": 2, "size": "1024x1024",
            "quality": "hd", "style": "vivid", "response_format": "b64_json",
            "negative_prompt": "fog", "seed": 7
        });
        let r = req(v.clone());
        assert_eq!(r.n, Some(2));
        assert_eq!(r.extra.get("negative_prompt"), Some(&json!("fog")));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    #[test]
    fn response_skips_absent_members() {
        let r = ImagesResponse {
            created: 5,
            data: vec![ImageData::b64("QUJD")],
            usage: None,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"created": 5, "data": [{"b64_json": "QUJD"}]})
        );
    }

    #[test]
    fn size_parses_width_by_height_and_treats_auto_as_absent() {
        assert_eq!(
            req(json!({"prompt": "p", "size": "1792x1024"})).dimensions(),
            Ok(Some((1792, 1024)))
        );
        assert_eq!(
            req(json!({"prompt": "p", "size": "512X768"})).dimensions(),
            Ok(Some((512, 768)))
        );
        assert_eq!(
            req(json!({"prompt": "p", "size": "auto"})).dimensions(),
            Ok(None)
        );
        assert_eq!(req(json!({"prompt": "p"})).dimensions(), Ok(None));
        for bad in ["big", "0x10", "10x", "x10", "-1x5", "99999999999x1"] {
            let e = req(json!({"prompt": "p", "size": bad}))
                .dimensions()
                .unwrap_err();
            assert_eq!(e.param, "size", "{bad}");
        }
    }

    #[test]
    fn count_defaults_to_one_and_refuses_zero() {
        assert_eq!(req(json!({"prompt": "p"})).count(), Ok(1));
        assert_eq!(req(json!({"prompt": "p", "n": 3})).count(), Ok(3));
        assert_eq!(
            req(json!({"prompt": "p", "n": 0}))
                .count()
                .unwrap_err()
                .param,
            "n"
        );
    }

    #[test]
    fn url_output_and_transparent_background_are_refused_for_base64_providers() {
        let e = req(json!({"prompt": "p", "response_format": "url"}))
            .require_base64_output("Imagen")
            .unwrap_err();
        assert_eq!(e.param, "response_format");
        assert!(e.message.contains("base64 only"));
        assert!(
            req(json!({"prompt": "p", "response_format": "b64_json", "background": "opaque"}))
                .require_base64_output("X")
                .is_ok()
        );
        let e = req(json!({"prompt": "p", "background": "transparent"}))
            .require_base64_output("X")
            .unwrap_err();
        assert_eq!(e.param, "background");
    }

    #[test]
    fn extra_readers_check_types_and_ranges() {
        let r = req(
            json!({"prompt": "p", "seed": 42, "neg": "x", "big": 5_000_000_000u64,
            "minus": -1, "cfg": 6.5, "wm": false, "nul": null}),
        );
        assert_eq!(r.extra_u32("seed"), Ok(Some(42)));
        assert_eq!(r.extra_u32("nul"), Ok(None));
        assert_eq!(r.extra_u32("absent"), Ok(None));
        assert_eq!(r.extra_u32("big").unwrap_err().param, "big");
        assert_eq!(r.extra_u32("minus").unwrap_err().param, "minus");
        assert_eq!(r.extra_u32("neg").unwrap_err().param, "neg");
        assert_eq!(r.extra_str("neg"), Ok(Some("x")));
        assert_eq!(r.extra_str("seed").unwrap_err().param, "seed");
        assert_eq!(r.extra_f64("cfg"), Ok(Some(6.5)));
        assert_eq!(r.extra_f64("neg").unwrap_err().param, "neg");
        assert_eq!(r.extra_bool("wm"), Ok(Some(false)));
        assert_eq!(r.extra_bool("seed").unwrap_err().param, "seed");
    }

    #[test]
    fn nearest_aspect_ratio_picks_the_closest_supported_ratio() {
        let imagen = ["1:1", "3:4", "4:3", "9:16", "16:9"];
        assert_eq!(nearest_aspect_ratio(1024, 1024, &imagen), Some("1:1"));
        assert_eq!(nearest_aspect_ratio(1792, 1024, &imagen), Some("16:9"));
        assert_eq!(nearest_aspect_ratio(1024, 1792, &imagen), Some("9:16"));
        assert_eq!(nearest_aspect_ratio(1536, 1024, &imagen), Some("4:3"));
        assert_eq!(nearest_aspect_ratio(1024, 1536, &imagen), Some("3:4"));
        assert_eq!(nearest_aspect_ratio(4000, 100, &imagen), Some("16:9"));
        let stability = [
            "1:1", "16:9", "9:16", "3:2", "2:3", "5:4", "4:5", "21:9", "9:21",
        ];
        assert_eq!(nearest_aspect_ratio(1536, 1024, &stability), Some("3:2"));
        assert_eq!(nearest_aspect_ratio(2560, 1080, &stability), Some("21:9"));
        assert_eq!(nearest_aspect_ratio(1, 1, &["bad", "0:1"]), None);
        assert_eq!(nearest_aspect_ratio(0, 1, &imagen), None);
    }
}
