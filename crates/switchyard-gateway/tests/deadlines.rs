//! Retry safety, deadlines and the bounds on a stream before and after it commits, against
//! scripted (and deliberately hostile) mock upstreams.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use serde_json::{json, Value};
use switchyard_mock::{content_chunk, role_chunk};

const FAST_RETRIES: &str = "server:\n  retry_base_delay: 2ms\n  retry_max_delay: 4ms\n";

fn with(mock: &MockServer, extra: Value) -> Value {
    let mut t = target(mock);
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

async fn body_text(resp: reqwest::Response) -> String {
    String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn a_refused_connection_is_retried_because_nothing_was_sent() {
    let port = dead_port().await;
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = json!({"provider": "openai", "api_key": "k",
        "custom_host": format!("http://127.0.0.1:{port}/v1"), "retry": {"attempts": 2}});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "-1");
    assert_eq!(error_of(resp).await.0, 502);
}

#[tokio::test]
async fn a_connection_closed_after_the_request_was_sent_is_not_retried_by_default() {
    let mock = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start(FAST_RETRIES).await;
    for reply in [Reply::Reset, Reply::malformed_json()] {
        mock.push(reply.clone());
        let t = with(&mock, json!({"retry": {"attempts": 3}}));
        let resp = gw.chat_config(hi("m"), &t).await;
        assert_eq!(error_of(resp).await.0, 502, "{reply:?}");
        // A fallback is the config's explicit wish: it still happens.
        mock.push(reply.clone());
        let config = json!({"strategy": {"mode": "fallback"}, "targets": [t, target(&b)]});
        let resp = gw.chat_config(hi("m"), &config).await;
        assert_eq!(resp.status(), 200, "{reply:?}");
        assert_eq!(
            header(&resp, "x-portkey-last-used-option-index"),
            "config.targets[1]"
        );
    }
    assert_eq!(mock.hits(), 4, "one try each, no retries");
}

#[tokio::test]
async fn a_stream_broken_before_its_first_content_is_not_retried_by_default() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![role_chunk()],
        gap: Duration::ZERO,
        end: StreamEnd::Cut,
    });
    let gw = Gateway::start(FAST_RETRIES).await;
    let t = with(&mock, json!({"retry": {"attempts": 2}}));
    let resp = gw.chat_config(hi_stream("m"), &t).await;
    assert_eq!(error_of(resp).await.0, 502);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn the_attempt_deadline_covers_the_head_and_the_whole_body() {
    let mock = MockServer::start("a").await;
    // The head at once, then the body in pieces 150 ms apart: each gap is shorter than the
    // timeout, the whole answer is not.
    let body = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "slow"}, "finish_reason": "stop"}]})
    .to_string();
    let thirds: Vec<Bytes> = body
        .as_bytes()
        .chunks(body.len() / 3 + 1)
        .map(Bytes::copy_from_slice)
        .collect();
    mock.push(Reply::Raw {
        status: 200,
        content_type: "application/json".into(),
        chunks: thirds,
        gap: Duration::from_millis(150),
    });
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let mut headers = refs(&h);
    headers.push(("x-portkey-request-timeout", "200"));
    let (status, body) = error_of(gw.chat(hi("m"), &headers).await).await;
    assert_eq!(status, 408);
    assert_eq!(
        body["error"]["message"],
        "Request exceeded the timeout sent in the request: 200ms"
    );
}

/// An upstream that pings (or sends comments) forever before any content no longer holds the
/// request: pings don't move the commit deadline, so the attempt times out and falls back.
#[tokio::test]
async fn pings_before_the_first_content_do_not_extend_the_commit_deadline() {
    let pinger = MockServer::start("a").await;
    pinger.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks: std::iter::repeat_n(Bytes::from_static(b": ping\n\n"), 200).collect(),
        gap: Duration::from_millis(20),
    });
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "request_timeout": 300,
        "targets": [target(&pinger), target(&b)]});
    let resp = tokio::time::timeout(
        Duration::from_secs(3),
        gw.chat_config(hi_stream("m"), &config),
    )
    .await
    .expect("the pinging upstream did not hold the request");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert!(body_text(resp).await.contains("data: [DONE]"));
}

