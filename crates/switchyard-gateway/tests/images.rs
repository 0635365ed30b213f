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

const STABILITY_V2_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/stability/v2_generate_response.json");
const STABILITY_V1_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/stability/v1_text_to_image_response.json");
const STABILITY_V2_ERR: &str =
    include_str!("../../switchyard-providers/fixtures/stability/v2_error_bad_request.json");
const SEGMIND_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/segmind/sdxl_base64_response.json");
const SEGMIND_ERR: &str =
    include_str!("../../switchyard-providers/fixtures/segmind/error_not_enough_credits.json");

/// Header pairs routing to `mock` as `provider` (its custom host replacing the provider's base
/// URL) with a client key.
fn provider_via(provider: &str, host: String, key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", provider.to_owned()),
        ("x-portkey-custom-host", host),
        ("authorization", format!("Bearer {key}")),
    ]
}

/// The `(name, value)` text fields of a multipart/form-data body.
fn form_fields(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type.split_once("boundary=").unwrap().1;
    let body = String::from_utf8(body.to_vec()).unwrap();
    body.split(&format!("--{boundary}"))
        .filter_map(|part| {
            let (head, value) = part.strip_prefix("\r\n")?.split_once("\r\n\r\n")?;
            let name = head.split_once("name=\"")?.1.trim_end_matches('"');
            Some((name.to_owned(), value.trim_end_matches("\r\n").to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn stability_core_gets_a_multipart_form_with_the_bearer_key() {
    let mock = MockServer::start("stability").await;
    mock.push(json_reply(STABILITY_V2_RESP));
    let gw = Gateway::start("").await;
    let h = provider_via("stability-ai", format!("http://{}", mock.addr()), "sk-stab");
    let body = json!({"model": "core", "prompt": "a lighthouse", "size": "1792x1024",
                      "negative_prompt": "fog", "seed": 7});
    let resp = gw.post("/v1/images/generations", body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["data"][0]["b64_json"]
        .as_str()
        .unwrap()
        .starts_with("iVBOR"));
    assert!(v["created"].is_u64());
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v2beta/stable-image/generate/core");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-stab"));
    assert_eq!(sent.header("accept"), Some("application/json"));
    let ct = sent.header("content-type").unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let fields = form_fields(ct, &sent.body);
    for (k, v) in [
        ("prompt", "a lighthouse"),
        ("negative_prompt", "fog"),
        ("aspect_ratio", "16:9"),
        ("seed", "7"),
    ] {
        assert!(
            fields.contains(&(k.to_owned(), v.to_owned())),
            "{k}: {fields:?}"
        );
    }
}

#[tokio::test]
async fn stability_v1_engines_get_json_text_prompts() {
    let mock = MockServer::start("stability").await;
    mock.push(json_reply(STABILITY_V1_RESP));
    let gw = Gateway::start("").await;
    let h = provider_via("stability-ai", format!("http://{}", mock.addr()), "sk-stab");
    let body = json!({"model": "stable-diffusion-xl-1024-v1-0", "prompt": "a lighthouse",
                      "n": 2, "size": "1024x1024"});
    let resp = gw.post("/v1/images/generations", body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let sent = &mock.requests()[0];
    assert_eq!(
        sent.path,
        "/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image"
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("authorization"), Some("Bearer sk-stab"));
    assert_eq!(
        sent.json(),
        json!({"text_prompts": [{"text": "a lighthouse", "weight": 1}], "samples": 2,
               "width": 1024, "height": 1024})
    );
}

#[tokio::test]
async fn segmind_gets_its_body_at_the_model_path_with_x_api_key() {
    let mock = MockServer::start("segmind").await;
    mock.push(json_reply(SEGMIND_RESP));
    let gw = Gateway::start("").await;
    let h = provider_via("segmind", format!("http://{}/v1", mock.addr()), "sg-key");
    let body = json!({"model": "sdxl1.0-txt2img", "prompt": "a panda", "size": "896x1152",
                      "steps": 25, "scheduler": "UniPC"});
    let resp = gw.post("/v1/images/generations", body, &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["data"][0]["b64_json"]
        .as_str()
        .unwrap()
        .starts_with("iVBOR"));
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/sdxl1.0-txt2img");
    assert_eq!(sent.header("x-api-key"), Some("sg-key"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({"prompt": "a panda", "samples": 1, "img_width": 896, "img_height": 1152,
               "num_inference_steps": 25, "scheduler": "UniPC", "base64": true})
    );
}

#[tokio::test]
async fn recraft_gets_the_openai_request_as_sent_and_its_urls_come_back() {
    let mock = MockServer::start("recraft").await;
    let answer = json!({"created": 1, "data": [{"url": "https://img.recraft.ai/a.webp"}]});
    mock.push(json_reply(&answer.to_string()));
    let gw = Gateway::start("").await;
    let h = provider_via("recraft-ai", mock.url(), "rc-key");
    let body = json!({"model": "recraftv3", "prompt": "race car", "style": "digital_illustration",
                      "substyle": "2d_art_poster", "size": "1024x1024"});
    let resp = gw
        .post("/v1/images/generations", body.clone(), &refs(&h))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), answer);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/images/generations");
    assert_eq!(sent.header("authorization"), Some("Bearer rc-key"));
    assert_eq!(sent.json(), body);
    // Recraft has no chat: refused before any I/O.
    let (status, _) = error_of(gw.chat(hi("recraftv3"), &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn image_provider_errors_keep_their_status_in_openai_shape() {
    let stability = MockServer::start("stability").await;
    stability.push(Reply::Json {
        status: 400,
        body: STABILITY_V2_ERR.into(),
        headers: vec![],
    });
    let segmind = MockServer::start("segmind").await;
    segmind.push(Reply::Json {
        status: 406,
        body: SEGMIND_ERR.into(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let h = provider_via("stability-ai", format!("http://{}", stability.addr()), "k");
    let (status, e) = error_of(
        gw.post(
            "/v1/images/generations",
            json!({"model": "ultra", "prompt": "p"}),
            &refs(&h),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("aspect_ratio: must be one of"));
    assert_eq!(e["error"]["code"], "bad_request");
    let h = provider_via("segmind", format!("http://{}/v1", segmind.addr()), "k");
    let (status, e) = error_of(
        gw.post(
            "/v1/images/generations",
            json!({"model": "sdxl1.0-txt2img", "prompt": "p"}),
            &refs(&h),
        )
        .await,
    )
    .await;
    assert_eq!(status, 406);
    assert_eq!(e["error"]["message"], "Not enough credits");
}

#[tokio::test]
async fn a_url_response_format_is_refused_by_base64_only_image_providers() {
    let mock = MockServer::start("stability").await;
    let gw = Gateway::start("").await;
    for (provider, model) in [("stability-ai", "core"), ("segmind", "sdxl1.0-txt2img")] {
        let h = provider_via(provider, format!("http://{}", mock.addr()), "k");
        let body = json!({"model": model, "prompt": "p", "response_format": "url"});
        let (status, e) = error_of(gw.post("/v1/images/generations", body, &refs(&h)).await).await;
        assert_eq!(status, 400, "{provider}");
        assert_eq!(e["error"]["param"], "response_format", "{provider}");
        let (status, _) = error_of(gw.chat(hi(model), &refs(&h)).await).await;
        assert_eq!(status, 400, "{provider}: no chat");
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn images_fall_back_from_a_failing_stability_target_to_segmind() {
    let stability = MockServer::start("stability").await;
    stability.push(Reply::Json {
        status: 500,
        body: json!({"id": "x", "name": "internal_error", "errors": ["down"]}).to_string(),
        headers: vec![],
    });
    let segmind = MockServer::start("segmind").await;
    segmind.push(json_reply(SEGMIND_RESP));
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "stability-ai", "api_key": "sk-stab",
             "custom_host": format!("http://{}", stability.addr()),
             "override_params": {"model": "core"}},
            {"provider": "segmind", "api_key": "sg-key",
             "custom_host": format!("http://{}/v1", segmind.addr()),
             "override_params": {"model": "sdxl1.0-txt2img"}}
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
    assert_eq!(stability.requests().len(), 1);
    assert_eq!(segmind.requests()[0].path, "/v1/sdxl1.0-txt2img");
    assert_eq!(segmind.requests()[0].header("x-api-key"), Some("sg-key"));
}

#[tokio::test]
async fn proxy_only_providers_pass_any_path_with_their_credentials() {
    let mock = MockServer::start("replicate").await;
    let answer = json!({"id": "gm3qorzdhgbfurvjtvhg6dckhu", "status": "starting"});
    mock.push(json_reply(&answer.to_string()));
    let gw = Gateway::start("").await;
    let h = provider_via("replicate", mock.url(), "r8_key");
    let body = json!({"version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
                      "input": {"text": "Alice"}});
    let resp = gw.post("/v1/predictions", body.clone(), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), answer);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/predictions");
    assert_eq!(sent.header("authorization"), Some("Bearer r8_key"));
    assert_eq!(sent.json(), body);
    // No endpoint is translated: chat and images are refused before any I/O.
    let (status, e) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("pass-through proxy only"));
    let images = json!({"model": "m", "prompt": "p"});
    let (status, _) = error_of(gw.post("/v1/images/generations", images, &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn meshy_text_to_3d_goes_to_its_v2_api_and_the_rest_to_v1() {
    let mock = MockServer::start("meshy").await;
    mock.push(json_reply(
        r#"{"result": "018a210d-8ba4-705c-b111-1f1776f7f578"}"#,
    ));
    mock.push(json_reply(
        r#"{"result": "018a210d-8ba4-705c-b111-1f1776f7f579"}"#,
    ));
    let gw = Gateway::start("").await;
    let h = provider_via(
        "meshy",
        format!("http://{}/openapi", mock.addr()),
        "msy_key",
    );
    let body = json!({"mode": "preview", "prompt": "a monster mask"});
    assert_eq!(
        gw.post("/v1/text-to-3d", body, &refs(&h)).await.status(),
        200
    );
    let body = json!({"image_url": "https://example.com/a.png"});
    assert_eq!(
        gw.post("/v1/image-to-3d", body, &refs(&h)).await.status(),
        200
    );
    let sent = mock.requests();
    assert_eq!(sent[0].path, "/openapi/v2/text-to-3d");
    assert_eq!(sent[1].path, "/openapi/v1/image-to-3d");
    assert_eq!(sent[0].header("authorization"), Some("Bearer msy_key"));
}

#[tokio::test]
async fn sagemaker_invocations_are_proxied_and_signed_for_sagemaker() {
    let mock = MockServer::start("sagemaker").await;
    mock.push(json_reply(r#"[{"generated_text": "hello"}]"#));
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "sagemaker".to_owned()),
        ("x-portkey-custom-host", format!("http://{}", mock.addr())),
        ("x-portkey-aws-access-key-id", "AKIDEXAMPLE".to_owned()),
        ("x-portkey-aws-secret-access-key", "secret".to_owned()),
        ("x-portkey-aws-region", "eu-west-1".to_owned()),
        (
            "x-portkey-amzn-sagemaker-custom-attributes",
            "trace=1".to_owned(),
        ),
    ];
    let body = json!({"inputs": "hi", "parameters": {"max_new_tokens": 8}});
    let resp = gw
        .post("/v1/endpoints/my-llm/invocations", body.clone(), &refs(&h))
        .await;
    assert_eq!(resp.status(), 200);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/endpoints/my-llm/invocations");
    assert_eq!(sent.json(), body);
    let auth = sent.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/sagemaker/aws4_request"),
        "{auth}"
    );
    assert_eq!(
        sent.header("x-amzn-sagemaker-custom-attributes"),
        Some("trace=1")
    );
    // No OpenAI endpoint is translated for SageMaker.
    let (status, _) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert_eq!(mock.requests().len(), 1);
    // Without a custom host the address is built from the region, which is checked first.
    let mut no_host: Vec<_> = h
        .iter()
        .filter(|(k, _)| *k != "x-portkey-custom-host" && *k != "x-portkey-aws-region")
        .cloned()
        .collect();
    no_host.push(("x-portkey-aws-region", "evil.example/x".to_owned()));
    let (status, e) = error_of(
        gw.post(
            "/v1/endpoints/my-llm/invocations",
            json!({}),
            &refs(&no_host),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "aws_region");
}
