//! Hooks on streamed answers.
//!
//! - Input hook results go out as the stream's first SSE frame (`data: {"hook_results":
//!   {"before_request_hooks": [...]}}`) when `strict_open_ai_compliance` is `false` (config or
//!   `x-portkey-strict-open-ai-compliance: false`), as Portkey does.
//! - Output hooks run on the answer assembled from the stream, at its end. When one of them
//!   may deny or rewrite (`deny: true`, or a mutator), the stream is **held**: nothing goes to
//!   the client until the checks passed (fail closed); a denial replaces the stream with an
//!   error event carrying `hook_results`, a rewrite (PII redaction) replays the rewritten
//!   answer as a stream. Otherwise the stream flows and the verdict comes in a final frame
//!   before `[DONE]` (not strict) and in the log.
//! - Output checks on a stream run when it ends and can't wait on the network: a check that
//!   would (a webhook, a log, a JWKS fetch) counts as an error there (`failOnError` decides),
//!   and a held stream's hook fails closed on it. They see no client headers either, so a
//!   `default.jwt` output check of a stream fails (it belongs on input hooks).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use serde_json::{json, Map, Value};
use switchyard_guardrails::{HookEvent, RequestType};
use switchyard_providers::Endpoint;
use switchyard_types::usage::TokenUsage;

use super::run::{self, CheckFailure, CheckResult, HookResult, Subject, Verdicts};
use super::spec::{HookKind, LeafHooks};
use crate::cache::replay::{to_sse, Assembler};
use crate::context::{Operation, RequestContext};
use crate::pipeline::{ChunkAction, RequestRecord, StreamTap};
use crate::routing::tree::Leaf;

/// The most a held stream keeps before it fails closed.
const MAX_HELD: usize = 8 << 20;

/// What the tap of a guarded stream needs, put into the request's scratch by the on-response
/// phase.
#[derive(Clone)]
struct Guarded {
    frame: Option<Bytes>,
    after: Option<Arc<After>>,
}

struct After {
    hooks: Arc<LeafHooks>,
    request_type: RequestType,
    endpoint: Endpoint,
    request: Value,
    provider: String,
    metadata: Map<String, Value>,
    before: Vec<HookResult>,
    frames: bool,
    include_usage: bool,
    trace: Arc<str>,
}

/// Whether hook results may go out as SSE frames (Portkey: strict compliance is the default).
fn frames(req: &RequestContext, hooks: &LeafHooks) -> bool {
    hooks.result_frames || !crate::engine::native::strict_compliance(None, &req.client_headers)
}

/// Called by the on-response phase when a guarded target's stream committed.
pub(super) fn prepare(
    req: &RequestContext,
    leaf: &Leaf,
    rt: RequestType,
    before: Vec<HookResult>,
    request: Option<Value>,
) {
    let Some(hooks) = &leaf.hooks else { return };
    let frames = frames(req, hooks);
    let frame = (frames && !before.is_empty())
        .then(|| sse(&json!({"hook_results": {"before_request_hooks": before}})));
    let after = match (&req.op, hooks.after.is_empty()) {
        (Operation::Endpoint(endpoint), false) => Some(Arc::new(After {
            hooks: hooks.clone(),
            request_type: rt,
            endpoint: *endpoint,
            request: super::request_json(leaf, req, request),
            provider: leaf.provider.slug.clone(),
            metadata: req.metadata.clone(),
            before,
            frames,
            include_usage: req.include_usage,
            trace: req.trace_id.clone(),
        })),
        _ => None,
    };
    if frame.is_none() && after.is_none() {
        return;
    }
    req.with_scratch(|x| x.insert(Guarded { frame, after }));
}

/// The tap of a guarded stream, if the on-response phase prepared one.
pub(super) fn tap(record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
    let g = record.extensions.get::<Guarded>()?.clone();
    let hold = g.after.as_ref().is_some_and(|a| {
        a.hooks.after_denies()
            || a.hooks
                .after
                .iter()
                .any(|h| h.kind == HookKind::Mutator && !h.run_async)
    });
    let assembler = g
        .after
        .as_ref()
        .map(|a| Assembler::new(a.endpoint, MAX_HELD));
    Some(Box::new(GuardTap {
        frame: g.frame,
        after: g.after,
        assembler,
        hold,
        held: BytesMut::new(),
        done: None,
    }))
}

struct GuardTap {
    frame: Option<Bytes>,
    after: Option<Arc<After>>,
    assembler: Option<Assembler>,
    /// Hold everything until the output checks passed.
    hold: bool,
    held: BytesMut,
    /// The chunk with `[DONE]`, kept so a final frame can go before it.
    done: Option<Bytes>,
}

