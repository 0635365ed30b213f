//! The admin API over HTTP, against a real SQLite file: gateway keys, teams, credentials
//! (virtual keys) and usage — who may call what, what is validated, and that no secret (a
//! gateway key's text, a provider credential) ever leaves in a response or lands in the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{error_of, hi, Gateway, MockServer};
use reqwest::Method;
use serde_json::{json, Value};

const ADMIN: &str = "admin-key-0123456789";
const ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const FILE_SECRET: &str = "sk-file-SECRET-000";

/// A gateway with gateway keys on, its database in a temp dir of its own, and a file virtual
/// key (`file-vk`) that sends requests to a mock upstream.
struct Setup {
    gw: Gateway,
    mock: MockServer,
    dir: PathBuf,
}

impl Setup {
    async fn start() -> Setup {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchyard-admin-api-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mock = MockServer::start("upstream").await;
        let yaml = format!(
            "auth:\n  admin_key: {ADMIN}\n\
             database:\n  url: sqlite://{}/t.db\n  encryption_key: \"{ENCRYPTION_KEY}\"\n\
             virtual_keys:\n  file-vk: {{provider: openai, api_key: {FILE_SECRET}, custom_host: \"{}\"}}\n",
            dir.display(),
            mock.url()
        );
        let gw = Gateway::start(&yaml).await;
        Setup { gw, mock, dir }
    }

    /// One call: its status and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.gw.http.request(method, self.gw.url(path));
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
        (status, v)
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, Some(ADMIN), body).await
    }

    /// Creates a gateway key: (id, text).
    async fn new_key(&self, body: Value) -> (String, String) {
        let (s, v) = self.admin(Method::POST, "/admin/keys", Some(body)).await;
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_str().unwrap().to_owned(),
            v["key"].as_str().unwrap().to_owned(),
        )
    }

    /// A chat completion with a gateway key, through a virtual key: its status and body (read
    /// to the end, so the request is over and its spend charged).
    async fn chat(&self, key: &str, virtual_key: &str) -> (u16, Value) {
        let resp = self
            .gw
            .http
            .post(self.gw.url("/v1/chat/completions"))
            .bearer_auth(key)
            .header("x-portkey-virtual-key", virtual_key)
            .json(&hi("gpt-4o-mini"))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Every byte of the database (the main file and its write-ahead log).
    fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("t.db")
            {
                all.extend(std::fs::read(&path).unwrap());
            }
        }
        assert!(!all.is_empty(), "the database file exists");
        all
    }

    fn database_contains(&self, text: &str) -> bool {
        let bytes = self.database_bytes();
        bytes.windows(text.len()).any(|w| w == text.as_bytes())
    }
}

