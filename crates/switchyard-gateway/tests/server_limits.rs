//! The server's own limits against slow and greedy clients: request-head and body timeouts, a
//! connection limit and a concurrency limit that shed with a 503 instead of queueing without
//! bound.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Everything the server sends until it closes the connection (or 5 s pass).
async fn read_all(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_client_that_trickles_its_request_head_is_disconnected() {
    let gw = Gateway::start("server:\n  header_read_timeout: 200ms\n").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("the server closed the connection");
    assert!(matches!(read, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408"));
}

#[tokio::test]
async fn a_client_that_never_finishes_its_body_gets_a_408() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("server:\n  body_read_timeout: 200ms\n").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-portkey-provider: openai\r\nx-portkey-custom-host: {}\r\nauthorization: Bearer k\r\ncontent-length: 100\r\n\r\n{{\"model\":",
        mock.url()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let text = read_all(&mut tcp).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("not received within 200ms"), "{text}");
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn connections_beyond_the_limit_get_a_503_and_are_closed() {
    let gw = Gateway::start("server:\n  max_connections: 2\n").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
        // A request answered on each: the server has accepted both and keeps them open.
        tcp.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(tcp);
    }
    let mut third = TcpStream::connect(gw.addr).await.unwrap();
    let text = read_all(&mut third).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 1"));
    assert!(text.contains("\"code\":\"overloaded\""));

    drop(held);
    // The permits come back when the connections close.
    let mut ok = false;
    for _ in 0..100 {
        if gw
            .http
            .get(gw.url("/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "served again once the connections closed");
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_are_shed_with_retry_after() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::long_stream(10, Duration::from_millis(50)));
    let gw = Gateway::start("server:\n  max_concurrent_requests: 1\n").await;
    let h = via(&mock);
    let first = gw.chat(hi_stream("m"), &refs(&h)).await;
    assert_eq!(first.status(), 200);

    // The stream is still going: it counts as in flight.
    let second = reqwest::Client::new()
        .post(gw.url("/v1/chat/completions"))
        .json(&hi("m"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(header(&second, "retry-after"), "1");
    let (_, body) = error_of(second).await;
    assert_eq!(body["error"]["code"], "overloaded");

    first.bytes().await.unwrap();
    let third = gw.chat(hi("m"), &refs(&h)).await;
    assert_eq!(
        third.status(),
        200,
        "the permit came back when the stream ended"
    );
}
