//! One leaf: build the wire request, send it, retry as the target's policy says.
//!
//! **Retries are safe by default.** A try is retried automatically only when the upstream
//! cannot have processed it — the connection (or its DNS lookup) failed before anything was
//! sent — or when it answered with a status on the target's list. A connection that breaks
//! after the request went out, or a garbled or truncated answer, may already have cost a
//! generation: it is retried only with `retry.after_send: true` (a fallback target is still
//! tried, since the config asked for one).
//!
//! **Every try has one deadline** covering the response head and the whole body of a plain
//! answer, or everything up to a stream's commit point; after the commit, the gap between
//! stream chunks is bounded instead. An optional overall deadline (`total_timeout`) caps
//! every try, backoff wait and fallback of the request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Either, Limited};
use switchyard_types::usage::{scan_body, TokenUsage};
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::time::Instant;

use super::native::{NativeStart, NativeStream};
use super::stream::{EventForwarder, StreamLimits, StreamStart};
use super::wire::{self, Wire};
use super::{Engine, Failure, Outcome, Success, SuccessBody, Walk};
use crate::context::{Operation, RequestContext};
use crate::error::GatewayError;
use crate::pipeline::record::{TryRecord, MAX_TRIES};
use crate::pipeline::{
    AttemptDecision, AttemptRecord, AttemptResponse, EarlyAnswer, ResponseDecision,
};
use crate::routing::retry::{backoff_delay, retry_after};
use crate::routing::tree::Leaf;
use crate::upstream::headers::{forward_client_headers, response_headers};
use crate::upstream::{blocked_in, UpstreamBody};

/// Largest upstream error body read (the rest is dropped).
const MAX_ERROR_BODY: usize = 1 << 20;
/// Most preamble (role-only chunks, comments, pings) a stream holds back before it commits.
const MAX_HELD_BYTES: usize = 64 << 10;
/// Total time a request may spend waiting on `retry-after` hints.
const RETRY_AFTER_BUDGET: Duration = Duration::from_secs(60);

/// A point in time a try or the whole request must end by, and the limit it enforces (for the
/// 408's message).
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    pub at: Instant,
    pub ms: u128,
    /// The request's overall deadline (`total_timeout`): when it passes nothing is tried again.
    pub total: bool,
}

impl Deadline {
    /// `limit` from now (a limit too large to represent is thirty years).
    pub fn after(limit: Duration, total: bool) -> Self {
        let now = Instant::now();
        let at = now
            .checked_add(limit)
            .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400));
        Deadline {
            at,
            ms: limit.as_millis(),
            total,
        }
    }
}

/// Why a try failed, as the retry policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailKind {
    /// Nothing reached the upstream (the connection or its DNS lookup failed): safe to retry.
    NotSent,
    /// The request went out and the exchange broke (reset, truncated or garbled answer): the
    /// upstream may have processed it.
    Broken,
    /// An upstream error status (or an error event before a stream's commit).
    Status,
    /// The try's deadline passed.
    TimedOut,
    /// Not retried (a fallback target may still be tried).
    Final,
    /// The gateway refused to connect (SSRF): terminal for the whole request.
    Refused,
}

/// How one try ended, before the retry policy is applied.
struct TryFailure {
    error: GatewayError,
    headers: Option<HeaderMap>,
    kind: FailKind,
}

impl TryFailure {
    fn new(error: GatewayError, kind: FailKind) -> Self {
        TryFailure {
            error,
            headers: None,
            kind,
        }
    }
}

/// A try that succeeded.
struct Attempted {
    status: StatusCode,
    headers: HeaderMap,
    body: SuccessBody,
    usage: Option<TokenUsage>,
}