/// Held preamble is bounded: past 64 KiB the stream commits with what it has rather than
/// buffering more (and then the idle bound applies).
#[tokio::test]
async fn held_preamble_is_capped_and_the_stream_commits() {
    let chatty = MockServer::start("a").await;
    let mut comments = Vec::new();
    while comments.len() < 70 << 10 {
        comments.extend_from_slice(b": keep-alive padding padding padding padding\n\n");
    }
    chatty.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        // Then silence: the stream never sends content.
        chunks: vec![Bytes::from(comments), Bytes::new()],
        gap: Duration::from_secs(60),
    });
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "request_timeout": 400,
        "targets": [target(&chatty), target(&b)]});
    let resp = gw.chat_config(hi_stream("m"), &config).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[0]",
        "committed on the cap, not timed out before the commit"
    );
    let text = body_text(resp).await;
    assert!(text.starts_with(": keep-alive"));
    assert!(text.contains("event: error") && text.contains("stalled for more than 400ms"));
    assert_eq!(b.hits(), 0);
}

#[tokio::test]
async fn a_stream_without_any_timeout_is_cut_by_the_default_stall_bound() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![role_chunk(), content_chunk("hi")],
        gap: Duration::ZERO,
        end: StreamEnd::Stall,
    });
    let gw = Gateway::start("server:\n  stream_idle_timeout: 300ms\n").await;
    let h = via(&mock);
    let resp = tokio::time::timeout(Duration::from_secs(5), gw.chat(hi_stream("m"), &refs(&h)))
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(5), body_text(resp))
        .await
        .expect("a stalled stream ends");
    assert!(text.contains("\"content\":\"hi\""));
    assert!(text.contains("stalled for more than 300ms"), "{text}");
}

#[tokio::test]
async fn a_response_larger_than_max_response_size_fails_the_attempt() {
    let mock = MockServer::start("a").await;
    let big = "x".repeat(4096);
    mock.push(Reply::status(200, json!({"id": "c", "pad": big})));
    let gw = Gateway::start("server:\n  max_response_size: 1KiB\n").await;
    let h = via(&mock);
    let (status, body) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 502);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("larger than the limit of 1024 bytes"), "{msg}");
}

#[tokio::test]
async fn total_timeout_bounds_retries_and_fallbacks() {
    let slow = MockServer::start("a").await;
    slow.set_default(Reply::Delay(
        Duration::from_secs(5),
        Box::new(Reply::Default),
    ));
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "total_timeout": 300, "request_timeout": 10000,
        "targets": [target(&slow), target(&b)]});
    let resp = tokio::time::timeout(Duration::from_secs(3), gw.chat_config(hi("m"), &config))
        .await
        .expect("bounded by total_timeout");
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 408);
    assert_eq!(
        body["error"]["message"],
        "Request exceeded the timeout sent in the request: 300ms"
    );
    assert_eq!(b.hits(), 0, "nothing is tried after the overall deadline");

    // A backoff wait that would outlast it is not waited.
    let failing = MockServer::start("c").await;
    failing.set_default(Reply::error(503, "busy"));
    let gw = Gateway::start("server:\n  retry_base_delay: 1h\n  retry_max_delay: 1h\n").await;
    let t = with(
        &failing,
        json!({"retry": {"attempts": 3}, "total_timeout": 2000}),
    );
    let resp = tokio::time::timeout(Duration::from_secs(3), gw.chat_config(hi("m"), &t))
        .await
        .expect("no hour-long backoff");
    assert_eq!(error_of(resp).await.0, 503);
    assert_eq!(failing.hits(), 1);
}

#[tokio::test]
async fn total_timeout_is_a_top_level_key_and_a_server_setting() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"},
        "targets": [with(&mock, json!({"total_timeout": 100}))]});
    let (status, body) = error_of(gw.chat_config(hi("m"), &config).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.targets[0].total_timeout");

    mock.set_default(Reply::Delay(
        Duration::from_secs(5),
        Box::new(Reply::Default),
    ));
    let gw = Gateway::start("server:\n  total_timeout: 200ms\n").await;
    let h = via(&mock);
    let (status, _) = error_of(gw.chat(hi("m"), &refs(&h)).await).await;
    assert_eq!(status, 408);
}

#[tokio::test]
async fn done_inside_content_does_not_count_as_the_end_of_the_stream() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![role_chunk(), content_chunk("data: [DONE]")],
        gap: Duration::ZERO,
        end: StreamEnd::Close,
    });
    let gw = Gateway::start("").await;
    let h = via(&mock);
    let text = body_text(gw.chat(hi_stream("m"), &refs(&h)).await).await;
    assert!(
        text.contains("event: error") && text.contains("no [DONE]"),
        "a stream closed without its [DONE] is reported: {text}"
    );
}
