//! The web console's server side over HTTP: its embedded files and their security headers, the
//! admin-key login and its HttpOnly session cookie (which the admin API accepts in place of the
//! key, with a header required for changes), the live request feed, the circuit-breaker view and
//! the gateway's self-description.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{error_of, header, hi, Gateway, MockServer, Reply};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchyard_gateway::http::console::session;

const ADMIN: &str = "admin-key-0123456789";
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A gateway with the admin API on, a route `ok` to a healthy mock and a route `bad` to one
/// answering 503, with circuits opening after two failures.
struct Setup {
    gw: Gateway,
    _good: MockServer,
    _bad: MockServer,
}

impl Setup {
    async fn start() -> Setup {
        let good = MockServer::start("good").await;
        let bad = MockServer::start("bad").await;
        bad.set_default(Reply::error(503, "overloaded"));
        let yaml = format!(
            "server:\n  circuit_breaker: {{failure_threshold: 2, cooldown: 1h}}\n\
             auth:\n  admin_key: {ADMIN}\n\
             routes:\n  ok:\n    provider: openai\n    api_key: sk-good\n    custom_host: \"{}\"\n    override_params: {{model: gpt-4o-mini}}\n  \
             bad:\n    provider: openai\n    api_key: sk-bad\n    custom_host: \"{}\"\n",
            good.url(),
            bad.url()
        );
        Setup {
            gw: Gateway::start(&yaml).await,
            _good: good,
            _bad: bad,
        }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.gw.http.request(method, self.gw.url(path))
    }

