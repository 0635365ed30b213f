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
use serde::Serialize;
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

/// One check's result, in Portkey's shape.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub verdict: bool,
    pub id: String,
    pub data: Value,
    pub error: Option<CheckFailure>,
    /// Milliseconds (Portkey's unit).
    pub execution_time: u64,
    pub transformed: bool,
    pub fail_on_error: bool,
}

/// Why a check gave no verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckFailure {
    pub name: &'static str,
    pub message: String,
}

impl CheckResult {
    /// Passed, or errored without `failOnError` (Portkey's rule).
    fn passes(&self) -> bool {
        self.verdict || (self.error.is_some() && !self.fail_on_error)
    }
}

/// One hook's result, in Portkey's shape.
#[derive(Debug, Clone, Serialize)]
pub struct HookResult {
    pub verdict: bool,
    pub id: String,
    pub transformed: bool,
    /// Not run for this endpoint (Portkey's rules); such a hook neither passes nor fails.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    pub checks: Vec<CheckResult>,
    pub feedback: Value,
    /// Milliseconds.
    pub execution_time: u64,
    #[serde(rename = "async")]
    pub run_async: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub deny: bool,
}

/// `hook_results`, as it is added to an answer.
#[derive(Debug, Serialize)]
pub struct HookResults<'a> {
    pub before_request_hooks: &'a [HookResult],
    pub after_request_hooks: &'a [HookResult],
}

/// What the hooks of one event decided.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// Portkey's hook results, in the order the hooks are listed.
    pub results: Vec<HookResult>,
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
        if !result.skipped && !result.verdict {
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

/// Runs the `async: true` hooks of `hooks` in the background, logging their results.
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
            // Each check's id and verdict, never its `data` (which may quote the text).
            let checks: Vec<String> = result
                .checks
                .iter()
                .map(|c| {
                    let outcome = match (c.error.is_some(), c.verdict) {
                        (true, _) => "error",
                        (false, true) => "pass",
                        (false, false) => "fail",
                    };
                    format!("{}={outcome}", c.id)
                })
                .collect();
            tracing::info!(
                target: "switchyard::guardrails",
                trace_id = %trace,
                hook = %h.id,
                verdict = result.verdict,
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
async fn run_hook(h: &HookSpec, s: &Subject<'_>) -> (HookResult, Option<Value>) {
    let mut result = HookResult {
        verdict: true,
        id: h.id.clone(),
        transformed: false,
        skipped: false,
        checks: Vec::new(),
        feedback: Value::Null,
        execution_time: 0,
        run_async: h.run_async,
        kind: h.kind.as_str(),
        deny: false,
    };
    if skipped(h, s.request_type) {
        result.skipped = true;
        return (result, None);
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
    result.verdict = checks.iter().all(CheckResult::passes);
    result.transformed = checks.iter().any(|c| c.transformed);
    result.feedback = feedback(h, &checks);
    result.execution_time = started.elapsed().as_millis() as u64;
    result.deny = h.deny && !result.verdict;
    result.checks = checks;
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

async fn run_check(
    c: &super::spec::CheckSpec,
    cx: &CheckContext<'_>,
) -> (CheckResult, Option<Value>) {
    let started = Instant::now();
    let outcome = c.check.run(cx).await;
    let execution_time = started.elapsed().as_millis() as u64;
    let mut result = CheckResult {
        verdict: false,
        id: c.id.clone(),
        data: Value::Null,
        error: None,
        execution_time,
        transformed: false,
        fail_on_error: c.fail_on_error,
    };
    match outcome {
        Ok(CheckOutcome {
            verdict,
            data,
            transformed,
        }) => {
            result.verdict = verdict;
            result.data = data;
            result.transformed = transformed.is_some();
            (result, transformed)
        }
        Err(e) => {
            let name = match e {
                CheckError::InvalidParameters(_) => "InvalidParameters",
                CheckError::Failed(_) => "Error",
            };
            result.error = Some(CheckFailure {
                name,
                message: e.to_string(),
            });
            (result, None)
        }
    }
}

/// Portkey's `feedback`: the hook's `on_success` / `on_fail` feedback with the checks that
/// passed, failed and errored.
fn feedback(h: &HookSpec, checks: &[CheckResult]) -> Value {
    let ok = checks.iter().all(|c| c.verdict || c.error.is_some());
    let conf = if ok { &h.on_success } else { &h.on_fail };
    let Some(fb) = conf.as_ref().and_then(|c| c.get("feedback")) else {
        return Value::Null;
    };
    let ids = |pred: &dyn Fn(&CheckResult) -> bool| {
        checks
            .iter()
            .filter(|c| pred(c))
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut metadata = fb
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.insert("successfulChecks".into(), ids(&|c| c.verdict).into());
    metadata.insert(
        "failedChecks".into(),
        ids(&|c| !c.verdict && c.error.is_none()).into(),
    );
    metadata.insert(
        "erroredChecks".into(),
        ids(&|c| !c.verdict && c.error.is_some()).into(),
    );
    json!({
        "value": fb.get("value").cloned().unwrap_or(Value::Null),
        "weight": fb.get("weight").cloned().unwrap_or(Value::Null),
        "metadata": metadata,
    })
}
