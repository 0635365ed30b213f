//! Transport layers (tower): what runs for every request before a handler reads its body, in
//! this order (outermost first):
//!
//! 1. [`RequestIdLayer`] — the request's trace id (`x-portkey-trace-id` from the client, or a
//!    new UUID), put into the request's extensions as [`TraceId`];
//! 2. [`LoadShedLayer`] — at most `server.max_concurrent_requests` requests in flight; one more
//!    is answered at once with a 503 and `retry-after` instead of queueing without bound. The
//!    [`InFlight`] permit travels with the request into its response body, so a stream counts
//!    until it ends.
//!
//! Gateway-key authentication will sit here too, putting the caller's principal into the
//! extensions. A layer that is switched off is a pass-through: the stack has the same shape for
//! every request.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use futures_util::future::Either;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

use super::headers::names;
use crate::error::error_response;

/// The request's trace id.
#[derive(Clone)]
pub struct TraceId(pub Arc<str>);

/// A request's place among those in flight; released when its response body is over.
#[derive(Clone)]
pub struct InFlight(pub Arc<OwnedSemaphorePermit>);

/// Sets [`TraceId`] on every request.
#[derive(Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestId(inner)
    }
}

#[derive(Clone)]
pub struct RequestId<S>(S);

impl<S: Service<Request>> Service<Request> for RequestId<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = trace_id(req.headers());
        req.extensions_mut().insert(TraceId(id));
        self.0.call(req)
    }
}

/// The trace id the client sent (trimmed, at most 256 bytes), or a new UUID: a version 7 one
/// (a millisecond timestamp, then random bits), so the ids the gateway makes sort by time and
/// land at the end of the request log's trace-id index instead of on a random page of it.
pub fn trace_id(headers: &HeaderMap) -> Arc<str> {
    headers
        .get(&names::TRACE_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .map(Arc::from)
        .unwrap_or_else(|| {
            let mut buf = uuid::Uuid::encode_buffer();
            Arc::from(&*uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buf))
        })
}

/// Sheds requests beyond a concurrency limit (no limit: a pass-through).
#[derive(Clone)]
pub struct LoadShedLayer {
    limit: Option<Arc<Semaphore>>,
}

impl LoadShedLayer {
    /// `None` or `0`: no limit.
    pub fn new(max_in_flight: Option<usize>) -> Self {
        LoadShedLayer {
            limit: max_in_flight
                .filter(|n| *n > 0)
                .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
        }
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            limit: self.limit.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LoadShed<S> {
    inner: S,
    limit: Option<Arc<Semaphore>>,
}

impl<S> Service<Request> for LoadShed<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if let Some(limit) = &self.limit {
            match limit.clone().try_acquire_owned() {
                Ok(permit) => {
                    req.extensions_mut().insert(InFlight(Arc::new(permit)));
                }
                Err(_) => return Either::Left(std::future::ready(Ok(overloaded()))),
            }
        }
        Either::Right(self.inner.call(req))
    }
}

/// The 503 a shed request gets: try again in a second.
pub fn overloaded() -> Response {
    let env = ErrorEnvelope::new(
        ErrorKind::ServerError,
        "the gateway is at its limit of requests in flight; retry shortly",
    )
    .with_code("overloaded");
    let mut resp = error_response(StatusCode::SERVICE_UNAVAILABLE, &env);
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}
