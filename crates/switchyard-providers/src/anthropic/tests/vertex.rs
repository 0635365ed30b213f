//! Claude on Vertex AI: same translation, different URL and version placement.

use serde_json::json;

use super::super::VertexAnthropic;
use super::*;

const MODEL: &str = "claude-sonnet-4-5@20250929";

fn vertex_opts() -> ProviderOptions {
    options(&[
        ("vertex_project_id", "my-project"),
        ("vertex_region", "us-east5"),
    ])
}

#[test]
fn base_url_is_regional_or_global() {
    assert_eq!(
        VertexAnthropic.base_url(&vertex_opts()).unwrap(),
        "https://us-east5-aiplatform.googleapis.com"
    );
    let global = options(&[("vertex_project_id", "p"), ("vertex_region", "global")]);
    assert_eq!(
        VertexAnthropic.base_url(&global).unwrap(),
        "https://aiplatform.googleapis.com"
    );
    assert_eq!(
        super::super::Anthropic.base_url(&global).unwrap(),
        "https://api.anthropic.com/v1"
    );
}

#[test]
fn missing_region_or_project_is_an_invalid_request_naming_the_option() {
    let err = VertexAnthropic
        .base_url(&options(&[("vertex_project_id", "p")]))
        .unwrap_err();
    assert_eq!(invalid_param(&err), Some("vertex_region"));
    assert!(err.to_string().contains("vertex_region"));

    let req =
        chat_request(json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}));
    let opts = options(&[("vertex_region", "us-east5"), ("vertex_project_id", " ")]);
    let err = VertexAnthropic
        .chat_request(&req, &cx(MODEL, false, false, &opts))
        .unwrap_err();
    assert_eq!(invalid_param(&err), Some("vertex_project_id"));
    assert!(err.to_string().contains("vertex_project_id"));
}

#[test]
fn region_model_and_project_that_would_break_the_url_are_rejected() {
    let bad_region = options(&[("vertex_project_id", "p"), ("vertex_region", "evil.com/x")]);
    assert_eq!(
        invalid_param(&VertexAnthropic.base_url(&bad_region).unwrap_err()),
        Some("vertex_region")
    );
    let dotted = options(&[
        ("vertex_project_id", "p"),
        ("vertex_region", "evil.example"),
    ]);
    assert_eq!(
        invalid_param(&VertexAnthropic.base_url(&dotted).unwrap_err()),
        Some("vertex_region")
    );
    let req =
        chat_request(json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}));
    let opts = vertex_opts();
    let err = VertexAnthropic
        .chat_request(&req, &cx("../../x?y", false, false, &opts))
        .unwrap_err();
    assert_eq!(invalid_param(&err), Some("model"));
    let bad_project = options(&[("vertex_project_id", "a/b"), ("vertex_region", "us-east5")]);
    let err = VertexAnthropic
        .chat_request(&req, &cx(MODEL, false, false, &bad_project))
        .unwrap_err();
    assert_eq!(invalid_param(&err), Some("vertex_project_id"));
}

#[test]
fn request_uses_raw_predict_paths_and_body_version_without_model() {
    let req = chat_request(json(fixture!("req_tools.openai.json")));
    let opts = vertex_opts();
    let wire = VertexAnthropic
        .chat_request(&req, &cx(MODEL, false, false, &opts))
        .unwrap();
    assert_eq!(
        wire.path,
        "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
    );
    assert!(
        wire.headers.is_empty(),
        "no anthropic-version header on Vertex"
    );
    let body: Value = serde_json::from_slice(&wire.body).unwrap();
    let mut expected = json(fixture!("req_tools.anthropic.json"));
    expected.as_object_mut().unwrap().remove("model");
    expected["anthropic_version"] = json!("vertex-2023-10-16");
    assert_eq!(body, expected);

    let streaming = VertexAnthropic
        .chat_request(&req, &cx(MODEL, true, true, &opts))
        .unwrap();
    assert!(streaming
        .path
        .ends_with("/models/claude-sonnet-4-5@20250929:streamRawPredict"));
    let body: Value = serde_json::from_slice(&streaming.body).unwrap();
    assert_eq!(body["stream"], true);
}

#[test]
fn beta_option_is_sent_as_a_header_and_version_option_is_ignored() {
    let req =
        chat_request(json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}));
    let mut opts = vertex_opts();
    opts.insert("anthropic_beta".into(), "context-1m-2025-08-07".into());
    opts.insert("anthropic_version".into(), "2023-06-01".into());
    let wire = VertexAnthropic
        .chat_request(&req, &cx(MODEL, false, false, &opts))
        .unwrap();
    assert_eq!(
        wire.headers,
        vec![(
            "anthropic-beta".to_owned(),
            "context-1m-2025-08-07".to_owned()
        )]
    );
    let body: Value = serde_json::from_slice(&wire.body).unwrap();
    assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
}

#[test]
fn vertex_responses_and_streams_translate_like_anthropic() {
    let opts = vertex_opts();
    let c = cx("claude-sonnet-4-5", true, true, &opts);
    let out = run_stream(&VertexAnthropic, fixture!("stream_text.sse"), &c);
    assert_eq!(
        to_value(&out.chunks),
        json(fixture!("stream_text.chunks.json"))
    );
    let resp = VertexAnthropic
        .chat_response(fixture!("resp_text.json").as_bytes(), &c)
        .unwrap();
    assert_eq!(to_value(&resp), json(fixture!("resp_text.openai.json")));
}

#[test]
fn vertex_offers_no_embeddings() {
    let req: switchyard_types::embeddings::EmbeddingsRequest =
        serde_json::from_value(json!({"model": MODEL, "input": "x"})).unwrap();
    let opts = vertex_opts();
    assert!(VertexAnthropic
        .embeddings_request(&req, &cx(MODEL, false, false, &opts))
        .is_err());
    assert!(super::super::Anthropic
        .embeddings_request(&req, &cx(MODEL, false, false, &opts))
        .is_err());
}
