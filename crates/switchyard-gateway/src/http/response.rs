//! Turning the engine's outcome into the client's response, with Portkey's response headers.

use std::convert::Infallible;

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use super::headers::{
    CACHE_STATUS, LAST_USED_OPTION_INDEX, PROVIDER, RETRY_ATTEMPT_COUNT, TRACE_ID,
};
use crate::engine::{Failure, Success, SuccessBody};
use crate::error::error_response;

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

fn portkey_headers(
    headers: &mut HeaderMap,
    trace_id: &str,
    path: Option<&str>,
    provider: Option<&str>,
    retries: i32,
) {
    set(headers, TRACE_ID, trace_id);
    if let Some(p) = path {
        set(headers, LAST_USED_OPTION_INDEX, p);
    }
    if let Some(p) = provider {
        set(headers, PROVIDER, p);
    }
    set(headers, RETRY_ATTEMPT_COUNT, &retries.to_string());
    headers.insert(CACHE_STATUS, HeaderValue::from_static("DISABLED"));
}

pub fn success(s: Success, trace_id: &str) -> Response {
    let Success {
        path,
        provider,
        retries,
        status,
        mut headers,
        body,
    } = s;
    portkey_headers(
        &mut headers,
        trace_id,
        Some(&path),
        Some(&provider.slug),
        retries,
    );
    let body = match body {
        SuccessBody::Full(bytes) => Body::from(bytes),
        SuccessBody::Events(fwd) => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            Body::from_stream(futures_util::stream::unfold(fwd, |mut f| async move {
                f.next().await.map(|b| (Ok::<_, Infallible>(b), f))
            }))
        }
        SuccessBody::Raw(incoming) => Body::new(incoming),
        SuccessBody::Native(stream) => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            Body::from_stream(futures_util::stream::unfold(stream, |mut s| async move {
                s.next().await.map(|b| (Ok::<_, Infallible>(b), s))
            }))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

pub fn failure(f: Failure, trace_id: &str) -> Response {
    let status = f.status();
    let mut resp = error_response(status, &f.error.envelope());
    let headers = resp.headers_mut();
    if let Some(upstream) = &f.headers {
        for (k, v) in upstream {
            if k != header::CONTENT_TYPE && k != header::CONTENT_ENCODING {
                headers.append(k.clone(), v.clone());
            }
        }
    }
    portkey_headers(
        headers,
        trace_id,
        f.path.as_deref(),
        f.provider.as_ref().map(|p| p.slug.as_str()),
        f.retries,
    );
    resp
}

/// A gateway error before any routing, with the trace id.
pub fn early_error(err: crate::error::GatewayError, trace_id: &str) -> Response {
    let status: StatusCode = err.status_code();
    let mut resp = error_response(status, &err.envelope());
    set(resp.headers_mut(), TRACE_ID, trace_id);
    resp
}
