//! Gateway keys, virtual keys, rate limits, budgets and cost through the real server, with the
//! records in a real SQLite file (keys are made with the store's API, as the admin API does) and
//! a mock upstream that records what it was sent.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchyard_store::{generate_key, Cipher, NewKey, NewTeam, Store};

const ADMIN: &str = "admin-key-0123456789";
const ENC: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct Setup {
    gw: Gateway,
    store: Store,
    mock: MockServer,
}

/// A gateway with keys on, the operator's OpenAI key on `mock`, a route `m`, and `extra` YAML.
async fn setup(extra: &str) -> Setup {
    let mock = MockServer::start("up").await;
    let dir = temp_dir("gov");
    let db = format!("sqlite://{}/t.db", dir.display());
    let yaml = format!(
        "auth:\n  admin_key: {ADMIN}\ndatabase:\n  url: {db}\n  encryption_key: {ENC}\nproviders:\n  openai:\n    api_key: sk-operator\n    base_url: {}\nroutes:\n  m:\n    provider: openai\n{extra}",
        mock.url()
    );
    let gw = Gateway::start(&yaml).await;
    let store = Store::open(&db, Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    Setup { gw, store, mock }
}

/// A new gateway key with `settings`; its text.
async fn key(store: &Store, settings: Value, team: Option<&str>) -> (String, String) {
    let (text, hash) = generate_key().unwrap();
    let r = store
        .insert_key(NewKey {
            name: "k".into(),
            hash,
            team_id: team.map(str::to_owned),
            expires_at: None,
            settings,
        })
        .await
        .unwrap();
    (text, r.id)
}

async fn call(gw: &Gateway, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
    gw.chat(body, headers).await
}

async fn code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap();
    (status, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn with_auth_on_every_request_needs_a_valid_key() {
    let s = setup("").await;
    assert_eq!(
        code(call(&s.gw, hi("m"), &[]).await).await,
        (401, "missing_gateway_key".into())
    );
    assert_eq!(
        code(call(&s.gw, hi("m"), &[("authorization", "Bearer sy-nope")]).await).await,
        (401, "invalid_gateway_key".into())
    );
    let (k, id) = key(&s.store, json!({}), None).await;
    let ok = call(&s.gw, hi("m"), &[("authorization", &format!("Bearer {k}"))]).await;
    assert_eq!(ok.status(), 200);
    s.store.revoke_key(&id).await.unwrap();
    // A revoked key is refused by a node once its cache entry is gone; a new node at once.
    let (k2, id2) = key(&s.store, json!({}), None).await;
    s.store.revoke_key(&id2).await.unwrap();
    assert_eq!(
        code(
            call(
                &s.gw,
                hi("m"),
                &[("authorization", &format!("Bearer {k2}"))]
            )
            .await
        )
        .await,
        (401, "revoked_gateway_key".into())
    );
    let (k3, _) = {
        let (text, hash) = generate_key().unwrap();
        let r = s
            .store
            .insert_key(NewKey {
                name: "old".into(),
                hash,
                team_id: None,
                expires_at: Some(1),
                settings: json!({}),
            })
            .await
            .unwrap();
        (text, r.id)
    };
    assert_eq!(
        code(
            call(
                &s.gw,
                hi("m"),
                &[("authorization", &format!("Bearer {k3}"))]
            )
            .await
        )
        .await,
        (401, "expired_gateway_key".into())
    );
    let _ = k;
}

#[tokio::test]
async fn a_key_is_read_from_each_sdks_header_and_never_reaches_the_upstream() {
    let s = setup("").await;
    let (k, _) = key(&s.store, json!({}), None).await;
    let bearer = format!("Bearer {k}");
    for (name, value) in [
        ("authorization", bearer.as_str()),
        ("x-portkey-api-key", k.as_str()),
        ("x-api-key", k.as_str()),
        ("api-key", k.as_str()),
    ] {
        let resp = call(&s.gw, hi("m"), &[(name, value)]).await;
        assert_eq!(resp.status(), 200, "{name}");
    }
    for r in s.mock.requests() {
        assert_eq!(r.header("authorization"), Some("Bearer sk-operator"));
        let all = format!("{:?}", r.headers);
        assert!(!all.contains(&k), "the gateway key reached the upstream");
    }
}

#[tokio::test]
async fn models_and_providers_outside_a_keys_globs_are_refused_with_412() {
    let s = setup("").await;
    let (k, _) = key(
        &s.store,
        json!({"models": ["m", "gpt-4o-mini"], "providers": ["openai"]}),
        None,
    )
    .await;
    let auth = format!("Bearer {k}");
    let h = [("authorization", auth.as_str())];
    assert_eq!(call(&s.gw, hi("m"), &h).await.status(), 200);
    assert_eq!(
        code(call(&s.gw, hi("openai/gpt-4o"), &h).await).await,
        (412, "model_not_allowed".into())
    );
    // A config that sends another provider, with the client's own key, is refused per target.
    let config =
        json!({"provider": "groq", "api_key": "gsk-own", "custom_host": s.mock.url()}).to_string();
    let resp = call(&s.gw, hi("m"), &[h[0], ("x-portkey-config", &config)]).await;
    assert_eq!(code(resp).await, (412, "provider_not_allowed".into()));
    assert_eq!(s.mock.hits(), 1);
}

#[tokio::test]
async fn a_request_rate_limit_refuses_with_429_and_openais_headers() {
    let s = setup("").await;
    let (k, _) = key(
        &s.store,
        json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 2}]}),
        None,
    )
    .await;
    let auth = format!("Bearer {k}");
    let h = [("authorization", auth.as_str())];
    let first = call(&s.gw, hi("m"), &h).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-ratelimit-limit-requests"), "2");
    assert_eq!(header(&first, "x-ratelimit-remaining-requests"), "1");
    assert_eq!(call(&s.gw, hi("m"), &h).await.status(), 200);
    let third = call(&s.gw, hi("m"), &h).await;
    assert_eq!(third.status(), 429);
    let retry: u64 = header(&third, "retry-after").parse().unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    assert_eq!(header(&third, "x-ratelimit-remaining-requests"), "0");
    assert_eq!(code(third).await, (429, "rate_limit_exceeded".into()));
    assert_eq!(
        s.mock.hits(),
        2,
        "a refused request never reaches the upstream"
    );
}