impl Engine {
    pub(super) async fn attempt_leaf(
        &self,
        leaf: &Arc<Leaf>,
        path: &Arc<str>,
        req: &RequestContext,
        walk: &mut Walk,
    ) -> Outcome {
        let fail =
            |error: GatewayError, retries: i32, headers: Option<HeaderMap>, terminal: bool| {
                let reason = reason_line(path, &leaf.provider.slug, &error);
                Failure {
                    path: Some(path.clone()),
                    provider: Some(leaf.provider.clone()),
                    retries,
                    error,
                    headers,
                    terminal,
                    history: vec![reason],
                    attempts: 0,
                    upstream_wait: Duration::ZERO,
                    tries: Vec::new(),
                }
            };
        if self.pipeline.has_per_attempt() {
            match self.pipeline.per_attempt(req, leaf, path).await {
                AttemptDecision::Proceed | AttemptDecision::Rewrite(_) => {}
                AttemptDecision::Skip(reason) => {
                    return Err(fail(GatewayError::TargetSkipped(reason), 0, None, false))
                }
                AttemptDecision::Fail(a) => {
                    // The hook's headers (a limit's `retry-after`) go with its answer.
                    let headers = (!a.headers.is_empty()).then(|| a.headers.clone());
                    return Err(fail(GatewayError::Answered(Box::new(a)), 0, headers, false));
                }
                AttemptDecision::Answer(a) => {
                    // A hook's answer (a cache hit) is reviewed like an upstream's: output
                    // checks see what the client would get.
                    let mut a = Attempted {
                        status: a.status,
                        headers: a.headers,
                        body: SuccessBody::Full(a.body),
                        usage: None,
                    };
                    if self.pipeline.has_on_response() {
                        if let Err(answer) = self.review(req, leaf, path, &mut a).await {
                            return Err(fail(
                                GatewayError::Answered(Box::new(answer)),
                                0,
                                None,
                                false,
                            ));
                        }
                    }
                    return Ok(Success {
                        path: path.clone(),
                        provider: leaf.provider.clone(),
                        leaf: leaf.clone(),
                        retries: 0,
                        status: a.status,
                        headers: a.headers,
                        body: a.body,
                        usage: None,
                        attempts: 0,
                        upstream_wait: Duration::ZERO,
                        tries: Vec::new(),
                    });
                }
            }
        }
        let wire = match self.build_wire(leaf, req).await {
            Ok(w) => w,
            Err(e) => return Err(fail(e, 0, None, false)),
        };
        let timeout = self.timeout_for(req, leaf.request_timeout);
        let idle = timeout.unwrap_or(self.settings.stream_idle_timeout);
        let policy = &leaf.retry;
        // Hold a stream's role-only opening back until content arrives only when a failure
        // right after it could still be recovered (a retry or a fallback target); otherwise
        // commit on the first event, so the client's first byte is not delayed.
        let hold = walk.recoverable || policy.attempts > 0;
        let started = Instant::now();
        let mut retries: u32 = 0;
        loop {
            let deadline = self.attempt_deadline(timeout, walk.total);
            let tried = Instant::now();
            let result = self.send_once(leaf, &wire, req, deadline, idle, hold).await;
            let elapsed = tried.elapsed();
            walk.attempts += 1;
            walk.upstream_wait += elapsed;
            let keep = self.pipeline.has_on_complete() && walk.tries.len() < MAX_TRIES;
            if keep || self.pipeline.has_attempt_end() {
                let (status, error) = match &result {
                    Ok(a) => (Some(a.status), None),
                    Err(f) => (
                        matches!(f.kind, FailKind::Status).then(|| f.error.status_code()),
                        Some(f.error.metric_label()),
                    ),
                };
                if self.pipeline.has_attempt_end() {
                    self.pipeline.attempt_end(&AttemptRecord {
                        trace_id: &req.trace_id,
                        target: path,
                        provider: &leaf.provider.slug,
                        retry: retries,
                        status,
                        error,
                        elapsed,
                    });
                }
                if keep {
                    walk.tries.push(TryRecord {
                        target: path.clone(),
                        leaf: leaf.clone(),
                        retry: retries,
                        status,
                        error,
                        started: tried.into_std(),
                        elapsed,
                    });
                }
            }
            let failure = match result {
                Ok(mut a) => {
                    if self.pipeline.has_on_response() {
                        if let Err(answer) = self.review(req, leaf, path, &mut a).await {
                            return Err(fail(
                                GatewayError::Answered(Box::new(answer)),
                                retries as i32,
                                None,
                                false,
                            ));
                        }
                    }
                    return Ok(Success {
                        path: path.clone(),
                        provider: leaf.provider.clone(),
                        leaf: leaf.clone(),
                        retries: retries as i32,
                        status: a.status,
                        headers: a.headers,
                        body: a.body,
                        usage: a.usage,
                        attempts: 0,
                        upstream_wait: Duration::ZERO,
                        tries: Vec::new(),
                    });
                }
                Err(f) => f,
            };
            // The request's overall deadline passed, or the gateway refused the host: nothing
            // else is tried.
            if (failure.kind == FailKind::TimedOut && deadline.total)
                || failure.kind == FailKind::Refused
            {
                return Err(fail(failure.error, retries as i32, failure.headers, true));
            }
            let status = failure.error.status_code().as_u16();
            let retryable = policy.attempts > 0
                && match failure.kind {
                    FailKind::NotSent => true,
                    FailKind::Broken => policy.after_send,
                    FailKind::Status | FailKind::TimedOut => policy.retries_status(status),
                    FailKind::Final | FailKind::Refused => false,
                };
            if !retryable {
                return Err(fail(failure.error, retries as i32, failure.headers, false));
            }
            if retries >= policy.attempts {
                // Portkey reports -1 when every retry was used up.
                return Err(fail(failure.error, -1, failure.headers, false));
            }
            retries += 1;
            let mut wait = backoff_delay(
                retries,
                self.settings.retry_base_delay,
                self.settings.retry_max_delay,
                fastrand::f64(),
            );
            if policy.use_retry_after_header {
                if let Some(asked) = failure
                    .headers
                    .as_ref()
                    .and_then(|h| retry_after(h, SystemTime::now()))
                {
                    let budget_left = RETRY_AFTER_BUDGET.saturating_sub(started.elapsed());
                    if asked > self.settings.max_retry_after || asked > budget_left {
                        return Err(fail(failure.error, -1, failure.headers, false));
                    }
                    wait = asked;
                }
            }
            // A wait that would outlast the request's overall deadline is not waited.
            if walk
                .total
                .is_some_and(|t| Instant::now().checked_add(wait).is_none_or(|w| w >= t.at))
            {
                return Err(fail(
                    failure.error,
                    retries as i32 - 1,
                    failure.headers,
                    false,
                ));
            }
            tracing::debug!(trace_id = %req.trace_id, target = %path, status, retry = retries, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// The on-response phase for a successful try: the answer as the hooks rewrote it, or the
    /// answer a hook failed the target with.
    async fn review(
        &self,
        req: &RequestContext,
        leaf: &Leaf,
        path: &str,
        a: &mut Attempted,
    ) -> Result<(), EarlyAnswer> {
        let whole = match &a.body {
            SuccessBody::Full(b) => Some(b.clone()),
            _ => None,
        };
        let mut resp = AttemptResponse {
            status: a.status,
            headers: std::mem::take(&mut a.headers),
            body: whole,
        };
        let decision = self.pipeline.on_response(req, leaf, path, &mut resp).await;
        a.status = resp.status;
        a.headers = resp.headers;
        if let (Some(b), SuccessBody::Full(old)) = (resp.body, &mut a.body) {
            *old = b;
        }
        match decision {
            ResponseDecision::Accept => Ok(()),
            ResponseDecision::Fail(answer) => Err(answer),
        }
    }

    /// The deadline of one try: the attempt's timeout from now, or the request's overall
    /// deadline when that comes first.
    fn attempt_deadline(&self, timeout: Option<Duration>, total: Option<Deadline>) -> Deadline {
        let own = Deadline::after(timeout.unwrap_or(self.settings.response_timeout), false);
        match total {
            Some(t) if t.at <= own.at => t,
            _ => own,
        }
    }

    /// The leaf's request with credentials and the client's forwarded headers.
    async fn build_wire(&self, leaf: &Leaf, req: &RequestContext) -> Result<Wire, GatewayError> {
        if leaf.server_credentials && req.forward_override.as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(GatewayError::bad_request(
                format!(
                    "x-portkey-forward-headers can't be used with the gateway's credentials for `{}`; send your own key to forward headers",
                    leaf.provider.slug
                ),
                Some("x-portkey-forward-headers"),
            ));
        }
        if let Operation::Proxy { path, .. } = &req.op {
            if !leaf.allows_proxy(path) {
                return Err(GatewayError::Forbidden(format!(
                    "`/v1/{}` is not passed through on the gateway's credentials for `{}`: the operator can allow it with allow_proxy_paths on the route, or send your own key",
                    path.split('?').next().unwrap_or(""),
                    leaf.provider.slug
                )));
            }
        }
        let mut wire = wire::build(leaf, req, self.settings.stream_usage)?;
        crate::auth::apply::apply(leaf, &mut wire, &self.google_tokens, &self.clients).await?;
        let forward = req
            .forward_override
            .as_deref()
            .unwrap_or(&leaf.forward_headers);
        forward_client_headers(&req.client_headers, forward, &mut wire.headers);
        Ok(wire)
    }

    /// One try: send, and read the response far enough to know whether it succeeded.
    async fn send_once(
        &self,
        leaf: &Leaf,
        wire: &Wire,
        req: &RequestContext,
        deadline: Deadline,
        idle: Duration,
        hold: bool,
    ) -> Result<Attempted, TryFailure> {
        let mut builder = Request::builder()
            .method(wire.method.clone())
            .uri(wire.uri.clone());
        if let Some(h) = builder.headers_mut() {
            h.clone_from(&wire.headers);
        }
        let body = match req.take_upload() {
            Ok(Some(upload)) => Either::Right(upload),
            Ok(None) => crate::upstream::full(wire.body.clone()),
            Err(e) => return Err(TryFailure::new(e, FailKind::Final)),
        };
        let request = builder.body(body).map_err(|e| {
            TryFailure::new(
                GatewayError::bad_request(format!("cannot build the upstream request: {e}"), None),
                FailKind::Final,
            )
        })?;
        let timed_out = || {
            TryFailure::new(
                GatewayError::Timeout { ms: deadline.ms },
                FailKind::TimedOut,
            )
        };
        let sent = self.clients.send(request, leaf.client_host);
        let response = tokio::time::timeout_at(deadline.at, sent)
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| {
                // The resolver refused a client's host (it resolves to an internal address):
                // no retry or other target changes that.
                if let Some(blocked) = blocked_in(&e) {
                    return TryFailure::new(
                        GatewayError::bad_request(
                            format!("{blocked}; add it to server.trusted_hosts to allow it"),
                            Some("custom_host"),
                        ),
                        FailKind::Refused,
                    );
                }
                // A connect error — a DNS failure included — happened before anything was
                // sent.
                let kind = if e.is_connect() {
                    FailKind::NotSent
                } else {
                    FailKind::Broken
                };
                TryFailure::new(GatewayError::UpstreamUnreachable(error_chain(&e)), kind)
            })?;
        let (parts, body) = response.into_parts();
        let headers = response_headers(&parts.headers, leaf.server_credentials);

        if !parts.status.is_success() {
            let bytes = read_body(body, MAX_ERROR_BODY, deadline.at)
                .await
                .unwrap_or_default();
            if leaf.server_credentials && matches!(parts.status.as_u16(), 401 | 403) {
                tracing::warn!(
                    trace_id = %req.trace_id,
                    provider = %leaf.provider.slug,
                    status = parts.status.as_u16(),
                    "the upstream refused the gateway's configured credentials"
                );
                return Err(TryFailure {
                    error: GatewayError::ServerCredentialsRejected {
                        provider: leaf.provider.slug.clone(),
                        status: parts.status.as_u16(),
                    },
                    headers: Some(headers),
                    kind: FailKind::Status,
                });
            }
            let native_error = wire
                .native
                .as_ref()
                .map(|call| call.error(parts.status.as_u16(), &parts.headers, &bytes));
            let envelope = native_error
                .or_else(|| ErrorEnvelope::from_upstream(&bytes))
                .unwrap_or_else(|| {
                    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
                        .trim()
                        .to_owned();
                    let msg = if text.is_empty() {
                        format!("upstream returned HTTP {}", parts.status.as_u16())
                    } else {
                        format!("upstream returned HTTP {}: {text}", parts.status.as_u16())
                    };
                    ErrorEnvelope::new(ErrorKind::for_status(parts.status.as_u16()), msg)
                });
            return Err(TryFailure {
                error: GatewayError::Upstream {
                    status: parts.status,
                    envelope,
                },
                headers: Some(headers),
                kind: FailKind::Status,
            });
        }

        let ok = |headers, body, usage| Attempted {
            status: parts.status,
            headers,
            body,
            usage,
        };
        if matches!(req.op, Operation::Proxy { .. }) {
            return Ok(ok(headers, SuccessBody::Raw(Box::new(body)), None));
        }
        let limits = StreamLimits {
            commit_by: deadline.at,
            idle,
            max_held: MAX_HELD_BYTES,
        };
        let max_response = self.settings.max_response_bytes;
        if let Some(call) = &wire.native {
            let mut headers = headers;
            if call.stream {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream"),
                );
                return match NativeStream::start(call, body, limits, hold).await {
                    NativeStart::Ok(s) => Ok(ok(headers, SuccessBody::Native(s), None)),
                    NativeStart::Failed(error) => {
                        let kind = match error {
                            GatewayError::UpstreamStream(_) => FailKind::Broken,
                            _ => FailKind::Status,
                        };
                        Err(TryFailure {
                            error,
                            headers: Some(headers),
                            kind,
                        })
                    }
                    NativeStart::TimedOut => Err(timed_out()),
                };
            }
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return match read_body(body, max_response, deadline.at).await {
                Ok(bytes) => match call.translate_body(&bytes) {
                    Ok((json, usage)) => Ok(ok(headers, SuccessBody::Full(json), usage)),
                    Err(error) => Err(TryFailure::new(error, FailKind::Broken)),
                },
                Err(e) => Err(e.into_failure(deadline)),
            };
        }
        let is_sse = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if req.stream && is_sse {
            return match EventForwarder::start(body, limits, hold, wire.usage_injected).await {
                StreamStart::Ok(fwd) => Ok(ok(headers, SuccessBody::Events(fwd), None)),
                StreamStart::Error(envelope) => Err(TryFailure {
                    error: GatewayError::Upstream {
                        status: StatusCode::BAD_GATEWAY,
                        envelope,
                    },
                    headers: Some(headers),
                    kind: FailKind::Status,
                }),
                StreamStart::Broken(msg) => Err(TryFailure::new(
                    GatewayError::UpstreamStream(msg),
                    FailKind::Broken,
                )),
                StreamStart::TimedOut => Err(timed_out()),
            };
        }
        let bytes = read_body(body, max_response, deadline.at)
            .await
            .map_err(|e| e.into_failure(deadline))?;
        // The endpoints answer JSON: a 2xx body that is not (a truncated or garbled answer)
        // fails the attempt so it can fall back, and an OpenAI error object in a 2xx is an
        // error. Validation skips values without building them and reads `usage` on the way.
        let usage = scan_body(&bytes).map_err(|_| {
            TryFailure::new(
                GatewayError::UpstreamStream(
                    "the upstream answered 2xx with a body that is not valid JSON".into(),
                ),
                FailKind::Broken,
            )
        })?;
        if req.stream && bytes.starts_with(b"{\"error\"") {
            if let Some(envelope) = ErrorEnvelope::from_upstream(&bytes) {
                return Err(TryFailure {
                    error: GatewayError::Upstream {
                        status: StatusCode::BAD_GATEWAY,
                        envelope,
                    },
                    headers: Some(headers),
                    kind: FailKind::Status,
                });
            }
        }
        Ok(ok(headers, SuccessBody::Full(bytes), usage))
    }
}

