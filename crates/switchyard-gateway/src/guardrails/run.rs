//! Running hooks: checks concurrently (or in order when `sequential`, and always for
//! mutators), verdicts, rewrites, and Portkey's result shapes.
//!
//! A hook's verdict is true when every check passed or errored without `failOnError`
//! (Portkey's rule). Hooks of one event run concurrently, each on the request (or response) as
//! it was when the event began; their rewrites are applied in the order the hooks are listed.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use switchyard_guardrails::{CheckContext, CheckError, CheckOutcome, HookEvent, RequestType};

use super::spec::{HookKind, HookSpec};

/// What hooks look at.
pub struct Subject<'a> {
    pub event: HookEvent,
    pub request_type: RequestType,
    pub request: &'a Value,
    pub response: Option<&'a Value>,
    pub provider: &'a str,
    pub metadata: &'a Map<String, Value>,
    /// The client's request headers (`default.jwt` reads its token there); `None` where they
    /// are not at hand (output checks of a stream). Never sent anywhere.
    pub headers: Option<&'a HeaderMap>,
}

/// What the hooks of one event decided.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// Portkey's hook results, in the order the hooks are listed.
    pub results: Vec<Value>,
    /// A failed hook has `deny: true`.
    pub deny: bool,
    /// Some hook failed.
    pub failed: bool,
    /// The request (before) or response (after) as the hooks rewrote it.
    pub transformed: Option<Value>,
}

/// Runs `hooks` (the synchronous ones; `async: true` ones are left to [`run_detached`]).
pub async fn run(hooks: &[Arc<HookSpec>], s: &Subject<'_>) -> Verdicts {
    let sync: Vec<&Arc<HookSpec>> = hooks.iter().filter(|h| !h.run_async).collect();
    if sync.is_empty() {
        return Verdicts::default();
    }
    let done = join_all(sync.iter().map(|h| run_hook(h, s))).await;
    let mut v = Verdicts::default();
    for (hook, (result, transformed)) in sync.iter().zip(done) {
        let skipped = result.get("skipped") == Some(&Value::Bool(true));
        let verdict = result.get("verdict") != Some(&Value::Bool(false));
        if !skipped && !verdict {
            v.failed = true;
            v.deny |= hook.deny;
        }
        if transformed.is_some() {
            v.transformed = transformed;
        }
        v.results.push(result);
    }
    v
}