#[tokio::test]
async fn a_teams_limit_holds_across_its_keys() {
    let s = setup("").await;
    let team = s
        .store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({"rate_limits": [{"type": "requests", "unit": "rph", "value": 3}]}),
        })
        .await
        .unwrap();
    let (a, _) = key(&s.store, json!({}), Some(&team.id)).await;
    let (b, _) = key(&s.store, json!({}), Some(&team.id)).await;
    let mut statuses = Vec::new();
    for k in [&a, &b, &a, &b] {
        let auth = format!("Bearer {k}");
        statuses.push(
            call(&s.gw, hi("m"), &[("authorization", &auth)])
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn token_limits_reserve_up_front_and_settle_on_reported_usage() {
    let s = setup("").await;
    let (k, _) = key(
        &s.store,
        json!({"rate_limits": [{"type": "tokens", "unit": "rpm", "value": 1000}]}),
        None,
    )
    .await;
    let auth = format!("Bearer {k}");
    let h = [("authorization", auth.as_str())];
    let mut body = hi("m");
    body["max_tokens"] = json!(500);
    let first = call(&s.gw, body.clone(), &h).await;
    assert_eq!(first.status(), 200);
    // The reservation (prompt estimate + 500) shows in the first answer's headers…
    let remaining: u64 = header(&first, "x-ratelimit-remaining-tokens")
        .parse()
        .unwrap();
    assert!(remaining < 500, "{remaining}");
    // …and is settled to the 8 tokens the upstream reported.
    let mut settled = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let probe = call(&s.gw, hi("m"), &h).await;
        settled = header(&probe, "x-ratelimit-remaining-tokens")
            .parse()
            .unwrap();
        if settled > 900 {
            break;
        }
    }
    assert!(settled > 900, "remaining after settlement: {settled}");
    // A request whose reservation can't fit is refused.
    let mut huge = hi("m");
    huge["max_tokens"] = json!(5000);
    assert_eq!(call(&s.gw, huge, &h).await.status(), 429);
}

#[tokio::test]
async fn a_spent_budget_answers_412_and_cost_is_reported() {
    let s = setup("pricing:\n  openai:\n    m: {input: 1000, output: 1000}\n").await;
    let (k, _) = key(
        &s.store,
        json!({"usage_limits": {"type": "cost", "credit_limit": 0.01, "periodic_reset": "monthly"}}),
        None,
    )
    .await;
    let auth = format!("Bearer {k}");
    let h = [("authorization", auth.as_str())];
    let first = call(&s.gw, hi("m"), &h).await;
    assert_eq!(first.status(), 200);
    // 8 tokens at $1000 per million.
    assert_eq!(header(&first, "x-switchyard-cost-usd"), "0.008");
    let mut last = (0, String::new());
    for _ in 0..100 {
        last = code(call(&s.gw, hi("m"), &h).await).await;
        if last.0 == 412 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(last, (412, "budget_exceeded".into()));
}

#[tokio::test]
async fn spend_is_recorded_in_the_database_per_key_and_day() {
    let s = setup("pricing:\n  openai:\n    m: {input: 1000, output: 1000}\n").await;
    let (k, id) = key(&s.store, json!({}), None).await;
    let auth = format!("Bearer {k}");
    for _ in 0..3 {
        assert_eq!(
            call(&s.gw, hi("m"), &[("authorization", &auth)])
                .await
                .status(),
            200
        );
    }
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = s
            .store
            .usage(&switchyard_store::UsageFilter {
                scope: Some("key".into()),
                id: Some(id.clone()),
                period: None,
                limit: 10,
            })
            .await
            .unwrap();
        if rows.iter().map(|r| r.spend.requests).sum::<i64>() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].spend.requests, 3);
    assert_eq!(rows[0].spend.input_tokens, 15);
    assert!((rows[0].spend.cost_usd - 0.024).abs() < 1e-9);
}

