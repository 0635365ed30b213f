//! The response cache through the real server, against mock upstreams that count calls: a hit
//! never reaches the upstream.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// An OpenAI target on `mock` with a simple cache.
fn cached(mock: &MockServer, key: &str) -> Value {
    json!({"provider": "openai", "api_key": key, "custom_host": mock.url(),
           "cache": {"mode": "simple", "max_age": 3600}})
}

async fn ask(gw: &Gateway, body: Value, config: &Value, extra: &[(&str, &str)]) -> (String, Value) {
    let mut headers = vec![("x-portkey-config", config.to_string())];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = gw.chat(body, &refs).await;
    assert_eq!(resp.status(), 200);
    let status = header(&resp, "x-portkey-cache-status");
    (status, resp.json().await.unwrap())
}

/// Waits until the store has what a response's tap put there (storing does not hold up the
/// response).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_repeated_request_is_a_hit_that_never_reaches_the_upstream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let (first, a) = ask(&gw, hi("m"), &config, &[]).await;
    settle().await;
    let (second, b) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!((first.as_str(), second.as_str()), ("MISS", "HIT"));
    assert_eq!(a, b, "the original answer, id and usage included");
    assert_eq!(mock.hits(), 1);
    // Another question is another entry.
    let (third, _) = ask(&gw, hi("other"), &config, &[]).await;
    assert_eq!(third, "MISS");
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn tenants_never_share_entries_unless_the_operator_shares_a_namespace() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("cache:\n  shared_namespaces: [public-faq]\n").await;
    ask(&gw, hi("m"), &cached(&mock, "sk-a"), &[]).await;
    settle().await;
    let (other_key, _) = ask(&gw, hi("m"), &cached(&mock, "sk-b"), &[]).await;
    assert_eq!(other_key, "MISS", "another key is another tenant");
    let ns = [("x-portkey-cache-namespace", "team-1")];
    let (own_ns, _) = ask(&gw, hi("m"), &cached(&mock, "sk-a"), &ns).await;
    assert_eq!(own_ns, "MISS", "a namespace is its own partition");
    settle().await;
    let (other_key_ns, _) = ask(&gw, hi("m"), &cached(&mock, "sk-b"), &ns).await;
    assert_eq!(
        other_key_ns, "MISS",
        "the same namespace name under another key"
    );

    let shared = [("x-portkey-cache-namespace", "public-faq")];
    ask(&gw, hi("m"), &cached(&mock, "sk-a"), &shared).await;
    settle().await;
    let (shared_hit, _) = ask(&gw, hi("m"), &cached(&mock, "sk-c"), &shared).await;
    assert_eq!(shared_hit, "HIT", "a namespace the operator shares");
}

#[tokio::test]
async fn force_refresh_and_cache_control_steer_reads_and_writes() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let (s, _) = ask(&gw, hi("m"), &config, &[("cache-control", "no-store")]).await;
    assert_eq!(s, "MISS");
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "MISS", "no-store wrote nothing");
    settle().await;
    let (s, _) = ask(
        &gw,
        hi("m"),
        &config,
        &[("x-portkey-cache-force-refresh", "true")],
    )
    .await;
    assert_eq!(s, "REFRESH");
    let (s, _) = ask(&gw, hi("m"), &config, &[("cache-control", "no-cache")]).await;
    assert_eq!(s, "REFRESH");
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "HIT");
    assert_eq!(mock.hits(), 4);
}

#[tokio::test]
async fn errors_are_never_stored() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(500, "boom"));
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 500);
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "MISS");
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn a_streamed_answer_is_stored_and_served_as_json_or_replayed_as_a_stream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let resp = gw.chat_config(hi_stream("m"), &config).await;
    assert_eq!(header(&resp, "x-portkey-cache-status"), "MISS");
    let streamed = resp.text().await.unwrap();
    assert!(streamed.ends_with("data: [DONE]\n\n"));
    settle().await;

    let (s, plain) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "HIT");
    assert_eq!(plain["object"], "chat.completion");
    assert_eq!(plain["choices"][0]["message"]["content"], "Hello from a");
    assert_eq!(
        plain["usage"]["total_tokens"], 8,
        "the usage the gateway asked for"
    );

    let mut body = hi_stream("m");
    body["stream_options"] = json!({"include_usage": true});
    let resp = gw.chat_config(body, &config).await;
    assert_eq!(header(&resp, "x-portkey-cache-status"), "HIT");
    assert_eq!(header(&resp, "content-type"), "text/event-stream");
    let replay = resp.text().await.unwrap();
    let content: String = replay
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello from a");
    assert!(replay.contains("\"usage\":{"), "usage, as the client asked");
    assert!(replay.ends_with("data: [DONE]\n\n"));
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn a_cut_stream_is_never_stored() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![
            switchyard_mock::role_chunk(),
            switchyard_mock::content_chunk("Hel"),
        ],
        gap: Duration::ZERO,
        end: StreamEnd::Cut,
    });
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let text = gw
        .chat_config(hi_stream("m"), &config)
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("event: error"));
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "MISS");
}

