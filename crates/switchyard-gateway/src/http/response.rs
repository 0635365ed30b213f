//! Turning the engine's outcome into the client's response, with Portkey's response headers.
//! Every response body is a [`ResponseBody`], so the on-complete phase sees every request —
//! successes, failures, refusals and answers given by hooks — exactly once.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};
use switchyard_providers::dialect::anthropic;
use switchyard_providers::Endpoint;
use switchyard_types::ErrorEnvelope;
use tokio::sync::OwnedSemaphorePermit;

use super::headers::names::{
    CACHE_STATUS, LAST_USED_OPTION_INDEX, PROVIDER, RETRY_ATTEMPT_COUNT, TRACE_ID,
};
use crate::engine::{Failure, Success, SuccessBody};
use crate::error::GatewayError;
use crate::pipeline::body::ResponseBody;
use crate::pipeline::meter::RawMeter;
use crate::pipeline::{EarlyAnswer, ExtraHeaders, Pipeline, RequestRecord};

/// Where a response's completion goes: the pipeline, and the request's in-flight permit.
pub struct Completion<'a> {
    pub record: RequestRecord,
    pub pipeline: &'a Arc<Pipeline>,
    pub permit: Option<Arc<OwnedSemaphorePermit>>,
}

fn set(headers: &mut HeaderMap, name: &HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name.clone(), v);
    }
}

fn portkey_headers(
    headers: &mut HeaderMap,
    trace_id: &str,
    path: Option<&str>,
    provider: Option<&str>,
    retries: i32,
) {
    set(headers, &TRACE_ID, trace_id);
    if let Some(p) = path {
        set(headers, &LAST_USED_OPTION_INDEX, p);
    }
    if let Some(p) = provider {
        set(headers, &PROVIDER, p);
    }
    headers.insert(RETRY_ATTEMPT_COUNT.clone(), HeaderValue::from(retries));
    if !headers.contains_key(&CACHE_STATUS) {
        headers.insert(CACHE_STATUS.clone(), HeaderValue::from_static("DISABLED"));
    }
}

/// Headers hooks asked for (`ExtraHeaders` in the request's scratch) replace the response's.
fn extra_headers(headers: &mut HeaderMap, record: &RequestRecord) {
    if let Some(ExtraHeaders(extra)) = record.extensions.get::<ExtraHeaders>() {
        for (k, v) in extra {
            headers.insert(k.clone(), v.clone());
        }
    }
}

/// The response's cache status, as one of the values the cache sets.
fn cache_status(headers: &HeaderMap) -> &'static str {
    const KNOWN: &[&str] = &[
        "HIT",
        "MISS",
        "SEMANTIC HIT",
        "SEMANTIC MISS",
        "REFRESH",
        "DISABLED",
    ];
    let v = headers.get(&CACHE_STATUS).map(|v| v.as_bytes());
    KNOWN
        .iter()
        .find(|k| v == Some(k.as_bytes()))
        .copied()
        .unwrap_or("DISABLED")
}

/// An error body in the dialect of the endpoint the client called: Anthropic's on
/// `/v1/messages` (other members, such as guardrails' `hook_results`, kept), OpenAI's
/// elsewhere.
fn in_dialect(op: &str, status: StatusCode, body: Bytes) -> Bytes {
    let error = status.is_client_error() || status.is_server_error();
    let anthropic = op == Endpoint::Messages.name() || op == Endpoint::CountTokens.name();
    if !anthropic || !error {
        return body;
    }
    let Ok(mut obj) = serde_json::from_slice::<Map<String, Value>>(&body) else {
        return body;
    };
    let Some(envelope) = ErrorEnvelope::from_upstream(&body) else {
        return body;
    };
    let Ok(Value::Object(anthropic)) =
        serde_json::from_slice::<Value>(&anthropic::error_body(status.as_u16(), &envelope))
    else {
        return body;
    };
    obj.remove("error");
    obj.extend(anthropic);
    serde_json::to_vec(&obj).map(Bytes::from).unwrap_or(body)
}

fn respond(
    status: StatusCode,
    mut headers: HeaderMap,
    body: ResponseBody,
    mut done: Completion<'_>,
) -> Response {
    extra_headers(&mut headers, &done.record);
    done.record.cache_status = cache_status(&headers);
    done.pipeline.response_head(&done.record, &mut headers);
    let body = body.complete_with(done.record, done.pipeline, done.permit);
    let mut resp = Response::new(Body::new(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

pub fn success(s: Success, mut done: Completion<'_>) -> Response {
    let Success {
        path,
        provider,
        leaf,
        retries,
        status,
        mut headers,
        body,
        usage,
        attempts,
        upstream_wait,
        tries,
    } = s;
    portkey_headers(
        &mut headers,
        &done.record.trace_id,
        Some(&path),
        Some(&provider.slug),
        retries,
    );
    let r = &mut done.record;
    r.status = status;
    r.provider = Some(provider);
    r.leaf = Some(leaf);
    r.target = Some(path);
    r.retries = retries;
    r.attempts = attempts;
    r.upstream_wait = upstream_wait;
    r.tries = tries;
    r.usage = usage;
    let body = match body {
        SuccessBody::Full(bytes) => ResponseBody::full(bytes),
        SuccessBody::Events(fwd) => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
            ResponseBody::events(fwd)
        }
        SuccessBody::Raw(incoming) => {
            // Someone reads usage (limits, budgets): meter the pass-through body.
            let meter = done
                .pipeline
                .has_on_complete()
                .then(|| {
                    let ct = headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok());
                    RawMeter::for_content_type(ct)
                })
                .flatten();
            ResponseBody::raw(incoming, meter)
        }
        SuccessBody::Native(stream) => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            ResponseBody::native(stream)
        }
    };
    respond(status, headers, body, done)
}

pub fn failure(f: Failure, mut done: Completion<'_>) -> Response {
    let status = f.status();
    let mut headers = HeaderMap::new();
    if let Some(upstream) = &f.headers {
        for (k, v) in upstream {
            if k != header::CONTENT_TYPE && k != header::CONTENT_ENCODING {
                headers.append(k.clone(), v.clone());
            }
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    portkey_headers(
        &mut headers,
        &done.record.trace_id,
        f.path.as_deref(),
        f.provider.as_ref().map(|p| p.slug.as_str()),
        f.retries,
    );
    let r = &mut done.record;
    r.status = status;
    r.error = Some(f.error.metric_label());
    r.provider = f.provider.clone();
    r.target = f.path.clone();
    r.retries = f.retries;
    r.attempts = f.attempts;
    r.upstream_wait = f.upstream_wait;
    r.tries = f.tries;
    let body = in_dialect(done.record.op, status, f.error.body());
    respond(status, headers, ResponseBody::full(body), done)
}

/// A gateway error before any routing, with the trace id.
pub fn early_error(err: GatewayError, mut done: Completion<'_>) -> Response {
    let status: StatusCode = err.status_code();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set(&mut headers, &TRACE_ID, &done.record.trace_id);
    done.record.status = status;
    done.record.error = Some(err.metric_label());
    let body = in_dialect(done.record.op, status, err.body());
    respond(status, headers, ResponseBody::full(body), done)
}

/// An answer a hook gave in the on-request phase.
pub fn answer(a: EarlyAnswer, mut done: Completion<'_>) -> Response {
    let mut headers = a.headers;
    set(&mut headers, &TRACE_ID, &done.record.trace_id);
    done.record.status = a.status;
    let body = in_dialect(done.record.op, a.status, a.body);
    respond(a.status, headers, ResponseBody::full(body), done)
}
