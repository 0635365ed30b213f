//! The pipeline seam through the real server: every phase is reached, hooks can answer, skip
//! and cut, and the on-complete phase sees every request exactly once with its final status,
//! bytes and usage — streams, failures, refusals and clients that hang up included.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{HeaderMap, StatusCode};
use serde_json::json;
use switchyard_gateway::context::RequestContext;
use switchyard_gateway::pipeline::{
    AttemptDecision, AttemptRecord, ChunkAction, EarlyAnswer, Hook, HookFuture, Phases,
    RequestRecord, StreamTap,
};
use switchyard_gateway::routing::tree::{Leaf, Node};
use switchyard_types::usage::TokenUsage;

/// Records what the attempt-end and on-complete phases see.
#[derive(Default)]
struct Recorder {
    completed: Mutex<Vec<RequestRecord>>,
    tries: Mutex<Vec<(String, Option<u16>)>>,
}

impl Hook for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn phases(&self) -> Phases {
        Phases {
            attempt_end: true,
            on_complete: true,
            ..Phases::default()
        }
    }
    fn attempt_end(&self, a: &AttemptRecord) {
        self.tries
            .lock()
            .unwrap()
            .push((a.target.to_owned(), a.status.map(|s| s.as_u16())));
    }
    fn on_complete(&self, r: &RequestRecord) {
        self.completed.lock().unwrap().push(r.clone());
    }
}

impl Recorder {
    /// Waits for `n` completed requests (a stream completes when its body ends).
    async fn wait_for(&self, n: usize) -> Vec<RequestRecord> {
        for _ in 0..500 {
            {
                let done = self.completed.lock().unwrap();
                if done.len() >= n {
                    return done.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{n} requests did not complete");
    }
}

async fn recorded(hooks: Vec<Arc<dyn Hook>>) -> (Gateway, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let mut all: Vec<Arc<dyn Hook>> = vec![rec.clone()];
    all.extend(hooks);
    (Gateway::start_with_hooks("", all).await, rec)
}

#[tokio::test]
async fn a_whole_answer_completes_once_with_its_status_bytes_and_usage() {
    let mock = MockServer::start("a").await;
    let (gw, rec) = recorded(vec![]).await;
    let h = via(&mock);
    let resp = gw.chat(hi("gpt"), &refs(&h)).await;
    let body = resp.bytes().await.unwrap();
    let r = &rec.wait_for(1).await[0];
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.op, "chat_completions");
    assert_eq!(r.route, "request");
    assert_eq!(r.model.as_deref(), Some("gpt"));
    assert_eq!(r.provider_slug(), "openai");
    assert_eq!(r.target.as_deref(), Some("config"));
    assert_eq!(r.bytes, body.len() as u64);
    assert_eq!(r.usage, Some(TokenUsage::new(5, 3)));
    assert_eq!(r.attempts, 1);
    assert!(!r.client_gone && r.error.is_none());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.completed.lock().unwrap().len(), 1, "exactly once");
}

#[tokio::test]
async fn a_stream_the_client_asked_no_usage_of_still_reports_usage_without_the_extra_chunk() {
    let mock = MockServer::start("a").await;
    let (gw, rec) = recorded(vec![]).await;
    let h = via(&mock);
    let resp = gw.chat(hi_stream("gpt"), &refs(&h)).await;
    let text = String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap();
    let sent = mock.requests()[0].json();
    assert_eq!(
        sent["stream_options"]["include_usage"], true,
        "the gateway asked the upstream for usage"
    );
    assert!(
        !text.contains("\"usage\":{"),
        "the usage chunk was not forwarded: {text}"
    );
    assert!(text.ends_with("data: [DONE]\n\n"));
    let r = &rec.wait_for(1).await[0];
    assert_eq!(r.usage, Some(TokenUsage::new(5, 3)));
    assert!(r.stream && r.stream_error.is_none() && !r.client_gone);
    assert_eq!(r.bytes, text.len() as u64);
}

#[tokio::test]
async fn a_stream_that_asked_for_usage_gets_its_usage_chunk() {
    let mock = MockServer::start("a").await;
    let (gw, rec) = recorded(vec![]).await;
    let h = via(&mock);
    let mut body = hi_stream("gpt");
    body["stream_options"] = json!({"include_usage": true});
    let text = String::from_utf8(
        gw.chat(body, &refs(&h))
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("\"usage\":{"));
    assert_eq!(rec.wait_for(1).await[0].usage, Some(TokenUsage::new(5, 3)));
}

#[tokio::test]
async fn other_stream_options_are_kept_when_usage_is_added() {
    let mock = MockServer::start("a").await;
    let (gw, _rec) = recorded(vec![]).await;
    let h = via(&mock);
    let mut body = hi_stream("gpt");
    body["stream_options"] = json!({"include_obfuscation": false});
    gw.chat(body, &refs(&h)).await.bytes().await.unwrap();
    let sent = mock.requests()[0].json();
    assert_eq!(
        sent["stream_options"],
        json!({"include_obfuscation": false, "include_usage": true})
    );
}

#[tokio::test]
async fn a_native_stream_reports_usage_the_client_did_not_ask_for_without_sending_it() {
    let mock = MockServer::start("anthropic").await;
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": [], "stop_reason": null, "usage": {"input_tokens": 11, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let sse: String = events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect();
    mock.push(Reply::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        chunks: vec![Bytes::from(sse)],
        gap: Duration::ZERO,
    });
    let (gw, rec) = recorded(vec![]).await;
    let config = json!({"provider": "anthropic", "api_key": "sk-ant",
        "custom_host": format!("http://{}/v1", mock.addr())});
    let text = String::from_utf8(
        gw.chat_config(hi_stream("claude-x"), &config)
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains("\"content\":\"Hi\""), "{text}");
    assert!(!text.contains("\"usage\""), "{text}");
    let r = &rec.wait_for(1).await[0];
    assert_eq!(r.provider_slug(), "anthropic");
    assert_eq!(r.usage.map(|u| (u.input, u.output)), Some((11, 7)));
}

