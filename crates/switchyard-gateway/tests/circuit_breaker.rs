//! Passive health checking: targets that keep failing are ejected from fallback and loadbalance
//! groups for a cooldown, then probed. Assertions are on what the upstreams received, never on
//! timing: cooldowns pass on tokio's paused clock, not the wall clock.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const SKIPPED: &str = "x-switchyard-skipped-targets";

fn failing(mock: &MockServer) {
    mock.set_default(Reply::error(503, "overloaded"));
}

fn fallback(a: &MockServer, b: &MockServer) -> String {
    json!({"strategy": {"mode": "fallback"}, "targets": [target(a), target(b)]}).to_string()
}

/// A file route `r` over two mocks, and the circuit breaker settings.
fn route(mode: &str, a: &MockServer, b: &MockServer, breaker: &str) -> String {
    format!(
        "server:\n  circuit_breaker: {breaker}\nroutes:\n  r:\n    strategy: {{mode: {mode}}}\n    targets:\n      - {{provider: openai, api_key: k, custom_host: \"{}\"}}\n      - {{provider: openai, api_key: k, custom_host: \"{}\"}}\n",
        a.url(),
        b.url()
    )
}

async fn ok_from(gw: &Gateway, config: &str) -> reqwest::Response {
    let resp = gw.chat(hi("m"), &[("x-portkey-config", config)]).await;
    assert_eq!(resp.status(), 200);
    resp
}

#[tokio::test]
async fn fallback_skips_a_target_once_its_circuit_opens() {
    let (bad, good) = (
        MockServer::start("bad").await,
        MockServer::start("good").await,
    );
    failing(&bad);
    let gw =
        Gateway::start("server:\n  circuit_breaker: {failure_threshold: 3, cooldown: 1h}\n").await;
    // A header config: the same target in each request's config is the same circuit.
    let config = fallback(&bad, &good);
    for _ in 0..3 {
        let resp = ok_from(&gw, &config).await;
        assert_eq!(header(&resp, SKIPPED), "", "nothing skipped while closed");
        assert_eq!(
            header(&resp, "x-portkey-last-used-option-index"),
            "config.targets[1]"
        );
    }
    assert_eq!(bad.hits(), 3);
    for _ in 0..5 {
        let resp = ok_from(&gw, &config).await;
        assert_eq!(header(&resp, SKIPPED), "config.targets[0]");
        assert_eq!(
            header(&resp, "x-portkey-last-used-option-index"),
            "config.targets[1]"
        );
    }
    assert_eq!(bad.hits(), 3, "the ejected target gets no more traffic");
    assert_eq!(good.hits(), 8);
}

/// Lets `d` pass on the runtime's clock, which the gateway's circuits read
/// (`tokio::time::Instant`), without waiting for it.
///
/// The clock is paused only while no request is in flight: a test paused throughout
/// (`start_paused`) would let tokio auto-advance to the next timer whenever the runtime waits
/// on loopback I/O. Between these jumps real time passes at its own pace; it can only add to
/// the time passed, and the "still cooling down" checks keep half an hour in hand, so no
/// assertion depends on how fast the machine is. A jump fires every timer it passes, so the
/// gateway's own must be longer than the test's jumps (see [`NO_IDLE_CLOSE`]).
async fn let_pass(d: Duration) {
    tokio::time::pause();
    tokio::time::advance(d).await;
    tokio::time::resume();
}

const HALF_HOUR: Duration = Duration::from_secs(30 * 60);

/// Server settings that keep the gateway from closing the test client's idle keep-alive
/// connections when the clock jumps: a close racing the next request on that connection would
/// fail it.
const NO_IDLE_CLOSE: &str = "server:\n  header_read_timeout: 24h\n";

#[tokio::test]
async fn after_the_cooldown_one_probe_reaches_the_target() {
    let (bad, good) = (
        MockServer::start("bad").await,
        MockServer::start("good").await,
    );
    failing(&bad);
    let config = route(
        "fallback",
        &bad,
        &good,
        "{failure_threshold: 2, cooldown: 1h, max_cooldown: 4h}",
    );
    let gw = Gateway::start(&config.replacen("server:\n", NO_IDLE_CLOSE, 1)).await;
    for _ in 0..2 {
        let resp = gw.chat(hi("r"), &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, SKIPPED), "");
    }
    // Well within the cooldown.
    let resp = gw.chat(hi("r"), &[]).await;
    assert_eq!(header(&resp, SKIPPED), "config.targets[0]");
    assert_eq!(bad.hits(), 2, "ejected after two failures");
    let_pass(HALF_HOUR).await;
    let resp = gw.chat(hi("r"), &[]).await;
    assert_eq!(
        header(&resp, SKIPPED),
        "config.targets[0]",
        "still cooling down"
    );
    assert_eq!(bad.hits(), 2);

    let_pass(HALF_HOUR).await;
    let resp = gw.chat(hi("r"), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, SKIPPED),
        "",
        "the probe was sent, not skipped"
    );
    assert_eq!(bad.hits(), 3, "exactly one probe");
    // The probe failed: ejected again, for twice as long.
    let resp = gw.chat(hi("r"), &[]).await;
    assert_eq!(header(&resp, SKIPPED), "config.targets[0]");
    assert_eq!(bad.hits(), 3);
    let_pass(3 * HALF_HOUR).await;
    let resp = gw.chat(hi("r"), &[]).await;
    assert_eq!(
        header(&resp, SKIPPED),
        "config.targets[0]",
        "the doubled cooldown is not over"
    );
    assert_eq!(bad.hits(), 3);

    // The target recovers; the next probe closes the circuit and traffic returns to it.
    bad.set_default(Reply::Default);
    let_pass(HALF_HOUR).await;
    for _ in 0..3 {
        let resp = gw.chat(hi("r"), &[]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, SKIPPED), "");
        assert_eq!(
            header(&resp, "x-portkey-last-used-option-index"),
            "config.targets[0]"
        );
    }
    assert_eq!(bad.hits(), 6);
    assert_eq!(good.hits(), 7);
}

