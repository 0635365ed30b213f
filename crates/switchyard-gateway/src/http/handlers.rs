//! The HTTP endpoints.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use http_body_util::{BodyExt, Limited};
use switchyard_providers::Endpoint;
use switchyard_types::json::{inspect, RequestHead};

use super::headers::IGNORED_CONFIG_KEYS;
use super::headers::{PortkeyHeaders, CONFIG, PROVIDER, VIRTUAL_KEY};
use super::layers::{trace_id, InFlight, TraceId};
use super::response::{self, Completion};
use super::route::{resolve, KeyDefaults, Resolved, Route};
use super::server::App;
use crate::context::{Operation, RequestContext};
use crate::engine::Outcome;
use crate::error::{json_response, GatewayError};
use crate::governance::Principal;
use crate::pipeline::{EarlyAnswer, RequestRecord};

pub async fn chat_completions(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::ChatCompletions), req).await
}

pub async fn completions(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::Completions), req).await
}

pub async fn embeddings(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::Embeddings), req).await
}

/// `POST /v1/images/generations`: OpenAI's image API, natively for providers that have one.
pub async fn image_generations(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::ImageGenerations), req).await
}

/// `POST /v1/rerank`: Cohere's v2 rerank, on the providers with a rerank API.
pub async fn rerank(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::Rerank), req).await
}

/// `POST /v1/responses`: OpenAI's Responses API, on any target.
pub async fn responses(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::Responses), req).await
}

/// `POST /v1/messages/count_tokens`: Anthropic's token counting, on Claude targets.
pub async fn count_tokens(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::CountTokens), req).await
}

/// `POST /v1/messages`: Anthropic's Messages API, on any target.
pub async fn messages(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, Some(Endpoint::Messages), req).await
}

/// Any other `/v1/*` request: proxied as-is to the selected provider.
pub async fn proxy(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(app, None, req).await
}

pub async fn health() -> Response {
    json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
}

/// `GET /v1/models`: with routing headers, the provider's own list (proxied); otherwise the
/// routes of the gateway's config and its providers' models (`super::models`).
pub async fn models(State(app): State<Arc<App>>, req: Request) -> Response {
    let routes_itself = req.headers().contains_key(super::headers::PROVIDER)
        || req.headers().contains_key(super::headers::CONFIG);
    if routes_itself {
        return handle(app, None, req).await;
    }
    // With gateway keys on, the list needs a key too, and shows what the key may call.
    let principal = match &app.governance.keys {
        Some(keys) => {
            let (mut parts, _) = req.into_parts();
            match keys.authenticate(&mut parts.headers).await {
                Ok(p) => Some(p),
                Err(e) => return refuse_parts(&app, parts, e.into()),
            }
        }
        None => None,
    };
    let visible = |id: &str| {
        principal
            .as_ref()
            .and_then(|p| p.key())
            .is_none_or(|k| crate::governance::policy::allowed(&k.policy.models, id))
    };
    super::models::merged(&app, visible).await
}

pub async fn not_found(State(app): State<Arc<App>>, req: Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri().path());
    refuse(&app, req, GatewayError::NotFound(what))
}

pub async fn method_not_allowed(State(app): State<Arc<App>>, req: Request) -> Response {
    let method = req.method().clone();
    refuse(&app, req, GatewayError::MethodNotAllowed(method))
}

/// A request the router refuses itself (an unknown path, a wrong method): answered through the
/// pipeline like any other, so it is logged and counted.
fn refuse(app: &Arc<App>, req: Request, err: GatewayError) -> Response {
    refuse_parts(app, req.into_parts().0, err)
}

/// [`refuse`], for a request whose head was already taken apart.
fn refuse_parts(app: &Arc<App>, mut parts: http::request::Parts, err: GatewayError) -> Response {
    let (trace, permit) = from_layers(&mut parts);
    let done = Completion {
        record: RequestRecord::new(trace, Instant::now()),
        pipeline: &app.pipeline,
        permit,
    };
    response::early_error(err, done)
}

/// What the transport layers put into the request: its trace id and its in-flight permit.
fn from_layers(
    parts: &mut http::request::Parts,
) -> (Arc<str>, Option<Arc<tokio::sync::OwnedSemaphorePermit>>) {
    let trace = match parts.extensions.remove::<TraceId>() {
        Some(t) => t.0,
        None => trace_id(&parts.headers),
    };
    (trace, parts.extensions.remove::<InFlight>().map(|p| p.0))
}