    /// Logs in: the cookie's `name=value`.
    async fn login(&self) -> String {
        let resp = self
            .req(Method::POST, "/console/login")
            .json(&json!({"admin_key": ADMIN}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        let set = header(&resp, "set-cookie");
        set.split(';').next().unwrap().to_owned()
    }

    /// A chat completion on route `model` with the admin key (read to the end).
    async fn chat(&self, model: &str) -> u16 {
        self.chat_as(ADMIN, model).await
    }

    /// A chat completion on route `model` with `key` (read to the end).
    async fn chat_as(&self, key: &str, model: &str) -> u16 {
        let resp = self
            .req(Method::POST, "/v1/chat/completions")
            .bearer_auth(key)
            .json(&hi(model))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let _ = resp.bytes().await.unwrap();
        status
    }
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The console's session key for `admin_key`, as the gateway derives it.
fn session_key(admin_key: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"switchyard-console-session\0");
    h.update(admin_key.as_bytes());
    h.finalize().into()
}

fn assert_security_headers(resp: &reqwest::Response) {
    assert_eq!(header(resp, "content-security-policy"), CSP);
    assert_eq!(header(resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(resp, "referrer-policy"), "no-referrer");
    assert_eq!(header(resp, "x-frame-options"), "DENY");
    assert_eq!(header(resp, "cache-control"), "no-cache");
}

#[tokio::test]
async fn the_console_files_are_served_with_their_types_and_a_strict_csp() {
    let s = Setup::start().await;
    for (path, ty) in [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/assets/app.js", "text/javascript; charset=utf-8"),
        ("/console/assets/app.css", "text/css; charset=utf-8"),
    ] {
        let resp = s.req(Method::GET, path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, "content-type"), ty, "{path}");
        assert_security_headers(&resp);
        let etag = header(&resp, "etag");
        assert!(etag.starts_with('"') && etag.len() > 2, "{path}: {etag}");
        assert!(!resp.bytes().await.unwrap().is_empty(), "{path}");
        let again = s
            .req(Method::GET, path)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    for path in [
        "/console/nope",
        "/console/assets/other.js",
        "/console/assets/",
    ] {
        let resp = s.req(Method::GET, path).send().await.unwrap();
        assert_security_headers(&resp);
        let (status, _) = error_of(resp).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn login_sets_an_http_only_strict_cookie_that_never_contains_the_admin_key() {
    let s = Setup::start().await;
    let resp = s
        .req(Method::POST, "/console/login")
        .json(&json!({"admin_key": ADMIN}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let set = header(&resp, "set-cookie");
    assert!(set.starts_with("switchyard_console=v1."), "{set}");
    for attr in [
        "; HttpOnly",
        "; SameSite=Strict",
        "; Path=/",
        "; Max-Age=43200",
    ] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure: {set}");
    assert!(!set.contains(ADMIN), "{set}");
    assert!(!set.contains("0123456789"), "{set}");

    // Behind a TLS-terminating proxy, the cookie is Secure.
    let resp = s
        .req(Method::POST, "/console/login")
        .header("x-forwarded-proto", "https")
        .json(&json!({"admin_key": ADMIN}))
        .send()
        .await
        .unwrap();
    assert!(header(&resp, "set-cookie").ends_with("; Secure"));

    let cookie = set.split(';').next().unwrap();
    let (status, v) = json_of(
        s.req(Method::GET, "/console/session")
            .header("cookie", cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["authenticated"], true);
    let expires = v["expires_at"].as_i64().unwrap();
    let twelve_hours = 12 * 3600 * 1000;
    assert!((expires - now_ms() - twelve_hours).abs() < 60_000, "{v}");
}

#[tokio::test]
async fn a_wrong_key_is_401_a_malformed_body_400_and_a_large_one_413() {
    let s = Setup::start().await;
    let post = |body: Vec<u8>| {
        s.req(Method::POST, "/console/login")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = post(br#"{"admin_key": "not-the-admin-key-000"}"#.to_vec())
        .await
        .unwrap();
    assert_eq!(header(&resp, "set-cookie"), "");
    assert_eq!(error_of(resp).await.0, 401);
    for body in [
        &b"{"[..],
        b"[]",
        br#"{"admin_key": 5}"#,
        br#"{"key": "x"}"#,
        b"{}",
    ] {
        let (status, v) = error_of(post(body.to_vec()).await.unwrap()).await;
        assert_eq!(status, 400, "{v}");
    }
    let big = format!(r#"{{"admin_key": "{}"}}"#, "a".repeat(5000));
    assert_eq!(error_of(post(big.into_bytes()).await.unwrap()).await.0, 413);
    // No cookie, or a wrong one: no session.
    let resp = s.req(Method::GET, "/console/session").send().await.unwrap();
    assert_eq!(error_of(resp).await.0, 401);
}

#[tokio::test]
async fn without_an_admin_key_the_console_cannot_log_in() {
    let gw = Gateway::start("").await;
    let resp = gw
        .http
        .post(gw.url("/console/login"))
        .json(&json!({"admin_key": ADMIN}))
        .send()
        .await
        .unwrap();
    let (status, v) = error_of(resp).await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["code"], "admin_api_off");
    let resp = gw
        .http
        .get(gw.url("/console/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 403);
    // The files are still served (the page says the admin API is off).
    let resp = gw.http.get(gw.url("/console")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn the_session_cookie_reads_the_admin_api() {
    let s = Setup::start().await;
    let cookie = s.login().await;
    assert_eq!(s.chat("ok").await, 200);
    for path in ["/admin/keys", "/admin/teams", "/admin/logs"] {
        let (status, v) = json_of(
            s.req(Method::GET, path)
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{path}: {v}");
        assert_eq!(v["object"], "list", "{path}");
    }
    // Without the cookie, still a 401.
    let resp = s.req(Method::GET, "/admin/keys").send().await.unwrap();
    assert_eq!(error_of(resp).await.0, 401);
}

#[tokio::test]
async fn a_cookie_without_the_console_header_cannot_create_or_delete() {
    let s = Setup::start().await;
    let cookie = s.login().await;
    let resp = s
        .req(Method::POST, "/admin/keys")
        .header("cookie", &cookie)
        .json(&json!({"name": "k"}))
        .send()
        .await
        .unwrap();
    let (status, v) = error_of(resp).await;
    assert_eq!(status, 403, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-switchyard-console: 1"),
        "{v}"
    );

    // With the header, it works.
    let (status, created) = json_of(
        s.req(Method::POST, "/admin/keys")
            .header("cookie", &cookie)
            .header("x-switchyard-console", "1")
            .json(&json!({"name": "k"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let path = format!("/admin/keys/{id}");

    let resp = s
        .req(Method::DELETE, &path)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 403);
    let resp = s
        .req(Method::DELETE, &path)
        .header("cookie", &cookie)
        .header("x-switchyard-console", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The admin key itself needs no header, cookie or not.
    let resp = s
        .req(Method::POST, "/admin/keys")
        .header("cookie", &cookie)
        .bearer_auth(ADMIN)
        .json(&json!({"name": "k2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn a_tampered_expired_or_foreign_token_is_401() {
    let s = Setup::start().await;
    let cookie = s.login().await;
    let token = cookie.strip_prefix("switchyard_console=").unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let later = (now_ms() + 100 * 3600 * 1000).to_string();
    parts[1] = &later;
    let tampered = parts.join(".");
    let expired = session::issue(&session_key(ADMIN), now_ms() - 1000);
    let foreign = session::issue(&session_key("another-admin-key-000"), now_ms() + 60_000);
    let valid = session::issue(&session_key(ADMIN), now_ms() + 60_000);
    for (what, t, want) in [
        ("tampered", tampered.as_str(), 401),
        ("expired", &expired, 401),
        ("another admin key's", &foreign, 401),
        ("garbage", "v1.x.y.z", 401),
        ("minted with the same admin key (another node)", &valid, 200),
    ] {
        let c = format!("switchyard_console={t}");
        let resp = s
            .req(Method::GET, "/admin/keys")
            .header("cookie", &c)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want, "{what}");
        let resp = s
            .req(Method::GET, "/console/session")
            .header("cookie", &c)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want, "{what}");
    }
}

#[tokio::test]
async fn logout_clears_the_cookie() {
    let s = Setup::start().await;
    let resp = s.req(Method::POST, "/console/logout").send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let set = header(&resp, "set-cookie");
    assert!(set.starts_with("switchyard_console=;"), "{set}");
    assert!(
        set.contains("Max-Age=0") && set.contains("HttpOnly"),
        "{set}"
    );
}

/// Reads the event stream until `want` appears in what arrived: everything read.
async fn read_until(resp: &mut reqwest::Response, buf: &mut String, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !buf.contains(want) {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {want:?} in {buf:?}"))
            .unwrap()
            .unwrap_or_else(|| panic!("stream ended before {want:?}: {buf:?}"));
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn the_live_feed_streams_each_completed_request_with_its_targets() {
    let s = Setup::start().await;
    let cookie = s.login().await;
    let mut resp = s
        .req(Method::GET, "/admin/live")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/event-stream");
    assert_eq!(header(&resp, "cache-control"), "no-cache");
    let mut buf = String::new();
    read_until(&mut resp, &mut buf, ": ping\n\n").await;

    // A gateway key's request (the log names its key and route).
    let (status, created) = json_of(
        s.req(Method::POST, "/admin/keys")
            .bearer_auth(ADMIN)
            .json(&json!({"name": "app"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap();
    assert_eq!(s.chat_as(key, "ok").await, 200);
    read_until(&mut resp, &mut buf, "event: request\ndata: ").await;
    let start = buf.find("event: request\ndata: ").unwrap() + "event: request\ndata: ".len();
    read_until(&mut resp, &mut buf, "}\n\n").await;
    let end = start + buf[start..].find("\n\n").unwrap();
    let row: Value = serde_json::from_str(&buf[start..end]).unwrap();
    assert_eq!(row["status"], 200, "{row}");
    assert_eq!(row["op"], "chat_completions", "{row}");
    assert_eq!(row["key_id"], created["id"], "{row}");
    assert_eq!(row["route"], "ok", "{row}");
    assert_eq!(row["provider"], "openai", "{row}");
    assert_eq!(row["model"], "ok", "{row}");
    assert_eq!(row["model_sent"], "gpt-4o-mini", "{row}");
    assert_eq!(row["attempts"], 1, "{row}");
    assert!(row["trace_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert!((row["time"].as_i64().unwrap() - now_ms()).abs() < 60_000);
    for field in [
        "key_id",
        "team_id",
        "error",
        "latency_ms",
        "upstream_ms",
        "overhead_ms",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "cost_usd",
        "cache_status",
        "stream",
        "retries",
        "client_gone",
        "stream_error",
    ] {
        assert!(row.get(field).is_some(), "{field} missing: {row}");
    }
    let targets = row["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{row}");
    let t = &targets[0];
    assert_eq!(t["provider"], "openai");
    assert_eq!(t["status"], 200);
    assert_eq!(t["retry"], 0);
    assert!(t["target"].as_str().is_some_and(|p| !p.is_empty()), "{t}");
    assert!(t["elapsed_ms"].is_u64() && t.get("error").is_some(), "{t}");
    let body = &buf[start..end];
    assert!(
        !body.contains(ADMIN) && !body.contains("sk-good") && !body.contains(key),
        "{body}"
    );

    // A failed request, with its failed try.
    assert_eq!(s.chat_as(key, "bad").await, 503);
    let mut rest = buf[end..].to_owned();
    read_until(&mut resp, &mut rest, "\"status\":503").await;
    assert!(rest.contains("\"route\":\"bad\""), "{rest}");
    assert!(rest.contains("\"error\":"), "{rest}");
}

#[tokio::test]
async fn the_live_feed_needs_the_admin_key_and_ends_at_shutdown() {
    let mut s = Setup::start().await;
    let resp = s.req(Method::GET, "/admin/live").send().await.unwrap();
    assert_eq!(error_of(resp).await.0, 401);
    let mut resp = s
        .req(Method::GET, "/admin/live")
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let mut buf = String::new();
    read_until(&mut resp, &mut buf, ": ping").await;
    s.gw.shutdown();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = resp.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the server stops");
}

#[tokio::test]
async fn the_circuits_show_a_target_opened_after_failures() {
    let s = Setup::start().await;
    let cookie = s.login().await;
    let get = || async {
        json_of(
            s.req(Method::GET, "/admin/circuits")
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (status, v) = get().await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({"object": "list", "enabled": true, "data": []}));

    assert_eq!(s.chat("bad").await, 503);
    let (_, v) = get().await;
    assert_eq!(v["data"][0]["state"], "closed", "{v}");
    assert_eq!(v["data"][0]["failures"], 1, "{v}");
    assert_eq!(v["data"][0]["open_for_ms"], Value::Null, "{v}");

    assert_eq!(s.chat("bad").await, 503);
    assert_eq!(s.chat("ok").await, 200);
    let (_, v) = get().await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        1,
        "the healthy target has no circuit to show: {v}"
    );
    let c = &data[0];
    assert_eq!(c["state"], "open", "{v}");
    assert_eq!(c["provider"], "openai");
    assert_eq!(c["failures"], 2);
    let open_for = c["open_for_ms"].as_u64().unwrap();
    assert!(open_for > 3_000_000 && open_for <= 3_600_000, "{v}");
    assert!(c["target"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert!(!v.to_string().contains("sk-bad"), "{v}");
}

#[tokio::test]
async fn info_describes_the_version_features_routes_and_providers() {
    let s = Setup::start().await;
    let (status, v) = json_of(
        s.req(Method::GET, "/admin/info")
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["auth"], true);
    assert_eq!(
        v["features"],
        json!({"cache": false, "guardrails": false, "metrics": true, "request_log": true,
               "traces": false, "circuit_breaker": true})
    );
    assert_eq!(
        v["routes"],
        json!([
            {"name": "bad", "models": [], "providers": ["openai"]},
            {"name": "ok", "models": ["gpt-4o-mini"], "providers": ["openai"]},
        ])
    );
    assert!(v["providers"].is_array(), "{v}");
    assert!(v["virtual_keys"].is_array(), "{v}");
    assert!(!v.to_string().contains("sk-good"), "{v}");
    // Ordinary gateway keys may not read it.
    let resp = s
        .req(Method::GET, "/admin/info")
        .bearer_auth("sk-not-a-key-000000")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 401);
}
