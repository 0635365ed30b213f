//! The guardrail checks that do I/O, through the real server: `default.jwt` (tokens verified
//! against a mock JWKS endpoint, fetched once and cached) and `default.log` (the hook context
//! POSTed to a mock collector) — against counting mock upstreams.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use switchyard_mock::{MockServer, Reply};

const JWKS: &str = include_str!("fixtures/jwt/jwks.json");

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(include_bytes!("fixtures/jwt/rsa.pem")).unwrap()
}

/// A token signed with `key` under `kid`.
fn token(alg: Algorithm, kid: &str, key: &EncodingKey, claims: Value) -> String {
    let header = Header {
        kid: Some(kid.to_owned()),
        ..Header::new(alg)
    };
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

/// A fresh RS256 token of the published key.
fn good_token() -> String {
    let t = now();
    token(
        Algorithm::RS256,
        "test-rsa",
        &rsa(),
        json!({"sub": "user-1", "iat": t - 10, "exp": t + 600}),
    )
}

/// A mock JWKS endpoint serving the fixture set; its URL.
async fn jwks() -> (MockServer, String) {
    let m = MockServer::start("jwks").await;
    m.set_default(Reply::status(200, serde_json::from_str(JWKS).unwrap()));
    let url = format!("{}/.well-known/jwks.json", m.url());
    (m, url)
}

/// A config: `target` with one denying input guardrail of `check`'s parameters.
fn guarded(provider: &MockServer, check: &str, params: Value) -> Value {
    let mut c = target(provider);
    c["input_guardrails"] = json!([{ "deny": true, check: params }]);
    c
}

/// Sends `hi` with `config` and `headers`; the status and body.
async fn send(gw: &Gateway, config: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let config = config.to_string();
    let mut all = vec![("x-portkey-config", config.as_str())];
    all.extend_from_slice(headers);
    let resp = gw.chat(hi("m"), &all).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn first_check(body: &Value) -> &Value {
    &body["hook_results"]["before_request_hooks"][0]["checks"][0]
}

#[tokio::test]
async fn a_valid_jwt_passes_and_the_provider_answers() {
    let mock = MockServer::start("a").await;
    let (_jwks, url) = jwks().await;
    let gw = Gateway::start("").await;
    let config = guarded(&mock, "jwt", json!({ "jwksUri": url }));
    let bearer = format!("Bearer {}", good_token());
    let (status, body) = send(&gw, &config, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(mock.hits(), 1);
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from a");
    let check = first_check(&body);
    assert_eq!(check["id"], "default.jwt");
    assert_eq!(check["verdict"], true);
    assert_eq!(
        check["data"],
        json!({"verdict": true, "explanation": "JWT token validation succeeded"})
    );
}

#[tokio::test]
async fn an_es256_token_of_a_key_without_alg_and_a_custom_header_pass() {
    let mock = MockServer::start("a").await;
    let (_jwks, url) = jwks().await;
    let gw = Gateway::start("").await;
    let config = guarded(
        &mock,
        "jwt",
        json!({"jwksUri": url, "headerKey": "X-User-Token", "maxTokenAge": "1h"}),
    );
    let ec = EncodingKey::from_ec_pem(include_bytes!("fixtures/jwt/ec.pem")).unwrap();
    let t = token(Algorithm::ES256, "test-ec", &ec, json!({"iat": now()}));
    let (status, body) = send(&gw, &config, &[("x-user-token", &t)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(first_check(&body)["verdict"], true);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn bad_or_missing_tokens_are_denied_446_without_calling_the_provider() {
    let mock = MockServer::start("a").await;
    let (_jwks, url) = jwks().await;
    let gw = Gateway::start("").await;
    let config = guarded(
        &mock,
        "jwt",
        json!({"jwksUri": url, "clockTolerance": 5, "maxTokenAge": "1h"}),
    );
    let t = now();
    let other = EncodingKey::from_rsa_pem(include_bytes!("fixtures/jwt/other_rsa.pem")).unwrap();
    let cases = [
        (
            "expired beyond the tolerance",
            Some(token(
                Algorithm::RS256,
                "test-rsa",
                &rsa(),
                json!({"iat": t - 120, "exp": t - 30}),
            )),
            "\"exp\" claim timestamp check failed",
        ),
        (
            "issued too long ago",
            Some(token(
                Algorithm::RS256,
                "test-rsa",
                &rsa(),
                json!({"iat": t - 7200, "exp": t + 600}),
            )),
            "too far in the past",
        ),
        (
            "an unknown kid",
            Some(token(
                Algorithm::RS256,
                "rotated-away",
                &rsa(),
                json!({"iat": t}),
            )),
            "No matching key found for kid",
        ),
        (
            "signed by another key",
            Some(token(
                Algorithm::RS256,
                "test-rsa",
                &other,
                json!({"iat": t}),
            )),
            "signature verification failed",
        ),
        (
            "another algorithm than the key's",
            Some(token(
                Algorithm::PS256,
                "test-rsa",
                &rsa(),
                json!({"iat": t}),
            )),
            "\"alg\"",
        ),
        (
            "not a JWT",
            Some("Bearer sk-not-a-jwt".to_owned()),
            "JWT validation error",
        ),
        ("missing", None, "Missing authorization header"),
    ];
    for (what, token, explanation) in cases {
        let bearer = token.map(|t| {
            if t.starts_with("Bearer ") {
                t
            } else {
                format!("Bearer {t}")
            }
        });
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        let (status, body) = send(&gw, &config, &headers).await;
        assert_eq!(status, 446, "{what}: {body}");
        let check = first_check(&body);
        assert_eq!(check["verdict"], false, "{what}");
        assert_eq!(
            check["error"],
            Value::Null,
            "{what}: a verdict, not an error"
        );
        let said = check["data"]["explanation"].as_str().unwrap();
        assert!(said.contains(explanation), "{what}: {said}");
        if let Some(b) = &bearer {
            let secret = b.trim_start_matches("Bearer ");
            assert!(!body.to_string().contains(secret), "{what}: token echoed");
        }
    }
    assert_eq!(mock.hits(), 0, "the provider is never called");
}

#[tokio::test]
async fn the_jwks_is_fetched_once_and_unknown_kids_cannot_make_it_refetch() {
    let mock = MockServer::start("a").await;
    let (jwks, url) = jwks().await;
    let gw = Gateway::start("").await;
    let config = guarded(&mock, "jwt", json!({ "jwksUri": url }));
    for _ in 0..5 {
        let bearer = format!("Bearer {}", good_token());
        let (status, _) = send(&gw, &config, &[("authorization", &bearer)]).await;
        assert_eq!(status, 200);
    }
    // Made-up kids right after the fetch: no refetch (at most one per 10 s per URI).
    for i in 0..5 {
        let t = token(
            Algorithm::RS256,
            &format!("made-up-{i}"),
            &rsa(),
            json!({"iat": now()}),
        );
        let bearer = format!("Bearer {t}");
        let (status, _) = send(&gw, &config, &[("authorization", &bearer)]).await;
        assert_eq!(status, 446);
    }
    assert_eq!(jwks.hits(), 1, "one JWKS fetch for every request");
    assert_eq!(jwks.requests()[0].method, http::Method::GET);
    assert_eq!(mock.hits(), 5);
}

#[tokio::test]
async fn concurrent_requests_on_a_cold_cache_share_one_jwks_fetch() {
    let mock = MockServer::start("a").await;
    let jwks = MockServer::start("jwks").await;
    jwks.set_default(Reply::Delay(
        Duration::from_millis(200),
        Box::new(Reply::status(200, serde_json::from_str(JWKS).unwrap())),
    ));
    let gw = Gateway::start("").await;
    let config = guarded(&mock, "jwt", json!({ "jwksUri": jwks.url() }));
    let bearer = format!("Bearer {}", good_token());
    let headers = [("authorization", bearer.as_str())];
    let sends = (0..8).map(|_| send(&gw, &config, &headers));
    for (status, body) in join_all(sends).await {
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(jwks.hits(), 1);
    assert_eq!(mock.hits(), 8);
}

#[tokio::test]
async fn a_jwks_that_cannot_be_fetched_errors_the_check_which_passes_unless_fail_on_error() {
    let mock = MockServer::start("a").await;
    let jwks = MockServer::start("jwks").await;
    jwks.set_default(Reply::error(503, "down"));
    let gw = Gateway::start("").await;
    let bearer = format!("Bearer {}", good_token());
    let config = guarded(&mock, "jwt", json!({ "jwksUri": jwks.url() }));
    let (status, body) = send(&gw, &config, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    let check = first_check(&body);
    assert_eq!(check["verdict"], false);
    let message = check["error"]["message"].as_str().unwrap();
    assert!(message.contains("503"), "{message}");

    let config = guarded(
        &mock,
        "jwt",
        json!({"jwksUri": jwks.url(), "failOnError": true}),
    );
    let (status, _) = send(&gw, &config, &[("authorization", &bearer)]).await;
    assert_eq!(status, 446);
    assert_eq!(
        jwks.hits(),
        1,
        "a failed fetch is not retried for 10 s either"
    );
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn the_log_check_posts_the_context_and_passes() {
    let mock = MockServer::start("a").await;
    let collector = MockServer::start("logs").await;
    collector.set_default(Reply::status(200, json!({"ok": true})));
    let gw = Gateway::start("").await;
    let url = format!("{}/collect?key=secret", collector.url());
    let mut config = target(&mock);
    config["output_guardrails"] = json!([{"deny": true, "log": {
        "logURL": url, "headers": "{\"x-log-key\": \"k1\"}"}}]);
    let (status, body) = send(&gw, &config, &[("x-client-secret", "do-not-log")]).await;
    assert_eq!(status, 200, "{body}");
    let check = &body["hook_results"]["after_request_hooks"][0]["checks"][0];
    assert_eq!(check["id"], "default.log");
    assert_eq!(check["verdict"], true);
    assert_eq!(
        check["data"]["message"],
        format!("Logged the request to {}/collect", collector.url())
    );
    assert_eq!(collector.hits(), 1);
    let seen = &collector.requests()[0];
    assert_eq!(seen.method, http::Method::POST);
    assert_eq!(seen.header("x-log-key"), Some("k1"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    let payload = seen.json();
    assert_eq!(payload["eventType"], "afterRequestHook");
    assert_eq!(payload["requestType"], "chatComplete");
    assert_eq!(payload["provider"], "openai");
    assert_eq!(payload["request"]["text"], "hi");
    assert_eq!(payload["response"]["text"], "Hello from a");
    assert_eq!(payload["response"]["statusCode"], 200);
    assert!(
        !String::from_utf8_lossy(&seen.body).contains("do-not-log"),
        "the client's headers are never sent"
    );
}

#[tokio::test]
async fn a_log_collector_that_is_down_errors_the_check_which_passes_unless_fail_on_error() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let url = format!("http://127.0.0.1:{}/collect", dead_port().await);
    let config = guarded(&mock, "log", json!({ "logURL": url, "timeout": 2000 }));
    let (status, body) = send(&gw, &config, &[]).await;
    assert_eq!(status, 200, "{body}");
    let check = first_check(&body);
    assert_eq!(check["verdict"], false);
    assert_eq!(check["data"], Value::Null);
    assert!(check["error"]["message"].is_string(), "{check}");
    assert_eq!(mock.hits(), 1);

    let config = guarded(
        &mock,
        "log",
        json!({"logURL": url, "timeout": 2000, "failOnError": true}),
    );
    let (status, _) = send(&gw, &config, &[]).await;
    assert_eq!(status, 446);
    assert_eq!(mock.hits(), 1, "denied: the provider is not called again");
}

#[tokio::test]
async fn bad_jwt_and_log_parameters_are_400s() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    for (check, params) in [
        ("jwt", json!({})),
        (
            "jwt",
            json!({"jwksUri": "https://i.example/jwks", "maxTokenAge": "soon"}),
        ),
        (
            "jwt",
            json!({"jwksUri": "https://i.example/jwks", "cacheMaxAge": -1}),
        ),
        ("log", json!({"logURL": "gopher://x"})),
        ("log", json!({"logURL": "https://x.example/", "timeout": 0})),
    ] {
        let config = guarded(&mock, check, params.clone());
        let (status, body) = send(&gw, &config, &[]).await;
        assert_eq!(status, 400, "{check} {params}: {body}");
    }
    assert_eq!(mock.hits(), 0);
}

/// Sends a user message `text` with `config`; the status and body.
async fn say(gw: &Gateway, config: &Value, text: &str) -> (u16, Value) {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": text}]});
    let resp = gw.chat_config(body, config).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn valid_urls_checks_each_url_with_a_head_request_or_a_dns_lookup() {
    let provider = MockServer::start("provider").await;
    let site = MockServer::start("site").await;
    let gw = Gateway::start("").await;
    let up = format!("{}/page", site.url());
    let down = format!("http://127.0.0.1:{}/page", dead_port().await);

    let config = guarded(&provider, "validUrls", json!({}));
    let (status, body) = say(&gw, &config, &format!("see {up}.")).await;
    assert_eq!(status, 200, "{body}");
    let check = first_check(&body);
    assert_eq!(check["data"]["validationMethod"], "HTTP request");
    assert_eq!(check["data"]["validUrls"], json!([up]));
    let seen = site.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "HEAD");

    let (status, body) = say(&gw, &config, &format!("see {up} and {down}")).await;
    assert_eq!(status, 446, "{body}");
    assert_eq!(first_check(&body)["data"]["invalidUrls"], json!([down]));
    assert_eq!(
        provider.hits(),
        1,
        "the denied request never reached the provider"
    );

    // onlyDNS: an address that resolves passes without any request to it (no test talks to a
    // name server, so a literal address stands for a name here).
    let config = guarded(&provider, "validUrls", json!({"onlyDNS": true}));
    let (status, body) = say(&gw, &config, &format!("docs at {down}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(first_check(&body)["data"]["validationMethod"], "DNS lookup");
    let (status, _) = say(&gw, &config, "docs at http://bad_host/x").await;
    assert_eq!(status, 446, "a malformed host is invalid before any lookup");
}
