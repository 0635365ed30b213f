//! Behaviours found by running Portkey's own gateway tests and configs against Switchyard:
//! configs Portkey accepts, its legacy routes and headers, and its base-URL conventions.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn keys_portkey_tolerates_are_ignored_and_reported() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut config = target(&mock);
    config["model"] = json!("gpt-4o");
    config["max_tokens"] = json!(100);
    config["retry"] = json!({"attempts": 0, "backoff": "exponential"});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-switchyard-ignored-config-keys"),
        "config.max_tokens, config.model, config.retry.backoff"
    );
    assert_eq!(
        mock.requests()[0].json()["model"],
        "m",
        "an ignored `model` changes nothing, as in Portkey"
    );
}

/// A request's own parameters pasted into a config are never mistaken for typos of config keys.
#[tokio::test]
async fn openai_request_parameters_in_a_config_are_ignored_not_refused() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let params = [
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "metadata",
        "store",
        "reasoning_effort",
        "service_tier",
        "modalities",
        "audio",
        "prediction",
        "prompt",
        "input",
        "dimensions",
        "encoding_format",
        "suffix",
        "echo",
        "best_of",
        "description",
        "comment",
        "version",
        "type",
    ];
    let mut config = target(&mock);
    for p in params {
        config[p] = json!(1);
    }
    let resp = gw.chat_config(hi("m"), &config).await;
    let ignored = header(&resp, "x-switchyard-ignored-config-keys");
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(ignored.split(", ").count(), params.len(), "{ignored}");
}

#[tokio::test]
async fn typos_of_real_keys_are_still_refused_with_a_suggestion() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    for (key, path, meant) in [
        ("overide_params", "config.overide_params", "override_params"),
        ("custom_hots", "config.custom_hots", "custom_host"),
        ("retyr", "config.retyr", "retry"),
    ] {
        let mut config = target(&mock);
        config[key] = json!({});
        let resp = gw.chat_config(hi("m"), &config).await;
        let (status, body) = error_of(resp).await;
        assert_eq!(status, 400, "{key}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("{path}: unknown field; did you mean `{meant}`?")),
            "{msg}"
        );
    }
    let config = json!({"strategy": {"mode": "fallback", "on_status_code": [500]},
        "targets": [target(&mock)]});
    let (status, body) = error_of(gw.chat_config(hi("m"), &config).await).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains(
        "config.strategy.on_status_code: unknown field; did you mean `on_status_codes`?"
    ));
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn camel_case_keys_work_as_in_portkey() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.push(Reply::error(503, "busy"));
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallback", "onStatusCodes": [503]},
        "overrideParams": {"model": "from-camel"},
        "targets": [
            {"provider": "openai", "apiKey": "k", "customHost": a.url()},
            {"provider": "openai", "apiKey": "k", "customHost": b.url()},
        ]
    });
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert_eq!(b.requests()[0].json()["model"], "from-camel");
    assert_eq!(header(&resp, "x-switchyard-ignored-config-keys"), "");
}

#[tokio::test]
async fn the_legacy_proxy_route_reaches_the_same_upstream_paths() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let resp = gw
        .post("/v1/proxy/chat/completions", hi("m"), &refs(&h))
        .await;
    assert_eq!(resp.status(), 200);
    let mut rb = gw.http.get(gw.url("/v1/proxy/models?limit=2"));
    for (k, v) in refs(&h) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.send().await.unwrap().status(), 200);
    let paths: Vec<_> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/chat/completions", "/v1/models?limit=2"]);
}

#[tokio::test]
async fn a_client_path_that_repeats_the_version_is_not_doubled() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let mut rb = gw.http.get(gw.url("/v1/v1/models"));
    for (k, v) in refs(&h) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.send().await.unwrap().status(), 200);
    assert_eq!(mock.requests()[0].path, "/v1/models");
}

#[tokio::test]
async fn default_guardrail_headers_are_refused_until_guardrails_exist() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    for name in [
        "x-portkey-default-input-guardrails",
        "x-portkey-default-output-guardrails",
    ] {
        let mut headers = refs(&h);
        headers.push((
            name,
            r#"[{"default.contains": {"words": ["x"]}, "deny": true}]"#,
        ));
        let (status, body) = error_of(gw.chat(hi("m"), &headers).await).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["param"], name);
        // An empty list asks for nothing.
        let mut headers = refs(&h);
        headers.push((name, "[]"));
        assert_eq!(gw.chat(hi("m"), &headers).await.status(), 200);
    }
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn bedrock_without_a_region_uses_portkeys_default() {
    let mock = MockServer::start("bedrock").await;
    mock.push(Reply::status(
        200,
        json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
               "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}),
    ));
    let gw = Gateway::start("").await;
    let config = json!({"provider": "bedrock", "custom_host": format!("http://{}", mock.addr()),
        "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"});
    let resp = gw
        .chat_config(hi("anthropic.claude-3-haiku-20240307-v1:0"), &config)
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let auth = mock.requests()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
}

#[tokio::test]
async fn vertex_models_may_name_their_publisher_as_in_portkey() {
    let mock = MockServer::start("vertex").await;
    let gw = Gateway::start("").await;
    let config = json!({"provider": "vertex-ai", "api_key": "ya29.token",
        "custom_host": format!("http://{}", mock.addr()),
        "vertex_project_id": "p", "vertex_region": "us-east5"});
    gw.chat_config(hi("anthropic.claude-3-5-sonnet@20240620"), &config)
        .await;
    assert_eq!(
        mock.requests()[0].path,
        "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict"
    );
    let (status, body) = error_of(
        gw.chat_config(hi("meta.llama-3.1-405b-instruct-maas"), &config)
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "model");
}

/// An upstream that compresses its answer without being asked (Portkey's Node runtime decodes
/// such answers; before, the gateway reported them as "not valid JSON").
#[tokio::test]
async fn compressed_upstream_answers_are_decoded() {
    use std::io::Write;
    let answer = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "zipped"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(answer.to_string().as_bytes()).unwrap();
    let mock = MockServer::start("a").await;
    mock.push(Reply::WithHeaders(
        vec![("content-encoding".into(), "gzip".into())],
        Box::new(Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            chunks: vec![bytes::Bytes::from(gz.finish().unwrap())],
            gap: std::time::Duration::ZERO,
        }),
    ));
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let resp = gw.chat(hi("m"), &refs(&h)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-encoding"), "");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "zipped");
    assert_eq!(
        mock.requests()[0].header("accept-encoding"),
        Some("identity"),
        "compression is not asked for"
    );
}
