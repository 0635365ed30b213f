//! Uploads to pass-through paths (audio transcriptions, files) are streamed to the upstream as
//! they arrive: larger than `server.max_body_size`, bounded by `server.max_upload_size`, sent
//! once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

/// A multipart body with one file part of `size` bytes.
fn multipart(size: usize) -> (String, Vec<u8>) {
    let boundary = "switchyard-test-boundary";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\ncontent-type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(0x42u8, size));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    gw: &Gateway,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut rb = reqwest::Client::new()
        .post(gw.url("/v1/audio/transcriptions"))
        .header("content-type", content_type)
        .body(body);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn an_upload_larger_than_the_body_limit_streams_through_whole() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("server:\n  max_body_size: 64KiB\n  max_upload_size: 8MiB\n").await;
    let (ct, body) = multipart(3 << 20);
    let len = body.len();
    let resp = upload(&gw, &ct, body, &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["text"], "Hello from openai");
    assert_eq!(v["bytes_received"], json!(len), "every byte arrived");
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/audio/transcriptions");
    assert!(sent
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data"));
}

#[tokio::test]
async fn an_upload_over_the_upload_limit_is_a_413_before_anything_is_sent() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("server:\n  max_upload_size: 1MiB\n").await;
    let (ct, body) = multipart(2 << 20);
    let (status, e) = error_of(upload(&gw, &ct, body, &refs(&via(&mock))).await).await;
    assert_eq!(status, 413);
    assert_eq!(e["error"]["code"], "payload_too_large");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_streamed_upload_is_sent_once_and_not_to_a_fallback() {
    let first = MockServer::start("first").await;
    first.push(Reply::status(
        500,
        json!({"error": {"message": "down", "type": "server_error"}}),
    ));
    let second = MockServer::start("second").await;
    let gw = Gateway::start("").await;
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target(&first), target(&second)]});
    let (ct, body) = multipart(1024);
    let resp = upload(&gw, &ct, body, &[("x-portkey-config", &config.to_string())]).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let text = resp.text().await.unwrap();
    assert!(text.contains("sent once"), "{text}");
    assert_eq!(first.requests().len(), 1);
    assert!(
        second.requests().is_empty(),
        "the upload was not sent twice"
    );
}

#[tokio::test]
async fn json_bodies_on_pass_through_paths_are_still_read_and_bounded() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("server:\n  max_body_size: 1KiB\n").await;
    let big = json!({"input": "x".repeat(4096)});
    let (status, _) = error_of(gw.post("/v1/moderations", big, &refs(&via(&mock))).await).await;
    assert_eq!(status, 413);
}
