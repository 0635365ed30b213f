//! Image generation through Imagen `predict` (Gemini API and Vertex AI).

use serde_json::{json, Value};
use switchyard_types::images::ImagesRequest;

use super::tests_chat::{cx, options};
use super::{Gemini, VertexGemini};
use crate::native::{NativeAdapter, ProviderOptions, TranslateError, WireRequest};

const IMAGEN: &str = "imagen-4.0-generate-001";

fn images_req(v: Value) -> ImagesRequest {
    serde_json::from_value(v).unwrap()
}

fn vertex_options() -> ProviderOptions {
    options(&[
        ("vertex_region", "us-central1"),
        ("vertex_project_id", "acme"),
    ])
}

fn gemini_wire(req: Value) -> Result<WireRequest, TranslateError> {
    let o = options(&[]);
    Gemini.images_request(&images_req(req), &cx(IMAGEN, false, &o))
}

fn gemini_body(req: Value) -> Value {
    serde_json::from_slice(&gemini_wire(req).unwrap().body).unwrap()
}

fn vertex_body(req: Value) -> Value {
    let o = vertex_options();
    let w = VertexGemini
        .images_request(&images_req(req), &cx(IMAGEN, false, &o))
        .unwrap();
    serde_json::from_slice(&w.body).unwrap()
}

fn refused_param(r: Result<WireRequest, TranslateError>) -> (String, String) {
    match r {
        Err(TranslateError::InvalidRequest {
            message,
            param: Some(p),
        }) => (message, p),
        other => panic!("expected InvalidRequest with a param, got {other:?}"),
    }
}

fn gemini_response(body: &str) -> Result<Value, TranslateError> {
    let o = options(&[]);
    Gemini
        .images_response(body.as_bytes(), &cx(IMAGEN, false, &o))
        .map(|r| serde_json::to_value(r).unwrap())
}

#[test]
fn gemini_api_posts_predict_with_one_instance_and_openai_default_of_one_image() {
    let w = gemini_wire(json!({"prompt": "a lighthouse", "model": "ignored"})).unwrap();
    assert_eq!(w.path, "/v1beta/models/imagen-4.0-generate-001:predict");
    assert!(w.headers.is_empty());
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({
            "instances": [{"prompt": "a lighthouse"}],
            "parameters": {"sampleCount": 1, "includeRaiReason": true}
        })
    );
    // A `models/` prefix is dropped from the path like for chat.
    let o = options(&[]);
    let w = Gemini
        .images_request(
            &images_req(json!({"prompt": "p"})),
            &cx("models/imagen-3.0-generate-002", false, &o),
        )
        .unwrap();
    assert_eq!(w.path, "/v1beta/models/imagen-3.0-generate-002:predict");
}

#[test]
fn n_becomes_sample_count_and_size_the_nearest_imagen_aspect_ratio() {
    let cases = [
        ("1024x1024", "1:1"),
        ("1792x1024", "16:9"),
        ("1024x1792", "9:16"),
        ("1536x1024", "4:3"),
        ("1024x1536", "3:4"),
        ("256x256", "1:1"),
    ];
    for (size, ratio) in cases {
        let b = gemini_body(json!({"prompt": "p", "n": 3, "size": size}));
        assert_eq!(b["parameters"]["sampleCount"], 3, "{size}");
        assert_eq!(b["parameters"]["aspectRatio"], ratio, "{size}");
    }
    // `auto` leaves the model's default.
    let b = gemini_body(json!({"prompt": "p", "size": "auto"}));
    assert!(b["parameters"].get("aspectRatio").is_none());
    // An explicit `aspect_ratio` wins over `size`.
    let b = gemini_body(json!({"prompt": "p", "size": "1024x1024", "aspect_ratio": "4:3"}));
    assert_eq!(b["parameters"]["aspectRatio"], "4:3");
}

#[test]
fn quality_style_and_user_are_not_sent_to_imagen() {
    let b = gemini_body(json!({
        "prompt": "p", "quality": "hd", "style": "vivid", "user": "u-1",
        "response_format": "b64_json", "background": "opaque"
    }));
    assert_eq!(
        b["parameters"],
        json!({"sampleCount": 1, "includeRaiReason": true})
    );
}

#[test]
fn vertex_request_golden_with_negative_prompt_seed_watermark_and_output_options() {
    let o = vertex_options();
    let w = VertexGemini
        .images_request(
            &images_req(json!({
                "prompt": "A lighthouse on a rocky coast at dusk",
                "n": 2,
                "size": "1792x1024",
                "output_format": "jpeg",
                "output_compression": 80,
                "person_generation": "allow_adult",
                "negative_prompt": "people, text",
                "seed": 1234,
                "add_watermark": false
            })),
            &cx(IMAGEN, false, &o),
        )
        .unwrap();
    assert_eq!(
        w.path,
        "/v1/projects/acme/locations/us-central1/publishers/google/models/imagen-4.0-generate-001:predict"
    );
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    let expected: Value = serde_json::from_str(include_str!(
        "../../fixtures/google/imagen_request_vertex.expected.json"
    ))
    .unwrap();
    assert_eq!(body, expected);
}

#[test]
fn vertex_needs_project_and_region() {
    let o = options(&[("vertex_region", "us-central1")]);
    let r =
        VertexGemini.images_request(&images_req(json!({"prompt": "p"})), &cx(IMAGEN, false, &o));
    assert_eq!(refused_param(r).1, "vertex_project_id");
}