#[tokio::test]
async fn failures_and_refusals_complete_too() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(500, "boom"));
    let (gw, rec) = recorded(vec![]).await;
    let h = via(&mock);
    assert_eq!(gw.chat(hi("m"), &refs(&h)).await.status(), 500);
    let resp = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let done = rec.wait_for(2).await;
    assert_eq!(done[0].status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(done[0].error, Some("upstream_error"));
    assert_eq!(done[0].target.as_deref(), Some("config"));
    assert_eq!(done[1].status, StatusCode::BAD_REQUEST);
    assert_eq!(done[1].error, Some("bad_body"));
    assert_eq!(done[1].route, "-");
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_stream_is_recorded_as_gone() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::long_stream(50, Duration::from_millis(40)));
    let (gw, rec) = recorded(vec![]).await;
    let h = via(&mock);
    let mut resp = gw.chat(hi_stream("m"), &refs(&h)).await;
    assert!(resp.chunk().await.unwrap().is_some());
    drop(resp);
    let r = &rec.wait_for(1).await[0];
    assert!(r.client_gone, "{r:?}");
    assert!(r.bytes > 0);
}

#[tokio::test]
async fn attempt_end_sees_every_try() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::error(503, "busy"));
    let (gw, rec) = recorded(vec![]).await;
    let mut t = target(&mock);
    t["retry"] = json!({"attempts": 2});
    let gw2 = Gateway::start_with_hooks(
        "server:\n  retry_base_delay: 1ms\n  retry_max_delay: 2ms\n",
        vec![rec.clone()],
    )
    .await;
    drop(gw);
    let resp = gw2.chat_config(hi("m"), &t).await;
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    assert_eq!(
        *rec.tries.lock().unwrap(),
        [
            ("config".to_owned(), Some(503)),
            ("config".to_owned(), Some(200))
        ]
    );
    assert_eq!(rec.wait_for(1).await[0].attempts, 2);
}

/// Answers every request itself (a cache hit, say).
struct Answering;

impl Hook for Answering {
    fn name(&self) -> &'static str {
        "answering"
    }
    fn phases(&self) -> Phases {
        Phases {
            on_request: true,
            ..Phases::default()
        }
    }
    fn on_request<'a>(
        &'a self,
        req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        let model = req.model.clone();
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            headers.insert("x-answered-by", "hook".parse().unwrap());
            Some(EarlyAnswer {
                status: StatusCode::OK,
                headers,
                body: Bytes::from(format!("{{\"model\":{:?}}}", model.unwrap_or_default())),
            })
        })
    }
}

#[tokio::test]
async fn an_on_request_hook_can_answer_without_the_engine() {
    let mock = MockServer::start("a").await;
    let (gw, rec) = recorded(vec![Arc::new(Answering)]).await;
    let h = via(&mock);
    let resp = gw.chat(hi("gpt"), &refs(&h)).await;
    assert_eq!(header(&resp, "x-answered-by"), "hook");
    assert_eq!(resp.text().await.unwrap(), "{\"model\":\"gpt\"}");
    assert_eq!(mock.hits(), 0);
    assert_eq!(rec.wait_for(1).await[0].status, StatusCode::OK);
}

/// Skips targets whose path ends in `[0]`, answers for `[2]`.
struct PerTarget;

