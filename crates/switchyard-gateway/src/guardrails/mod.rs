//! Guardrails: Portkey's hooks — checks before and after a request that deny (446), flag
//! (246) or rewrite it — on the pipeline seam.
//!
//! - `spec.rs`: the config dialect (hook objects, shorthand, named guardrails) → prepared hooks
//!   on each leaf.
//! - `run.rs`: running a hook's checks, verdicts, rewrites and Portkey's result shapes.
//! - This file: the pipeline hook. Input hooks run in the *per attempt* phase (once per target
//!   tried; a denial fails the target, so a fallback moves on), output hooks in the *on
//!   response* phase (on each 2xx; a denial fails the target too), and `hook_results` is added
//!   to the answer. Streams: see `stream.rs`.
//!
//! The checks themselves live in the `switchyard-guardrails` crate (pure) and, for those that
//! do I/O, here: `webhook.rs`, `log.rs` and `jwt.rs` (its JWKS cache in `jwks.rs`), all
//! reaching the network through `outbound.rs`.

mod jwks;
mod jwt;
mod log;
pub(crate) mod outbound;
pub mod run;
pub mod spec;
mod stream;
mod valid_urls;
pub mod webhook;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Map, Value};
use switchyard_guardrails::{HookEvent, Registry, RequestType};
use switchyard_providers::Endpoint;

use crate::cache::replay::{to_sse, Assembler};
use crate::context::{Operation, RequestContext};
use crate::engine::wire::upstream_body;
use crate::pipeline::{
    AttemptDecision, AttemptResponse, EarlyAnswer, Hook, HookFuture, Phases, RequestRecord,
    ResponseDecision, StreamTap,
};
use crate::routing::tree::Leaf;
use run::{HookResult, HookResults, Owned, Subject};

/// Portkey's status for an answer whose hooks failed without denying it.
pub const HOOKS_FLAGGED: u16 = 246;
/// Portkey's status for a request a hook denied.
pub const HOOKS_DENIED: u16 = 446;

/// Every check a config may name: the pure built-ins and the gateway's own (webhook, log, jwt).
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    webhook::register(&mut r);
    log::register(&mut r);
    jwt::register(&mut r);
    valid_urls::register(&mut r);
    r
}

/// Runs the hooks of targets that have them.
pub struct GuardrailHook;

/// How many checks passed and failed for one request (scratch), for metrics and the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub passed: u32,
    pub failed: u32,
}

fn record_outcome(req: &RequestContext, results: &[run::HookResult]) {
    if results.is_empty() {
        return;
    }
    let (mut passed, mut failed) = (0u32, 0u32);
    for check in results.iter().flat_map(|h| &h.checks) {
        if check.verdict {
            passed = passed.saturating_add(1);
        } else {
            failed = failed.saturating_add(1);
        }
    }
    req.with_scratch(|s| {
        let o = s.get_or_insert_default::<Outcome>();
        o.passed = o.passed.saturating_add(passed);
        o.failed = o.failed.saturating_add(failed);
    });
}

/// What the input hooks of the target being tried reported, for its answer.
#[derive(Clone, Default)]
struct Before {
    target: Arc<str>,
    results: Vec<HookResult>,
    failed: bool,
    /// The request as the input hooks left it, so output hooks don't parse it again.
    request: Option<Value>,
}

/// The request as a target's output checks see it: the one its input hooks read (and maybe
/// rewrote), or else parsed from the body sent.
fn request_json(leaf: &Leaf, req: &RequestContext, kept: Option<Value>) -> Value {
    kept.or_else(|| {
        upstream_body(leaf, req)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    })
    .unwrap_or(Value::Null)
}

fn request_type(req: &RequestContext) -> RequestType {
    match req.op {
        Operation::Endpoint(Endpoint::ChatCompletions) => RequestType::ChatComplete,
        Operation::Endpoint(Endpoint::Completions) => RequestType::Complete,
        Operation::Endpoint(Endpoint::Embeddings) => RequestType::Embed,
        Operation::Endpoint(Endpoint::Messages) => RequestType::Messages,
        Operation::Endpoint(
            Endpoint::ImageGenerations
            | Endpoint::Responses
            | Endpoint::CountTokens
            | Endpoint::Rerank,
        ) => RequestType::Other,
        Operation::Proxy { .. } => RequestType::Other,
    }
}

