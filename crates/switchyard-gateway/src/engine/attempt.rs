//! One leaf: build the wire request, send it, retry as the target's policy says.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::value::RawValue;
use switchyard_providers::native::{StreamFraming, WireRequest};
use switchyard_providers::{AuthStyle, Endpoint, Native, ProviderKind};
use switchyard_types::json::patch_object;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::native::{
    parse_chat, parse_embeddings, translate_error, unix_now, NativeCall, NativeOp, NativeStart,
    NativeStream,
};
use super::stream::{EventForwarder, StreamStart};
use super::{Engine, Failure, Outcome, Success, SuccessBody};
use crate::auth::aws::AwsCredentials;
use crate::context::{Operation, RequestContext};
use crate::error::GatewayError;
use crate::routing::retry::{backoff_delay, retry_after};
use crate::routing::tree::{Credential, Leaf};
use crate::ssrf::ip_is_internal;
use crate::upstream::UpstreamBody;

/// Largest upstream error body read (the rest is dropped).
const MAX_ERROR_BODY: usize = 1 << 20;
/// Largest non-streaming upstream response body.
const MAX_RESPONSE_BODY: usize = 256 << 20;
/// Total time a request may spend waiting on `retry-after` hints.
const RETRY_AFTER_BUDGET: Duration = Duration::from_secs(60);