async fn handle(app: Arc<App>, endpoint: Option<Endpoint>, req: Request) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let (trace, permit) = from_layers(&mut parts);
    let mut record = RequestRecord::new(trace, started);
    record.op = endpoint.map_or("proxy", |e| e.name());
    let answer = prepare_and_run(&app, endpoint, parts, body, &mut record).await;
    let done = Completion {
        record,
        pipeline: &app.pipeline,
        permit,
    };
    let (mut resp, ignored) = match answer {
        Ok(Answer::Engine(Ok(s), ignored)) => (response::success(s, done), ignored),
        Ok(Answer::Engine(Err(f), ignored)) => (response::failure(f, done), ignored),
        Ok(Answer::Hook(a)) => (response::answer(a, done), Arc::from([])),
        Err(e) => (response::early_error(e, done), Arc::from([])),
    };
    if !ignored.is_empty() {
        if let Ok(v) = http::HeaderValue::from_str(&ignored.join(", ")) {
            resp.headers_mut().insert(IGNORED_CONFIG_KEYS, v);
        }
    }
    resp
}

/// Who answered a request that got past validation and routing. (Lives on the stack for one
/// move: the engine's outcome is not worth a box.)
#[allow(clippy::large_enum_variant)]
enum Answer {
    /// The engine, with the keys of the request's config that were ignored.
    Engine(Outcome, Arc<[String]>),
    /// A hook of the on-request phase.
    Hook(EarlyAnswer),
}

async fn prepare_and_run(
    app: &App,
    endpoint: Option<Endpoint>,
    mut parts: http::request::Parts,
    body: Body,
    record: &mut RequestRecord,
) -> Result<Answer, GatewayError> {
    // Who is calling: before the body is read, so an unknown caller costs no more than a
    // header lookup (and the key's header is gone before anything is routed or forwarded).
    let principal = match &app.governance.keys {
        Some(keys) => {
            let p = keys.authenticate(&mut parts.headers).await?;
            default_config(&p, &mut parts.headers);
            Some(p)
        }
        None => None,
    };
    let json_body = is_json(&parts.headers);
    if endpoint.is_some() {
        if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
            if !json_body {
                return Err(GatewayError::UnsupportedMediaType(
                    String::from_utf8_lossy(ct.as_bytes()).into_owned(),
                ));
            }
        }
    }
    let settings = app.engine.settings();
    // An upload to a pass-through path (audio, files: any body that is not JSON) is streamed
    // to the upstream as it arrives rather than read.
    let streamed =
        endpoint.is_none() && parts.headers.contains_key(header::CONTENT_TYPE) && !json_body;
    let (body, upload) = if streamed {
        let limit = settings.max_upload_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit as u64) {
            return Err(GatewayError::PayloadTooLarge { limit });
        }
        (Bytes::new(), Some(Limited::new(body, limit)))
    } else {
        let bytes = read_body(
            body,
            &parts.headers,
            settings.max_body_bytes,
            settings.body_read_timeout,
        )
        .await?;
        (bytes, None)
    };

    let head = if endpoint.is_some() || (json_body && !body.is_empty()) {
        if endpoint.is_some() && body.is_empty() {
            return Err(GatewayError::bad_request(
                "request body is empty: send a JSON object",
                None,
            ));
        }
        let head = inspect(&body)?;
        if endpoint == Some(Endpoint::Rerank) {
            crate::engine::rerank::validate(&body)?;
        }
        RequestHead {
            model: head.model.map(|m| Cow::Owned(m.into_owned())),
            ..head
        }
    } else {
        RequestHead::default()
    };
    record.stream = head.stream;
    record.model = head.model.as_deref().map(str::to_owned);

    let headers = PortkeyHeaders::parse(&parts.headers)?;
    let virtual_keys = app.governance.registry.snapshot();
    let key = principal.as_ref().and_then(|p| p.key());
    let defaults = key
        .and_then(|k| k.guardrails.as_ref())
        .map(|(id, members)| KeyDefaults { id, members });
    let Resolved {
        route_name,
        route,
        model_rewrite,
        ignored,
    } = resolve(
        &app.config,
        &app.routes,
        &virtual_keys,
        &headers,
        head.model.as_deref(),
        defaults.as_ref(),
    )?;
    let (request_timeout, forward_headers, mut metadata) = (
        headers.request_timeout,
        headers.forward_headers,
        headers.metadata,
    );
    record.route = route_kind(&route);

    let op = match endpoint {
        Some(e) => Operation::Endpoint(e),
        None => Operation::Proxy {
            method: parts.method.clone(),
            path: proxy_path(&parts.uri),
        },
    };
    let mut ctx = RequestContext::new(
        record.trace_id.clone(),
        op,
        body,
        json_body,
        head.stream,
        parts.headers,
    );
    ctx.started = record.started;
    if let Some(u) = upload {
        ctx.set_upload(u);
    }
    ctx.include_usage = head.include_usage;
    ctx.has_stream_options = head.has_stream_options;
    ctx.model = head.model.map(Cow::into_owned);
    ctx.model_rewrite = model_rewrite;
    ctx.timeout_override = request_timeout;
    ctx.forward_override = forward_headers;
    if let Some(key) = principal.as_ref().and_then(|p| p.key()) {
        record.key_id = Some(Arc::from(key.id.as_str()));
        record.team_id = key.team.as_ref().map(|t| Arc::from(t.id.as_str()));
        record.route_name = route_name.map(Arc::from);
        // The key's (and its team's) metadata wins over the client's.
        for (k, v) in key.metadata() {
            metadata.insert(k.clone(), v.clone());
        }
        ctx.route_name = route_name.map(Arc::from);
    }
    ctx.metadata = metadata;
    if endpoint == Some(Endpoint::Responses) {
        let turn = Arc::new(app.responses.prepare(&ctx.body, principal.as_ref()).await?);
        ctx.with_scratch(|s| s.insert(turn.clone()));
        ctx.responses = Some(turn);
    }
    ctx.principal = principal;

    if let Some(a) = app.pipeline.on_request(&ctx, route.node()).await {
        record.extensions = ctx.take_scratch();
        return Ok(Answer::Hook(a));
    }
    let outcome = app.engine.execute(route.node(), &ctx).await;
    record.extensions = ctx.take_scratch();
    Ok(Answer::Engine(outcome, ignored))
}

