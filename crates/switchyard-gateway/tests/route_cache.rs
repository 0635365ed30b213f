//! The route cache reuses a tree built from request headers only for exactly the same headers:
//! no request ever runs with another tenant's key, host or options.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn cached_routes_never_mix_tenants_credentials() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    for key in ["sk-a", "sk-b", "sk-a", "sk-c", "sk-b"] {
        let auth = format!("Bearer {key}");
        let resp = gw
            .chat(
                hi("m"),
                &[
                    ("x-portkey-provider", "openai"),
                    ("x-portkey-custom-host", &mock.url()),
                    ("authorization", &auth),
                ],
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let seen: Vec<_> = mock
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(
        seen,
        [
            "Bearer sk-a",
            "Bearer sk-b",
            "Bearer sk-a",
            "Bearer sk-c",
            "Bearer sk-b"
        ]
    );
}

#[tokio::test]
async fn cached_config_routes_follow_every_change_of_the_config() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    for (mock, key) in [(&a, "k1"), (&b, "k1"), (&a, "k2"), (&a, "k1")] {
        let config = json!({"provider": "openai", "api_key": key, "custom_host": mock.url()});
        let resp = gw.chat_config(hi("m"), &config).await;
        assert_eq!(resp.status(), 200);
    }
    let keys = |m: &MockServer| -> Vec<String> {
        m.requests()
            .iter()
            .map(|r| r.header("authorization").unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&a), ["Bearer k1", "Bearer k2", "Bearer k1"]);
    assert_eq!(keys(&b), ["Bearer k1"]);
}

#[tokio::test]
async fn an_invalid_config_is_refused_every_time_not_cached() {
    let gw = Gateway::start("").await;
    for _ in 0..3 {
        let resp = gw
            .chat(hi("m"), &[("x-portkey-config", r#"{"provider": "nope"}"#)])
            .await;
        assert_eq!(error_of(resp).await.0, 400);
    }
}
