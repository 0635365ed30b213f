#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use switchyard_types::images::ImagesRequest;

use super::*;
use crate::native::ProviderOptions;

const V1_RESP: &str = include_str!("../../fixtures/stability/v1_text_to_image_response.json");
const V1_PARTLY_FILTERED: &str =
    include_str!("../../fixtures/stability/v1_partly_filtered_response.json");
const V1_ERR: &str = include_str!("../../fixtures/stability/v1_error_unauthorized.json");
const V2_RESP: &str = include_str!("../../fixtures/stability/v2_generate_response.json");
const V2_FILTERED: &str = include_str!("../../fixtures/stability/v2_filtered_response.json");
const V2_ERR: &str = include_str!("../../fixtures/stability/v2_error_bad_request.json");
const V2_MODERATION: &str =
    include_str!("../../fixtures/stability/v2_error_content_moderation.json");

fn req(v: Value) -> ImagesRequest {
    serde_json::from_value(v).unwrap()
}

fn with_model<T>(model: &str, f: impl FnOnce(&WireContext<'_>) -> T) -> T {
    let options = ProviderOptions::new();
    let cx = WireContext {
        model,
        stream: false,
        include_usage: false,
        response_id: "chatcmpl-0123abcd",
        created: 1_700_000_000,
        options: &options,
        strict: true,
    };
    f(&cx)
}

fn images(model: &str, v: Value) -> Result<WireRequest, TranslateError> {
    with_model(model, |cx| Stability.images_request(&req(v), cx))
}

fn header<'a>(w: &'a WireRequest, name: &str) -> Option<&'a str> {
    w.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The text fields of a multipart body, in order.
fn form_fields(w: &WireRequest) -> Vec<(String, String)> {
    let ct = header(w, "content-type").unwrap();
    let boundary = ct.split_once("boundary=").unwrap().1;
    let body = String::from_utf8(w.body.clone()).unwrap();
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let part = part.strip_prefix("\r\n")?;
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head.split_once("name=\"")?.1.trim_end_matches('"');
            Some((name.to_owned(), value.trim_end_matches("\r\n").to_owned()))
        })
        .collect()
}

#[test]
fn v1_engines_get_text_prompts_at_the_text_to_image_path() {
    let w = images(
        "stable-diffusion-xl-1024-v1-0",
        json!({"prompt": "a lighthouse", "n": 2, "size": "1152x896", "style": "cinematic",
               "negative_prompt": "fog", "cfg_scale": 7, "steps": 30, "seed": 42,
               "sampler": "K_DPM_2_ANCESTRAL", "response_format": "b64_json"}),
    )
    .unwrap();
    assert_eq!(
        w.path,
        "/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image"
    );
    assert_eq!(header(&w, "accept"), Some("application/json"));
    assert_eq!(header(&w, "content-type"), None, "the default JSON type");
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({
            "text_prompts": [{"text": "a lighthouse", "weight": 1}, {"text": "fog", "weight": -1}],
            "samples": 2, "width": 1152, "height": 896, "style_preset": "cinematic",
            "cfg_scale": 7.0, "sampler": "K_DPM_2_ANCESTRAL", "seed": 42, "steps": 30
        })
    );
}

#[test]
fn v1_drops_dalle_styles_and_bounds_samples() {
    let w = images(
        "stable-diffusion-v1-6",
        json!({"prompt": "p", "style": "vivid"}),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({"text_prompts": [{"text": "p", "weight": 1}], "samples": 1})
    );
    let e = images("stable-diffusion-v1-6", json!({"prompt": "p", "n": 11})).unwrap_err();
    assert!(matches!(e, TranslateError::InvalidRequest { param: Some(p), .. } if p == "n"));
}

