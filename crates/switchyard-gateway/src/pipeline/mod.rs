//! The request pipeline: the documented phases around the routing engine where everything that
//! is not routing attaches — caching, guardrails, keys, limits and budgets, metrics, traces, the
//! request log. A feature is one [`Hook`] registered here, never a branch inside the engine.
//!
//! The phases, in the order a request meets them (docs/architecture.md draws the whole way):
//!
//! | phase | runs | may | method |
//! |---|---|---|---|
//! | transport layers (tower, `http::layers`) | per request, before the body is read | refuse early (shed 503) | — |
//! | on request | once, after the route is resolved | answer without the engine | [`Hook::on_request`] |
//! | per attempt | for each target tried, before its first try | skip the target or answer for it | [`Hook::per_attempt`] |
//! | attempt end | after each upstream try (retries included) | record | [`Hook::attempt_end`] |
//! | on response | after a target answered 2xx, before the walk accepts it | rewrite the answer, or fail the target | [`Hook::on_response`] |
//! | response head | once, when the response's status and headers are final | add headers | [`Hook::response_head`] |
//! | per chunk | each chunk of a streamed response after the commit | hold, rewrite, cut | [`Hook::on_stream`] → [`StreamTap`] |
//! | on complete | exactly once, when the response body ends or the client goes away | record | [`Hook::on_complete`] |
//!
//! A hook implements only the phases it names in [`Hook::phases`]; the pipeline keeps one list
//! per phase, so a phase nobody uses costs a slice-length check and an empty pipeline costs
//! nothing measurable (`benches/hot_paths.rs`, `bench/run`).
//!
//! *On complete* is driven by the response body's completion guard (`body.rs`): whether the
//! body ended, the stream broke, or the client hung up mid-stream, the hooks see one
//! [`RequestRecord`] with the final status, bytes, usage and whether the client went away.

pub mod access_log;
pub mod body;
pub mod meter;
pub mod record;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use switchyard_types::usage::TokenUsage;

use crate::context::RequestContext;
use crate::routing::tree::{Leaf, Node};
pub use record::{AttemptRecord, RequestRecord};

/// A boxed future borrowed for the phase's duration.
pub type HookFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which phases a hook takes part in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    pub on_request: bool,
    pub per_attempt: bool,
    pub attempt_end: bool,
    pub on_response: bool,
    pub response_head: bool,
    pub per_chunk: bool,
    pub on_complete: bool,
}

/// Response headers a hook adds to the final response (put into the request's scratch; they
/// replace upstream headers of the same name).
#[derive(Debug, Clone, Default)]
pub struct ExtraHeaders(pub http::HeaderMap);

/// A response a hook gives instead of the engine's (a cache hit, a refusal, a denied check).
#[derive(Debug, Clone)]
pub struct EarlyAnswer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// What a per-attempt hook decides for one target.
#[derive(Debug)]
pub enum AttemptDecision {
    /// Try the target.
    Proceed,
    /// Don't try it; the walk moves on as if it had failed with this reason (a fallback tries
    /// the next target).
    Skip(String),
    /// Answer for the target without calling it (a per-target cache hit).
    Answer(EarlyAnswer),
    /// Fail the target with this answer, as if it had answered it (a denied input check): a
    /// fallback moves on when its `on_status_codes` allow the status.
    Fail(EarlyAnswer),
    /// Send this body instead of the client's to this target (a rewriting input check); the
    /// hooks after this one see it too.
    Rewrite(Bytes),
}

/// A target's successful answer, as the on-response phase sees it.
#[derive(Debug)]
pub struct AttemptResponse {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    /// The whole body; `None` for a stream (see [`Hook::on_stream`] for its chunks).
    pub body: Option<Bytes>,
}

/// What an on-response hook decides.
#[derive(Debug)]
pub enum ResponseDecision {
    /// Accept the answer (as the hook may have rewritten it).
    Accept,
    /// Fail the target with this answer instead (a denied output check): a fallback moves on
    /// when its `on_status_codes` allow the status.
    Fail(EarlyAnswer),
}

/// What a stream tap does with one chunk.
#[derive(Debug)]
pub enum ChunkAction {
    /// Send these bytes (the chunk, a rewrite of it, or nothing while holding it back).
    Send(Bytes),
    /// Send these bytes and end the stream.
    Cut(Bytes),
}

