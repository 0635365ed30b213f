//! The per-request context: what the client asked for, read once, and what routing needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method};
use serde_json::{Map, Value};
use switchyard_providers::Endpoint;

/// What the client called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// An OpenAI endpoint the gateway understands.
    Endpoint(Endpoint),
    /// Any other `/v1/*` request, proxied as-is: the method and the path (with query) after `/v1/`.
    Proxy { method: Method, path: String },
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Endpoint(e) => e.name(),
            Operation::Proxy { .. } => "proxy",
        }
    }
}

/// A streamed upload's state.
#[derive(Default)]
enum Upload {
    #[default]
    None,
    Ready(http_body_util::Limited<axum::body::Body>),
    Sent,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Upload::None => "None",
            Upload::Ready(_) => "Ready",
            Upload::Sent => "Sent",
        })
    }
}

/// One client request as the routing engine sees it.
#[derive(Debug)]
pub struct RequestContext {
    pub trace_id: Arc<str>,
    pub started: Instant,
    pub op: Operation,
    pub body: Bytes,
    /// The body is JSON (the endpoints' content type); only JSON bodies are patched.
    pub json_body: bool,
    pub stream: bool,
    /// The client asked for a stream's usage (`stream_options.include_usage`).
    pub include_usage: bool,
    /// The body has a `stream_options` member.
    pub has_stream_options: bool,
    /// The client's `model`.
    pub model: Option<String>,
    /// `model` to send instead of the client's (from `provider/model` addressing).
    pub model_rewrite: Option<String>,
    pub client_headers: HeaderMap,
    /// `x-portkey-request-timeout`: beats every target's `request_timeout`.
    pub timeout_override: Option<Duration>,
    /// `x-portkey-forward-headers`: beats every target's `forward_headers`.
    pub forward_override: Option<Vec<HeaderName>>,
    /// `x-portkey-metadata`.
    pub metadata: Map<String, Value>,
    /// Who is calling, when gateway keys are on.
    pub principal: Option<crate::governance::Principal>,
    /// The server file's route the request takes (`default` for the default route), when
    /// gateway keys are on (their `routes` globs read it).
    pub route_name: Option<Arc<str>>,
    /// A Responses-API request: its id, conversation and translation (`crate::responses`).
    pub responses: Option<Arc<crate::responses::Turn>>,
    params: OnceLock<Option<Value>>,
    /// Per-request state of pipeline hooks (what a per-attempt hook decided, for its tap or
    /// on-complete to read). Moved into the request's record when the response is built.
    scratch: Mutex<http::Extensions>,
    /// A client's upload streamed through instead of read (`server.max_upload_size`): sent
    /// once, by the first try.
    upload: Mutex<Upload>,
    /// The body a per-attempt hook rewrote for the target being tried (`rewritten` says
    /// whether there is one, so the common case takes no lock).
    rewrite: Mutex<Option<Bytes>>,
    rewritten: AtomicBool,
}

impl RequestContext {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        trace_id: Arc<str>,
        op: Operation,
        body: Bytes,
        json_body: bool,
        stream: bool,
        client_headers: HeaderMap,
    ) -> Self {
        RequestContext {
            trace_id,
            started: Instant::now(),
            op,
            body,
            json_body,
            stream,
            include_usage: false,
            has_stream_options: false,
            model: None,
            model_rewrite: None,
            client_headers,
            timeout_override: None,
            forward_override: None,
            metadata: Map::new(),
            principal: None,
            route_name: None,
            responses: None,
            params: OnceLock::new(),
            scratch: Mutex::new(http::Extensions::new()),
            upload: Mutex::new(Upload::None),
            rewrite: Mutex::new(None),
            rewritten: AtomicBool::new(false),
        }
    }

    /// The body to send to the target being tried: the client's, or a per-attempt hook's
    /// rewrite of it.
    pub fn attempt_body(&self) -> Bytes {
        if self.rewritten.load(Ordering::Acquire) {
            if let Some(b) = self
                .rewrite
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                return b.clone();
            }
        }
        self.body.clone()
    }

    /// Makes the request's body an upload streamed to the upstream as it arrives.
    pub fn set_upload(&self, body: http_body_util::Limited<axum::body::Body>) {
        *self.upload.lock().unwrap_or_else(PoisonError::into_inner) = Upload::Ready(body);
    }

    /// The streamed upload for a try: `Ok(None)` when the request has none, an error when an
    /// earlier try already sent it.
    pub fn take_upload(
        &self,
    ) -> Result<Option<http_body_util::Limited<axum::body::Body>>, crate::error::GatewayError> {
        let mut u = self.upload.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *u, Upload::Sent) {
            Upload::None => {
                *u = Upload::None;
                Ok(None)
            }
            Upload::Ready(body) => Ok(Some(body)),
            Upload::Sent => Err(crate::error::GatewayError::UpstreamStream(
                "the upload was streamed to an earlier try; a streamed upload is sent once (no retry or fallback)".into(),
            )),
        }
    }

    /// Sets (or clears) the rewritten body of the target being tried.
    pub fn set_attempt_body(&self, body: Option<Bytes>) {
        if body.is_none() && !self.rewritten.load(Ordering::Acquire) {
            return;
        }
        let set = body.is_some();
        *self.rewrite.lock().unwrap_or_else(PoisonError::into_inner) = body;
        self.rewritten.store(set, Ordering::Release);
    }

    /// Runs `f` on the hooks' per-request state.
    pub fn with_scratch<T>(&self, f: impl FnOnce(&mut http::Extensions) -> T) -> T {
        f(&mut self.scratch.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes the hooks' per-request state (for the request's record).
    pub fn take_scratch(&self) -> http::Extensions {
        self.with_scratch(std::mem::take)
    }

    /// The request body as JSON, parsed on first use (only conditional routing on `params.*`
    /// needs it).
    pub fn params(&self) -> Option<&Value> {
        self.params
            .get_or_init(|| {
                if self.json_body {
                    serde_json::from_slice(&self.body).ok()
                } else {
                    None
                }
            })
            .as_ref()
    }
}
