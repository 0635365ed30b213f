//! The header policy through the real server: what reaches the upstream, what reaches the
//! client, and what a client may not do with the operator's credentials.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

/// A gateway whose config file holds the operator's OpenAI key, pointed at `mock`, with a route
/// `m` and provider/model addressing (`openai/...`).
async fn operator_gateway(mock: &MockServer) -> Gateway {
    let yaml = format!(
        "providers:\n  openai:\n    api_key: sk-operator\n    base_url: {}\nroutes:\n  m:\n    provider: openai\n",
        mock.url()
    );
    Gateway::start(&yaml).await
}

/// A 200 chat completion that can carry extra headers.
fn ok() -> Reply {
    Reply::status(
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}),
    )
}

#[tokio::test]
async fn a_forwarded_authorization_replaces_the_provider_key_instead_of_duplicating_it() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut t = target(&mock);
    t["forward_headers"] = json!(["authorization", "x-team"]);
    let resp = gw
        .chat(
            hi("m"),
            &[
                ("x-portkey-config", &t.to_string()),
                ("authorization", "Bearer sk-forwarded"),
                ("x-team", "blue"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let r = &mock.requests()[0];
    let auth: Vec<_> = r.headers.get_all("authorization").iter().collect();
    assert_eq!(auth, ["Bearer sk-forwarded"], "exactly one auth header");
    assert_eq!(r.header("x-team"), Some("blue"));
}

#[tokio::test]
async fn framing_host_and_hop_by_hop_headers_cannot_be_forwarded() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    for name in [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
    ] {
        let mut t = target(&mock);
        t["forward_headers"] = json!([name]);
        let resp = gw.chat_config(hi("m"), &t).await;
        let (status, body) = error_of(resp).await;
        assert_eq!(status, 400, "{name}");
        assert_eq!(body["error"]["param"], "config.forward_headers", "{name}");
        let h = via(&mock);
        let mut headers = refs(&h);
        headers.push(("x-portkey-forward-headers", name));
        let (status, body) = error_of(gw.chat(hi("m"), &headers).await).await;
        assert_eq!(status, 400, "{name}");
        assert_eq!(body["error"]["param"], "x-portkey-forward-headers");
    }
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn client_forward_headers_never_apply_to_the_operators_credentials() {
    let mock = MockServer::start("a").await;
    let gw = operator_gateway(&mock).await;
    // On a route of the config file.
    let resp = gw
        .chat(
            hi("m"),
            &[
                (
                    "x-portkey-forward-headers",
                    "authorization,openai-organization",
                ),
                ("openai-organization", "org-attacker"),
            ],
        )
        .await;
    assert_eq!(error_of(resp).await.0, 400);
    // In a client config whose target uses the server's key.
    let config = json!({"provider": "openai", "forward_headers": ["openai-organization"]});
    let resp = gw.chat_config(hi("gpt-4o"), &config).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["param"], "config.forward_headers");
    assert_eq!(mock.hits(), 0, "nothing reached the upstream");
}

#[tokio::test]
async fn server_credential_responses_hide_the_operators_account_headers() {
    let mock = MockServer::start("a").await;
    mock.push(
        ok().with_header("openai-organization", "org-operator")
            .with_header("openai-project", "proj-operator")
            .with_header("x-ratelimit-remaining-requests", "42")
            .with_header("x-request-id", "req_1"),
    );
    let gw = operator_gateway(&mock).await;
    let resp = gw.chat(hi("m"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "openai-organization"), "");
    assert_eq!(header(&resp, "openai-project"), "");
    assert_eq!(header(&resp, "x-ratelimit-remaining-requests"), "42");
    assert_eq!(header(&resp, "x-request-id"), "req_1");

    // With the client's own key, the account is the client's: its headers pass.
    mock.push(ok().with_header("openai-organization", "org-client"));
    let h = via(&mock);
    let resp = gw.chat(hi("m"), &refs(&h)).await;
    assert_eq!(header(&resp, "openai-organization"), "org-client");
}

#[tokio::test]
async fn an_upstream_401_for_the_operators_key_is_a_502_not_the_clients_fault() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(401, "Incorrect API key provided: sk-oper****"));
    let gw = operator_gateway(&mock).await;
    let (status, body) = error_of(gw.chat(hi("m"), &[]).await).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "gateway_credentials_rejected");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        !msg.contains("sk-oper"),
        "the upstream's message is not passed on: {msg}"
    );

    // The client's own key refused: the client's problem, passed on as is.
    mock.push(Reply::error(401, "Incorrect API key provided"));
    let h = via(&mock);
    let (status, body) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "Incorrect API key provided");
}

