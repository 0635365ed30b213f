use super::*;
use switchyard_types::images::ImagesRequest;

const TITAN: &str = "amazon.titan-image-generator-v2:0";
const NOVA: &str = "amazon.nova-canvas-v1:0";
const SD35: &str = "stability.sd3-5-large-v1:0";
const ULTRA: &str = "stability.stable-image-ultra-v1:1";
const CORE: &str = "stability.stable-image-core-v1:1";

fn img(v: Value) -> ImagesRequest {
    serde_json::from_value(v).unwrap()
}

fn wire(model: &'static str, req: Value) -> Result<WireRequest, TranslateError> {
    Bedrock.images_request(&img(req), &cx_model(model))
}

fn body(model: &'static str, req: Value) -> Value {
    serde_json::from_slice(&wire(model, req).unwrap().body).unwrap()
}

fn refused(model: &'static str, req: Value) -> (String, String) {
    match wire(model, req) {
        Err(TranslateError::InvalidRequest {
            message,
            param: Some(p),
        }) => (message, p),
        other => panic!("expected InvalidRequest with a param, got {other:?}"),
    }
}

fn respond(model: &'static str, body: &str) -> Result<Value, TranslateError> {
    Bedrock
        .images_response(body.as_bytes(), &cx_model(model))
        .map(|r| serde_json::to_value(r).unwrap())
}

fn content_filter_message(r: Result<Value, TranslateError>) -> String {
    match r {
        Err(TranslateError::Upstream { status: 400, error }) => {
            assert_eq!(error.error.kind, "invalid_request_error");
            assert_eq!(
                error.error.code.as_deref(),
                Some("content_policy_violation")
            );
            error.error.message
        }
        other => panic!("expected a 400 content filter error, got {other:?}"),
    }
}

#[test]
fn titan_request_golden_maps_n_size_quality_and_extras() {
    let w = wire(
        TITAN,
        json!({
            "prompt": "A lighthouse on a rocky coast at dusk",
            "n": 2,
            "size": "1280x768",
            "quality": "hd",
            "negative_prompt": "people, text",
            "cfg_scale": 8.0,
            "seed": 42,
            "response_format": "b64_json"
        }),
    )
    .unwrap();
    assert_eq!(w.path, "/model/amazon.titan-image-generator-v2%3A0/invoke");
    assert_eq!(
        w.headers,
        vec![("accept".to_owned(), "application/json".to_owned())]
    );
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        fixture_json(include_str!(
            "../../../fixtures/bedrock/images_titan_request.expected.json"
        ))
    );
}

#[test]
fn titan_minimal_request_sends_one_image_and_leaves_size_and_quality_to_the_model() {
    assert_eq!(
        body(TITAN, json!({"prompt": "a cat"})),
        json!({
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a cat"},
            "imageGenerationConfig": {"numberOfImages": 1}
        })
    );
    let b = body(TITAN, json!({"prompt": "a cat", "size": "auto"}));
    assert!(b["imageGenerationConfig"].get("width").is_none());
}

#[test]
fn quality_hd_and_high_are_premium_everything_else_standard() {
    for (q, want) in [
        ("hd", "premium"),
        ("high", "premium"),
        ("standard", "standard"),
        ("medium", "standard"),
        ("low", "standard"),
        ("auto", "standard"),
    ] {
        let b = body(NOVA, json!({"prompt": "p", "quality": q}));
        assert_eq!(b["imageGenerationConfig"]["quality"], want, "{q}");
    }
}

#[test]
fn nova_canvas_uses_the_titan_shape_including_inference_profiles_and_arns() {
    let b = body(NOVA, json!({"prompt": "p", "n": 3, "size": "1024x1024"}));
    assert_eq!(b["taskType"], "TEXT_IMAGE");
    assert_eq!(
        b["imageGenerationConfig"],
        json!({"numberOfImages": 3, "width": 1024, "height": 1024})
    );
    let w = wire(
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0",
        json!({"prompt": "p"}),
    )
    .unwrap();
    assert_eq!(
        w.path,
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Famazon.nova-canvas-v1%3A0/invoke"
    );
    let b = body(
        "us.stability.stable-image-core-v1:1",
        json!({"prompt": "p"}),
    );
    assert_eq!(b, json!({"prompt": "p"}));
}

