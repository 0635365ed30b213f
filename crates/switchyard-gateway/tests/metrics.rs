//! `GET /metrics` through the real server: what requests, streams, refusals, fallbacks and the
//! cache leave in the Prometheus exposition.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

async fn scrape(gw: &Gateway) -> String {
    let resp = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("text/plain; version=0.0.4"));
    resp.text().await.unwrap()
}

/// The value of the sample line that starts with `series` (0 when absent).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Scrapes until `series` shows `want` (on-complete runs as the response body ends).
async fn scrape_until(gw: &Gateway, series: &str, want: f64) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        text = scrape(gw).await;
        if value(&text, series) >= want {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{series} never reached {want}:\n{text}");
}

#[tokio::test]
async fn requests_tokens_durations_and_cost_are_counted_by_provider_and_model() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start(&format!(
        "providers:\n  openai:\n    api_key: sk-op\n    base_url: {}\nroutes:\n  m:\n    provider: openai\npricing:\n  openai:\n    m: {{input: 1000, output: 1000}}\n",
        mock.url()
    ))
    .await;
    for _ in 0..2 {
        let r = gw.chat(hi("m"), &[]).await;
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
    }
    let series = r#"switchyard_requests_total{operation="chat",provider="openai",model="m",status_class="2xx",error_type="none",cache_status="DISABLED",stream="false"}"#;
    let text = scrape_until(&gw, series, 2.0).await;
    assert_eq!(value(&text, series), 2.0);
    assert_eq!(
        value(
            &text,
            r#"gen_ai_client_token_usage_sum{operation="chat",provider="openai",model="m",token_type="input"}"#
        ),
        10.0
    );
    assert_eq!(
        value(
            &text,
            r#"gen_ai_client_operation_duration_seconds_count{operation="chat",provider="openai",model="m"}"#
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            r#"switchyard_gateway_overhead_seconds_count{operation="chat"}"#
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            r#"switchyard_upstream_attempts_total{provider="openai",outcome="2xx"}"#
        ),
        2.0
    );
    // Both attempts reach the provider's series, kept after the first (not only the first).
    assert_eq!(
        value(
            &text,
            r#"switchyard_upstream_duration_seconds_count{provider="openai"}"#
        ),
        2.0
    );
    assert!(
        (value(
            &text,
            r#"switchyard_cost_usd_total{operation="chat",provider="openai",model="m"}"#
        ) - 0.016)
            .abs()
            < 1e-9
    );
    assert_eq!(value(&text, "switchyard_requests_in_flight"), 0.0);
}

#[tokio::test]
async fn streams_report_time_to_first_token_and_per_output_token() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = json!({"provider": "openai", "api_key": "sk", "custom_host": mock.url()});
    let mut body = hi_stream("m");
    body["stream_options"] = json!({"include_usage": true});
    let r = gw.chat_config(body, &config).await;
    assert_eq!(r.status(), 200);
    let _ = r.text().await;
    let text = scrape_until(&gw, r#"gen_ai_server_time_to_first_token_seconds_count{operation="chat",provider="openai",model="m"}"#, 1.0).await;
    assert_eq!(
        value(
            &text,
            r#"gen_ai_server_time_per_output_token_seconds_count{operation="chat",provider="openai",model="m"}"#
        ),
        1.0
    );
    assert!(text.contains(r#"stream="true""#));
}

#[tokio::test]
async fn refusals_fallbacks_and_cache_hits_are_told_apart() {
    let a = MockServer::start("a").await;
    a.set_default(switchyard_mock::Reply::error(503, "down"));
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let fallback = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"provider": "openai", "api_key": "sk", "custom_host": a.url()},
        {"provider": "groq", "api_key": "gsk", "custom_host": b.url(), "cache": {"mode": "simple"}}]});
    for _ in 0..2 {
        let r = gw.chat_config(hi("m"), &fallback).await;
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let bad = gw.chat(hi("m"), &[("x-portkey-config", "{oops")]).await;
    assert_eq!(bad.status(), 400);
    let text = scrape_until(&gw, r#"switchyard_fallbacks_total{provider="groq"}"#, 1.0).await;
    assert!(
        value(
            &text,
            r#"switchyard_upstream_attempts_total{provider="openai",outcome="5xx"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(text.contains(r#"cache_status="HIT""#), "{text}");
    assert!(
        text.contains(r#"status_class="4xx",error_type="bad_request""#),
        "{text}"
    );
}

#[tokio::test]
async fn governance_refusals_are_counted_by_code() {
    let gw = Gateway::start("auth:\n  admin_key: admin-key-0123456789\n").await;
    let r = gw.chat(hi("m"), &[]).await;
    assert_eq!(r.status(), 401);
    let _ = r.bytes().await;
    let text = scrape_until(
        &gw,
        r#"switchyard_governance_refusals_total{code="missing_gateway_key"}"#,
        1.0,
    )
    .await;
    assert!(text.contains(r#"error_type="missing_gateway_key""#));
}

#[tokio::test]
async fn a_bearer_token_guards_the_metrics_and_models_past_the_cap_are_other() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("metrics:\n  bearer_token: metrics-token-0123456789\n").await;
    let anonymous = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 403);
    let config = json!({"provider": "openai", "api_key": "sk", "custom_host": mock.url()});
    for i in 0..300 {
        let r = gw.chat_config(hi(&format!("model-{i}")), &config).await;
        let _ = r.bytes().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = gw
        .http
        .get(gw.url("/metrics"))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"model="other""#),
        "past 256 models, the rest are `other`"
    );
    let distinct = text
        .lines()
        .filter(|l| l.starts_with("switchyard_requests_total{"))
        .count();
    assert!(distinct <= 257, "{distinct} series");
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let gw = Gateway::start("metrics:\n  enabled: false\n").await;
    let r = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn every_metric_the_grafana_dashboard_queries_is_exported() {
    let gw = Gateway::start("").await;
    let text = scrape(&gw).await;
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../deploy/grafana/switchyard.json")).unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            // Metric names: the words that start with one of our prefixes.
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("switchyard_") || word.starts_with("gen_ai_") {
                    queried.push(word.to_owned());
                }
            }
        }
    }
    assert!(queried.len() >= 15, "{queried:?}");
    for name in queried {
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "the dashboard queries `{name}`, which /metrics does not export"
        );
    }
}