/// Per-request state for the per-chunk phase, created when the response body starts: it sees a
/// stream's chunks as they go, or a whole body as one chunk.
pub trait StreamTap: Send {
    /// Sees each chunk (whole SSE events, or the whole body) before it goes to the client.
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction;
    /// The body ended complete, having reported `usage` (which may have been read from a
    /// usage chunk the client never sees): bytes still held back, if any, to send last.
    fn on_end(&mut self, _usage: Option<TokenUsage>) -> Option<Bytes> {
        None
    }
}

/// One feature's part in the pipeline. Every method does nothing by default; [`Hook::phases`]
/// says which ones the pipeline calls.
pub trait Hook: Send + Sync + 'static {
    /// A short name for logs.
    fn name(&self) -> &'static str;

    /// The phases this hook implements.
    fn phases(&self) -> Phases;

    /// Once per request, after the route is resolved and before the engine runs. `Some`
    /// answers the request without the engine.
    fn on_request<'a>(
        &'a self,
        _req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        Box::pin(std::future::ready(None))
    }

    /// Whether [`Hook::per_attempt`] has anything to do for `leaf` (a cheap check made before
    /// the hook's future is built).
    fn wants_attempt(&self, _leaf: &Leaf) -> bool {
        true
    }

    /// For each target (leaf) the walk is about to try, before its first try.
    fn per_attempt<'a>(
        &'a self,
        _req: &'a RequestContext,
        _leaf: &'a Leaf,
        _path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        Box::pin(std::future::ready(AttemptDecision::Proceed))
    }

    /// After each upstream try, retries included.
    fn attempt_end(&self, _attempt: &AttemptRecord) {}

    /// Whether [`Hook::on_response`] has anything to do for `leaf`.
    fn wants_response(&self, _leaf: &Leaf) -> bool {
        true
    }

    /// After `leaf` answered 2xx (a whole body, or a stream that committed), before the walk
    /// accepts the answer: the hook may rewrite it in place or fail the target.
    fn on_response<'a>(
        &'a self,
        _req: &'a RequestContext,
        _leaf: &'a Leaf,
        _path: &'a str,
        _resp: &'a mut AttemptResponse,
    ) -> HookFuture<'a, ResponseDecision> {
        Box::pin(std::future::ready(ResponseDecision::Accept))
    }

    /// Once per request, before its head goes out: the record is final but for the body (a
    /// whole body's usage is known; a stream's is not yet). The hook may add headers.
    fn response_head(&self, _record: &RequestRecord, _headers: &mut http::HeaderMap) {}

    /// When a response body starts (a committed stream, or a whole body): a tap to see its
    /// chunks, if this hook wants one.
    fn on_stream(&self, _record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        None
    }

    /// Exactly once per request, when its response is over.
    fn on_complete(&self, _record: &RequestRecord) {}

    /// [`Hook::on_complete`], with the record shared: a hook that sends its work off the
    /// request's thread keeps the record (an `Arc` clone) instead of copying what it needs on
    /// the request's thread (the request log, traces). Calls `on_complete` unless overridden.
    fn on_complete_shared(&self, record: &Arc<RequestRecord>) {
        self.on_complete(record);
    }

    /// Once, when the server stops, after the last request ended: write out what is still
    /// held (batched records).
    fn shutdown(&self) -> HookFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// The registered hooks, one list per phase. Built once at start-up.
#[derive(Default, Clone)]
pub struct Pipeline {
    on_request: Vec<Arc<dyn Hook>>,
    per_attempt: Vec<Arc<dyn Hook>>,
    attempt_end: Vec<Arc<dyn Hook>>,
    on_response: Vec<Arc<dyn Hook>>,
    response_head: Vec<Arc<dyn Hook>>,
    per_chunk: Vec<Arc<dyn Hook>>,
    on_complete: Vec<Arc<dyn Hook>>,
    /// Every hook, for the shutdown.
    all: Vec<Arc<dyn Hook>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: &[Arc<dyn Hook>]| v.iter().map(|h| h.name()).collect::<Vec<_>>();
        f.debug_struct("Pipeline")
            .field("on_request", &names(&self.on_request))
            .field("per_attempt", &names(&self.per_attempt))
            .field("attempt_end", &names(&self.attempt_end))
            .field("on_response", &names(&self.on_response))
            .field("response_head", &names(&self.response_head))
            .field("per_chunk", &names(&self.per_chunk))
            .field("on_complete", &names(&self.on_complete))
            .finish()
    }
}