#[test]
fn stability_sd3_request_golden_with_nearest_aspect_ratio() {
    let w = wire(
        SD35,
        json!({
            "prompt": "A lighthouse on a rocky coast at dusk",
            "size": "1536x1024",
            "negative_prompt": "people, text",
            "seed": 42,
            "output_format": "jpeg",
            "quality": "hd",
            "style": "vivid"
        }),
    )
    .unwrap();
    assert_eq!(w.path, "/model/stability.sd3-5-large-v1%3A0/invoke");
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        fixture_json(include_str!(
            "../../../fixtures/bedrock/images_stability_request.expected.json"
        ))
    );
}

#[test]
fn stability_ultra_and_core_take_prompt_and_aspect_ratio_without_mode() {
    for model in [ULTRA, CORE] {
        let b = body(model, json!({"prompt": "p", "size": "1792x1024", "n": 1}));
        assert_eq!(b, json!({"prompt": "p", "aspect_ratio": "16:9"}), "{model}");
    }
    let b = body(
        ULTRA,
        json!({"prompt": "p", "size": "1024x1024", "aspect_ratio": "21:9"}),
    );
    assert_eq!(b["aspect_ratio"], "21:9");
    let b = body(CORE, json!({"prompt": "p", "size": "2560x1080"}));
    assert_eq!(b["aspect_ratio"], "21:9");
}

#[test]
fn stability_generates_one_image_per_request() {
    let (message, param) = refused(ULTRA, json!({"prompt": "p", "n": 2}));
    assert_eq!(param, "n");
    assert!(message.contains("one image"), "{message}");
}

#[test]
fn url_output_is_refused_for_every_family() {
    for model in [TITAN, NOVA, SD35, ULTRA, CORE] {
        let (message, param) = refused(model, json!({"prompt": "p", "response_format": "url"}));
        assert_eq!(param, "response_format", "{model}");
        assert!(message.contains("base64 only"), "{message}");
    }
}

