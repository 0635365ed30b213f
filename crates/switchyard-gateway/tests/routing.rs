//! Routing in Portkey's dialect: provider headers, Gateway Configs (fallback, loadbalance,
//! conditional, nesting, inheritance), the server's config file, and what reaches the upstream.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn provider_header_forwards_the_exact_body_and_the_client_key() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100},"zzz_unknown":[1,{"a":null}]}"#;
    let mut rb = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in refs(&via(&mock)) {
        rb = rb.header(k, v);
    }
    rb = rb.header("x-portkey-trace-id", "trace-123");
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-portkey-trace-id"), "trace-123");
    assert_eq!(header(&resp, "x-portkey-provider"), "openai");
    assert_eq!(header(&resp, "x-portkey-last-used-option-index"), "config");
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "0");
    assert_eq!(header(&resp, "x-portkey-cache-status"), "DISABLED");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from a");

    let got = &mock.requests()[0];
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(
        got.body.as_ref(),
        body.as_bytes(),
        "unknown fields and byte order are preserved"
    );
    assert_eq!(got.header("authorization"), Some("Bearer sk-client"));
    assert!(
        got.header("x-portkey-provider").is_none(),
        "x-portkey headers stay at the gateway"
    );
}

#[tokio::test]
async fn a_trace_id_is_generated_when_absent() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi("m"), &refs(&via(&mock))).await;
    let id = header(&resp, "x-portkey-trace-id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn override_params_and_nested_inheritance_reach_the_upstream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "single"},
        "override_params": {"temperature": 0.1, "max_tokens": 10},
        "custom_host": mock.url(),
        "targets": [{
            "strategy": {"mode": "single"},
            "override_params": {"max_tokens": 99, "model": "gpt-4o"},
            "targets": [{"provider": "openai", "api_key": "sk-inner"}]
        }]
    })
    .to_string();
    let resp = gw
        .chat(hi("ignored"), &[("x-portkey-config", &config)])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[0].targets[0]"
    );
    let sent = mock.requests()[0].json();
    assert_eq!(sent["model"], "gpt-4o", "child override wins");
    assert_eq!(sent["max_tokens"], 99, "child override wins");
    assert_eq!(sent["temperature"], 0.1, "parent override inherited");
    assert_eq!(sent["messages"][0]["content"], "hi");
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer sk-inner")
    );
}

#[tokio::test]
async fn fallback_moves_on_after_a_failure_status_and_reports_the_index() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.set_default(Reply::error(503, "overloaded"));
    let gw = Gateway::start("").await;
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target(&a), target(&b)]}).to_string();
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from b");
    assert_eq!(
        a.requests()[0].body,
        b.requests()[0].body,
        "the same body is replayed"
    );
}

#[tokio::test]
async fn fallback_with_on_status_codes_returns_other_errors_at_once() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.set_default(Reply::error(400, "bad request"));
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback", "on_status_codes": [429, 503]}, "targets": [target(&a), target(&b)]}).to_string();
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "bad request");
    assert_eq!(b.hits(), 0);

    a.set_default(Reply::error(429, "slow down"));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(b.hits(), 1);
}

#[tokio::test]
async fn when_every_target_fails_the_error_lists_each_reason_with_the_last_status() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.set_default(Reply::error(500, "a exploded"));
    b.set_default(Reply::error(429, "b is rate limited"));
    let port = dead_port().await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        target(&a),
        {"provider": "groq", "api_key": "k", "custom_host": format!("http://127.0.0.1:{port}/v1")},
        target(&b)
    ]})
    .to_string();
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[2]"
    );
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 429);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("All 3 targets failed"), "{msg}");
    assert!(
        msg.contains("config.targets[0] (openai): HTTP 500 a exploded"),
        "{msg}"
    );
    assert!(msg.contains("config.targets[1] (groq): HTTP 502"), "{msg}");
    assert!(
        msg.contains("config.targets[2] (openai): HTTP 429 b is rate limited"),
        "{msg}"
    );
}

#[tokio::test]
async fn loadbalance_follows_weights_and_never_picks_weight_zero() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let c = MockServer::start("c").await;
    let gw = Gateway::start("").await;
    let mut ta = target(&a);
    ta["weight"] = json!(3);
    let mut tb = target(&b);
    tb["weight"] = json!(1);
    let mut tc = target(&c);
    tc["weight"] = json!(0);
    let config = json!({"strategy": {"mode": "loadbalance"}, "targets": [ta, tb, tc]}).to_string();
    for _ in 0..200 {
        assert_eq!(
            gw.chat(hi("m"), &[("x-portkey-config", &config)])
                .await
                .status(),
            200
        );
    }
    assert_eq!(c.hits(), 0);
    assert_eq!(a.hits() + b.hits(), 200);
    // 3:1 split; the bounds are ~6 standard deviations wide, so this fails only if the weights are ignored.
    assert!((110..=185).contains(&a.hits()), "a got {}", a.hits());
}