/// A raw request: its status and error body (checked to be OpenAI-shaped).
async fn raw(s: &Setup, method: Method, path: &str, body: &'static [u8]) -> (u16, Value) {
    let resp =
        s.gw.http
            .request(method, s.gw.url(path))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
    error_of(resp).await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn param(v: &Value) -> &str {
    v["error"]["param"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_created_key_is_shown_once_and_can_be_listed_patched_and_revoked() {
    let s = Setup::start().await;
    let (status, created) = s
        .admin(
            Method::POST,
            "/admin/keys",
            Some(
                json!({"name": "ana", "models": ["gpt-*"], "metadata": {"_user": "ana"},
                "rate_limits": [{"type": "requests", "unit": "rpm", "value": 100}]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("key_") && key.starts_with("sy-"),
        "{created}"
    );
    assert_eq!(created["name"], "ana");
    assert_eq!(created["revoked"], false);
    assert_eq!(created["settings"]["models"], json!(["gpt-*"]));
    assert_eq!(created["settings"]["rate_limits"][0]["value"], 100);

    // The key works.
    let (status, body) = s.chat(&key, "file-vk").await;
    assert_eq!(status, 200, "{body}");

    // Never shown again, never stored.
    let (status, one) = s
        .admin(Method::GET, &format!("/admin/keys/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(one.get("key").is_none(), "{one}");
    assert_eq!(one["name"], "ana");
    let (status, all) = s.admin(Method::GET, "/admin/keys", None).await;
    assert_eq!(status, 200);
    assert_eq!(all["object"], "list");
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    assert_eq!(all["data"][0]["id"], id.as_str());
    assert!(!one.to_string().contains(&key) && !all.to_string().contains(&key));
    assert!(
        !s.database_contains(&key),
        "the key's text is not in the database"
    );

    // PATCH merges settings: `null` removes one, the others stay.
    let (status, patched) = s
        .admin(
            Method::PATCH,
            &format!("/admin/keys/{id}"),
            Some(json!({"name": "ana-2", "models": null,
                "usage_limits": {"type": "cost", "credit_limit": 5, "periodic_reset": "monthly"}})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "ana-2");
    assert!(patched["settings"].get("models").is_none(), "{patched}");
    assert_eq!(patched["settings"]["rate_limits"][0]["value"], 100);
    assert_eq!(
        patched["settings"]["usage_limits"]["periodic_reset"],
        "monthly"
    );
    assert_eq!(patched["settings"]["metadata"]["_user"], "ana");

    // Revoked: at once, on this node.
    let (status, revoked) = s
        .admin(Method::DELETE, &format!("/admin/keys/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(revoked, json!({"id": id, "revoked": true}));
    let (status, body) = s.chat(&key, "file-vk").await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "revoked_gateway_key");
    let (_, one) = s
        .admin(Method::GET, &format!("/admin/keys/{id}"), None)
        .await;
    assert_eq!(one["revoked"], true);
    assert!(one["revoked_at"].is_i64(), "{one}");

    let (status, body) = s.admin(Method::DELETE, "/admin/keys/key_nope", None).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let (status, _) = s.admin(Method::GET, "/admin/keys/key_nope", None).await;
    assert_eq!(status, 404);
    let (status, _) = s
        .admin(
            Method::PATCH,
            "/admin/keys/key_nope",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_ordinary_key_gets_403_and_reads_only_its_own_usage() {
    let s = Setup::start().await;
    let (a_id, a) = s.new_key(json!({"name": "a"})).await;
    let (b_id, b) = s.new_key(json!({"name": "b"})).await;

    for (method, path) in [
        (Method::GET, "/admin/keys"),
        (Method::POST, "/admin/keys"),
        (Method::GET, "/admin/teams"),
        (Method::GET, "/admin/credentials"),
        (Method::DELETE, "/admin/cache"),
    ] {
        let body = (method == Method::POST).then(|| json!({"name": "x"}));
        let (status, v) = s.call(method.clone(), path, Some(&a), body).await;
        assert_eq!(
            (status, code(&v)),
            (403, "admin_key_required"),
            "{method} {path}"
        );
    }
    for key in [
        None,
        Some("wrong-key-0123456789"),
        Some("sy-not-a-real-key"),
    ] {
        let (status, v) = s.call(Method::GET, "/admin/keys", key, None).await;
        assert_eq!(status, 401, "{key:?}: {v}");
        let (status, _) = s.call(Method::GET, "/admin/usage", key, None).await;
        assert_eq!(status, 401, "{key:?}");
    }

    assert_eq!(s.chat(&a, "file-vk").await.0, 200);
    // Spend rows are written in batches, about once a second.
    let own = format!("/admin/usage?scope=key&id={a_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, v) = s.admin(Method::GET, &own, None).await;
        assert_eq!(status, 200, "{v}");
        if !v["data"].as_array().unwrap().is_empty() {
            assert_eq!(v["data"][0]["requests"], 1, "{v}");
            break;
        }
        assert!(Instant::now() < deadline, "no usage row for the key");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Its own rows, asked for or implied.
    for path in ["/admin/usage", own.as_str()] {
        let (status, v) = s.call(Method::GET, path, Some(&a), None).await;
        assert_eq!(status, 200, "{v}");
        let rows = v["data"].as_array().unwrap();
        assert!(!rows.is_empty());
        assert!(rows
            .iter()
            .all(|r| r["scope"] == "key" && r["id"] == a_id.as_str()));
    }
    // Anything else is the admin's.
    for path in [
        format!("/admin/usage?scope=key&id={b_id}"),
        "/admin/usage?scope=team".to_owned(),
        "/admin/usage?id=file-vk".to_owned(),
    ] {
        let (status, v) = s.call(Method::GET, &path, Some(&a), None).await;
        assert_eq!((status, code(&v)), (403, "admin_key_required"), "{path}");
    }
    let (status, v) = s.call(Method::GET, "/admin/usage", Some(&b), None).await;
    assert_eq!(status, 200);
    assert_eq!(v["data"], json!([]), "b spent nothing");
    let (status, v) = s.admin(Method::GET, "/admin/usage?scope=bogus", None).await;
    assert_eq!((status, param(&v)), (400, "scope"));
    let (status, v) = s.admin(Method::GET, "/admin/usage?limit=0", None).await;
    assert_eq!((status, param(&v)), (400, "limit"));
}

#[tokio::test]
async fn the_admin_api_is_off_without_an_admin_key() {
    let gw = Gateway::start("").await;
    let resp = gw
        .http
        .get(gw.url("/admin/keys"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let (status, v) = error_of(resp).await;
    assert_eq!((status, code(&v)), (403, "admin_api_off"));
}

#[tokio::test]
async fn bad_settings_and_bodies_are_400s_that_name_the_field() {
    let s = Setup::start().await;
    let cases = [
        (
            json!({"name": "x", "rate_limits": [{"type": "requests", "unit": "rps", "value": 1}]}),
            "rate_limits[0].unit",
        ),
        (
            json!({"name": "x", "rate_limits": [{"type": "requests", "unit": "rpm", "value": 0}]}),
            "rate_limits[0].value",
        ),
        (
            json!({"name": "x", "usage_limits": {"type": "cost", "credit_limit": 0}}),
            "usage_limits.credit_limit",
        ),
        (json!({"name": "x", "models": "gpt-4o"}), "models"),
        (json!({"name": "x", "config": "fast"}), "config"),
        (json!({"name": "x", "modles": ["gpt-4o"]}), "modles"),
        (json!({"name": 5}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"models": ["x"]}), "name"),
        (json!({"name": "x", "expires_at": "tomorrow"}), "expires_at"),
        (json!({"name": "x", "expires_at": 1}), "expires_at"),
        (json!({"name": "x", "team_id": "team_nope"}), "team_id"),
    ];
    for (body, field) in cases {
        let (status, v) = s
            .admin(Method::POST, "/admin/keys", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(param(&v), field, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    // What settings name must exist: a guardrail check, a valid default config.
    let (status, v) = s
        .admin(
            Method::POST,
            "/admin/keys",
            Some(json!({"name": "x", "guardrails": {"input": [{"noSuchCheck": {}}]}})),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert!(param(&v).starts_with("guardrails"), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("noSuchCheck"),
        "{v}"
    );
    let (status, v) = s
        .admin(
            Method::POST,
            "/admin/keys",
            Some(json!({"name": "x", "config": {"strategy": {"mode": "sideways"}, "targets": []}})),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert!(param(&v).starts_with("config"), "{v}");
    let (status, v) = s
        .admin(
            Method::POST,
            "/admin/teams",
            Some(json!({"name": "t", "rate_limits": "lots"})),
        )
        .await;
    assert_eq!((status, param(&v)), (400, "rate_limits"), "{v}");
    let (status, v) = s
        .admin(
            Method::POST,
            "/admin/teams",
            Some(json!({"name": "t", "team_id": "x"})),
        )
        .await;
    assert_eq!((status, param(&v)), (400, "team_id"), "{v}");
    let (key_id, _) = s.new_key(json!({"name": "ok"})).await;
    let (status, v) = s
        .admin(
            Method::PATCH,
            &format!("/admin/keys/{key_id}"),
            Some(json!({"rate_limits": [{"type": "x"}]})),
        )
        .await;
    assert_eq!((status, param(&v)), (400, "rate_limits[0].type"), "{v}");

    let (status, v) = raw(&s, Method::POST, "/admin/keys", b"{\"name\": ").await;
    assert_eq!((status, code(&v)), (400, "invalid_json"), "{v}");
    let (status, _) = raw(&s, Method::POST, "/admin/keys", b"[1, 2]").await;
    assert_eq!(status, 400);
    let (status, _) = raw(&s, Method::POST, "/admin/keys", b"").await;
    assert_eq!(status, 400);
    let big = json!({"name": "x", "metadata": {"pad": "a".repeat(2 << 20)}});
    let (status, v) = s.admin(Method::POST, "/admin/keys", Some(big)).await;
    assert_eq!((status, code(&v)), (413, "payload_too_large"), "{v}");
    let (status, v) = s.admin(Method::GET, "/admin/keys?bogus=1", None).await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = s.admin(Method::PUT, "/admin/keys", None).await;
    assert_eq!(status, 405);

    // Nothing above was stored.
    let (_, all) = s.admin(Method::GET, "/admin/keys", None).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test]
async fn teams_are_managed_and_not_deleted_while_keys_belong_to_them() {
    let s = Setup::start().await;
    let (status, team) = s
        .admin(
            Method::POST,
            "/admin/teams",
            Some(json!({"name": "eng", "usage_limits": {"type": "cost", "credit_limit": 10, "periodic_reset": "monthly"}})),
        )
        .await;
    assert_eq!(status, 201, "{team}");
    let tid = team["id"].as_str().unwrap().to_owned();
    assert!(tid.starts_with("team_"));
    assert_eq!(team["settings"]["usage_limits"]["credit_limit"], 10.0);

    let (status, all) = s.admin(Method::GET, "/admin/teams", None).await;
    assert_eq!(status, 200);
    assert_eq!(all["data"][0]["id"], tid.as_str());
    let (status, patched) = s
        .admin(
            Method::PATCH,
            &format!("/admin/teams/{tid}"),
            Some(json!({"name": "eng-2", "models": ["gpt-4o*"]})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "eng-2");
    assert_eq!(patched["settings"]["models"], json!(["gpt-4o*"]));
    assert!(
        patched["settings"]["usage_limits"].is_object(),
        "kept: {patched}"
    );
    let (status, one) = s
        .admin(Method::GET, &format!("/admin/teams/{tid}"), None)
        .await;
    assert_eq!((status, &one["name"]), (200, &json!("eng-2")));

    let (kid, key) = s.new_key(json!({"name": "member", "team_id": tid})).await;
    let (_, other) = s.new_key(json!({"name": "loner"})).await;
    let (_, members) = s
        .admin(Method::GET, &format!("/admin/keys?team_id={tid}"), None)
        .await;
    let members = members["data"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["id"], kid.as_str());
    // The team's settings apply to its keys, and a change to them at once.
    let (status, body) = s.chat(&key, "file-vk").await;
    assert_eq!(status, 200, "gpt-4o-mini matches gpt-4o*: {body}");
    let (status, _) = s
        .admin(
            Method::PATCH,
            &format!("/admin/teams/{tid}"),
            Some(json!({"models": ["claude-*"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = s.chat(&key, "file-vk").await;
    assert_eq!((status, code(&body)), (412, "model_not_allowed"), "{body}");
    let (status, body) = s.chat(&other, "file-vk").await;
    assert_eq!(status, 200, "a key outside the team: {body}");

    let (status, v) = s
        .admin(Method::DELETE, &format!("/admin/teams/{tid}"), None)
        .await;
    assert_eq!((status, code(&v)), (409, "conflict"), "{v}");
    let (status, _) = s
        .admin(Method::DELETE, &format!("/admin/keys/{kid}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, v) = s
        .admin(Method::DELETE, &format!("/admin/teams/{tid}"), None)
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v, json!({"id": tid, "deleted": true}));
    let (status, _) = s
        .admin(Method::GET, &format!("/admin/teams/{tid}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .admin(Method::DELETE, &format!("/admin/teams/{tid}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn credentials_never_show_their_secret_and_are_used_at_once() {
    let s = Setup::start().await;
    let (_, key) = s.new_key(json!({"name": "caller"})).await;
    let secret = "sk-stored-SECRET-123";
    let (status, created) = s
        .admin(
            Method::POST,
            "/admin/credentials",
            Some(
                json!({"name": "openai-prod", "provider": "openai", "api_key": secret,
                "custom_host": s.mock.url(),
                "rate_limits": [{"type": "requests", "unit": "rpm", "value": 1000}]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["id"].as_str().unwrap().starts_with("vk_"));
    assert_eq!(created["source"], "database");
    assert_eq!(created["secret_fields"], json!(["api_key"]));
    assert_eq!(created["settings"]["custom_host"], s.mock.url().as_str());
    assert!(!created.to_string().contains(secret));

    // Usable at once: the upstream gets the stored key.
    let (status, body) = s.chat(&key, "openai-prod").await;
    assert_eq!(status, 200, "{body}");
    let last = s.mock.requests().pop().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some("Bearer sk-stored-SECRET-123")
    );

    let aws_secret = "aws-SECRET-789";
    let (status, bedrock) = s
        .admin(
            Method::POST,
            "/admin/credentials",
            Some(json!({"name": "bedrock-eu", "provider": "bedrock", "aws_access_key_id": "AKIAEXAMPLE",
                "aws_secret_access_key": aws_secret, "aws_region": "eu-west-1"})),
        )
        .await;
    assert_eq!(status, 201, "{bedrock}");
    let fields = bedrock["secret_fields"].as_array().unwrap();
    assert!(
        fields.contains(&json!("aws_secret_access_key")),
        "{bedrock}"
    );
    assert!(!bedrock.to_string().contains(aws_secret));

    let (status, all) = s.admin(Method::GET, "/admin/credentials", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["file-vk", "openai-prod", "bedrock-eu"], "{all}");
    assert_eq!(all["data"][0]["source"], "file");
    assert_eq!(all["data"][0]["read_only"], true);
    assert_eq!(all["data"][0]["secret_fields"], json!(["api_key"]));
    let (status, one) = s
        .admin(Method::GET, "/admin/credentials/openai-prod", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["provider"], "openai");
    let (status, file) = s
        .admin(Method::GET, "/admin/credentials/file-vk", None)
        .await;
    assert_eq!((status, &file["source"]), (200, &json!("file")));

    // Rotated: the next request carries the new key.
    let rotated = "sk-rotated-SECRET-456";
    let (status, patched) = s
        .admin(
            Method::PATCH,
            "/admin/credentials/openai-prod",
            Some(json!({"api_key": rotated, "rate_limits": null})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert!(
        patched["settings"].get("rate_limits").is_none(),
        "{patched}"
    );
    assert_eq!(
        patched["settings"]["custom_host"],
        s.mock.url().as_str(),
        "kept"
    );
    assert_eq!(s.chat(&key, "openai-prod").await.0, 200);
    let last = s.mock.requests().pop().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some("Bearer sk-rotated-SECRET-456")
    );

    for body in [&created, &bedrock, &all, &one, &file, &patched] {
        let text = body.to_string();
        for secret in [secret, rotated, aws_secret, FILE_SECRET] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    for secret in [secret, rotated, aws_secret, FILE_SECRET, "AKIAEXAMPLE"] {
        assert!(
            !s.database_contains(secret),
            "{secret} is in the database file"
        );
    }

    // Refused definitions.
    let bad = [
        (
            json!({"name": "bad name!", "provider": "openai", "api_key": "k"}),
            400,
            "name",
        ),
        (
            json!({"name": "x", "provider": "nope", "api_key": "k"}),
            400,
            "provider",
        ),
        (json!({"name": "x", "api_key": "k"}), 400, "provider"),
        (
            json!({"name": "x", "provider": "openai", "apikey": "k"}),
            400,
            "apikey",
        ),
        (
            json!({"name": "x", "provider": "openai", "custom_host": "ftp://h"}),
            400,
            "custom_host",
        ),
        (
            json!({"name": "openai-prod", "provider": "openai", "api_key": "k"}),
            409,
            "",
        ),
        (
            json!({"name": "file-vk", "provider": "openai", "api_key": "k"}),
            409,
            "",
        ),
    ];
    for (body, status, field) in bad {
        let (got, v) = s
            .admin(Method::POST, "/admin/credentials", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}: {v}");
        assert_eq!(param(&v), field, "{body}: {v}");
    }
    let (status, v) = s
        .admin(
            Method::PATCH,
            "/admin/credentials/openai-prod",
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!((status, param(&v)), (400, "name"));

    // The file's are read-only.
    let (status, _) = s
        .admin(
            Method::PATCH,
            "/admin/credentials/file-vk",
            Some(json!({"api_key": "k"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = s
        .admin(Method::DELETE, "/admin/credentials/file-vk", None)
        .await;
    assert_eq!(status, 409);

    let (status, v) = s
        .admin(Method::DELETE, "/admin/credentials/openai-prod", None)
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["deleted"], true);
    assert_eq!(v["name"], "openai-prod");
    let (status, _) = s
        .admin(Method::GET, "/admin/credentials/openai-prod", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .admin(Method::DELETE, "/admin/credentials/openai-prod", None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = s.chat(&key, "openai-prod").await;
    assert_eq!(status, 400, "the virtual key is gone at once: {body}");
}