#[test]
fn unsupported_models_are_refused_naming_the_supported_families() {
    for model in [
        "meta.llama3-70b-instruct-v1:0",
        "amazon.titan-embed-text-v2:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
    ] {
        let (message, param) = refused(model, json!({"prompt": "p"}));
        assert_eq!(param, "model");
        assert!(
            message.contains("amazon.titan-image-generator-*")
                && message.contains("amazon.nova-canvas-*")
                && message.contains("stability.*"),
            "{message}"
        );
    }
    let (message, param) = refused("stability.stable-diffusion-xl-v1", json!({"prompt": "p"}));
    assert_eq!(param, "model");
    assert!(message.contains("legacy"), "{message}");
    assert!(matches!(
        Bedrock.images_request(&img(json!({"prompt": "p"})), &cx_model("")),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

#[test]
fn invalid_parameters_are_refused_before_any_io() {
    let cases = [
        (TITAN, json!({"prompt": ""}), "prompt"),
        (TITAN, json!({"prompt": "p", "n": 0}), "n"),
        (TITAN, json!({"prompt": "p", "size": "1024"}), "size"),
        (
            TITAN,
            json!({"prompt": "p", "output_format": "jpeg"}),
            "output_format",
        ),
        (TITAN, json!({"prompt": "p", "seed": 1.5}), "seed"),
        (
            TITAN,
            json!({"prompt": "p", "cfg_scale": "high"}),
            "cfg_scale",
        ),
        (
            TITAN,
            json!({"prompt": "p", "negative_prompt": ["a"]}),
            "negative_prompt",
        ),
        (
            TITAN,
            json!({"prompt": "p", "background": "transparent"}),
            "background",
        ),
        (SD35, json!({"prompt": " "}), "prompt"),
        (
            SD35,
            json!({"prompt": "p", "output_format": "webp"}),
            "output_format",
        ),
        (SD35, json!({"prompt": "p", "size": "0x0"}), "size"),
        (
            ULTRA,
            json!({"prompt": "p", "seed": 5_000_000_000u64}),
            "seed",
        ),
    ];
    for (model, req, want) in cases {
        assert_eq!(refused(model, req.clone()).1, want, "{model} {req}");
    }
}

#[test]
fn titan_images_become_b64_json_with_the_context_timestamp() {
    let v = respond(
        TITAN,
        include_str!("../../../fixtures/bedrock/images_titan_response.json"),
    )
    .unwrap();
    assert_eq!(v["created"], 1_700_000_000);
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(data[0]["b64_json"]
        .as_str()
        .unwrap()
        .starts_with("iVBORw0KGgo"));
    assert_eq!(data[1].as_object().unwrap().len(), 1);
    assert!(v.get("usage").is_none());
}

#[test]
fn titan_error_inside_a_2xx_is_an_upstream_error() {
    let message = content_filter_message(respond(
        NOVA,
        include_str!("../../../fixtures/bedrock/images_titan_error.json"),
    ));
    assert!(message.contains("content filters"), "{message}");
    match respond(TITAN, r#"{"images": [], "error": "Internal failure"}"#) {
        Err(TranslateError::Upstream { status: 500, error }) => {
            assert_eq!(error.error.message, "Internal failure");
            assert_eq!(error.error.kind, "api_error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stability_images_become_b64_json() {
    let v = respond(
        ULTRA,
        include_str!("../../../fixtures/bedrock/images_stability_response.json"),
    )
    .unwrap();
    assert_eq!(v["created"], 1_700_000_000);
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert!(v["data"][0]["b64_json"].is_string());
}

#[test]
fn stability_filter_reasons_are_content_policy_errors() {
    let message = content_filter_message(respond(
        SD35,
        include_str!("../../../fixtures/bedrock/images_stability_filtered.json"),
    ));
    assert!(message.contains("Filter reason: prompt"), "{message}");
    let message = content_filter_message(respond(
        CORE,
        r#"{"finish_reasons": ["Filter reason: output image"], "images": [], "seeds": [1]}"#,
    ));
    assert!(message.contains("output image"), "{message}");
    match respond(CORE, r#"{"finish_reasons": ["Inference error"]}"#) {
        Err(TranslateError::Upstream { status: 500, error }) => {
            assert!(error.error.message.contains("Inference error"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_bodies_are_invalid_responses() {
    let cases = [
        (TITAN, ""),
        (TITAN, "not json"),
        (TITAN, "[]"),
        (TITAN, "{}"),
        (TITAN, r#"{"images": "abc"}"#),
        (TITAN, r#"{"images": [1, 2]}"#),
        (TITAN, r#"{"images": [], "error": {"message": "x"}}"#),
        (ULTRA, "{}"),
        (ULTRA, r#"{"images": [], "finish_reasons": [null]}"#),
        (ULTRA, r#"{"images": ["x"], "finish_reasons": "none"}"#),
        (ULTRA, r#"{"images": ["x"], "finish_reasons": [3]}"#),
    ];
    for (model, b) in cases {
        assert!(
            matches!(respond(model, b), Err(TranslateError::InvalidResponse(_))),
            "{model} {b}"
        );
    }
}

#[test]
fn non_2xx_bodies_still_go_through_error_response() {
    let env = Bedrock.error_response(
        400,
        br#"{"message": "This request has been blocked by our content filters."}"#,
    );
    assert_eq!(env.error.kind, "invalid_request_error");
    assert!(env.error.message.contains("content filters"));
}
