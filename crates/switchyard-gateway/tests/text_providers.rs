//! Gateway-level facts of the providers added for Portkey's remaining text slugs that the
//! cross-provider battery (`providers.rs`) does not show: options that only matter without a
//! custom host, Portkey's ways of naming them, refusals before any I/O, `ai21` and `reka-ai`
//! (OpenAI-compatible rows), and `triton` (completions only, so outside the chat battery).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{json, Value};

use common::{error_of, hi, hi_stream, Gateway, MockServer, Reply};

fn pb_reply() -> Reply {
    Reply::Json {
        status: 200,
        body: include_str!("../../switchyard-providers/fixtures/predibase/chat_response.json")
            .to_owned(),
        headers: vec![],
    }
}

#[tokio::test]
async fn workers_ai_without_an_account_id_or_custom_host_is_a_400_naming_the_option() {
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "workers-ai"),
        ("authorization", "Bearer cf-token"),
    ];
    let (status, body) = error_of(gw.chat(hi("@cf/meta/llama-3.1-8b-instruct"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "workers_ai_account_id", "{body}");
    // An account id that would change the URL's shape is refused too.
    let h = [
        ("x-portkey-provider", "workers-ai"),
        ("authorization", "Bearer cf-token"),
        ("x-portkey-workers-ai-account-id", "abc/../other"),
    ];
    let (status, body) = error_of(gw.chat(hi("@cf/meta/llama-3.1-8b-instruct"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "workers_ai_account_id", "{body}");
}

#[tokio::test]
async fn nomic_refuses_chat_before_any_upstream_call() {
    let mock = MockServer::start("nomic").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let h = [
        ("x-portkey-provider", "nomic"),
        ("authorization", "Bearer nk-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let (status, body) = error_of(gw.chat(hi("nomic-embed-text-v1.5"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("chat"),
        "{body}"
    );
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn predibase_takes_the_tenant_from_user_as_portkey_does_and_refuses_none() {
    let mock = MockServer::start("predibase").await;
    mock.push(pb_reply());
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let h = [
        ("x-portkey-provider", "predibase"),
        ("authorization", "Bearer pb-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let (status, body) = error_of(gw.chat(hi("mistral-7b"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "predibase_tenant_id", "{body}");
    assert_eq!(mock.hits(), 0);

    let mut req = hi("mistral-7b");
    req["user"] = json!("acme");
    let resp = gw.chat(req, &h).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["model"], "mistral-7b");
    let got = &mock.requests()[0];
    assert_eq!(
        got.path,
        "/acme/deployments/v2/llms/mistral-7b/v1/chat/completions"
    );
    let sent = got.json();
    assert_eq!(sent["model"], "", "no adapter: the base model");
    assert!(sent.get("user").is_none(), "{sent}");
}

#[tokio::test]
async fn predibase_tenant_from_the_server_config_file() {
    let mock = MockServer::start("predibase").await;
    mock.push(pb_reply());
    let yaml = format!(
        "providers:\n  predibase:\n    api_key: pb-operator\n    base_url: http://{}\n    predibase_tenant_id: cfg-tenant\nroutes:\n  pb:\n    provider: predibase\n    override_params: {{model: \"llama-3-1-8b-instruct:support-bot/4\"}}\n",
        mock.addr()
    );
    let gw = Gateway::start(&yaml).await;
    let resp = gw.chat(hi("pb"), &[]).await;
    assert_eq!(resp.status(), 200);
    let got = &mock.requests()[0];
    assert_eq!(
        got.path,
        "/cfg-tenant/deployments/v2/llms/llama-3-1-8b-instruct/v1/chat/completions"
    );
    assert_eq!(got.header("authorization"), Some("Bearer pb-operator"));
    assert_eq!(got.json()["model"], "support-bot/4");
}

#[tokio::test]
async fn ai21_is_jambas_openai_shaped_chat_without_injected_stream_options() {
    let mock = MockServer::start("ai21").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}/studio/v1", mock.addr());
    let h = [
        ("x-portkey-provider", "ai21"),
        ("authorization", "Bearer ai21-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let resp = gw.chat(hi_stream("jamba-mini"), &h).await;
    assert_eq!(resp.status(), 200);
    let _ = resp.text().await.unwrap();
    let got = &mock.requests()[0];
    assert_eq!(got.path, "/studio/v1/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer ai21-key"));
    let sent = got.json();
    assert_eq!(sent["model"], "jamba-mini");
    assert!(sent.get("stream_options").is_none(), "{sent}");
    // Embeddings are refused before any I/O.
    let (status, _) = error_of(
        gw.post(
            "/v1/embeddings",
            json!({"model": "jamba-mini", "input": "x"}),
            &h,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn reka_is_its_openai_compatible_chat_with_a_bearer_key_and_no_injected_stream_options() {
    let mock = MockServer::start("reka").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v1", mock.addr());
    let h = [
        ("x-portkey-provider", "reka-ai"),
        ("authorization", "Bearer reka-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let resp = gw.chat(hi("reka-flash"), &h).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion", "{v}");
    let resp = gw.chat(hi_stream("reka-flash"), &h).await;
    assert_eq!(resp.status(), 200);
    let _ = resp.text().await.unwrap();
    let reqs = mock.requests();
    for got in &reqs {
        assert_eq!(got.path, "/v1/chat/completions");
        assert_eq!(got.header("authorization"), Some("Bearer reka-key"));
        assert!(got.header("x-api-key").is_none());
        assert_eq!(got.json()["model"], "reka-flash");
    }
    assert!(reqs[1].json().get("stream_options").is_none());
    // Completions and embeddings are refused before any I/O.
    for (path, body) in [
        (
            "/v1/completions",
            json!({"model": "reka-flash", "prompt": "x"}),
        ),
        (
            "/v1/embeddings",
            json!({"model": "reka-flash", "input": "x"}),
        ),
    ] {
        let (status, body) = error_of(gw.post(path, body, &h).await).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    assert_eq!(mock.hits(), 2);
}

fn triton_reply() -> Reply {
    Reply::Json {
        status: 200,
        body: include_str!("../../switchyard-providers/fixtures/triton/generate_response.json")
            .to_owned(),
        headers: vec![],
    }
}

#[tokio::test]
async fn triton_completions_go_to_the_custom_hosts_generate_and_come_back_as_a_text_completion() {
    let mock = MockServer::start("triton").await;
    mock.push(triton_reply());
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v2/models/mymodel", mock.addr());
    let h = [
        ("x-portkey-provider", "triton"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let resp = gw
        .post(
            "/v1/completions",
            json!({"model": "mymodel", "prompt": "client input", "max_tokens": 20, "stop": "\n",
                   "bad_words": ["darn"], "user": "u-1"}),
            &h,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "text_completion", "{v}");
    assert!(v["id"].as_str().unwrap().starts_with("cmpl-"), "{v}");
    assert_eq!(v["model"], "mymodel");
    assert_eq!(v["choices"][0]["text"], "model output");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["logprobs"].is_null(), "{v}");
    let got = &mock.requests()[0];
    assert_eq!(got.path, "/v2/models/mymodel/generate");
    assert!(
        got.header("authorization").is_none(),
        "no key, no credentials"
    );
    assert_eq!(
        got.json(),
        json!({"text_input": "client input", "max_tokens": 20, "temperature": 0.7,
               "top_p": 0.7, "top_k": 50, "stop_words": ["\n"], "bad_words": ["darn"]})
    );
}

#[tokio::test]
async fn triton_from_the_server_config_file_sends_a_configured_key_as_a_bearer_token() {
    let mock = MockServer::start("triton").await;
    mock.push(triton_reply());
    let yaml = format!(
        "providers:\n  triton:\n    api_key: tr-operator\n    base_url: http://{}/v2/models/ensemble/versions/1\nroutes:\n  tr:\n    provider: triton\n",
        mock.addr()
    );
    let gw = Gateway::start(&yaml).await;
    let resp = gw
        .post(
            "/v1/completions",
            json!({"model": "tr", "prompt": "x"}),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got = &mock.requests()[0];
    assert_eq!(got.path, "/v2/models/ensemble/versions/1/generate");
    assert_eq!(got.header("authorization"), Some("Bearer tr-operator"));
}

#[tokio::test]
async fn triton_errors_keep_their_status_and_message() {
    let mock = MockServer::start("triton").await;
    mock.push(Reply::Json {
        status: 400,
        body: include_str!("../../switchyard-providers/fixtures/triton/error.json").to_owned(),
        headers: vec![],
    });
    mock.push(Reply::Json {
        status: 200,
        body: r#"{"model_name": "mymodel"}"#.to_owned(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v2/models/mymodel", mock.addr());
    let h = [
        ("x-portkey-provider", "triton"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let req = json!({"model": "mymodel", "prompt": "x"});
    let (status, body) = error_of(gw.post("/v1/completions", req.clone(), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "error message");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    // A 200 without `text_output` is not an answer.
    let (status, body) = error_of(gw.post("/v1/completions", req, &h).await).await;
    assert_eq!(status, 502, "{body}");
}

#[tokio::test]
async fn triton_refuses_chat_streams_and_a_missing_custom_host_before_any_upstream_call() {
    let mock = MockServer::start("triton").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v2/models/mymodel", mock.addr());
    let h = [
        ("x-portkey-provider", "triton"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let (status, body) = error_of(gw.chat(hi("mymodel"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    for (req, param) in [
        (
            json!({"model": "mymodel", "prompt": "x", "stream": true}),
            "stream",
        ),
        (json!({"model": "mymodel", "prompt": "x", "n": 2}), "n"),
        (json!({"model": "mymodel", "prompt": [1, 2]}), "prompt"),
    ] {
        let (status, body) = error_of(gw.post("/v1/completions", req, &h).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
    }
    let (status, body) = error_of(
        gw.post(
            "/v1/completions",
            json!({"model": "mymodel", "prompt": "x"}),
            &[("x-portkey-provider", "triton")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "custom_host", "{body}");
    assert_eq!(mock.hits(), 0);
}

fn bytez_headers(host: &str) -> [(&'static str, &str); 3] {
    [
        ("x-portkey-provider", "bytez"),
        ("authorization", "Bearer bz-key"),
        ("x-portkey-custom-host", host),
    ]
}

#[tokio::test]
async fn bytez_chat_goes_to_the_models_path_keyed_with_the_key_scheme() {
    let mock = MockServer::start("bytez").await;
    mock.push(Reply::Json {
        status: 200,
        body: include_str!("../../switchyard-providers/fixtures/bytez/chat_response.json")
            .to_owned(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let mut req = hi("Qwen/Qwen3-4B");
    req["max_tokens"] = json!(50);
    let resp = gw.chat(req, &bytez_headers(&host)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion", "{v}");
    assert_eq!(v["model"], "Qwen/Qwen3-4B");
    assert_eq!(v["choices"][0]["message"]["content"], "Aaaaaaaargh matey");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let got = &mock.requests()[0];
    assert_eq!(got.path, "/models/v2/Qwen/Qwen3-4B");
    assert_eq!(got.header("authorization"), Some("Key bz-key"));
    assert_eq!(
        got.json(),
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": false,
               "params": {"max_new_tokens": 50, "temperature": 1.0, "top_p": 1.0}})
    );
}

#[tokio::test]
async fn bytez_errors_keep_their_status_and_message() {
    let mock = MockServer::start("bytez").await;
    // Every attempt (should the gateway retry a 429) gets the same answer.
    mock.set_default(Reply::Json {
        status: 429,
        body: r#"{"error": "Rate limit exceeded", "output": null}"#.to_owned(),
        headers: vec![],
    });
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let (status, body) = error_of(gw.chat(hi("m/x"), &bytez_headers(&host)).await).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["message"], "Rate limit exceeded");
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn bytez_refuses_streams_and_completions_before_any_upstream_call() {
    let mock = MockServer::start("bytez").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let h = bytez_headers(&host);
    let (status, body) = error_of(gw.chat(hi_stream("m/x"), &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "stream", "{body}");
    let (status, body) = error_of(
        gw.post(
            "/v1/completions",
            json!({"model": "m/x", "prompt": "x"}),
            &h,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn azure_ai_foundry_url_is_the_targets_host_from_a_header_a_config_or_the_server_file() {
    let mock = MockServer::start("azure-ai").await;
    for _ in 0..3 {
        mock.push(Reply::Default);
    }
    let foundry = format!("http://{}/models", mock.addr());
    // The header, as Portkey's SDK sends `azureFoundryUrl`.
    let gw = Gateway::start("").await;
    let h = [
        ("x-portkey-provider", "azure-ai"),
        ("authorization", "Bearer az-key"),
        ("x-portkey-azure-foundry-url", foundry.as_str()),
    ];
    assert_eq!(gw.chat(hi("Phi-4"), &h).await.status(), 200);
    // A Gateway Config target.
    let config = json!({"provider": "azure-ai", "api_key": "az-key", "azure_foundry_url": foundry});
    assert_eq!(gw.chat_config(hi("Phi-4"), &config).await.status(), 200);
    // The server's config file.
    let yaml = format!(
        "providers:\n  azure-ai:\n    api_key: az-operator\n    azure_foundry_url: {foundry}\nroutes:\n  phi:\n    provider: azure-ai\n    override_params: {{model: Phi-4}}\n"
    );
    let gw2 = Gateway::start(&yaml).await;
    assert_eq!(gw2.chat(hi("phi"), &[]).await.status(), 200);
    // A client's foundry URL never receives the operator's key.
    let elsewhere = format!("http://{}/elsewhere", mock.addr());
    let h = [
        ("x-portkey-provider", "azure-ai"),
        ("x-portkey-azure-foundry-url", elsewhere.as_str()),
    ];
    let (status, body) = error_of(gw2.chat(hi("Phi-4"), &h).await).await;
    assert_eq!(status, 401, "{body}");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.path, "/models/chat/completions");
    }
    assert_eq!(reqs[2].header("authorization"), Some("Bearer az-operator"));
}
