//! Governance across gateway processes: two gateways sharing the real Redis (counters) and the
//! real PostgreSQL (records) enforce one rate limit and one budget, and unreachable shared
//! counters fail open or closed as each limit says.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchyard_store::{generate_key, Cipher, NewKey, Store, UsageFilter};

const ADMIN: &str = "admin-key-0123456789";
const ENC: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

async fn key(store: &Store, settings: Value) -> (String, String) {
    let (text, hash) = generate_key().unwrap();
    let r = store
        .insert_key(NewKey {
            name: "k".into(),
            hash,
            team_id: None,
            expires_at: None,
            settings,
        })
        .await
        .unwrap();
    (text, r.id)
}

async fn call(gw: &Gateway, key: &str) -> u16 {
    gw.chat(hi("m"), &[("authorization", &format!("Bearer {key}"))])
        .await
        .status()
        .as_u16()
}

fn config(db: &str, redis: &str, mock: &MockServer, extra: &str) -> String {
    format!(
        "auth:\n  admin_key: {ADMIN}\ndatabase:\n  url: \"{db}\"\n  encryption_key: {ENC}\nredis:\n  url: {redis}\n  timeout: 500ms\n  prefix: \"sy-test-{}:\"\nproviders:\n  openai:\n    api_key: sk-operator\n    base_url: {}\nroutes:\n  m:\n    provider: openai\n{extra}",
        uuid::Uuid::new_v4().simple(),
        mock.url()
    )
}

/// A fresh schema in the machine's PostgreSQL `test` database (dropped when the guard goes).
struct PgSchema(String);

impl PgSchema {
    fn new() -> PgSchema {
        let name = format!("switchyard_gw_{}", uuid::Uuid::new_v4().simple());
        psql(&format!("CREATE SCHEMA {name}"));
        PgSchema(name)
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{}",
            self.0
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

fn psql(sql: &str) {
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-qc",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn two_gateways_sharing_redis_enforce_one_rate_limit() {
    let mock = MockServer::start("up").await;
    let dir = temp_dir("gov2");
    let db = format!("sqlite://{}/t.db", dir.display());
    let yaml = config(&db, "redis://127.0.0.1:6379", &mock, "");
    let one = Gateway::start(&yaml).await;
    let two = Gateway::start(&yaml).await;
    let store = Store::open(&db, Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    let (k, _) = key(
        &store,
        json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]}),
    )
    .await;
    let mut ok = 0;
    for i in 0..12 {
        let gw = if i % 2 == 0 { &one } else { &two };
        if call(gw, &k).await == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 5, "one limit across both gateways");
    assert_eq!(mock.hits(), 5);
}

#[tokio::test]
async fn two_gateways_on_postgres_and_redis_hold_one_budget_and_one_spend_record() {
    let mock = MockServer::start("up").await;
    let schema = PgSchema::new();
    let yaml = config(
        &schema.url(),
        "redis://127.0.0.1:6379",
        &mock,
        "pricing:\n  openai:\n    m: {input: 1000, output: 1000}\n",
    );
    let one = Gateway::start(&yaml).await;
    let two = Gateway::start(&yaml).await;
    let store = Store::open(&schema.url(), Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    // 8 tokens at $1000/M = $0.008 a request: the budget lasts 4 requests (it is checked
    // before each one, charged after).
    let (k, id) = key(
        &store,
        json!({"usage_limits": {"type": "cost", "credit_limit": 0.03, "periodic_reset": "daily"}}),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let gw = if i % 2 == 0 { &one } else { &two };
        statuses.push(call(gw, &k).await);
        // Charging is off the request's path: give it a moment, as a client would.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses, [200, 200, 200, 200, 412, 412, 412, 412]);
    // Both nodes' spend lands in one database row per key and day.
    let mut requests = 0;
    for _ in 0..60 {
        let rows = store
            .usage(&UsageFilter {
                scope: Some("key".into()),
                id: Some(id.clone()),
                period: None,
                limit: 10,
            })
            .await
            .unwrap();
        requests = rows.iter().map(|r| r.spend.requests).sum();
        if requests == 4 {
            assert_eq!(rows.len(), 1);
            assert!((rows[0].spend.cost_usd - 0.032).abs() < 1e-9);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(requests, 4);
}

#[tokio::test]
async fn unreachable_shared_counters_fail_open_or_closed_as_each_limit_says() {
    let mock = MockServer::start("up").await;
    let dir = temp_dir("gov3");
    let db = format!("sqlite://{}/t.db", dir.display());
    let gw = Gateway::start(&config(&db, "redis://127.0.0.1:1", &mock, "")).await;
    let store = Store::open(&db, Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    let (open, _) = key(
        &store,
        json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 2}]}),
    )
    .await;
    let (closed, _) = key(
        &store,
        json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 2, "on_store_error": "closed"}]}),
    )
    .await;
    // Fail-open: served, and still counted in this process.
    let statuses = [
        call(&gw, &open).await,
        call(&gw, &open).await,
        call(&gw, &open).await,
    ];
    assert_eq!(statuses, [200, 200, 429]);
    let resp = gw
        .chat(hi("m"), &[("authorization", &format!("Bearer {closed}"))])
        .await;
    assert_eq!(resp.status(), 503);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "limits_unavailable");
}

#[tokio::test]
async fn an_unreachable_key_database_answers_503_not_a_hang() {
    let mock = MockServer::start("up").await;
    let schema = PgSchema::new();
    let gw = Gateway::start(&config(&schema.url(), "redis://127.0.0.1:6379", &mock, "")).await;
    let store = Store::open(&schema.url(), Cipher::from_text(ENC).unwrap())
        .await
        .unwrap();
    let (k, _) = key(&store, json!({})).await;
    // The database loses its tables: a key not yet cached can't be looked up.
    psql(&format!("DROP SCHEMA {} CASCADE", schema.0));
    let resp = tokio::time::timeout(
        Duration::from_secs(30),
        gw.chat(hi("m"), &[("authorization", &format!("Bearer {k}"))]),
    )
    .await
    .expect("an answer, not a hang");
    assert_eq!(resp.status(), 503);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "key_store_unavailable");
    assert!(!v.to_string().contains(&k), "the key is never echoed");
}