#[tokio::test]
async fn a_keys_metadata_and_default_config_apply_to_its_requests() {
    let s = setup("").await;
    let config = json!({"provider": "openai", "override_params": {"model": "from-key-config"}});
    let (k, _) = key(
        &s.store,
        json!({"config": config, "metadata": {"_user": "ana"}}),
        None,
    )
    .await;
    let resp = call(&s.gw, hi("anything"), &[("x-portkey-api-key", &k)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(s.mock.requests()[0].json()["model"], "from-key-config");
}

#[tokio::test]
async fn virtual_keys_send_the_stored_credential_and_unknown_ones_are_refused() {
    let mock = MockServer::start("vk").await;
    let yaml = format!(
        "virtual_keys:\n  openai-prod:\n    provider: openai\n    api_key: sk-stored\n    custom_host: {}\n",
        mock.url()
    );
    let gw = Gateway::start(&yaml).await;
    let resp = gw
        .chat(
            hi("gpt-4o-mini"),
            &[("x-portkey-virtual-key", "openai-prod")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer sk-stored")
    );
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "openai-prod"}]});
    assert_eq!(gw.chat_config(hi("x"), &config).await.status(), 200);
    let unknown = gw.chat(hi("x"), &[("x-portkey-virtual-key", "nope")]).await;
    assert_eq!(unknown.status(), 400);
    let body = unknown.text().await.unwrap();
    assert!(body.contains("no virtual key is named `nope`"), "{body}");
    assert!(!body.contains("sk-stored"));
    // A client can't point the operator's credential at a host of its choosing.
    let evil = json!({"virtual_key": "openai-prod", "custom_host": "https://evil.example/v1"});
    assert_eq!(gw.chat_config(hi("x"), &evil).await.status(), 401);
}

#[tokio::test]
async fn a_virtual_keys_limit_fails_its_target_so_the_fallback_moves_on() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let yaml = format!(
        "virtual_keys:\n  small:\n    provider: openai\n    api_key: sk-a\n    custom_host: {}\n    rate_limits: [{{type: requests, unit: rpm, value: 1}}]\n  big:\n    provider: openai\n    api_key: sk-b\n    custom_host: {}\n",
        a.url(),
        b.url()
    );
    let gw = Gateway::start(&yaml).await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "small"}, {"virtual_key": "big"}]});
    for _ in 0..3 {
        assert_eq!(gw.chat_config(hi("x"), &config).await.status(), 200);
    }
    assert_eq!((a.hits(), b.hits()), (1, 2));
    let alone = json!({"virtual_key": "small"});
    let refused = gw.chat_config(hi("x"), &alone).await;
    assert!(
        !header(&refused, "retry-after").is_empty(),
        "the limit's retry-after is passed on"
    );
    assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), "0");
    assert_eq!(code(refused).await, (429, "rate_limit_exceeded".into()));
}