#[test]
fn gemini_api_refuses_vertex_only_parameters() {
    for (key, value) in [
        ("negative_prompt", json!("blur")),
        ("seed", json!(7)),
        ("add_watermark", json!(false)),
    ] {
        let mut req = json!({"prompt": "p"});
        req[key] = value.clone();
        let (message, param) = refused_param(gemini_wire(req.clone()));
        assert_eq!(param, key);
        assert!(message.contains("Vertex AI"), "{message}");
        // Vertex AI takes them.
        let b = vertex_body(req);
        assert!(b["parameters"].as_object().unwrap().len() > 2, "{key}");
    }
}

#[test]
fn url_output_is_refused_because_imagen_returns_base64_only() {
    let (message, param) = refused_param(gemini_wire(
        json!({"prompt": "p", "response_format": "url"}),
    ));
    assert_eq!(param, "response_format");
    assert!(message.contains("base64 only"), "{message}");
    let o = vertex_options();
    let r = VertexGemini.images_request(
        &images_req(json!({"prompt": "p", "response_format": "url"})),
        &cx(IMAGEN, false, &o),
    );
    assert_eq!(refused_param(r).1, "response_format");
}

#[test]
fn invalid_parameters_are_refused_before_any_io() {
    let cases = [
        (json!({"prompt": "  "}), "prompt"),
        (json!({"prompt": "p", "n": 0}), "n"),
        (json!({"prompt": "p", "size": "huge"}), "size"),
        (
            json!({"prompt": "p", "output_format": "webp"}),
            "output_format",
        ),
        (
            json!({"prompt": "p", "output_compression": 101}),
            "output_compression",
        ),
        (
            json!({"prompt": "p", "background": "transparent"}),
            "background",
        ),
        (json!({"prompt": "p", "aspect_ratio": 1.5}), "aspect_ratio"),
        (
            json!({"prompt": "p", "person_generation": true}),
            "person_generation",
        ),
    ];
    for (req, want) in cases {
        assert_eq!(refused_param(gemini_wire(req.clone())).1, want, "{req}");
    }
    let o = vertex_options();
    let r = VertexGemini.images_request(
        &images_req(json!({"prompt": "p", "seed": -1})),
        &cx(IMAGEN, false, &o),
    );
    assert_eq!(refused_param(r).1, "seed");
}

#[test]
fn gemini_image_models_are_pointed_at_chat_completions() {
    let o = options(&[]);
    let r = Gemini.images_request(
        &images_req(json!({"prompt": "p"})),
        &cx("gemini-2.5-flash-image", false, &o),
    );
    let (message, param) = refused_param(r);
    assert_eq!(param, "model");
    assert!(message.contains("chat completions"), "{message}");
}

#[test]
fn predictions_become_b64_json_images_with_the_context_timestamp() {
    let v = gemini_response(include_str!(
        "../../fixtures/google/imagen_predict_response.json"
    ))
    .unwrap();
    assert_eq!(v["created"], 1_750_000_000);
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(data[0]["b64_json"]
        .as_str()
        .unwrap()
        .starts_with("iVBORw0KGgo"));
    assert_ne!(data[0]["b64_json"], data[1]["b64_json"]);
    // Nothing but the image: no url, no revised_prompt, no usage.
    assert_eq!(data[0].as_object().unwrap().len(), 1);
    assert!(v.get("usage").is_none());
}

#[test]
fn an_enhanced_prompt_becomes_revised_prompt() {
    let o = vertex_options();
    let r = VertexGemini
        .images_response(
            include_bytes!("../../fixtures/google/imagen_predict_enhanced_prompt.json"),
            &cx(IMAGEN, false, &o),
        )
        .unwrap();
    assert_eq!(r.data.len(), 1);
    assert_eq!(
        r.data[0].b64_json.as_deref(),
        Some("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP8=")
    );
    assert!(r.data[0]
        .revised_prompt
        .as_deref()
        .unwrap()
        .starts_with("A photorealistic lighthouse"));
}

#[test]
fn filtered_images_are_dropped_and_all_filtered_is_a_content_policy_error() {
    let v = gemini_response(include_str!(
        "../../fixtures/google/imagen_predict_partial_filtered.json"
    ))
    .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 1);

    match gemini_response(include_str!(
        "../../fixtures/google/imagen_predict_rai_filtered.json"
    )) {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 400);
            assert_eq!(error.error.kind, "invalid_request_error");
            assert_eq!(
                error.error.code.as_deref(),
                Some("content_policy_violation")
            );
            assert!(error
                .error
                .message
                .contains("filtered out 2 generated images"));
        }
        other => panic!("{other:?}"),
    }
    // Imagen omits filtered images; an empty answer means every image was removed.
    for empty in ["{}", r#"{"predictions": []}"#] {
        assert!(matches!(
            gemini_response(empty),
            Err(TranslateError::Upstream { status: 400, .. })
        ));
    }
}

#[test]
fn error_objects_in_a_2xx_body_are_upstream_errors() {
    let body = include_str!("../../fixtures/google/error_invalid_argument.json");
    assert!(matches!(
        gemini_response(body),
        Err(TranslateError::Upstream { status: 400, .. })
    ));
}

#[test]
fn malformed_bodies_are_invalid_responses() {
    for body in [
        "",
        "not json",
        "[]",
        "42",
        r#"{"predictions": {"bytesBase64Encoded": "x"}}"#,
        r#"{"predictions": ["x"]}"#,
        r#"{"predictions": [{"bytesBase64Encoded": 5}]}"#,
    ] {
        assert!(
            matches!(
                gemini_response(body),
                Err(TranslateError::InvalidResponse(_))
            ),
            "{body}"
        );
    }
}

#[test]
fn non_2xx_bodies_still_go_through_error_response() {
    let body = include_bytes!("../../fixtures/google/error_invalid_argument.json");
    let env = Gemini.error_response(400, body);
    assert_eq!(env.error.kind, "invalid_request_error");
}
