//! Reloading the config while serving: new requests take the new routes, a request in flight
//! finishes on the config it started with, and what only start-up reads is kept and named.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use switchyard_gateway::GatewayConfig;

fn config(mock: &MockServer, extra: &str) -> String {
    format!(
        "providers:\n  openai:\n    api_key: sk-server\n    base_url: {}\nroutes:\n  m:\n    provider: openai\n{extra}",
        mock.url()
    )
}

fn parse(yaml: &str) -> GatewayConfig {
    GatewayConfig::from_yaml(yaml, &|_| None).unwrap()
}

async fn answer(gw: &Gateway) -> String {
    let v: Value = gw.chat(hi("m"), &[]).await.json().await.unwrap();
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_reload_routes_new_requests_by_the_new_file() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start(&config(&a, "")).await;
    assert_eq!(answer(&gw).await, "Hello from a");
    let restart = gw.reloader.reload(parse(&config(&b, "")));
    assert!(restart.is_empty(), "{restart:?}");
    assert_eq!(answer(&gw).await, "Hello from b");
    assert_eq!(a.requests().len(), 1);
}

#[tokio::test]
async fn a_request_in_flight_finishes_on_the_config_it_started_with() {
    let a = MockServer::start("a").await;
    a.push(Reply::Delay(
        Duration::from_millis(300),
        Box::new(Reply::Default),
    ));
    let b = MockServer::start("b").await;
    let gw = Gateway::start(&config(&a, "")).await;
    let slow = tokio::spawn({
        let url = gw.url("/v1/chat/completions");
        async move {
            let v: Value = reqwest::Client::new()
                .post(url)
                .json(&hi("m"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.reloader.reload(parse(&config(&b, "")));
    assert_eq!(
        answer(&gw).await,
        "Hello from b",
        "new requests: the new file"
    );
    assert_eq!(
        slow.await.unwrap(),
        "Hello from a",
        "in flight: the old one"
    );
}

#[tokio::test]
async fn sections_read_at_start_up_keep_their_running_values_and_are_named() {
    let a = MockServer::start("a").await;
    let gw = Gateway::start(&config(&a, "server:\n  max_body_size: 1MiB\n")).await;
    let restart = gw
        .reloader
        .reload(parse(&config(&a, "server:\n  max_body_size: 1KiB\n")));
    assert_eq!(restart, ["server"]);
    assert_eq!(
        gw.reloader.current().config.server.max_body_bytes,
        1 << 20,
        "the running limit stays"
    );
    // A 4 KiB request still fits the running 1 MiB limit.
    let big = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    assert_eq!(gw.chat(big, &[]).await.status(), 200);
}

#[tokio::test]
async fn circuit_breakers_and_the_cache_survive_a_reload() {
    let a = MockServer::start("a").await;
    let cached = "    cache: {mode: simple, max_age: 600}\n";
    let gw = Gateway::start(&config(&a, cached)).await;
    let before = gw.reloader.current();
    let first = gw.chat(hi("m"), &[]).await;
    assert_eq!(header(&first, "x-portkey-cache-status"), "MISS");
    // The same file again (a touch, a SIGHUP): cached answers and the engine are kept.
    gw.reloader.reload(parse(&config(&a, cached)));
    let after = gw.reloader.current();
    assert!(std::sync::Arc::ptr_eq(&before.engine, &after.engine));
    assert!(std::sync::Arc::ptr_eq(&before.cache, &after.cache));
    let mut status = String::new();
    for _ in 0..50 {
        status = header(&gw.chat(hi("m"), &[]).await, "x-portkey-cache-status");
        if status == "HIT" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, "HIT");
    assert_eq!(a.requests().len(), 1);
}