#[tokio::test]
async fn a_client_cannot_point_the_operators_azure_key_at_its_own_resource() {
    let mock = MockServer::start("a").await;
    let yaml = "providers:\n  azure-openai:\n    api_key: operator-azure-key\n    azure_resource_name: operator\n";
    let gw = Gateway::start(yaml).await;
    for (key, value) in [
        ("azure_resource_name", "attacker"),
        ("openai_organization", "org-x"),
    ] {
        let config = json!({"provider": "azure-openai", key: value, "azure_deployment_id": "d"});
        let resp = gw.chat_config(hi("gpt-4o"), &config).await;
        let (status, body) = error_of(resp).await;
        assert_eq!(status, 401, "{key}: {body}");
        assert_eq!(body["error"]["param"], format!("config.{key}"));
    }
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn portkey_openai_account_headers_reach_openai() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let mut headers = refs(&h);
    headers.extend([
        ("x-portkey-openai-organization", "org-123"),
        ("x-portkey-openai-project", "proj_456"),
        ("x-portkey-openai-beta", "assistants=v2"),
    ]);
    assert_eq!(gw.chat(hi("m"), &headers).await.status(), 200);
    let r = &mock.requests()[0];
    assert_eq!(r.header("openai-organization"), Some("org-123"));
    assert_eq!(r.header("openai-project"), Some("proj_456"));
    assert_eq!(r.header("openai-beta"), Some("assistants=v2"));

    // The same from a config target.
    let mut t = target(&mock);
    t["openai_organization"] = json!("org-cfg");
    let resp = gw.chat_config(hi("m"), &t).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        mock.requests()[1].header("openai-organization"),
        Some("org-cfg")
    );
}

#[tokio::test]
async fn proxied_requests_on_the_operators_key_carry_only_allowlisted_client_headers() {
    let mock = MockServer::start("a").await;
    let yaml = format!(
        "providers:\n  openai:\n    api_key: sk-operator\n    base_url: {}\ndefault_route:\n  provider: openai\n  allow_proxy_paths: [\"files\"]\n",
        mock.url()
    );
    let gw = Gateway::start(&yaml).await;
    let resp = gw
        .http
        .get(gw.url("/v1/files"))
        .header("openai-organization", "org-attacker")
        .header("openai-beta", "assistants=v2")
        .header("x-custom", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let r = &mock.requests()[0];
    assert_eq!(r.header("openai-organization"), None);
    assert_eq!(r.header("x-custom"), None);
    assert_eq!(r.header("openai-beta"), Some("assistants=v2"));
    assert_eq!(r.header("authorization"), Some("Bearer sk-operator"));
}

#[tokio::test]
async fn pass_through_on_the_operators_key_is_off_unless_the_route_allows_the_path() {
    let mock = MockServer::start("a").await;
    let closed = format!(
        "providers:\n  openai:\n    api_key: sk-operator\n    base_url: {}\ndefault_route:\n  provider: openai\n",
        mock.url()
    );
    let gw = Gateway::start(&closed).await;
    let resp = gw.http.get(gw.url("/v1/files")).send().await.unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["type"], "permission_error");
    assert_eq!(mock.hits(), 0, "the operator's account was not touched");

    let open = closed.replace(
        "  provider: openai\n",
        "  provider: openai\n  allow_proxy_paths: [files]\n",
    );
    let gw = Gateway::start(&open).await;
    for (path, allowed) in [
        ("/v1/files", true),
        ("/v1/files/file-1/content", true),
        ("/v1/files?purpose=batch", true),
        ("/v1/filesystem", false),
        ("/v1/batches", false),
        ("/v1/fine_tuning/jobs", false),
    ] {
        let resp = gw.http.get(gw.url(path)).send().await.unwrap();
        assert_eq!(resp.status() == 200, allowed, "{path}: {}", resp.status());
    }

    // With the client's own key, pass-through is the client's business.
    let h = via(&mock);
    let mut rb = gw.http.get(gw.url("/v1/batches"));
    for (k, v) in refs(&h) {
        rb = rb.header(k, v);
    }
    assert_eq!(rb.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn only_the_server_file_can_allow_pass_through_paths() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut t = target(&mock);
    t["allow_proxy_paths"] = json!(["*"]);
    let resp = gw.chat_config(hi("m"), &t).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.allow_proxy_paths");
}