#[tokio::test]
async fn the_admin_key_calls_models_without_limits() {
    let s = setup("").await;
    let resp = call(
        &s.gw,
        hi("m"),
        &[("authorization", &format!("Bearer {ADMIN}"))],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-ratelimit-limit-requests"), "");
}

#[tokio::test]
async fn a_streams_usage_settles_its_token_reservation() {
    let s = setup("").await;
    let (k, _) = key(
        &s.store,
        json!({"rate_limits": [{"type": "tokens", "unit": "rpm", "value": 1000}]}),
        None,
    )
    .await;
    let auth = format!("Bearer {k}");
    let h = [("authorization", auth.as_str())];
    let mut body = hi_stream("m");
    body["max_tokens"] = json!(600);
    let resp = call(&s.gw, body, &h).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("[DONE]"));
    let mut remaining = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let probe = call(&s.gw, hi("m"), &h).await;
        remaining = header(&probe, "x-ratelimit-remaining-tokens")
            .parse()
            .unwrap();
        if remaining > 900 {
            break;
        }
    }
    assert!(
        remaining > 900,
        "a stream's reservation was not settled: {remaining}"
    );
}

#[tokio::test]
async fn the_model_list_needs_a_key_and_shows_what_it_may_call() {
    let s = setup("  other:\n    provider: openai\n").await;
    let anonymous = s.gw.http.get(s.gw.url("/v1/models")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (k, _) = key(&s.store, json!({"models": ["m"]}), None).await;
    let list: Value =
        s.gw.http
            .get(s.gw.url("/v1/models"))
            .bearer_auth(&k)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.contains(&"m") && !ids.contains(&"other"), "{ids:?}");
}

