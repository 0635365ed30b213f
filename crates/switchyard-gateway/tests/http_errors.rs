//! Bad input gets a clear OpenAI-shaped error with the right status, never a panic.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn health_answers_ok() {
    let gw = Gateway::start("").await;
    let resp = gw.http.get(gw.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn malformed_json_is_400_invalid_json() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let mut rb = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{\"model\": ");
    for (k, v) in refs(&h) {
        rb = rb.header(k, v);
    }
    let (status, body) = error_of(rb.send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_json");
    assert_eq!(mock.hits(), 0, "nothing reaches the upstream");
}

#[tokio::test]
async fn wrong_field_types_are_400_naming_the_field() {
    let gw = Gateway::start("").await;
    for (body, field) in [
        (json!({"model": 42, "messages": []}), "model"),
        (json!({"model": "m", "stream": "yes"}), "stream"),
        (json!({"model": "m", "stream_options": 5}), "stream_options"),
    ] {
        let (status, err) =
            error_of(gw.chat(body, &[("x-portkey-provider", "openai")]).await).await;
        assert_eq!(status, 400);
        assert_eq!(err["error"]["param"], field);
        assert_eq!(err["error"]["code"], "invalid_type");
    }
    let (status, _) = error_of(gw.chat(json!([1, 2]), &[]).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn empty_body_is_400() {
    let gw = Gateway::start("").await;
    let resp = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("x-portkey-provider", "openai")
        .send()
        .await
        .unwrap();
    let (status, _) = error_of(resp).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn body_over_the_limit_is_413_both_declared_and_streamed() {
    let gw = Gateway::start("server:\n  max_body_size: 1KiB\n").await;
    let big = "x".repeat(4096);
    let resp = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(format!("{{\"model\":\"m\",\"pad\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");

    // Chunked, with no content-length to check up front.
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok("{\"model\":\"m\",\"pad\":\"".into()),
        Ok(big),
        Ok("\"}".into()),
    ];
    let resp = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 413);
}

#[tokio::test]
async fn unsupported_content_type_is_415() {
    let gw = Gateway::start("").await;
    let resp = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 415);
}

#[tokio::test]
async fn unknown_provider_is_400_listing_known_ones() {
    let gw = Gateway::start("").await;
    let (status, body) = error_of(
        gw.chat(
            hi("m"),
            &[
                ("x-portkey-provider", "nope"),
                ("authorization", "Bearer k"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("unknown provider `nope`"), "{msg}");
    // Every slug of the catalogue is named.
    for spec in switchyard_providers::CATALOG {
        assert!(
            msg.contains(&format!("`{}`", spec.slug)) || msg.contains(spec.slug),
            "{} missing: {msg}",
            spec.slug
        );
    }
    assert_eq!(body["error"]["param"], "x-portkey-provider");
}

#[tokio::test]
async fn missing_credentials_are_401() {
    let gw = Gateway::start("").await;
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-provider", "groq")]).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["code"], "missing_api_key");
}

#[tokio::test]
async fn request_without_any_route_is_400_explaining_how_to_route() {
    let gw = Gateway::start("").await;
    let (status, body) = error_of(gw.chat(hi("gpt-4o"), &[]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "no_route");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x-portkey-provider"));
}

#[tokio::test]
async fn invalid_config_is_400_naming_every_offending_path() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallbak"},
        "targets": [target(&mock)]
    });
    let c = config.to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &c)]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.strategy.mode");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("fallbak"));

    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "k", "retry": {"attempts": 9}},
            {"provider": "openai", "api_key": "k", "weight": -1, "overide_params": {}}
        ]
    })
    .to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &config)]).await).await;
    assert_eq!(status, 400);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("config.targets[0].retry.attempts"), "{msg}");
    assert!(msg.contains("config.targets[1].weight"), "{msg}");
    assert!(
        msg.contains("config.targets[1].overide_params: unknown field"),
        "{msg}"
    );
    assert_eq!(mock.hits(), 0);

    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", "{oops")]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "x-portkey-config");
}

#[tokio::test]
async fn legacy_config_fields_and_unknown_virtual_keys_are_refused_clearly() {
    let gw = Gateway::start("").await;
    let legacy = json!({"mode": "fallback", "options": [{"provider": "openai", "api_key": "k"}]})
        .to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &legacy)]).await).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("legacy"));
    let vk = json!({"provider": "openai", "virtual_key": "vk-1"}).to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &vk)]).await).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no virtual key is named `vk-1`"));
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let gw = Gateway::start("").await;
    let resp = gw.http.get(gw.url("/nope")).send().await.unwrap();
    assert_eq!(error_of(resp).await.0, 404);
    let resp = gw
        .http
        .get(gw.url("/v1/chat/completions"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 405);
}

#[tokio::test]
async fn private_custom_hosts_are_refused_before_any_io() {
    let gw = Gateway::start("").await;
    for host in [
        "http://169.254.169.254/latest",
        "http://10.0.0.8/v1",
        "http://metadata.google.internal/v1",
    ] {
        let (status, body) = error_of(
            gw.chat(
                hi("m"),
                &[
                    ("x-portkey-provider", "openai"),
                    ("authorization", "Bearer k"),
                    ("x-portkey-custom-host", host),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{host}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("internal"),
            "{host}: {body}"
        );
    }
}

#[tokio::test]
async fn unreachable_upstream_is_502() {
    let port = dead_port().await;
    let gw = Gateway::start("").await;
    let host = format!("http://127.0.0.1:{port}/v1");
    let (status, body) = error_of(
        gw.chat(
            hi("m"),
            &[
                ("x-portkey-provider", "openai"),
                ("authorization", "Bearer sk-secret-xyz"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "upstream_unreachable");
    assert!(
        !body.to_string().contains("sk-secret-xyz"),
        "keys never appear in errors"
    );
}

#[tokio::test]
async fn upstream_error_bodies_pass_through_with_their_status() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::status(
        401,
        json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
    ));
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let (status, body) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_eq!(body["error"]["message"], "Incorrect API key provided");
}

#[tokio::test]
async fn non_json_upstream_errors_are_wrapped_in_openai_shape() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Json {
        status: 503,
        body: "<html>Service Unavailable</html>".into(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let (status, body) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 503);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Service Unavailable"));
}

#[tokio::test]
async fn curls_default_form_content_type_is_read_as_json() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut rb = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    for (k, v) in refs(&via(&mock)) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.send().await.unwrap().status(), 200);
    assert_eq!(
        mock.requests()[0].header("content-type"),
        Some("application/json")
    );
}