#[tokio::test]
async fn a_targets_own_cache_replaces_the_inherited_one() {
    let a = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = json!({"cache": {"mode": "simple"}, "strategy": {"mode": "single"},
        "targets": [{"provider": "openai", "api_key": "k", "custom_host": a.url(), "cache": null}]});
    let (s, _) = ask(&gw, hi("m"), &config, &[]).await;
    assert_eq!(s, "DISABLED");
    let no_cache = json!({"provider": "openai", "api_key": "k", "custom_host": a.url()});
    let (s, _) = ask(&gw, hi("m"), &no_cache, &[]).await;
    assert_eq!(s, "DISABLED");
    let (status, body) = error_of(
        gw.chat_config(
            hi("m"),
            &json!({"provider": "openai", "api_key": "k",
            "custom_host": a.url(), "cache": {"mode": "fuzzy"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.cache.mode");
}

#[tokio::test]
async fn embeddings_are_cached_too() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = cached(&mock, "sk-a");
    let body = json!({"model": "text-embedding-3-small", "input": "hello"});
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let resp = gw
            .post(
                "/v1/embeddings",
                body.clone(),
                &[("x-portkey-config", &config.to_string())],
            )
            .await;
        assert_eq!(resp.status(), 200);
        statuses.push(header(&resp, "x-portkey-cache-status"));
        settle().await;
    }
    assert_eq!(statuses, ["MISS", "HIT"]);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn the_admin_api_clears_a_namespace_behind_its_key() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("auth:\n  admin_key: admin-key-0123456789\n").await;
    let config = cached(&mock, "sk-a");
    // With an admin key set, gateway keys are on: the admin key calls models too.
    let admin = ("x-portkey-api-key", "admin-key-0123456789");
    let ns = [("x-portkey-cache-namespace", "n1"), admin];
    ask(&gw, hi("m"), &config, &ns).await;
    ask(&gw, hi("m"), &config, &[admin]).await;
    settle().await;
    let del = |key: Option<&'static str>, q: &'static str| {
        let mut rb = gw.http.delete(gw.url(&format!("/admin/cache{q}")));
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        rb.send()
    };
    assert_eq!(del(None, "?namespace=n1").await.unwrap().status(), 401);
    assert_eq!(
        del(Some("wrong-key-0123456789"), "")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        del(Some("admin-key-0123456789"), "?namespace=n1")
            .await
            .unwrap()
            .status(),
        200
    );
    let (s, _) = ask(&gw, hi("m"), &config, &ns).await;
    assert_eq!(s, "MISS", "the namespace was cleared");
    let (s, _) = ask(&gw, hi("m"), &config, &[admin]).await;
    assert_eq!(s, "HIT", "other namespaces kept");

    let off = Gateway::start("").await;
    let resp = off
        .http
        .delete(off.url("/admin/cache"))
        .bearer_auth("anything-at-all-here")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        403,
        "no admin key configured: the admin API is off"
    );
}

/// A Redis prefix of its own per test, so runs never see each other's entries.
fn redis_yaml(extra: &str) -> String {
    format!(
        "redis:\n  url: redis://127.0.0.1:6379\n  prefix: \"switchyard-test-{}:\"\ncache:\n  backend: redis\n{extra}",
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::test]
async fn two_gateways_share_entries_through_redis() {
    let mock = MockServer::start("a").await;
    let yaml = redis_yaml("");
    let one = Gateway::start(&yaml).await;
    let two = Gateway::start(&yaml).await;
    let config = cached(&mock, "sk-a");
    let (s, a) = ask(&one, hi("m"), &config, &[]).await;
    assert_eq!(s, "MISS");
    settle().await;
    let (s, b) = ask(&two, hi("m"), &config, &[]).await;
    assert_eq!(s, "HIT", "stored by the other instance");
    assert_eq!(a, b);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn a_dead_redis_is_bypassed_and_the_request_served() {
    let port = dead_port().await;
    let mock = MockServer::start("a").await;
    let yaml = format!(
        "redis:\n  url: redis://127.0.0.1:{port}\n  timeout: 100ms\ncache:\n  backend: redis\n"
    );
    let gw = Gateway::start(&yaml).await;
    let config = cached(&mock, "sk-a");
    for _ in 0..3 {
        let resp = tokio::time::timeout(Duration::from_secs(5), gw.chat_config(hi("m"), &config))
            .await
            .expect("a bounded wait");
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(mock.hits(), 3);
}

#[tokio::test]
async fn a_forwarded_credential_is_part_of_the_tenant() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    // The config's key is the same for both clients; each forwards its own.
    let config = json!({"provider": "openai", "api_key": "sk-shared", "custom_host": mock.url(),
        "forward_headers": ["authorization"], "cache": {"mode": "simple"}});
    let (s, _) = ask(&gw, hi("m"), &config, &[("authorization", "Bearer sk-one")]).await;
    assert_eq!(s, "MISS");
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[("authorization", "Bearer sk-two")]).await;
    assert_eq!(s, "MISS", "another forwarded key is another tenant");
    settle().await;
    let (s, _) = ask(&gw, hi("m"), &config, &[("authorization", "Bearer sk-one")]).await;
    assert_eq!(s, "HIT");
}