impl Pipeline {
    /// Adds `hook` to every phase it names, after the hooks already registered there.
    pub fn register(&mut self, hook: Arc<dyn Hook>) {
        self.all.push(hook.clone());
        let p = hook.phases();
        for (wanted, list) in [
            (p.on_request, &mut self.on_request),
            (p.per_attempt, &mut self.per_attempt),
            (p.attempt_end, &mut self.attempt_end),
            (p.on_response, &mut self.on_response),
            (p.response_head, &mut self.response_head),
            (p.per_chunk, &mut self.per_chunk),
            (p.on_complete, &mut self.on_complete),
        ] {
            if wanted {
                list.push(hook.clone());
            }
        }
    }

    /// Runs the on-request phase: the first hook that answers wins.
    pub async fn on_request(&self, req: &RequestContext, route: &Node) -> Option<EarlyAnswer> {
        for h in &self.on_request {
            if let Some(answer) = h.on_request(req, route).await {
                return Some(answer);
            }
        }
        None
    }

    /// Whether any hook takes part in the per-attempt phase.
    pub fn has_per_attempt(&self) -> bool {
        !self.per_attempt.is_empty()
    }

    /// Runs the per-attempt phase for one target: the first hook that neither proceeds nor
    /// rewrites the request wins. A rewrite is kept for the target's tries (see
    /// [`RequestContext::attempt_body`]).
    pub async fn per_attempt(
        &self,
        req: &RequestContext,
        leaf: &Leaf,
        path: &str,
    ) -> AttemptDecision {
        req.set_attempt_body(None);
        for h in self.per_attempt.iter().filter(|h| h.wants_attempt(leaf)) {
            match h.per_attempt(req, leaf, path).await {
                AttemptDecision::Proceed => {}
                AttemptDecision::Rewrite(body) => req.set_attempt_body(Some(body)),
                other => return other,
            }
        }
        AttemptDecision::Proceed
    }

    /// Whether any hook looks at answers before they are accepted.
    pub fn has_on_response(&self) -> bool {
        !self.on_response.is_empty()
    }

    /// Runs the on-response phase for one target's answer: the first hook that fails the
    /// target wins.
    pub async fn on_response(
        &self,
        req: &RequestContext,
        leaf: &Leaf,
        path: &str,
        resp: &mut AttemptResponse,
    ) -> ResponseDecision {
        for h in self.on_response.iter().filter(|h| h.wants_response(leaf)) {
            if let ResponseDecision::Fail(a) = h.on_response(req, leaf, path, resp).await {
                return ResponseDecision::Fail(a);
            }
        }
        ResponseDecision::Accept
    }

    /// Whether any hook records upstream tries.
    pub fn has_attempt_end(&self) -> bool {
        !self.attempt_end.is_empty()
    }

    pub fn attempt_end(&self, attempt: &AttemptRecord) {
        for h in &self.attempt_end {
            h.attempt_end(attempt);
        }
    }

    /// Runs the response-head phase.
    pub fn response_head(&self, record: &RequestRecord, headers: &mut http::HeaderMap) {
        for h in &self.response_head {
            h.response_head(record, headers);
        }
    }

    /// The taps of the per-chunk phase for a stream that just committed.
    pub fn taps(&self, record: &RequestRecord) -> Vec<Box<dyn StreamTap>> {
        self.per_chunk
            .iter()
            .filter_map(|h| h.on_stream(record))
            .collect()
    }

    /// Whether a hook reads completed requests.
    pub fn has_on_complete(&self) -> bool {
        !self.on_complete.is_empty()
    }

    pub fn on_complete(&self, record: &Arc<RequestRecord>) {
        for h in &self.on_complete {
            h.on_complete_shared(record);
        }
    }

    /// Runs every hook's shutdown, each for at most `limit`.
    pub async fn shutdown(&self, limit: std::time::Duration) {
        for h in &self.all {
            if tokio::time::timeout(limit, h.shutdown()).await.is_err() {
                tracing::warn!(
                    hook = h.name(),
                    "a hook did not finish its shutdown in time"
                );
            }
        }
    }
}
