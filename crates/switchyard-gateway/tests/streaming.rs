//! Streaming: events forwarded as they arrive, fallback until the first byte, and a clear SSE
//! error event (never a silent truncation) when the upstream fails after that.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};

fn data_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_stream_passes_through_event_by_event_with_done() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut body = hi_stream("m");
    body["stream_options"] = json!({"include_usage": true});
    let resp = gw.chat(body, &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("text/event-stream"));
    assert_eq!(header(&resp, "x-portkey-provider"), "openai");
    let text = resp.text().await.unwrap();
    let events = data_events(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let content: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello from a");
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(usage["usage"]["total_tokens"], 8);
    assert_eq!(
        mock.requests()[0].header("accept"),
        Some("text/event-stream")
    );
}

#[tokio::test]
async fn events_reach_the_client_before_the_stream_ends() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![
            r#"{"choices":[{"index":0,"delta":{"content":"first"}}]}"#.into(),
            r#"{"choices":[]}"#.into(),
        ],
        gap: Duration::from_secs(60),
        end: StreamEnd::Done,
    });
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the first event arrives while the upstream is still streaming")
        .unwrap()
        .unwrap();
    assert!(std::str::from_utf8(&first).unwrap().contains("first"));
}

#[tokio::test]
async fn an_error_as_the_first_event_falls_back() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.push(Reply::Sse {
        events: vec![r#"{"error":{"message":"overloaded","type":"server_error"}}"#.into()],
        gap: Duration::ZERO,
        end: StreamEnd::Done,
    });
    let gw = Gateway::start("").await;
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target(&a), target(&b)]}).to_string();
    let resp = gw
        .chat(hi_stream("m"), &[("x-portkey-config", &config)])
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert!(resp.text().await.unwrap().contains(" b\""));
}

#[tokio::test]
async fn a_stream_that_dies_before_its_first_event_falls_back() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    a.push(Reply::Sse {
        events: vec![],
        gap: Duration::ZERO,
        end: StreamEnd::Cut,
    });
    let gw = Gateway::start("").await;
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target(&a), target(&b)]}).to_string();
    let resp = gw
        .chat(hi_stream("m"), &[("x-portkey-config", &config)])
        .await;
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert!(resp.text().await.unwrap().ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn a_cut_mid_stream_ends_with_an_sse_error_event() {
    let mock = MockServer::start("a").await;
    let mut events = switchyard_mock::chat_chunks("a", "m", false);
    events.truncate(2);
    mock.push(Reply::Sse {
        events,
        gap: Duration::ZERO,
        end: StreamEnd::Cut,
    });
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.contains("[DONE]"));
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: error\ndata: "), "{text}");
    let err: Value = serde_json::from_str(last.trim_start_matches("event: error\ndata: ")).unwrap();
    assert_eq!(err["error"]["code"], "upstream_stream_error");
    // Both content events before the cut were delivered whole.
    assert_eq!(data_events(&text).len(), 2);
}

#[tokio::test]
async fn a_stalled_stream_is_cut_after_the_request_timeout() {
    let mock = MockServer::start("a").await;
    let mut events = switchyard_mock::chat_chunks("a", "m", false);
    events.truncate(2);
    mock.push(Reply::Sse {
        events,
        gap: Duration::ZERO,
        end: StreamEnd::Stall,
    });
    let gw = Gateway::start("").await;
    let routing = via(&mock);
    let mut h = refs(&routing);
    h.push(("x-portkey-request-timeout", "300"));
    let resp = gw.chat(hi_stream("m"), &h).await;
    let text = tokio::time::timeout(Duration::from_secs(20), resp.text())
        .await
        .expect("not hung")
        .unwrap();
    assert!(text.contains("event: error"), "{text}");
    assert!(text.contains("stalled for more than 300ms"), "{text}");
}

#[tokio::test]
async fn a_stream_that_closes_cleanly_without_done_is_reported() {
    let mock = MockServer::start("a").await;
    let mut events = switchyard_mock::chat_chunks("a", "m", false);
    events.truncate(3);
    mock.push(Reply::Sse {
        events,
        gap: Duration::ZERO,
        end: StreamEnd::Close,
    });
    let gw = Gateway::start("").await;
    let text = gw
        .chat(hi_stream("m"), &refs(&via(&mock)))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(data_events(&text).len(), 3, "{text}");
    assert!(text.contains("event: error"), "{text}");
    assert!(text.contains("no [DONE]"), "{text}");
}

#[tokio::test]
async fn an_upstream_error_status_on_a_stream_request_is_a_json_error() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(429, "rate limited"));
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    let (status, body) = error_of(resp).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["message"], "rate limited");
}

#[tokio::test]
async fn an_event_arriving_in_many_pieces_is_forwarded_whole() {
    let mock = MockServer::start("a").await;
    let event = format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": "x".repeat(4000)}}]})
    );
    let mut chunks: Vec<bytes::Bytes> = event
        .as_bytes()
        .chunks(7)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    chunks.push(bytes::Bytes::from_static(b"data: [DONE]\n\n"));
    mock.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks,
        gap: Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let text = gw
        .chat(hi_stream("m"), &refs(&via(&mock)))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text, format!("{event}data: [DONE]\n\n"));
}

#[tokio::test]
async fn an_event_larger_than_16_mib_is_refused_not_buffered_forever() {
    let mock = MockServer::start("a").await;
    let head = r#"data: {"choices":[{"index":0,"delta":{"content":""#;
    let mut chunks = vec![
        bytes::Bytes::from(format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": "hi"}}]})
        )),
        bytes::Bytes::from(head),
    ];
    chunks.extend(std::iter::repeat_n(
        bytes::Bytes::from(vec![b'x'; 1 << 20]),
        17,
    ));
    mock.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks,
        gap: Duration::ZERO,
    });
    let gw = Gateway::start("").await;
    let text = gw
        .chat(hi_stream("m"), &refs(&via(&mock)))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.len() < 1 << 20,
        "the oversized event was not forwarded"
    );
    assert!(
        text.contains("event: error"),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(text.contains("larger than 16 MiB"));
}

#[tokio::test]
async fn without_a_fallback_or_retry_the_first_event_is_sent_at_once() {
    // Nothing could recover from a failure after the opening chunk, so it is not held back
    // waiting for content (which here comes a minute later).
    let mock = MockServer::start("a").await;
    mock.push(Reply::Sse {
        events: vec![
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#.into(),
            r#"{"choices":[{"index":0,"delta":{"content":"late"}}]}"#.into(),
        ],
        gap: Duration::from_secs(60),
        end: StreamEnd::Done,
    });
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the opening chunk arrives before the content")
        .unwrap()
        .unwrap();
    assert!(std::str::from_utf8(&first)
        .unwrap()
        .contains("\"role\":\"assistant\""));
}