/// One line of an all-targets-failed message.
fn reason_line(path: &str, provider: &str, error: &GatewayError) -> String {
    let detail = match error {
        GatewayError::Upstream { status, envelope } => {
            format!("HTTP {} {}", status.as_u16(), envelope.error.message)
        }
        other => format!("HTTP {} {}", other.status_code().as_u16(), other),
    };
    format!("{path} ({provider}): {detail}")
}

enum ReadError {
    TimedOut,
    TooLarge(usize),
    Failed(String),
}

impl ReadError {
    fn into_failure(self, deadline: Deadline) -> TryFailure {
        match self {
            ReadError::TimedOut => TryFailure::new(
                GatewayError::Timeout { ms: deadline.ms },
                FailKind::TimedOut,
            ),
            ReadError::TooLarge(limit) => TryFailure::new(
                GatewayError::UpstreamStream(format!(
                    "the upstream's response is larger than the limit of {limit} bytes (server.max_response_size)"
                )),
                FailKind::Final,
            ),
            ReadError::Failed(msg) => {
                TryFailure::new(GatewayError::UpstreamStream(msg), FailKind::Broken)
            }
        }
    }
}

/// Reads a whole upstream body, at most `limit` bytes, by `deadline`.
async fn read_body(
    body: UpstreamBody,
    limit: usize,
    deadline: Instant,
) -> Result<Bytes, ReadError> {
    let collected = tokio::time::timeout_at(deadline, Limited::new(body, limit).collect())
        .await
        .map_err(|_| ReadError::TimedOut)?;
    collected.map(|c| c.to_bytes()).map_err(|e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            ReadError::TooLarge(limit)
        } else {
            ReadError::Failed(format!("reading the upstream response failed: {e}"))
        }
    })
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(": ");
            msg.push_str(&s_text);
        }
        source = s.source();
    }
    msg
}