fn sse(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

impl GuardTap {
    fn with_frame(&mut self, chunk: Bytes) -> Bytes {
        match self.frame.take() {
            Some(f) if chunk.is_empty() => f,
            Some(f) => {
                let mut b = BytesMut::with_capacity(f.len() + chunk.len());
                b.extend_from_slice(&f);
                b.extend_from_slice(&chunk);
                b.freeze()
            }
            None => chunk,
        }
    }
}

impl StreamTap for GuardTap {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if let Some(a) = self.assembler.as_mut() {
            a.push(&chunk);
        }
        if self.hold {
            if self.held.len().saturating_add(chunk.len()) > MAX_HELD {
                let failed = denied_event(&[], &[], "the answer is too long to be checked");
                return ChunkAction::Cut(failed);
            }
            self.held.extend_from_slice(&chunk);
            return ChunkAction::Send(Bytes::new());
        }
        if self.after.is_some() && memchr::memmem::find(&chunk, b"data: [DONE]").is_some() {
            self.done = Some(chunk);
            let frame = self.frame.take().unwrap_or_default();
            return ChunkAction::Send(frame);
        }
        ChunkAction::Send(self.with_frame(chunk))
    }

    fn on_end(&mut self, usage: Option<TokenUsage>) -> Option<Bytes> {
        let Some(after) = self.after.take() else {
            return self.frame.take();
        };
        let frame = self.frame.take();
        let answer = self
            .assembler
            .take()
            .and_then(|a| a.finish(usage))
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let verdicts = answer.as_ref().map(|response| {
            let s = Subject {
                event: HookEvent::AfterRequest,
                request_type: after.request_type,
                request: &after.request,
                response: Some(response),
                provider: &after.provider,
                metadata: &after.metadata,
                // Not kept for a stream's end: `default.jwt` there fails.
                headers: None,
            };
            // Checks that need no I/O are ready at once; one that would wait errors.
            run::run(&after.hooks.after, &s)
                .now_or_never()
                .unwrap_or_else(|| pending_verdicts(&after))
        });
        let mut out = BytesMut::new();
        if let Some(f) = frame {
            out.extend_from_slice(&f);
        }
        let Some(v) = verdicts else {
            // The stream did not end complete (or could not be read): a held one fails closed.
            if self.hold {
                return Some(denied_event(
                    &after.before,
                    &[],
                    "the streamed answer could not be checked",
                ));
            }
            out.extend_from_slice(&self.done.take().unwrap_or_default());
            return Some(out.freeze());
        };
        tracing::info!(
            target: "switchyard::guardrails",
            trace_id = %after.trace,
            failed = v.failed,
            deny = v.deny,
            "output hooks on a stream"
        );
        if v.deny {
            return Some(denied_event(&after.before, &v.results, ""));
        }
        if self.hold {
            match v.transformed.as_ref().and_then(|t| {
                serde_json::to_vec(t)
                    .ok()
                    .and_then(|b| to_sse(after.endpoint, &b, after.include_usage))
            }) {
                Some(replayed) => out.extend_from_slice(&strip_done(&replayed)),
                None => out.extend_from_slice(&strip_done(&self.held)),
            }
        } else if let Some(done) = self.done.take() {
            // The events that came in the chunk with `[DONE]` (a usage chunk, say).
            out.extend_from_slice(&strip_done(&done));
        }
        // An answer was assembled only from a stream that ended with `[DONE]`: it goes last.
        if after.frames {
            out.extend_from_slice(&sse(
                &json!({"hook_results": {"after_request_hooks": v.results}}),
            ));
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        Some(out.freeze())
    }
}

/// The verdicts when a check could not finish without waiting (a webhook on a stream).
fn pending_verdicts(after: &After) -> Verdicts {
    let results: Vec<HookResult> = after
        .hooks
        .after
        .iter()
        .filter(|h| !h.run_async)
        .map(|h| HookResult {
            verdict: false,
            id: h.id.clone(),
            transformed: false,
            skipped: false,
            checks: h
                .checks
                .iter()
                .map(|c| CheckResult {
                    verdict: false,
                    id: c.id.clone(),
                    data: Value::Null,
                    error: Some(CheckFailure {
                        name: "Error",
                        message: "a check of this hook waits on the network, which a streamed answer's output checks can't".into(),
                    }),
                    execution_time: 0,
                    transformed: false,
                    fail_on_error: c.fail_on_error,
                })
                .collect(),
            feedback: Value::Null,
            execution_time: 0,
            run_async: false,
            kind: h.kind.as_str(),
            deny: h.deny,
        })
        .collect();
    Verdicts {
        deny: after.hooks.after_denies(),
        failed: !results.is_empty(),
        results,
        transformed: None,
    }
}

/// The error event that replaces a denied stream, and the stream's end.
fn denied_event(before: &[HookResult], after: &[HookResult], why: &str) -> Bytes {
    let message = if why.is_empty() {
        "The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.".to_owned()
    } else {
        format!("The guardrail checks defined in the config failed: {why}.")
    };
    let mut b = BytesMut::from(
        &sse(&json!({
            "error": {"message": message, "type": "hooks_failed", "param": null, "code": null},
            "hook_results": {"before_request_hooks": before, "after_request_hooks": after},
        }))[..],
    );
    b.extend_from_slice(b"data: [DONE]\n\n");
    b.freeze()
}

/// A stream's events without its `[DONE]` event (it goes last, after a frame).
fn strip_done(s: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(s);
    let kept: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.trim().is_empty() && e.trim() != "data: [DONE]")
        .collect();
    let mut out = String::with_capacity(s.len());
    for e in kept {
        out.push_str(e);
        out.push_str("\n\n");
    }
    Bytes::from(out)
}
