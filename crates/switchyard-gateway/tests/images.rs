//! `POST /v1/images/generations` through the server: passed on as it is to OpenAI-compatible
//! hosts, translated for Bedrock's and Vertex AI's image models, with routing and errors like
//! every other endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

const TITAN_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/bedrock/images_titan_response.json");
const IMAGEN_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/google/imagen_predict_response.json");

fn json_reply(body: &str) -> Reply {
    Reply::Json {
        status: 200,
        body: body.into(),
        headers: vec![],
    }
}

#[tokio::test]
async fn an_openai_compatible_host_gets_the_request_as_sent() {
    let mock = MockServer::start("openai").await;
    let answer = json!({"created": 1, "data": [{"url": "https://img.example/1.png"}]});
    mock.push(json_reply(&answer.to_string()));
    let gw = Gateway::start("").await;
    let body = json!({"model": "dall-e-3", "prompt": "a lighthouse", "size": "1024x1024", "style": "vivid"});
    let resp = gw
        .post("/v1/images/generations", body.clone(), &refs(&via(&mock)))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), answer);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/images/generations");
    assert_eq!(sent.json(), body);
}

#[tokio::test]
async fn bedrock_titan_images_come_back_in_openais_shape() {
    let mock = MockServer::start("bedrock").await;
    mock.push(json_reply(TITAN_RESP));
    let gw = Gateway::start("").await;
    let h = bedrock_via(&mock);
    let body = json!({"model": "amazon.titan-image-generator-v2:0", "prompt": "a lighthouse",
                      "n": 2, "size": "1024x1024", "response_format": "b64_json"});
    let resp = gw.post("/v1/images/generations", body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["data"][0]["b64_json"]
        .as_str()
        .unwrap()
        .starts_with("iVBOR"));
    assert!(v["created"].is_u64());
    let sent = &mock.requests()[0];
    assert_eq!(
        sent.path,
        "/model/amazon.titan-image-generator-v2%3A0/invoke"
    );
    let b = sent.json();
    assert_eq!(b["taskType"], "TEXT_IMAGE");
    assert_eq!(b["imageGenerationConfig"]["numberOfImages"], 2);
    assert_eq!(b["imageGenerationConfig"]["width"], 1024);
}

#[tokio::test]
async fn vertex_imagen_is_called_with_predict() {
    let mock = MockServer::start("vertex").await;
    mock.push(json_reply(IMAGEN_RESP));
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "vertex-ai".to_owned()),
        ("x-portkey-custom-host", format!("http://{}", mock.addr())),
        ("authorization", "Bearer ya29.token".to_owned()),
        ("x-portkey-vertex-project-id", "proj".to_owned()),
        ("x-portkey-vertex-region", "us-central1".to_owned()),
    ];
    let body =
        json!({"model": "imagen-3.0-generate-002", "prompt": "a lighthouse", "size": "1792x1024"});
    let resp = gw.post("/v1/images/generations", body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["data"][0]["b64_json"].is_string(), "{v}");
    let sent = &mock.requests()[0];
    assert!(
        sent.path
            .ends_with("/publishers/google/models/imagen-3.0-generate-002:predict"),
        "{}",
        sent.path
    );
    assert_eq!(sent.json()["parameters"]["aspectRatio"], "16:9");
}

#[tokio::test]
async fn a_native_provider_without_images_or_a_url_request_is_a_clear_400() {
    let mock = MockServer::start("bedrock").await;
    let gw = Gateway::start("").await;
    let h = bedrock_via(&mock);
    let url = json!({"model": "amazon.titan-image-generator-v2:0", "prompt": "x", "response_format": "url"});
    let (status, e) = error_of(gw.post("/v1/images/generations", url, &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "response_format");
    let chat_model = json!({"model": "amazon.nova-pro-v1:0", "prompt": "x"});
    let (status, _) = error_of(
        gw.post("/v1/images/generations", chat_model, &refs(&h))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn images_fall_back_from_a_failing_host_to_bedrock() {
    let openai = MockServer::start("openai").await;
    openai.push(Reply::status(
        500,
        json!({"error": {"message": "down", "type": "server_error"}}),
    ));
    let bedrock = MockServer::start("bedrock").await;
    bedrock.push(json_reply(TITAN_RESP));
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            target(&openai),
            {"provider": "bedrock", "custom_host": format!("http://{}", bedrock.addr()),
             "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret", "aws_region": "us-east-1",
             "override_params": {"model": "amazon.titan-image-generator-v2:0"}}
        ]
    });
    let resp = gw
        .post(
            "/v1/images/generations",
            json!({"model": "dall-e-3", "prompt": "a lighthouse"}),
            &[("x-portkey-config", &config.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["data"][0]["b64_json"].is_string(), "{v}");
}