#[tokio::test]
async fn loadbalance_with_all_weights_zero_is_an_invalid_config() {
    let a = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut t = target(&a);
    t["weight"] = json!(0);
    let config = json!({"strategy": {"mode": "loadbalance"}, "targets": [t]}).to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &config)]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.targets");
}

#[tokio::test]
async fn conditional_routing_reads_metadata_and_params() {
    let pro = MockServer::start("pro").await;
    let free = MockServer::start("free").await;
    let json_mode = MockServer::start("json").await;
    let gw = Gateway::start("").await;
    let named = |m: &MockServer, n: &str| {
        let mut t = target(m);
        t["name"] = json!(n);
        t
    };
    let config = json!({
        "strategy": {
            "mode": "conditional",
            "conditions": [
                {"query": {"params.response_format.type": "json_object"}, "then": "json"},
                {"query": {"$or": [{"metadata.tier": "pro"}, {"metadata.score": {"$gte": 90}}]}, "then": "pro"}
            ],
            "default": "free"
        },
        "targets": [named(&pro, "pro"), named(&free, "free"), named(&json_mode, "json")]
    })
    .to_string();
    let resp = gw
        .chat(
            hi("m"),
            &[
                ("x-portkey-config", &config),
                ("x-portkey-metadata", r#"{"tier":"pro"}"#),
            ],
        )
        .await;
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[0]"
    );
    gw.chat(
        hi("m"),
        &[
            ("x-portkey-config", &config),
            ("x-portkey-metadata", r#"{"score":"95"}"#),
        ],
    )
    .await;
    gw.chat(
        hi("m"),
        &[
            ("x-portkey-config", &config),
            ("x-portkey-metadata", r#"{"tier":"free"}"#),
        ],
    )
    .await;
    let mut body = hi("m");
    body["response_format"] = json!({"type": "json_object"});
    gw.chat(body, &[("x-portkey-config", &config)]).await;
    assert_eq!((pro.hits(), free.hits(), json_mode.hits()), (2, 1, 1));
}

#[tokio::test]
async fn conditional_without_match_or_default_is_400() {
    let a = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut t = target(&a);
    t["name"] = json!("a");
    let config = json!({"strategy": {"mode": "conditional", "conditions": [{"query": {"metadata.x": "1"}, "then": "a"}]}, "targets": [t]}).to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &config)]).await).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no condition"));
    assert_eq!(a.hits(), 0);
}

#[tokio::test]
async fn forward_headers_copy_client_headers_upstream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let routing = via(&mock);
    let mut h = refs(&routing);
    h.push(("x-portkey-forward-headers", "x-tenant, x-missing"));
    h.push(("x-tenant", "acme"));
    h.push(("x-not-forwarded", "1"));
    assert_eq!(gw.chat(hi("m"), &h).await.status(), 200);
    let got = &mock.requests()[0];
    assert_eq!(got.header("x-tenant"), Some("acme"));
    assert!(got.header("x-not-forwarded").is_none());
}