#[test]
fn v2_core_gets_a_multipart_form_with_the_nearest_aspect_ratio() {
    let w = images(
        "core",
        json!({"prompt": "a lighthouse", "size": "1792x1024", "negative_prompt": "fog",
               "seed": 7, "style_preset": "photographic", "output_format": "jpg"}),
    )
    .unwrap();
    assert_eq!(w.path, "/v2beta/stable-image/generate/core");
    assert_eq!(
        header(&w, "content-type"),
        Some("multipart/form-data; boundary=switchyard-chatcmpl0123abcd")
    );
    assert_eq!(header(&w, "accept"), Some("application/json"));
    let fields = form_fields(&w);
    let expected: Vec<(String, String)> = [
        ("prompt", "a lighthouse"),
        ("negative_prompt", "fog"),
        ("aspect_ratio", "16:9"),
        ("seed", "7"),
        ("style_preset", "photographic"),
        ("output_format", "jpeg"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(fields, expected);
}

#[test]
fn sd3_models_use_the_sd3_route_with_a_model_field() {
    let w = images(
        "sd3.5-large",
        json!({"prompt": "p", "aspect_ratio": "21:9", "cfg_scale": 4.5}),
    )
    .unwrap();
    assert_eq!(w.path, "/v2beta/stable-image/generate/sd3");
    let fields = form_fields(&w);
    assert_eq!(fields[1], ("model".to_owned(), "sd3.5-large".to_owned()));
    assert!(fields.contains(&("aspect_ratio".to_owned(), "21:9".to_owned())));
    assert!(fields.contains(&("cfg_scale".to_owned(), "4.5".to_owned())));
    let w = images("ultra", json!({"prompt": "p"})).unwrap();
    assert_eq!(w.path, "/v2beta/stable-image/generate/ultra");
    assert_eq!(form_fields(&w), [("prompt".to_owned(), "p".to_owned())]);
    let w = images("stable-image-core", json!({"prompt": "p"})).unwrap();
    assert_eq!(w.path, "/v2beta/stable-image/generate/core");
}

#[test]
fn what_stability_cannot_do_is_refused_before_any_io() {
    let param_of = |e: TranslateError| match e {
        TranslateError::InvalidRequest { param, .. } => param.unwrap_or_default(),
        other => panic!("{other:?}"),
    };
    for (model, body, p) in [
        (
            "core",
            json!({"prompt": "p", "response_format": "url"}),
            "response_format",
        ),
        ("core", json!({"prompt": "p", "n": 2}), "n"),
        ("core", json!({"prompt": "p", "image": "aGk="}), "image"),
        (
            "core",
            json!({"prompt": "p", "output_format": "gif"}),
            "output_format",
        ),
        ("core", json!({"prompt": " "}), "prompt"),
        ("dall-e-3", json!({"prompt": "p"}), "model"),
        ("", json!({"prompt": "p"}), "model"),
        ("stable-diffusion-../x", json!({"prompt": "p"}), "model"),
    ] {
        assert_eq!(param_of(images(model, body).unwrap_err()), p, "{model}");
    }
}

#[test]
fn v1_artifacts_become_b64_images() {
    let r = with_model("stable-diffusion-xl-1024-v1-0", |cx| {
        Stability.images_response(V1_RESP.as_bytes(), cx)
    })
    .unwrap();
    assert_eq!(r.created, 1_700_000_000);
    assert_eq!(r.data.len(), 2);
    assert!(r.data[0].b64_json.as_deref().unwrap().starts_with("iVBOR"));
    assert_eq!(r.data[0].url, None);
}

#[test]
fn v1_filtered_artifacts_are_dropped_and_all_filtered_is_a_content_policy_error() {
    let r = with_model("stable-diffusion-v1-6", |cx| {
        Stability.images_response(V1_PARTLY_FILTERED.as_bytes(), cx)
    })
    .unwrap();
    assert_eq!(r.data.len(), 1);
    let all = V1_PARTLY_FILTERED.replace("\"SUCCESS\"", "\"CONTENT_FILTERED\"");
    let e = with_model("stable-diffusion-v1-6", |cx| {
        Stability.images_response(all.as_bytes(), cx)
    })
    .unwrap_err();
    match e {
        TranslateError::Upstream { status, error } => {
            assert_eq!(status, 400);
            assert_eq!(
                error.error.code.as_deref(),
                Some("content_policy_violation")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn v2_image_becomes_one_b64_image_and_filtered_is_an_error() {
    let r = with_model("core", |cx| {
        Stability.images_response(V2_RESP.as_bytes(), cx)
    })
    .unwrap();
    assert_eq!(r.data.len(), 1);
    assert!(r.data[0].b64_json.as_deref().unwrap().starts_with("iVBOR"));
    let e = with_model("ultra", |cx| {
        Stability.images_response(V2_FILTERED.as_bytes(), cx)
    })
    .unwrap_err();
    assert!(matches!(e, TranslateError::Upstream { status: 400, .. }));
    let e = with_model("core", |cx| Stability.images_response(b"{}", cx)).unwrap_err();
    assert!(matches!(e, TranslateError::InvalidResponse(_)));
}

#[test]
fn v1_and_v2_error_bodies_become_openai_errors() {
    let e = Stability.error_response(401, V1_ERR.as_bytes());
    assert_eq!(e.error.message, "missing authorization header");
    assert_eq!(e.error.kind, "authentication_error");
    assert_eq!(e.error.code.as_deref(), Some("unauthorized"));
    let e = Stability.error_response(400, V2_ERR.as_bytes());
    assert!(e.error.message.starts_with("aspect_ratio: must be one of"));
    assert_eq!(e.error.kind, "invalid_request_error");
    assert_eq!(e.error.code.as_deref(), Some("bad_request"));
    let e = Stability.error_response(403, V2_MODERATION.as_bytes());
    assert_eq!(e.error.kind, "permission_error");
    assert_eq!(e.error.code.as_deref(), Some("content_moderation"));
}

#[test]
fn chat_is_refused() {
    let chat: ChatRequest = serde_json::from_value(
        json!({"model": "core", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    let e = with_model("core", |cx| Stability.chat_request(&chat, cx)).unwrap_err();
    assert!(matches!(e, TranslateError::InvalidRequest { .. }));
    assert_eq!(
        Stability.base_url(&ProviderOptions::new()).unwrap(),
        "https://api.stability.ai"
    );
}