#[tokio::test]
async fn loadbalance_sends_traffic_to_the_healthy_target() {
    let (bad, good) = (
        MockServer::start("bad").await,
        MockServer::start("good").await,
    );
    failing(&bad);
    let gw = Gateway::start(&route(
        "loadbalance",
        &bad,
        &good,
        "{failure_threshold: 3, cooldown: 1h}",
    ))
    .await;
    let n = 60;
    let mut skipped = 0;
    let mut last_ok = 0;
    for i in 0..n {
        let resp = gw.chat(hi("r"), &[]).await;
        if header(&resp, SKIPPED) == "config.targets[0]" {
            skipped += 1;
        }
        if resp.status() == 200 && i >= n - 20 {
            last_ok += 1;
        }
    }
    // With even weights, fewer than three picks of the failing target in 60 is a 1e-15 chance.
    assert_eq!(bad.hits(), 3, "only the failures that opened the circuit");
    assert_eq!(good.hits(), n - 3);
    assert_eq!(last_ok, 20, "once ejected, every request succeeds");
    assert!(skipped > 0, "picks that would have gone to it say so");
}

#[tokio::test]
async fn when_every_target_is_ejected_they_are_still_tried() {
    let (a, b) = (MockServer::start("a").await, MockServer::start("b").await);
    failing(&a);
    failing(&b);
    let gw = Gateway::start(&route(
        "fallback",
        &a,
        &b,
        "{failure_threshold: 2, cooldown: 1h}",
    ))
    .await;
    for _ in 0..5 {
        let resp = gw.chat(hi("r"), &[]).await;
        assert_eq!(header(&resp, SKIPPED), "");
        let (status, body) = error_of(resp).await;
        assert_eq!(status, 503);
        let msg = body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with("All 2 targets failed"), "{msg}");
    }
    assert_eq!(
        (a.hits(), b.hits()),
        (5, 5),
        "the breaker never causes an outage by itself"
    );
}

#[tokio::test]
async fn client_errors_do_not_open_a_circuit() {
    let (bad, good) = (
        MockServer::start("bad").await,
        MockServer::start("good").await,
    );
    bad.set_default(Reply::error(400, "bad request"));
    let gw =
        Gateway::start("server:\n  circuit_breaker: {failure_threshold: 2, cooldown: 1h}\n").await;
    let config = fallback(&bad, &good);
    for _ in 0..6 {
        let resp = ok_from(&gw, &config).await;
        assert_eq!(header(&resp, SKIPPED), "");
    }
    assert_eq!(bad.hits(), 6);
}

#[tokio::test]
async fn a_single_target_is_never_skipped() {
    let bad = MockServer::start("bad").await;
    failing(&bad);
    let gw =
        Gateway::start("server:\n  circuit_breaker: {failure_threshold: 2, cooldown: 1h}\n").await;
    for _ in 0..5 {
        let resp = gw.chat(hi("m"), &refs(&via(&bad))).await;
        assert_eq!(header(&resp, SKIPPED), "");
        assert_eq!(error_of(resp).await.0, 503);
    }
    assert_eq!(bad.hits(), 5);
}

#[tokio::test]
async fn disabled_breaker_never_skips() {
    let (bad, good) = (
        MockServer::start("bad").await,
        MockServer::start("good").await,
    );
    failing(&bad);
    let gw = Gateway::start(
        "server:\n  circuit_breaker: {enabled: false, failure_threshold: 2, cooldown: 1h}\n",
    )
    .await;
    let config = fallback(&bad, &good);
    for _ in 0..8 {
        let resp = ok_from(&gw, &config).await;
        assert_eq!(header(&resp, SKIPPED), "");
    }
    assert_eq!(bad.hits(), 8);
}

#[tokio::test]
async fn an_upstreams_own_skipped_targets_header_is_not_passed_on() {
    let mock = MockServer::start("a").await;
    mock.set_default(Reply::Json {
        status: 200,
        body: json!({"id": "x", "object": "chat.completion", "choices": []}).to_string(),
        headers: vec![(SKIPPED.to_owned(), "config.targets[9]".to_owned())],
    });
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi("m"), &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, SKIPPED), "");
    let _: Value = resp.json().await.unwrap();
}
