//! `GET /ready`: 200 when what requests need answers (Redis, the records database), 503 naming
//! what does not — without its URL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

async fn ready(gw: &Gateway) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(gw.url("/ready"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_gateway_without_dependencies_is_ready() {
    let gw = Gateway::start("").await;
    assert_eq!(
        ready(&gw).await,
        (200, json!({"status": "ready", "checks": {"config": "ok"}}))
    );
}

#[tokio::test]
async fn redis_and_the_database_are_checked_when_configured() {
    let dir = temp_dir("ready-deps");
    let yaml = format!(
        "redis:\n  url: redis://127.0.0.1:6379\nauth:\n  admin_key: ready-admin-key-0123456789\ndatabase:\n  url: sqlite://{}\n  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        dir.join("records.db").display()
    );
    let gw = Gateway::start(&yaml).await;
    let (status, body) = ready(&gw).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(body["checks"]["database"], "ok");
}

#[tokio::test]
async fn an_unreachable_redis_makes_the_node_unready_without_naming_its_url() {
    let port = dead_port().await;
    let gw = Gateway::start(&format!(
        "redis:\n  url: redis://:s3cret@127.0.0.1:{port}\n"
    ))
    .await;
    let (status, body) = ready(&gw).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["redis"], "unreachable");
    let text = body.to_string();
    assert!(
        !text.contains("s3cret") && !text.contains(&port.to_string()),
        "{text}"
    );
    // Liveness is another question.
    let health = reqwest::get(gw.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
}