/// The request to send, prepared once per leaf and replayed on each retry.
struct Wire {
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    /// Set for native providers: how to translate the response.
    native: Option<NativeCall>,
}

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
            let failure = match self.send_once(&wire, req, timeout, hold).await {
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

    async fn build_wire(&self, leaf: &Leaf, req: &RequestContext) -> Result<Wire, GatewayError> {
        let spec = leaf.provider.spec;
        if let Operation::Endpoint(e) = &req.op {
            if !spec.supports(*e) {
                return Err(GatewayError::bad_request(
                    format!(
                        "provider `{}` does not support {}",
                        leaf.provider.slug,
                        endpoint_label(*e)
                    ),
                    Some("model"),
                ));
            }
        }
        let body = self.patched_body(leaf, req)?;
        let mut headers = HeaderMap::with_capacity(8);
        match &req.op {
            Operation::Endpoint(_) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Operation::Proxy { .. } => copy_proxy_headers(&req.client_headers, &mut headers),
        }
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));

        let (method, url, body, native) = match (spec.kind, &req.op) {
            (ProviderKind::Native(kind), Operation::Endpoint(endpoint)) => {
                let (call, wire) = native_request(kind, *endpoint, leaf, &body)?;
                let base = match leaf.custom_host.as_deref() {
                    Some(h) => h.trim_end_matches('/').to_owned(),
                    None if leaf.provider.base_url().is_empty() => call
                        .adapter
                        .base_url(&leaf.options)
                        .map_err(translate_error)?,
                    None => leaf.provider.base_url().trim_end_matches('/').to_owned(),
                };
                for (k, v) in &wire.headers {
                    if let (Ok(k), Ok(v)) = (
                        HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(v),
                    ) {
                        headers.insert(k, v);
                    }
                }
                if call.stream {
                    let accept = match call.adapter.stream_framing() {
                        StreamFraming::Sse => "text/event-stream",
                        StreamFraming::AwsEventStream => "application/vnd.amazon.eventstream",
                    };
                    headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
                }
                (
                    Method::POST,
                    format!("{base}{}", wire.path),
                    Bytes::from(wire.body),
                    Some(call),
                )
            }
            (ProviderKind::AzureOpenAi, op) => {
                let url = azure_url(leaf, op, req)?;
                (method_of(op), url, body, None)
            }
            (_, op) => {
                let path = match op {
                    Operation::Endpoint(e) => e.path(),
                    Operation::Proxy { path, .. } => path.as_str(),
                };
                let base = match leaf.custom_host.as_deref() {
                    Some(h) => h.to_owned(),
                    None => base_of(leaf)?,
                };
                (method_of(op), spec.url(&base, path), body, None)
            }
        };
        if req.stream && native.is_none() && matches!(req.op, Operation::Endpoint(_)) {
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
        }

        self.apply_auth(leaf, &method, &url, &body, &mut headers)
            .await?;
        let forward = req
            .forward_override
            .as_deref()
            .unwrap_or(&leaf.forward_headers);
        for name in forward {
            for v in req.client_headers.get_all(name) {
                headers.append(name.clone(), v.clone());
            }
        }
        Ok(Wire {
            method,
            url,
            headers,
            body,
            native,
        })
    }

    /// Adds the provider's credentials to `headers`.
    async fn apply_auth(
        &self,
        leaf: &Leaf,
        method: &Method,
        url: &str,
        body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), GatewayError> {
        let key = match &leaf.credential {
            Credential::Client(k) | Credential::Server(k) => Some(k),
            Credential::None => None,
        };
        let bearer = |key: &str| format!("Bearer {key}");
        let azure_ad_token = (leaf.provider.spec.kind == ProviderKind::AzureOpenAi)
            .then(|| leaf.options.get("azure_ad_token"))
            .flatten();
        let key = match azure_ad_token {
            // An Entra ID token replaces the API key.
            Some(_) => None,
            None => key,
        };
        let (name, value) = match (leaf.provider.spec.auth, key) {
            (
                AuthStyle::Bearer
                | AuthStyle::Optional
                | AuthStyle::GoogleOAuth
                | AuthStyle::AwsSigV4,
                Some(k),
            ) => (header::AUTHORIZATION, bearer(k.expose())),
            (AuthStyle::Header(name), Some(k)) => {
                if leaf.provider.spec.kind == ProviderKind::AzureOpenAi && is_entra(&leaf.options) {
                    (header::AUTHORIZATION, bearer(k.expose()))
                } else {
                    (HeaderName::from_static(name), k.expose().to_owned())
                }
            }
            (AuthStyle::AwsSigV4, None) => {
                let creds = AwsCredentials::from_options(&leaf.options)
                    .map_err(|m| GatewayError::bad_request(m, Some("aws_access_key_id")))?
                    .ok_or_else(|| GatewayError::bad_request("Bedrock needs aws_access_key_id, aws_secret_access_key and aws_region (or an API key)", Some("aws_access_key_id")))?;
                crate::auth::aws::sign(
                    method,
                    url,
                    headers,
                    body,
                    &creds,
                    "bedrock",
                    SystemTime::now(),
                )?;
                return Ok(());
            }
            (AuthStyle::GoogleOAuth, None) => {
                let Some(sa) = leaf.options.get("vertex_service_account_json") else {
                    return Err(GatewayError::bad_request(
                        "Vertex AI needs an access token as the API key, or vertex_service_account_json",
                        Some("vertex_service_account_json"),
                    ));
                };
                let token = self
                    .google_tokens
                    .token(
                        &self.client,
                        sa,
                        leaf.provider.options.get("vertex_service_account_json") == Some(sa),
                    )
                    .await?;
                (header::AUTHORIZATION, bearer(token.expose()))
            }
            (AuthStyle::Header(_), None) if azure_ad_token.is_some() => (
                header::AUTHORIZATION,
                bearer(azure_ad_token.map(String::as_str).unwrap_or_default()),
            ),
            (_, None) => return Ok(()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            GatewayError::bad_request(
                "the API key contains characters not allowed in an HTTP header",
                Some("api_key"),
            )
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(())
    }

    /// The client's body with `model` rewritten and `override_params` applied; the original
    /// bytes when there is nothing to change.
    fn patched_body(&self, leaf: &Leaf, req: &RequestContext) -> Result<Bytes, GatewayError> {
        if !req.json_body || (req.model_rewrite.is_none() && leaf.override_params.is_empty()) {
            return Ok(req.body.clone());
        }
        let rewrite: Option<Box<RawValue>> = match &req.model_rewrite {
            Some(m) => Some(
                serde_json::value::to_raw_value(m)
                    .map_err(|e| GatewayError::Internal(e.to_string()))?,
            ),
            None => None,
        };
        let mut patches: Vec<(&str, &RawValue)> =
            Vec::with_capacity(leaf.override_params.len() + 1);
        if let Some(r) = &rewrite {
            patches.push(("model", r));
        }
        patches.extend(
            leaf.override_params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_ref())),
        );
        Ok(patch_object(&req.body, &patches)?.into())
    }

    /// One try: send, and read the response far enough to know whether it succeeded.
    async fn send_once(
        &self,
        wire: &Wire,
        req: &RequestContext,
        timeout: Option<Duration>,
        hold: bool,
    ) -> Result<(StatusCode, HeaderMap, SuccessBody), TryFailure> {
        let mut builder = Request::builder()
            .method(wire.method.clone())
            .uri(&wire.url);
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
        let headers = passthrough_headers(&parts.headers);

        if !parts.status.is_success() {
            let bytes = read_body(body, MAX_ERROR_BODY, timeout)
                .await
                .unwrap_or_default();
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

/// Builds the provider request for a native provider.
fn native_request(
    kind: Native,
    endpoint: Endpoint,
    leaf: &Leaf,
    body: &[u8],
) -> Result<(NativeCall, WireRequest), GatewayError> {
    let call = |adapter, op, model: String, stream, include_usage| NativeCall {
        adapter,
        op,
        model,
        stream,
        include_usage,
        response_id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: unix_now(),
        options: leaf.options.clone(),
    };
    match endpoint {
        Endpoint::ChatCompletions => {
            let chat = parse_chat(body)?;
            let adapter = switchyard_providers::adapter(kind, &chat.model);
            let c = call(
                adapter,
                NativeOp::Chat,
                chat.model.clone(),
                chat.is_stream(),
                chat.include_usage(),
            );
            let wire = adapter
                .chat_request(&chat, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::Embeddings => {
            let emb = parse_embeddings(body)?;
            let adapter = switchyard_providers::adapter(kind, &emb.model);
            let c = call(
                adapter,
                NativeOp::Embeddings,
                emb.model.clone(),
                false,
                false,
            );
            let wire = adapter
                .embeddings_request(&emb, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::Completions => Err(GatewayError::bad_request(
            format!(
                "provider `{}` does not support completions",
                leaf.provider.slug
            ),
            Some("model"),
        )),
    }
}

fn method_of(op: &Operation) -> Method {
    match op {
        Operation::Endpoint(_) => Method::POST,
        Operation::Proxy { method, .. } => method.clone(),
    }
}

/// The provider's base URL, when it has one without options.
fn base_of(leaf: &Leaf) -> Result<String, GatewayError> {
    let base = leaf.provider.base_url();
    if base.is_empty() {
        return Err(GatewayError::bad_request(
            format!("provider `{}` needs a custom_host", leaf.provider.slug),
            Some("custom_host"),
        ));
    }
    Ok(base.to_owned())
}

/// Azure OpenAI sends the key as a bearer token when `azure_auth_mode` is `entra`.
fn is_entra(options: &switchyard_providers::native::ProviderOptions) -> bool {
    options
        .get("azure_auth_mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("entra"))
}

fn option<'a>(
    options: &'a switchyard_providers::native::ProviderOptions,
    keys: &[&str],
) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| options.get(*k))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// `https://{resource}.openai.azure.com/openai/deployments/{deployment}/{endpoint}?api-version=`.
fn azure_url(leaf: &Leaf, op: &Operation, req: &RequestContext) -> Result<String, GatewayError> {
    let opts = &leaf.options;
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let configured = Some(leaf.provider.base_url()).filter(|b| !b.is_empty());
    let base = match leaf.custom_host.as_deref().or(configured) {
        Some(h) => h.trim_end_matches('/').to_owned(),
        None => match option(opts, &["azure_resource_name", "resource_name"]) {
            Some(r) if safe(r) && !r.contains('.') => {
                format!("https://{r}.openai.azure.com/openai")
            }
            Some(_) => {
                return Err(GatewayError::bad_request(
                    "azure_resource_name may hold only letters, digits and '-'",
                    Some("azure_resource_name"),
                ))
            }
            None => {
                return Err(GatewayError::bad_request(
                    "azure-openai needs azure_resource_name (or a custom_host)",
                    Some("azure_resource_name"),
                ))
            }
        },
    };
    let version = option(opts, &["azure_api_version", "api_version"]).unwrap_or(AZURE_API_VERSION);
    match op {
        Operation::Endpoint(e) => {
            let from_body = leaf
                .model_override()
                .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                .or_else(|| req.model_rewrite.clone())
                .or_else(|| req.model.clone());
            let deployment = option(opts, &["azure_deployment_id", "deployment_id"])
                .map(str::to_owned)
                .or(from_body)
                .ok_or_else(|| {
                    GatewayError::bad_request(
                        "azure-openai needs azure_deployment_id (or a model naming the deployment)",
                        Some("azure_deployment_id"),
                    )
                })?;
            if !safe(&deployment) {
                return Err(GatewayError::bad_request(
                    "the Azure deployment name may hold only letters, digits, '-', '_' and '.'",
                    Some("azure_deployment_id"),
                ));
            }
            Ok(format!(
                "{base}/deployments/{deployment}/{}?api-version={version}",
                e.path()
            ))
        }
        Operation::Proxy { path, .. } if path.contains("api-version=") => {
            Ok(format!("{base}/{path}"))
        }
        Operation::Proxy { path, .. } => {
            let sep = if path.contains('?') { '&' } else { '?' };
            Ok(format!("{base}/{path}{sep}api-version={version}"))
        }
    }
}

/// The Azure OpenAI API version used when the target names none.
pub(crate) const AZURE_API_VERSION: &str = "2024-10-21";

pub(crate) const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

fn endpoint_label(e: Endpoint) -> &'static str {
    match e {
        Endpoint::ChatCompletions => "chat completions",
        Endpoint::Completions => "completions",
        Endpoint::Embeddings => "embeddings",
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

/// Headers that describe a connection, not a message, and never cross a proxy.
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Upstream response headers passed to the client: everything but hop-by-hop headers, the body
/// framing (the gateway sets its own) and cookies.
fn passthrough_headers(upstream: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len());
    for (k, v) in upstream {
        if is_hop_by_hop(k)
            || k == header::CONTENT_LENGTH
            || k == header::SET_COOKIE
            || k == header::DATE
            || k == header::SERVER
            || k.as_str().starts_with("x-portkey-")
        {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

/// Client headers sent upstream on proxied (`/v1/*`) requests: all but hop-by-hop, host,
/// framing, the client's credentials and the gateway's own `x-portkey-*` headers.
fn copy_proxy_headers(client: &HeaderMap, out: &mut HeaderMap) {
    for (k, v) in client {
        if is_hop_by_hop(k)
            || k == header::HOST
            || k == header::CONTENT_LENGTH
            || k == header::AUTHORIZATION
            || k == header::EXPECT
            || k.as_str().starts_with("x-portkey-")
        {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
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