#[tokio::test]
async fn header_custom_host_beats_config_custom_host() {
    let used = MockServer::start("used").await;
    let other = MockServer::start("other").await;
    let gw = Gateway::start("").await;
    let config =
        json!({"provider": "openai", "api_key": "k", "custom_host": other.url()}).to_string();
    let url = used.url();
    let resp = gw
        .chat(
            hi("m"),
            &[
                ("x-portkey-config", &config),
                ("x-portkey-custom-host", &url),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!((used.hits(), other.hits()), (1, 0));
}

#[tokio::test]
async fn provider_prefix_paths_follow_the_catalogue() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    // together-ai's endpoints carry /v1 themselves: its custom host has none.
    let host = format!("http://{}", mock.addr());
    let resp = gw
        .chat(
            hi("m"),
            &[
                ("x-portkey-provider", "together-ai"),
                ("authorization", "Bearer k"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.requests()[0].path, "/v1/chat/completions");
}

#[tokio::test]
async fn embeddings_and_completions_are_routed_like_chat() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let resp = gw
        .post(
            "/v1/embeddings",
            json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
            &refs(&h),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    let resp = gw
        .post(
            "/v1/completions",
            json!({"model": "gpt-3.5-turbo-instruct", "prompt": "x"}),
            &refs(&h),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/embeddings", "/v1/completions"]);
}

#[tokio::test]
async fn unsupported_endpoint_for_a_provider_is_400() {
    let gw = Gateway::start("").await;
    let (status, body) = error_of(
        gw.post(
            "/v1/embeddings",
            json!({"model": "m", "input": "x"}),
            &[
                ("x-portkey-provider", "groq"),
                ("authorization", "Bearer k"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not support embeddings"));
}

#[tokio::test]
async fn other_v1_paths_are_proxied_with_method_query_and_body() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut rb = gw
        .http
        .delete(gw.url("/v1/files/file-123?purge=true"))
        .header("x-custom", "1");
    for (k, v) in refs(&via(&mock)) {
        rb = rb.header(k, v);
    }
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let got = &mock.requests()[0];
    assert_eq!(got.method, http::Method::DELETE);
    assert_eq!(got.path, "/v1/files/file-123?purge=true");
    assert_eq!(got.header("x-custom"), Some("1"));
    assert_eq!(got.header("authorization"), Some("Bearer sk-client"));

    let resp = gw
        .http
        .get(gw.url("/v1/models"))
        .header("x-portkey-provider", "openai")
        .header("x-portkey-custom-host", mock.url())
        .header("authorization", "Bearer k")
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["data"][0]["owned_by"], "a",
        "the provider's own model list"
    );
}

const FILE_CONFIG: &str = r#"
providers:
  openai:
    api_key: ${TEST_OPENAI_KEY}
    base_url: MOCK_A
  local:
    base_url: MOCK_B
routes:
  fast:
    strategy: {mode: fallback}
    targets:
      - provider: openai
        override_params: {model: gpt-4o-mini}
      - provider: local
        override_params: {model: llama3}
default_route: fast
"#;

async fn file_gateway(a: &MockServer, b: &MockServer) -> Gateway {
    let yaml = FILE_CONFIG
        .replace("MOCK_A", &a.url())
        .replace("MOCK_B", &b.url());
    Gateway::start_env(&yaml, &|k| {
        (k == "TEST_OPENAI_KEY").then(|| "sk-server".to_owned())
    })
    .await
}

#[tokio::test]
async fn a_model_alias_routes_through_the_file_config_with_server_credentials() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = file_gateway(&a, &b).await;
    a.push(Reply::error(500, "down"));
    let resp = gw
        .chat(
            hi("fast"),
            &[("authorization", "Bearer whatever-the-sdk-sends")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert_eq!(
        a.requests()[0].header("authorization"),
        Some("Bearer sk-server")
    );
    assert_eq!(a.requests()[0].json()["model"], "gpt-4o-mini");
    assert_eq!(b.requests()[0].json()["model"], "llama3");
    assert!(
        b.requests()[0].header("authorization").is_none(),
        "a keyless local host gets no key"
    );
}

#[tokio::test]
async fn provider_slash_model_uses_that_providers_credentials() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = file_gateway(&a, &b).await;
    let resp = gw.chat(hi("openai/gpt-4.1"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(a.requests()[0].json()["model"], "gpt-4.1");
    assert_eq!(
        a.requests()[0].header("authorization"),
        Some("Bearer sk-server")
    );
}

#[tokio::test]
async fn unknown_models_take_the_default_route() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = file_gateway(&a, &b).await;
    let resp = gw.chat(hi("something-else"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(a.requests()[0].json()["model"], "gpt-4o-mini");
}

#[tokio::test]
async fn a_client_cannot_redirect_server_routes_or_keys_to_its_own_host() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let evil = MockServer::start("evil").await;
    let gw = file_gateway(&a, &b).await;
    let url = evil.url();
    let (status, _) = error_of(
        gw.chat(hi("fast"), &[("x-portkey-custom-host", &url)])
            .await,
    )
    .await;
    assert_eq!(status, 400);
    let config = json!({"provider": "openai", "custom_host": url}).to_string();
    let (status, body) = error_of(gw.chat(hi("m"), &[("x-portkey-config", &config)]).await).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(evil.hits(), 0);
}

#[tokio::test]
async fn models_endpoint_lists_aliases_and_the_configured_providers_models() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = file_gateway(&a, &b).await;
    let list = || async {
        let v: Value = gw
            .http
            .get(gw.url("/v1/models"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list().await,
        ["fast", "local/mock-model", "openai/mock-model"]
    );
    // Read from each provider's `models` on the operator's key, then kept.
    assert_eq!(a.requests()[0].path, "/v1/models");
    assert_eq!(
        a.requests()[0].header("authorization"),
        Some("Bearer sk-server")
    );
    assert_eq!(list().await.len(), 3);
    assert_eq!(a.requests().len(), 1, "the list is cached");
    assert_eq!(b.requests().len(), 1);
}

#[tokio::test]
async fn a_provider_whose_list_cannot_be_read_shows_as_a_wildcard() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.push(Reply::error(500, "no list"));
    let gw = file_gateway(&a, &b).await;
    let v: Value = gw
        .http
        .get(gw.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fast", "local/mock-model", "openai/*"]);
}