/// Portkey's 446 body: an OpenAI error of type `hooks_failed` and the hook results.
fn denied(before: &[HookResult], after: &[HookResult]) -> EarlyAnswer {
    let body = json!({
        "error": {
            "message": "The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.",
            "type": "hooks_failed",
            "param": null,
            "code": null,
        },
        "hook_results": {"before_request_hooks": before, "after_request_hooks": after},
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    EarlyAnswer {
        status: StatusCode::from_u16(HOOKS_DENIED).unwrap_or(StatusCode::FORBIDDEN),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

impl GuardrailHook {
    async fn before(&self, req: &RequestContext, leaf: &Leaf, path: &str) -> AttemptDecision {
        // Pass-through (`/v1/*` proxy) requests are not checked, as in Portkey.
        let (Some(hooks), Operation::Endpoint(_)) = (&leaf.hooks, &req.op) else {
            return AttemptDecision::Proceed;
        };
        if hooks.before.is_empty() {
            return AttemptDecision::Proceed;
        }
        let rt = request_type(req);
        let Some(request) = upstream_body(leaf, req)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        else {
            // A body the checks can't read: fail closed when a hook could deny it.
            if hooks.before.iter().any(|h| h.deny && !h.run_async) {
                return AttemptDecision::Fail(denied(&[], &[]));
            }
            return AttemptDecision::Proceed;
        };
        let s = Subject {
            event: HookEvent::BeforeRequest,
            request_type: rt,
            request: &request,
            response: None,
            provider: &leaf.provider.slug,
            metadata: &req.metadata,
            headers: Some(&req.client_headers),
        };
        let v = run::run(&hooks.before, &s).await;
        record_outcome(req, &v.results);
        run::run_detached(
            &hooks.before,
            rt,
            || Owned {
                request: request.clone(),
                response: None,
                provider: leaf.provider.slug.clone(),
                metadata: req.metadata.clone(),
                headers: req.client_headers.clone(),
            },
            req.trace_id.clone(),
        );
        if v.deny {
            return AttemptDecision::Fail(denied(&v.results, &[]));
        }
        let rewrite = v
            .transformed
            .as_ref()
            .and_then(|t| serde_json::to_vec(t).ok());
        let seen = match (&rewrite, v.transformed) {
            (Some(_), Some(t)) => t,
            _ => request,
        };
        req.with_scratch(|x| {
            x.insert(Before {
                target: path.into(),
                results: v.results,
                failed: v.failed,
                request: Some(seen),
            })
        });
        match rewrite {
            Some(body) => AttemptDecision::Rewrite(Bytes::from(body)),
            None => AttemptDecision::Proceed,
        }
    }

    async fn after(
        &self,
        req: &RequestContext,
        leaf: &Leaf,
        path: &str,
        resp: &mut AttemptResponse,
    ) -> ResponseDecision {
        let (Some(hooks), Operation::Endpoint(_)) = (&leaf.hooks, &req.op) else {
            return ResponseDecision::Accept;
        };
        // This target's input results, taken: its answer is reviewed once.
        let mut before = req
            .with_scratch(|x| match x.get::<Before>() {
                Some(b) if &*b.target == path => x.remove::<Before>(),
                _ => None,
            })
            .unwrap_or_default();
        let rt = request_type(req);
        let Some(body) = resp.body.as_ref() else {
            // A stream: its output hooks see it as it goes (`stream.rs`).
            if before.failed && resp.status == StatusCode::OK {
                resp.status = flagged();
            }
            stream::prepare(req, leaf, rt, before.results, before.request);
            return ResponseDecision::Accept;
        };
        // A whole body that is an event stream: a cached stream replayed (its output hooks
        // run on the answer it assembles to, like a live stream's).
        let endpoint = match req.op {
            Operation::Endpoint(e) => Some(e),
            Operation::Proxy { .. } => None,
        };
        let sse = endpoint.filter(|_| req.stream && !body.trim_ascii_start().starts_with(b"{"));
        let mut after = run::Verdicts::default();
        let mut rewritten = None;
        if !hooks.after.is_empty() && resp.status == StatusCode::OK {
            let parsed = match sse {
                Some(e) => {
                    let mut a = Assembler::new(e, usize::MAX);
                    a.push(body);
                    a.finish(None)
                        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
                }
                None => serde_json::from_slice::<Value>(body).ok(),
            };
            let Some(response) = parsed else {
                // Not an answer the checks can read: fail closed when a hook could deny it.
                if hooks.after_denies() {
                    return ResponseDecision::Fail(denied(&before.results, &[]));
                }
                return ResponseDecision::Accept;
            };
            let request = request_json(leaf, req, before.request.take());
            let s = Subject {
                event: HookEvent::AfterRequest,
                request_type: rt,
                request: &request,
                response: Some(&response),
                provider: &leaf.provider.slug,
                metadata: &req.metadata,
                headers: Some(&req.client_headers),
            };
            after = run::run(&hooks.after, &s).await;
            record_outcome(req, &after.results);
            run::run_detached(
                &hooks.after,
                rt,
                || Owned {
                    request: request.clone(),
                    response: Some(response.clone()),
                    provider: leaf.provider.slug.clone(),
                    metadata: req.metadata.clone(),
                    headers: req.client_headers.clone(),
                },
                req.trace_id.clone(),
            );
            if after.deny {
                return ResponseDecision::Fail(denied(&before.results, &after.results));
            }
            rewritten = after.transformed.take();
        }
        if before.results.is_empty() && after.results.is_empty() {
            return ResponseDecision::Accept;
        }
        if (before.failed || after.failed) && resp.status == StatusCode::OK {
            resp.status = flagged();
        }
        if let Some(e) = sse {
            // A replayed stream carries no `hook_results` member; a rewrite is replayed.
            if let Some(b) = rewritten
                .and_then(|v| serde_json::to_vec(&v).ok())
                .and_then(|b| to_sse(e, &b, req.include_usage))
            {
                resp.body = Some(b);
            }
            return ResponseDecision::Accept;
        }
        let answer = match &rewritten {
            Some(v) => serde_json::to_vec(v).ok().map(Bytes::from),
            None => Some(body.clone()),
        };
        let results = HookResults {
            before_request_hooks: &before.results,
            after_request_hooks: &after.results,
        };
        if let Some(b) = answer.and_then(|a| with_hook_results(&a, &results)) {
            resp.body = Some(b);
        }
        ResponseDecision::Accept
    }
}

/// The JSON object `answer` with `hook_results` added as its last member: written after the
/// answer's own bytes (no parse of the answer), unless it already has a member of that name.
fn with_hook_results(answer: &[u8], results: &HookResults<'_>) -> Option<Bytes> {
    let trimmed = answer.trim_ascii();
    let inner = trimmed.strip_prefix(b"{")?.strip_suffix(b"}")?;
    if memchr::memmem::find(inner, b"\"hook_results\"").is_some() {
        let mut obj: Map<String, Value> = serde_json::from_slice(trimmed).ok()?;
        obj.insert("hook_results".into(), serde_json::to_value(results).ok()?);
        return serde_json::to_vec(&obj).ok().map(Bytes::from);
    }
    let rendered = serde_json::to_vec(results).ok()?;
    let mut out = Vec::with_capacity(trimmed.len() + rendered.len() + 20);
    out.push(b'{');
    out.extend_from_slice(inner);
    if !inner.trim_ascii().is_empty() {
        out.push(b',');
    }
    out.extend_from_slice(b"\"hook_results\":");
    out.extend_from_slice(&rendered);
    out.push(b'}');
    Some(Bytes::from(out))
}

fn flagged() -> StatusCode {
    StatusCode::from_u16(HOOKS_FLAGGED).unwrap_or(StatusCode::OK)
}

impl Hook for GuardrailHook {
    fn name(&self) -> &'static str {
        "guardrails"
    }

    fn phases(&self) -> Phases {
        Phases {
            per_attempt: true,
            on_response: true,
            per_chunk: true,
            ..Phases::default()
        }
    }

    fn wants_attempt(&self, leaf: &Leaf) -> bool {
        leaf.hooks.is_some()
    }

    fn per_attempt<'a>(
        &'a self,
        req: &'a RequestContext,
        leaf: &'a Leaf,
        path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        Box::pin(self.before(req, leaf, path))
    }

    fn wants_response(&self, leaf: &Leaf) -> bool {
        leaf.hooks.is_some()
    }

    fn on_response<'a>(
        &'a self,
        req: &'a RequestContext,
        leaf: &'a Leaf,
        path: &'a str,
        resp: &'a mut AttemptResponse,
    ) -> HookFuture<'a, ResponseDecision> {
        Box::pin(self.after(req, leaf, path, resp))
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        stream::tap(record)
    }
}
