//! One leaf: build the wire request, send it, retry as the target's policy says.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::native::{NativeStart, NativeStream};
use super::stream::{EventForwarder, StreamStart};
use super::wire::{self, Wire};
use super::{Engine, Failure, Outcome, Success, SuccessBody};
use crate::context::{Operation, RequestContext};
use crate::error::GatewayError;
use crate::routing::retry::{backoff_delay, retry_after};
use crate::routing::tree::Leaf;
use crate::ssrf::ip_is_internal;
use crate::upstream::headers::{forward_client_headers, response_headers};
use crate::upstream::UpstreamBody;

/// Largest upstream error body read (the rest is dropped).
const MAX_ERROR_BODY: usize = 1 << 20;
/// Largest non-streaming upstream response body.
const MAX_RESPONSE_BODY: usize = 256 << 20;
/// Total time a request may spend waiting on `retry-after` hints.
const RETRY_AFTER_BUDGET: Duration = Duration::from_secs(60);

/// How one try ended, before retry policy is applied.
struct TryFailure {
    error: GatewayError,
    headers: Option<HeaderMap>,
    /// A connection-level failure (connect, reset, truncated body): retried whenever retries
    /// are configured, whatever the status list.
    transient: bool,
}

impl Engine {
    pub(super) async fn attempt_leaf(
        &self,
        leaf: &Arc<Leaf>,
        path: &Arc<str>,
        req: &RequestContext,
        recoverable: bool,
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
                }
            };
        if let Some((host, port)) = &leaf.resolve_check {
            if let Err(e) = self.check_resolved(host, *port).await {
                return Err(fail(e, 0, None, true));
            }
        }
        let wire = match self.build_wire(leaf, req).await {
            Ok(w) => w,
            Err(e) => return Err(fail(e, 0, None, false)),
        };
        let timeout = self.timeout_for(req, leaf.request_timeout);
        let policy = &leaf.retry;
        // Hold a stream's role-only opening back until content arrives only when a failure
        // right after it could still be recovered (a retry or a fallback target); otherwise
        // commit on the first event, so the client's first byte is not delayed.
        let hold = recoverable || policy.attempts > 0;
        let started = Instant::now();
        let mut retries: u32 = 0;
        loop {
            let failure = match self.send_once(leaf, &wire, req, timeout, hold).await {
                Ok((status, headers, body)) => {
                    return Ok(Success {
                        path: path.clone(),
                        provider: leaf.provider.clone(),
                        retries: retries as i32,
                        status,
                        headers,
                        body,
                    })
                }
                Err(f) => f,
            };
            let status = failure.error.status_code().as_u16();
            let retryable =
                policy.attempts > 0 && (failure.transient || policy.retries_status(status));
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
            tracing::debug!(trace_id = %req.trace_id, target = %path, status, retry = retries, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn check_resolved(&self, host: &str, port: u16) -> Result<(), GatewayError> {
        let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| {
            GatewayError::UpstreamUnreachable(format!("cannot resolve custom host `{host}`: {e}"))
        })?;
        for a in addrs {
            if ip_is_internal(a.ip()) && !self.settings.trusted_hosts.trusts_ip(a.ip()) {
                return Err(GatewayError::bad_request(
                    format!("custom host `{host}` resolves to an internal address; add it to server.trusted_hosts to allow it"),
                    Some("custom_host"),
                ));
            }
        }
        Ok(())
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
        let mut wire = wire::build(leaf, req)?;
        crate::auth::apply::apply(leaf, &mut wire, &self.google_tokens, &self.client).await?;
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
        timeout: Option<Duration>,
        hold: bool,
    ) -> Result<(StatusCode, HeaderMap, SuccessBody), TryFailure> {
        let mut builder = Request::builder()
            .method(wire.method.clone())
            .uri(wire.uri.clone());
        if let Some(h) = builder.headers_mut() {
            h.extend(wire.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let request = builder
            .body(Full::new(wire.body.clone()))
            .map_err(|e| TryFailure {
                error: GatewayError::bad_request(
                    format!("cannot build the upstream request: {e}"),
                    None,
                ),
                headers: None,
                transient: false,
            })?;
        let timed_out = |t: Duration| TryFailure {
            error: GatewayError::Timeout { ms: t.as_millis() },
            headers: None,
            transient: false,
        };
        let sent = self.client.request(request);
        let response = match timeout {
            Some(t) => tokio::time::timeout(t, sent)
                .await
                .map_err(|_| timed_out(t))?,
            None => sent.await,
        };
        let response = response.map_err(|e| TryFailure {
            error: GatewayError::UpstreamUnreachable(error_chain(&e)),
            headers: None,
            transient: true,
        })?;
        let (parts, body) = response.into_parts();
        let headers = response_headers(&parts.headers, leaf.server_credentials);

        if !parts.status.is_success() {
            let bytes = read_body(body, MAX_ERROR_BODY, timeout)
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
                    transient: false,
                });
            }
            let native_error = wire
                .native
                .as_ref()
                .map(|call| call.error(parts.status.as_u16(), &bytes));
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
                transient: false,
            });
        }

        if matches!(req.op, Operation::Proxy { .. }) {
            return Ok((parts.status, headers, SuccessBody::Raw(body)));
        }
        if let Some(call) = &wire.native {
            let mut headers = headers;
            headers.remove(header::CONTENT_ENCODING);
            if call.stream {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream"),
                );
                return match NativeStream::start(call, body, timeout, hold).await {
                    NativeStart::Ok(s) => Ok((parts.status, headers, SuccessBody::Native(s))),
                    NativeStart::Failed(error) => {
                        let transient = matches!(error, GatewayError::UpstreamStream(_));
                        Err(TryFailure {
                            error,
                            headers: Some(headers),
                            transient,
                        })
                    }
                    NativeStart::TimedOut => Err(timed_out(timeout.unwrap_or_default())),
                };
            }
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return match read_body(body, MAX_RESPONSE_BODY, timeout).await {
                Ok(bytes) => match call.translate_body(&bytes) {
                    Ok(json) => Ok((parts.status, headers, SuccessBody::Full(json))),
                    Err(error) => Err(TryFailure {
                        error,
                        headers: None,
                        transient: false,
                    }),
                },
                Err(ReadError::TimedOut) => Err(timed_out(timeout.unwrap_or_default())),
                Err(ReadError::Failed(msg)) => Err(TryFailure {
                    error: GatewayError::UpstreamStream(msg),
                    headers: None,
                    transient: true,
                }),
            };
        }
        let is_sse = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if req.stream && is_sse {
            return match EventForwarder::start(body, timeout, hold).await {
                StreamStart::Ok(fwd) => Ok((parts.status, headers, SuccessBody::Events(fwd))),
                StreamStart::Error(envelope) => Err(TryFailure {
                    error: GatewayError::Upstream {
                        status: StatusCode::BAD_GATEWAY,
                        envelope,
                    },
                    headers: Some(headers),
                    transient: false,
                }),
                StreamStart::Broken(msg) => Err(TryFailure {
                    error: GatewayError::UpstreamStream(msg),
                    headers: None,
                    transient: true,
                }),
                StreamStart::TimedOut => Err(timed_out(timeout.unwrap_or_default())),
            };
        }
        match read_body(body, MAX_RESPONSE_BODY, timeout).await {
            Ok(bytes) => {
                // The endpoints answer JSON: a 2xx body that is not (a truncated or garbled
                // answer) fails the attempt so it can be retried or fall back, and an OpenAI
                // error object in a 2xx is an error. Validation skips values without building
                // them (well under a microsecond for a typical answer).
                if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                    return Err(TryFailure {
                        error: GatewayError::UpstreamStream(
                            "the upstream answered 2xx with a body that is not valid JSON".into(),
                        ),
                        headers: None,
                        transient: false,
                    });
                }
                if req.stream && bytes.starts_with(b"{\"error\"") {
                    if let Some(envelope) = ErrorEnvelope::from_upstream(&bytes) {
                        return Err(TryFailure {
                            error: GatewayError::Upstream {
                                status: StatusCode::BAD_GATEWAY,
                                envelope,
                            },
                            headers: Some(headers),
                            transient: false,
                        });
                    }
                }
                Ok((parts.status, headers, SuccessBody::Full(bytes)))
            }
            Err(ReadError::TimedOut) => Err(timed_out(timeout.unwrap_or_default())),
            Err(ReadError::Failed(msg)) => Err(TryFailure {
                error: GatewayError::UpstreamStream(msg),
                headers: None,
                transient: true,
            }),
        }
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
    Failed(String),
}

async fn read_body(
    body: UpstreamBody,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<Bytes, ReadError> {
    let collect = Limited::new(body, limit).collect();
    let collected = match timeout {
        Some(t) => tokio::time::timeout(t, collect)
            .await
            .map_err(|_| ReadError::TimedOut)?,
        None => collect.await,
    };
    collected
        .map(|c| c.to_bytes())
        .map_err(|e| ReadError::Failed(format!("reading the upstream response failed: {e}")))
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
