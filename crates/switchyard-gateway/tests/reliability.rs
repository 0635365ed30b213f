//! Retries, timeouts and fallback on failure, against scripted mock upstreams.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// Retry waits of a millisecond or so, so tests run fast (the policy itself is unit-tested).
const FAST_RETRIES: &str = "server:\n  retry_base_delay: 2ms\n  retry_max_delay: 4ms\n";

fn with_retry(mock: &MockServer, retry: Value) -> String {
    let mut t = target(mock);
    t["retry"] = retry;
    t.to_string()
}

#[tokio::test]
async fn retries_on_default_statuses_and_replays_the_same_body() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(503, "busy"));
    mock.push(Reply::error(429, "slow"));
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = with_retry(&mock, json!({"attempts": 3}));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "2");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
}

#[tokio::test]
async fn statuses_outside_the_retry_list_are_not_retried() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(400, "bad"));
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = with_retry(&mock, json!({"attempts": 3, "on_status_codes": [500]}));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "0");
    assert_eq!(error_of(resp).await.0, 400);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn exhausted_retries_report_minus_one_and_the_last_error() {
    let mock = MockServer::start("a").await;
    mock.set_default(Reply::error(502, "bad gateway upstream"));
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = with_retry(&mock, json!({"attempts": 2}));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "-1");
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["message"], "bad gateway upstream");
    assert_eq!(mock.hits(), 3, "one try and two retries");
}

#[tokio::test]
async fn connection_errors_are_retried_then_fall_back() {
    let port = dead_port().await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "k", "custom_host": format!("http://127.0.0.1:{port}/v1"), "retry": {"attempts": 2}},
            target(&b)
        ]
    })
    .to_string();
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_when_asked() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(429, "wait").with_header("retry-after-ms", "150"));
    // Base delay of 1 hour: only the retry-after hint can make this retry happen quickly.
    let gw = Gateway::start("server:\n  retry_base_delay: 1h\n  retry_max_delay: 1h\n").await;
    let config = with_retry(
        &mock,
        json!({"attempts": 1, "use_retry_after_header": true}),
    );
    let started = Instant::now();
    let resp = tokio::time::timeout(
        Duration::from_secs(30),
        gw.chat(hi("m"), &[("x-portkey-config", &config)]),
    )
    .await
    .expect("the retry-after hint replaced the hour-long backoff");
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "waited as asked"
    );
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_returns_the_429_without_waiting() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(429, "come back tomorrow").with_header("retry-after", "86400"));
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = with_retry(
        &mock,
        json!({"attempts": 3, "use_retry_after_header": true}),
    );
    let resp = tokio::time::timeout(
        Duration::from_secs(30),
        gw.chat(hi("m"), &[("x-portkey-config", &config)]),
    )
    .await
    .expect("no day-long wait");
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "-1");
    let (status, _) = error_of(resp).await;
    assert_eq!(status, 429);
    assert_eq!(mock.hits(), 1);
}

/// An upstream (possibly a client's own custom host) asking for an absurd wait used to panic a
/// worker in `Duration::from_secs_f64`, leaving the client with an empty reply.
#[tokio::test]
async fn an_absurd_retry_after_ms_returns_the_429_instead_of_panicking() {
    for value in ["1e300", "inf", "1.9e22", "NaN", "-1"] {
        let mock = MockServer::start("a").await;
        mock.push(Reply::error(429, "slow down").with_header("retry-after-ms", value));
        let gw = Gateway::start(FAST_RETRIES).await;
        let config = with_retry(
            &mock,
            json!({"attempts": 1, "use_retry_after_header": true}),
        );
        let resp = tokio::time::timeout(
            Duration::from_secs(30),
            gw.chat(hi("m"), &[("x-portkey-config", &config)]),
        )
        .await
        .expect("no endless wait");
        // Unusable hints are ignored (the normal backoff retries once, and the mock's default
        // answer is a 200); waits too long to represent are longer than any cap, so the 429
        // comes back at once.
        if matches!(value, "NaN" | "-1") {
            assert_eq!(resp.status(), 200, "{value}");
            assert_eq!(mock.hits(), 2, "{value}: retried with the normal backoff");
        } else {
            let (status, body) = error_of(resp).await;
            assert_eq!(status, 429, "{value}");
            assert_eq!(body["error"]["message"], "slow down");
            assert_eq!(mock.hits(), 1, "{value}: not waited for");
        }
    }
}

#[tokio::test]
async fn upstream_rate_limit_headers_reach_the_client_on_errors() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(429, "slow").with_header("retry-after", "7"));
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi("m"), &refs(&via(&mock))).await;
    assert_eq!(header(&resp, "retry-after"), "7");
    assert_eq!(error_of(resp).await.0, 429);
}

#[tokio::test]
async fn a_slow_upstream_times_out_with_portkeys_408() {
    let mock = MockServer::start("a").await;
    mock.set_default(Reply::Hang);
    let gw = Gateway::start("").await;
    let routing = via(&mock);
    let mut h = refs(&routing);
    h.push(("x-portkey-request-timeout", "200"));
    let (status, body) = error_of(gw.chat(hi("m"), &h).await).await;
    assert_eq!(status, 408);
    assert_eq!(body["error"]["type"], "timeout_error");
    assert_eq!(
        body["error"]["message"],
        "Request exceeded the timeout sent in the request: 200ms"
    );
}

#[tokio::test]
async fn a_timeout_falls_back_to_the_next_target() {
    let slow = MockServer::start("slow").await;
    slow.set_default(Reply::Delay(
        Duration::from_secs(30),
        Box::new(Reply::Default),
    ));
    let fast = MockServer::start("fast").await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "request_timeout": 200, "targets": [target(&slow), target(&fast)]}).to_string();
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from fast");
}

#[tokio::test]
async fn a_body_cut_mid_response_is_retried_only_when_after_send_allows_it() {
    let cut = || Reply::CutBody {
        status: 200,
        partial: "{\"id\":\"chatcmpl-".into(),
    };
    // The upstream may have generated the answer: not retried by default.
    let mock = MockServer::start("a").await;
    mock.push(cut());
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = with_retry(&mock, json!({"attempts": 1}));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "0");
    assert_eq!(error_of(resp).await.0, 502);
    assert_eq!(mock.hits(), 1, "a duplicate generation costs money");

    // The target opted in.
    mock.push(cut());
    let config = with_retry(&mock, json!({"attempts": 1, "after_send": true}));
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(mock.hits(), 3);
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_stream_finish() {
    let mock = MockServer::start("a").await;
    let events = chat_events("a");
    mock.push(Reply::Sse {
        events,
        gap: Duration::from_millis(100),
        end: StreamEnd::Done,
    });
    let mut gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    gw.shutdown();
    let text = resp.text().await.unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    // The server stops after the stream is done.
    let task = gw.task.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
    assert!(
        gw.http.get(gw.url("/health")).send().await.is_err(),
        "no longer accepting"
    );
}

fn chat_events(name: &str) -> Vec<String> {
    switchyard_mock::chat_chunks(name, "m", false)
}