#[tokio::test]
async fn a_keys_guardrails_run_on_every_route_it_takes() {
    let s = setup("").await;
    let deny = json!({"regexMatch": {"rule": "^allowed"}, "deny": true});
    let (k, _) = key(&s.store, json!({"guardrails": {"input": [deny]}}), None).await;
    let (plain, _) = key(&s.store, json!({}), None).await;
    let blocked =
        |text: &str| json!({"model": "m", "messages": [{"role": "user", "content": text}]});
    // A file route, by alias.
    let resp = call(
        &s.gw,
        blocked("something else"),
        &[("x-portkey-api-key", &k)],
    )
    .await;
    assert_eq!(resp.status(), 446);
    let resp = call(&s.gw, blocked("allowed text"), &[("x-portkey-api-key", &k)]).await;
    assert_eq!(resp.status(), 200);
    // A request's own config.
    let config =
        json!({"provider": "openai", "api_key": "sk-own", "custom_host": s.mock.url()}).to_string();
    let resp = call(
        &s.gw,
        blocked("something else"),
        &[("x-portkey-api-key", &k), ("x-portkey-config", &config)],
    )
    .await;
    assert_eq!(resp.status(), 446);
    // Another key on the same route is not guarded by it.
    let resp = call(
        &s.gw,
        blocked("something else"),
        &[("x-portkey-api-key", &plain)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(s.mock.hits(), 2);
}

#[tokio::test]
async fn cached_answers_are_shared_within_a_team_and_not_across_keys() {
    let s =
        setup("  cached:\n    provider: openai\n    cache: {mode: simple, max_age: 3600}\n").await;
    let team = s
        .store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let (a, _) = key(&s.store, json!({}), Some(&team.id)).await;
    let (b, _) = key(&s.store, json!({}), Some(&team.id)).await;
    let (loner, _) = key(&s.store, json!({}), None).await;
    let mut statuses = Vec::new();
    for k in [&a, &b, &loner] {
        let resp = call(&s.gw, hi("cached"), &[("x-portkey-api-key", k)]).await;
        statuses.push(header(&resp, "x-portkey-cache-status"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(statuses, ["MISS", "HIT", "MISS"]);
    assert_eq!(s.mock.hits(), 2);
}

#[tokio::test]
async fn messages_requests_are_metered_from_their_answers_usage() {
    let s = setup("  claude:\n    provider: openai\n").await;
    let (k, _) = key(
        &s.store,
        json!({"rate_limits": [{"type": "tokens", "unit": "rpm", "value": 1000}]}),
        None,
    )
    .await;
    // Anthropic's Messages API on an OpenAI-compatible target: translated through chat.
    s.mock.push(switchyard_mock::Reply::status(
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 300, "completion_tokens": 200, "total_tokens": 500}}),
    ));
    let body = json!({"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let resp = s.gw.post("/v1/messages", body, &[("x-api-key", &k)]).await;
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await.unwrap();
    let mut remaining = 1000;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let probe = call(&s.gw, hi("m"), &[("x-api-key", &k)]).await;
        remaining = header(&probe, "x-ratelimit-remaining-tokens")
            .parse()
            .unwrap();
        if remaining < 600 {
            break;
        }
    }
    // 500 used by the pass-through, plus the probes' own small reservations.
    assert!((400..520).contains(&remaining), "{remaining}");
}

#[tokio::test]
async fn a_teams_guardrails_and_default_config_apply_to_its_keys() {
    let s = setup("").await;
    let deny = json!({"regexMatch": {"rule": "^allowed"}, "deny": true});
    let config = json!({"provider": "openai", "override_params": {"model": "team-model"}});
    let team = s
        .store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({"guardrails": {"input": [deny]}, "config": config}),
        })
        .await
        .unwrap();
    let (k, _) = key(&s.store, json!({}), Some(&team.id)).await;
    let ask = |text: &str| json!({"model": "x", "messages": [{"role": "user", "content": text}]});
    assert_eq!(
        call(&s.gw, ask("nope"), &[("x-portkey-api-key", &k)])
            .await
            .status(),
        446
    );
    assert_eq!(
        call(&s.gw, ask("allowed"), &[("x-portkey-api-key", &k)])
            .await
            .status(),
        200
    );
    assert_eq!(s.mock.requests()[0].json()["model"], "team-model");
}

#[tokio::test]
async fn crossing_a_budgets_alert_threshold_posts_the_webhook_once() {
    let hook = MockServer::start("hook").await;
    let upstream = MockServer::start("up").await;
    let dir = temp_dir("alert");
    let db = format!("sqlite://{}/t.db", dir.display());
    let yaml = format!(
        "auth:\n  admin_key: {ADMIN}\n  alert_webhook: {}/alert\ndatabase:\n  url: {db}\n  encryption_key: {ENC}\nproviders:\n  openai:\n    api_key: sk-operator\n    base_url: {}\nroutes:\n  m:\n    provider: openai\npricing:\n  openai:\n    m: {{input: 1000, output: 1000}}\n",
        hook.url(),
        upstream.url()
    );
    let gw = Gateway::start(&yaml).await;
    let store = Store::open(&db, Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    let (k, id) = key(
        &store,
        json!({"usage_limits": {"type": "cost", "credit_limit": 1, "alert_threshold": 0.012}}),
        None,
    )
    .await;
    // $0.008 a request: the second crosses $0.012, the third is past it.
    for _ in 0..3 {
        let resp = call(&gw, hi("m"), &[("x-portkey-api-key", &k)]).await;
        assert_eq!(resp.status(), 200);
        let _ = resp.bytes().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Wait for the first alert, then a little longer: a second one would be a bug.
    for _ in 0..50 {
        if hook.requests().iter().any(|r| r.path.ends_with("/alert")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alerts: Vec<_> = hook
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/alert"))
        .collect();
    assert_eq!(alerts.len(), 1, "one alert per crossing");
    let body = alerts[0].json();
    assert_eq!(body["event"], "budget_alert");
    assert_eq!(body["scope"], "key");
    assert_eq!(body["id"], id);
    assert!(
        (body["spent"].as_f64().unwrap() - 0.016).abs() < 1e-9,
        "{body}"
    );
}

#[tokio::test]
async fn routes_and_virtual_keys_outside_a_keys_globs_are_refused_with_412() {
    let vk = "virtual_keys:\n  openai-prod:\n    provider: openai\n    api_key: sk-stored\n";
    let s = setup(&format!("  other:\n    provider: openai\n{vk}")).await;
    let (k, _) = key(
        &s.store,
        json!({"routes": ["m"], "virtual_keys": ["team-*"]}),
        None,
    )
    .await;
    let h = [("x-portkey-api-key", k.as_str())];
    assert_eq!(call(&s.gw, hi("m"), &h).await.status(), 200);
    assert_eq!(
        code(call(&s.gw, hi("other"), &h).await).await,
        (412, "route_not_allowed".into())
    );
    let resp = call(
        &s.gw,
        hi("x"),
        &[h[0], ("x-portkey-virtual-key", "openai-prod")],
    )
    .await;
    assert_eq!(code(resp).await, (412, "virtual_key_not_allowed".into()));
    assert_eq!(s.mock.hits(), 1);
}