impl Hook for PerTarget {
    fn name(&self) -> &'static str {
        "per_target"
    }
    fn phases(&self) -> Phases {
        Phases {
            per_attempt: true,
            ..Phases::default()
        }
    }
    fn per_attempt<'a>(
        &'a self,
        _req: &'a RequestContext,
        _leaf: &'a Leaf,
        path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        Box::pin(async move {
            if path.ends_with("[0]") {
                AttemptDecision::Skip("not today".into())
            } else if path.ends_with("[2]") {
                AttemptDecision::Answer(EarlyAnswer {
                    status: StatusCode::OK,
                    headers: HeaderMap::new(),
                    body: Bytes::from_static(b"{\"cached\":true}"),
                })
            } else {
                AttemptDecision::Proceed
            }
        })
    }
}

#[tokio::test]
async fn a_per_attempt_hook_can_skip_a_target_or_answer_for_it() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let (gw, _rec) = recorded(vec![Arc::new(PerTarget)]).await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [target(&a), target(&b)]});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    assert_eq!((a.hits(), b.hits()), (0, 1));

    b.push(Reply::error(500, "down"));
    let config = json!({"strategy": {"mode": "fallback"},
        "targets": [target(&a), target(&b), target(&a)]});
    let resp = gw.chat_config(hi("m"), &config).await;
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[2]"
    );
    assert_eq!(resp.text().await.unwrap(), "{\"cached\":true}");
    assert_eq!(a.hits(), 0);
}

/// Cuts every stream after its first chunk.
struct Cutter;

struct CutTap;

impl StreamTap for CutTap {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        let mut out = chunk.to_vec();
        out.extend_from_slice(b"event: error\ndata: {\"error\":{\"message\":\"cut\"}}\n\n");
        ChunkAction::Cut(Bytes::from(out))
    }
}

impl Hook for Cutter {
    fn name(&self) -> &'static str {
        "cutter"
    }
    fn phases(&self) -> Phases {
        Phases {
            per_chunk: true,
            ..Phases::default()
        }
    }
    fn on_stream(&self, _r: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        Some(Box::new(CutTap))
    }
}

#[tokio::test]
async fn a_stream_tap_can_cut_a_stream() {
    let mock = MockServer::start("a").await;
    mock.push(Reply::long_stream(20, Duration::from_millis(5)));
    let (gw, rec) = recorded(vec![Arc::new(Cutter)]).await;
    let h = via(&mock);
    let text = gw
        .chat(hi_stream("m"), &refs(&h))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.ends_with("{\"message\":\"cut\"}}\n\n"), "{text}");
    assert!(!text.contains("tick 5"));
    let r = &rec.wait_for(1).await[0];
    assert_eq!(r.stream_error.as_deref(), Some("cut by the pipeline"));
    assert_eq!(r.bytes, text.len() as u64);
}

/// Keeps a note per request at the per-attempt phase, adds a response header from it, and sees
/// a whole body as one chunk through its tap.
#[derive(Default)]
struct Noting {
    seen: Arc<Mutex<Vec<(String, usize)>>>,
}

#[derive(Clone)]
struct Note(String);

struct NoteTap {
    note: String,
    seen: Arc<Mutex<Vec<(String, usize)>>>,
    bytes: usize,
}

impl StreamTap for NoteTap {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        self.bytes += chunk.len();
        ChunkAction::Send(chunk)
    }
    fn on_end(&mut self, _usage: Option<TokenUsage>) -> Option<Bytes> {
        self.seen
            .lock()
            .unwrap()
            .push((self.note.clone(), self.bytes));
        None
    }
}

impl Hook for Noting {
    fn name(&self) -> &'static str {
        "noting"
    }
    fn phases(&self) -> Phases {
        Phases {
            per_attempt: true,
            per_chunk: true,
            ..Phases::default()
        }
    }
    fn per_attempt<'a>(
        &'a self,
        req: &'a RequestContext,
        _leaf: &'a Leaf,
        path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        let note = format!("tried {path}");
        req.with_scratch(|s| {
            let mut headers = HeaderMap::new();
            headers.insert("x-noted", note.parse().unwrap());
            s.insert(switchyard_gateway::pipeline::ExtraHeaders(headers));
            s.insert(Note(note));
        });
        Box::pin(std::future::ready(AttemptDecision::Proceed))
    }
    fn on_stream(&self, r: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        let note = r.extensions.get::<Note>()?.0.clone();
        Some(Box::new(NoteTap {
            note,
            seen: self.seen.clone(),
            bytes: 0,
        }))
    }
}

#[tokio::test]
async fn hooks_keep_per_request_state_add_headers_and_see_whole_bodies() {
    let mock = MockServer::start("a").await;
    let noting = Arc::new(Noting::default());
    let seen = noting.seen.clone();
    let (gw, _rec) = recorded(vec![noting]).await;
    let h = via(&mock);
    let resp = gw.chat(hi("m"), &refs(&h)).await;
    assert_eq!(header(&resp, "x-noted"), "tried config");
    let body = resp.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [("tried config".to_owned(), body.len())],
        "the tap saw the whole body once"
    );
}
