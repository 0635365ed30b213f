//! SSRF checks at connect time, through the gateway: a client's custom host is resolved once,
//! by the gateway's resolver, and refused when its addresses are internal — whatever a check
//! before the request saw; the operator's hosts may resolve anywhere; a DNS failure is a failed
//! attempt that can fall back. Names come from a scripted DNS server on loopback.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use switchyard_mock::dns::MockDns;

fn with_dns(dns: &MockDns, extra: &str) -> String {
    format!(
        "server:\n  connect_timeout: 300ms\n  dns:\n    nameservers: [\"{}\"]\n    timeout: 300ms\n    attempts: 1\n{extra}",
        dns.addr()
    )
}

#[tokio::test]
async fn a_client_host_resolving_to_an_internal_address_is_refused_when_connecting() {
    let dns = MockDns::start().await.unwrap();
    // 0.0.0.0 is internal; on Linux a connection to it reaches the local host, where the mock
    // listens: a refusal is the only way the mock sees nothing.
    dns.set("rebind.test", vec!["0.0.0.0".parse().unwrap()], 0);
    let mock = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start(&with_dns(&dns, "")).await;
    let evil = format!("http://rebind.test:{}/v1", mock.addr().port());
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"provider": "openai", "api_key": "k", "custom_host": evil},
        target(&b),
    ]});
    let resp = gw.chat_config(hi("m"), &config).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "custom_host");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("rebind.test"));
    assert_eq!(mock.hits(), 0, "never connected");
    assert_eq!(b.hits(), 0, "a refusal is not a failure to fall back from");
    assert_eq!(
        dns.queries("rebind.test"),
        1,
        "resolved once, where it is connected"
    );
}

#[tokio::test]
async fn the_operators_hosts_may_resolve_anywhere_and_never_lend_their_connections() {
    let dns = MockDns::start().await.unwrap();
    dns.set("internal.test", vec!["0.0.0.0".parse().unwrap()], 300);
    let mock = MockServer::start("a").await;
    let host = format!("http://internal.test:{}/v1", mock.addr().port());
    let yaml = with_dns(
        &dns,
        &format!(
            "providers:\n  local:\n    base_url: {host}\nroutes:\n  m:\n    provider: local\n"
        ),
    );
    let gw = Gateway::start(&yaml).await;
    assert_eq!(
        gw.chat(hi("m"), &[]).await.status(),
        200,
        "the operator's host"
    );
    // The same host and port named by a client: not through the operator's pooled connection.
    let config = json!({"provider": "openai", "api_key": "k", "custom_host": host});
    let resp = gw.chat_config(hi("x"), &config).await;
    assert_eq!(error_of(resp).await.0, 400);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn a_trusted_network_admits_a_client_host_that_resolves_into_it() {
    let dns = MockDns::start().await.unwrap();
    dns.set("gpu.test", vec!["0.0.0.0".parse().unwrap()], 300);
    let mock = MockServer::start("a").await;
    let gw = Gateway::start(&with_dns(&dns, "  trusted_hosts: [\"0.0.0.0/32\"]\n")).await;
    let config = json!({"provider": "openai", "api_key": "k",
        "custom_host": format!("http://gpu.test:{}/v1", mock.addr().port())});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_dns_failure_is_a_failed_attempt_that_falls_back() {
    let dns = MockDns::start().await.unwrap();
    let b = MockServer::start("b").await;
    let gw = Gateway::start(&with_dns(&dns, "")).await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"provider": "openai", "api_key": "k", "custom_host": "http://nowhere.test/v1"},
        target(&b),
    ]});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    // Alone, it is a 502 naming the host, not a refusal.
    let t = json!({"provider": "openai", "api_key": "k", "custom_host": "http://nowhere.test/v1"});
    let (status, body) = error_of(gw.chat_config(hi("m"), &t).await).await;
    assert_eq!(status, 502);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nowhere.test"));
}

/// A service account a client sends has its `token_uri` checked the same way: the token fetch
/// goes through the client pool, whose resolver refuses internal addresses at connect time.
#[tokio::test]
async fn a_clients_token_uri_resolving_to_an_internal_address_is_refused_when_connecting() {
    let dns = MockDns::start().await.unwrap();
    dns.set("token.test", vec!["0.0.0.0".parse().unwrap()], 300);
    let token = MockServer::start("token").await;
    let vertex = MockServer::start("vertex").await;
    let gw = Gateway::start(&with_dns(&dns, "")).await;
    let sa = json!({
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": include_str!("../src/auth/testdata/test_sa_key.pem"),
        "client_email": "sa@p.iam.gserviceaccount.com",
        "token_uri": format!("http://token.test:{}/token", token.addr().port()),
    });
    let config = json!({"provider": "vertex-ai", "custom_host": format!("http://{}", vertex.addr()),
        "vertex_project_id": "p", "vertex_region": "us-central1",
        "vertex_service_account_json": sa.to_string()});
    let resp = gw.chat_config(hi("gemini-2.0-flash"), &config).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("token.test"));
    assert_eq!(token.hits(), 0, "the token endpoint was never reached");
    assert_eq!(vertex.hits(), 0);
    assert_eq!(dns.queries("token.test"), 1);
}