/// Runs the `async: true` hooks of `hooks` after the response, logging their results.
pub fn run_detached(
    hooks: &[Arc<HookSpec>],
    request_type: RequestType,
    owned: impl FnOnce() -> Owned,
    trace: Arc<str>,
) {
    let detached: Vec<Arc<HookSpec>> = hooks.iter().filter(|h| h.run_async).cloned().collect();
    if detached.is_empty() {
        return;
    }
    let owned = owned();
    tokio::spawn(async move {
        let s = Subject {
            event: detached[0].event,
            request_type,
            request: &owned.request,
            response: owned.response.as_ref(),
            provider: &owned.provider,
            metadata: &owned.metadata,
            headers: Some(&owned.headers),
        };
        for h in &detached {
            let (result, _) = run_hook(h, &s).await;
            let verdict = result
                .get("verdict")
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
            // Each check's id and verdict, never its `data` (which may quote the text).
            let checks: Vec<String> = result["checks"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let outcome = match (c["verdict"].as_bool(), c["error"].is_null()) {
                                (_, false) => "error",
                                (Some(true), _) => "pass",
                                _ => "fail",
                            };
                            format!("{}={outcome}", c["id"].as_str().unwrap_or("?"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            tracing::info!(
                target: "switchyard::guardrails",
                trace_id = %trace,
                hook = %h.id,
                verdict,
                checks = %checks.join(","),
                "async hook"
            );
        }
    });
}

/// A [`Subject`]'s values, owned, for hooks that outlive the request.
pub struct Owned {
    pub request: Value,
    pub response: Option<Value>,
    pub provider: String,
    pub metadata: Map<String, Value>,
    pub headers: HeaderMap,
}

/// Portkey's reasons to skip a hook: an endpoint without text, an output hook of embeddings,
/// a mutator of embeddings, an async mutator.
fn skipped(h: &HookSpec, rt: RequestType) -> bool {
    matches!(rt, RequestType::Other)
        || (rt == RequestType::Embed
            && (h.event == HookEvent::AfterRequest || h.kind == HookKind::Mutator))
        || (h.kind == HookKind::Mutator && h.run_async)
}

/// One hook: its result and, if a check rewrote it, the new request or response.
async fn run_hook(h: &HookSpec, s: &Subject<'_>) -> (Value, Option<Value>) {
    if skipped(h, s.request_type) {
        return (
            json!({"id": h.id, "type": h.kind.as_str(), "skipped": true}),
            None,
        );
    }
    let started = Instant::now();
    let mut current: Option<Value> = None;
    let mut checks = Vec::with_capacity(h.checks.len());
    if h.sequential || h.kind == HookKind::Mutator {
        for c in &h.checks {
            let (target_req, target_resp) = match (&current, s.event) {
                (Some(v), HookEvent::BeforeRequest) => (v, s.response),
                (Some(v), HookEvent::AfterRequest) => (s.request, Some(v)),
                (None, _) => (s.request, s.response),
            };
            let cx = context(s, target_req, target_resp);
            let (r, t) = run_check(c, &cx).await;
            if t.is_some() {
                current = t;
            }
            checks.push(r);
        }
    } else {
        let cx = context(s, s.request, s.response);
        let done = join_all(h.checks.iter().map(|c| run_check(c, &cx))).await;
        for (r, t) in done {
            if t.is_some() {
                current = t;
            }
            checks.push(r);
        }
    }
    let passed = |c: &Value| {
        c["verdict"] == Value::Bool(true)
            || (!c["error"].is_null() && c["fail_on_error"] != Value::Bool(true))
    };
    let verdict = checks.iter().all(passed);
    let transformed = checks.iter().any(|c| c["transformed"] == Value::Bool(true));
    let feedback = feedback(h, &checks);
    let result = json!({
        "verdict": verdict,
        "id": h.id,
        "transformed": transformed,
        "checks": checks,
        "feedback": feedback,
        "execution_time": started.elapsed().as_millis() as u64,
        "async": h.run_async,
        "type": h.kind.as_str(),
        "deny": h.deny && !verdict,
    });
    (result, current)
}

fn context<'a>(
    s: &'a Subject<'a>,
    request: &'a Value,
    response: Option<&'a Value>,
) -> CheckContext<'a> {
    CheckContext {
        event: s.event,
        request_type: s.request_type,
        request,
        response,
        provider: s.provider,
        metadata: s.metadata,
        headers: s.headers,
    }
}

async fn run_check(c: &super::spec::CheckSpec, cx: &CheckContext<'_>) -> (Value, Option<Value>) {
    let started = Instant::now();
    let outcome = c.check.run(cx).await;
    let ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(CheckOutcome {
            verdict,
            data,
            transformed,
        }) => (
            json!({
                "verdict": verdict,
                "id": c.id,
                "data": data,
                "error": null,
                "execution_time": ms,
                "transformed": transformed.is_some(),
                "fail_on_error": c.fail_on_error,
            }),
            transformed,
        ),
        Err(e) => {
            let name = match e {
                CheckError::InvalidParameters(_) => "InvalidParameters",
                CheckError::Failed(_) => "Error",
            };
            (
                json!({
                    "verdict": false,
                    "id": c.id,
                    "data": null,
                    "error": {"name": name, "message": e.to_string()},
                    "execution_time": ms,
                    "transformed": false,
                    "fail_on_error": c.fail_on_error,
                }),
                None,
            )
        }
    }
}

/// Portkey's `feedback`: the hook's `on_success` / `on_fail` feedback with the checks that
/// passed, failed and errored.
fn feedback(h: &HookSpec, checks: &[Value]) -> Value {
    let ok = checks
        .iter()
        .all(|c| c["verdict"] == Value::Bool(true) || !c["error"].is_null());
    let conf = if ok { &h.on_success } else { &h.on_fail };
    let Some(fb) = conf.as_ref().and_then(|c| c.get("feedback")) else {
        return Value::Null;
    };
    let ids = |pred: &dyn Fn(&Value) -> bool| {
        checks
            .iter()
            .filter(|c| pred(c))
            .filter_map(|c| c["id"].as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut metadata = fb
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.insert(
        "successfulChecks".into(),
        ids(&|c| c["verdict"] == Value::Bool(true)).into(),
    );
    metadata.insert(
        "failedChecks".into(),
        ids(&|c| c["verdict"] == Value::Bool(false) && c["error"].is_null()).into(),
    );
    metadata.insert(
        "erroredChecks".into(),
        ids(&|c| c["verdict"] == Value::Bool(false) && !c["error"].is_null()).into(),
    );
    json!({
        "value": fb.get("value").cloned().unwrap_or(Value::Null),
        "weight": fb.get("weight").cloned().unwrap_or(Value::Null),
        "metadata": metadata,
    })
}