/// A key's default config routes a request that names no route of its own (no
/// `x-portkey-config`, `x-portkey-provider` or `x-portkey-virtual-key`).
fn default_config(p: &Principal, headers: &mut HeaderMap) {
    let Some(config) = p.key().and_then(|k| k.default_config()) else {
        return;
    };
    if [CONFIG, PROVIDER, VIRTUAL_KEY]
        .iter()
        .any(|h| headers.contains_key(*h))
    {
        return;
    }
    if let Ok(v) = http::HeaderValue::from_str(&config.to_string()) {
        headers.insert(CONFIG, v);
    }
}

fn route_kind(r: &Route) -> &'static str {
    match r {
        Route::Client(_) => "request",
        Route::Server(_) => "config",
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            // curl's default for `-d`: treated as the JSON it almost always is (the body is
            // still parsed strictly).
            mime == "application/json"
                || mime.ends_with("+json")
                || mime == "application/x-www-form-urlencoded"
        })
        .unwrap_or(true)
}

/// The path (and query) after `/v1/`.
/// The path (and query) after `/v1/` — or after `/v1/proxy/`, Portkey's legacy pass-through
/// route, which reaches the same upstream paths.
fn proxy_path(uri: &http::Uri) -> String {
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let rest = pq.strip_prefix("/v1").unwrap_or(pq);
    let rest = match rest.strip_prefix("/proxy") {
        Some(r) if r.is_empty() || r.starts_with(['/', '?']) => r,
        _ => rest,
    };
    rest.trim_start_matches('/').to_owned()
}

/// The body length the client declared (`content-length`).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok())
}

async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, GatewayError> {
    if declared_length(headers).is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let collect = tokio::time::timeout(timeout, Limited::new(body, limit).collect());
    let Ok(collected) = collect.await else {
        return Err(GatewayError::BodyTimeout {
            ms: timeout.as_millis(),
        });
    };
    match collected {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(GatewayError::PayloadTooLarge { limit })
        }
        Err(e) => Err(GatewayError::bad_request(
            format!("could not read the request body: {e}"),
            None,
        )),
    }
}
