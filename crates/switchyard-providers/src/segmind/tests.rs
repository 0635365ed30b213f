#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use super::*;

const RESP: &str = include_str!("../../fixtures/segmind/sdxl_base64_response.json");
const ERR_CREDITS: &str = include_str!("../../fixtures/segmind/error_not_enough_credits.json");
const ERR_HTML: &str = include_str!("../../fixtures/segmind/error_html_message.json");

fn with_model<T>(model: &str, f: impl FnOnce(&WireContext<'_>) -> T) -> T {
    let options = ProviderOptions::new();
    let cx = WireContext {
        model,
        stream: false,
        include_usage: false,
        response_id: "chatcmpl-1",
        created: 1_700_000_000,
        options: &options,
        strict: true,
    };
    f(&cx)
}

fn images(model: &str, v: Value) -> Result<WireRequest, TranslateError> {
    let req: ImagesRequest = serde_json::from_value(v).unwrap();
    with_model(model, |cx| Segmind.images_request(&req, cx))
}

#[test]
fn the_model_is_the_path_and_openai_members_get_segminds_names() {
    let w = images(
        "sdxl1.0-txt2img",
        json!({"prompt": "a panda", "n": 2, "size": "896x1152", "style": "base", "steps": 25,
               "negative_prompt": "blurry", "scheduler": "UniPC", "guidance_scale": 8,
               "seed": 468685, "refiner": true, "quality": "hd"}),
    )
    .unwrap();
    assert_eq!(w.path, "/sdxl1.0-txt2img");
    assert!(w.headers.is_empty());
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({"prompt": "a panda", "samples": 2, "img_width": 896, "img_height": 1152,
               "style": "base", "num_inference_steps": 25, "negative_prompt": "blurry",
               "scheduler": "UniPC", "guidance_scale": 8, "seed": 468685, "refiner": true,
               "base64": true})
    );
}

#[test]
fn base64_is_always_asked_for_and_dalle_styles_are_dropped() {
    let w = images(
        "qrsdxl",
        json!({"prompt": "p", "base64": false, "style": "vivid", "qr_size": 768,
               "qr_text": "https://example.com"}),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({"prompt": "p", "samples": 1, "size": 768, "qr_text": "https://example.com",
               "base64": true})
    );
}

#[test]
fn what_segmind_cannot_do_is_refused_before_any_io() {
    for (model, body, p) in [
        (
            "sdxl1.0-txt2img",
            json!({"prompt": "p", "response_format": "url"}),
            "response_format",
        ),
        ("sdxl1.0-txt2img", json!({"prompt": "p", "n": 11}), "n"),
        ("sdxl1.0-txt2img", json!({"prompt": ""}), "prompt"),
        (
            "sdxl1.0-txt2img",
            json!({"prompt": "p", "steps": "many"}),
            "steps",
        ),
        ("", json!({"prompt": "p"}), "model"),
        ("../admin", json!({"prompt": "p"}), "model"),
        ("a/b", json!({"prompt": "p"}), "model"),
    ] {
        match images(model, body) {
            Err(TranslateError::InvalidRequest { param, .. }) => {
                assert_eq!(param.as_deref(), Some(p), "{model}")
            }
            other => panic!("{model}: {other:?}"),
        }
    }
}

#[test]
fn a_base64_image_or_list_becomes_b64_json() {
    let r = with_model("sdxl1.0-txt2img", |cx| {
        Segmind.images_response(RESP.as_bytes(), cx)
    })
    .unwrap();
    assert_eq!(r.created, 1_700_000_000);
    assert_eq!(r.data.len(), 1);
    assert!(r.data[0].b64_json.as_deref().unwrap().starts_with("iVBOR"));
    let r = with_model("m", |cx| {
        Segmind.images_response(br#"{"image": ["QUJD", "REVG"], "status": "Success"}"#, cx)
    })
    .unwrap();
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].b64_json.as_deref(), Some("REVG"));
}

#[test]
fn raw_image_bytes_are_base64_encoded() {
    let png = b"\x89PNG\r\n\x1a\nrest";
    let r = with_model("m", |cx| Segmind.images_response(png, cx)).unwrap();
    assert_eq!(
        r.data[0].b64_json.as_deref(),
        Some(
            base64::engine::general_purpose::STANDARD
                .encode(png)
                .as_str()
        )
    );
    let e = with_model("m", |cx| Segmind.images_response(b"{\"status\":\"x\"}", cx)).unwrap_err();
    assert!(matches!(e, TranslateError::InvalidResponse(_)));
}

#[test]
fn error_bodies_become_openai_errors() {
    let e = Segmind.error_response(406, ERR_CREDITS.as_bytes());
    assert_eq!(e.error.message, "Not enough credits");
    assert_eq!(e.error.kind, "invalid_request_error");
    let e = Segmind.error_response(404, ERR_HTML.as_bytes());
    assert!(e.error.message.starts_with("Invalid model name"));
    assert_eq!(e.error.kind, "not_found_error");
    let e = Segmind.error_response(401, br#"{"error": "Invalid API key"}"#);
    assert_eq!(e.error.kind, "authentication_error");
}

#[test]
fn chat_is_refused_and_the_base_url_is_segminds() {
    let chat: ChatRequest = serde_json::from_value(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    assert!(with_model("m", |cx| Segmind.chat_request(&chat, cx)).is_err());
    assert_eq!(
        Segmind.base_url(&ProviderOptions::new()).unwrap(),
        "https://api.segmind.com/v1"
    );
}
