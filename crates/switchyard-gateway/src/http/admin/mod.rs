//! The admin API: operations on the gateway's own state, behind `auth.admin_key`
//! (`Authorization: Bearer <key>`, or any header a gateway key may come in). Without a
//! configured admin key every admin call is a 403 (`admin_api_off`); without a key or with a
//! wrong one, a 401; with an ordinary gateway key, a 403 (`admin_key_required`) — except for
//! reading its own usage.
//!
//! - `DELETE /admin/cache[?namespace=<name>]`: drops the cached answers of one namespace (the
//!   `x-portkey-cache-namespace` clients sent; `-` for requests without one), or all of them.
//! - `/admin/keys`: gateway keys ([`keys`]); `/admin/teams`: teams ([`teams`]);
//!   `/admin/credentials`: virtual keys ([`credentials`]); `GET /admin/usage` ([`usage`]);
//!   `GET /admin/logs` and `GET /admin/analytics`: the request log ([`logs`]).
//! - `GET /admin/live`: requests as they complete, as Server-Sent Events ([`live`]);
//!   `GET /admin/circuits`: this node's circuit breakers; `GET /admin/info`: version, features,
//!   routes and providers ([`status`]).
//!
//! The web console (`http::console`) calls the admin API with its session cookie instead of a
//! key: a request without a key header but with a valid `switchyard_console` cookie is the
//! admin. Such a request that may change something (any method but GET and HEAD) must also
//! carry `x-switchyard-console: 1` (403 otherwise): a page on another site can make a browser
//! send the cookie (were it not `SameSite=Strict`), but cannot add a header without CORS, which
//! the gateway never grants.
//!
//! Request bodies are JSON objects of at most 1 MiB (413 beyond). Malformed JSON, a wrong type
//! or an unknown member is a 400 whose `param` names the field. Every error is OpenAI-shaped.

mod body;
pub mod credentials;
pub mod keys;
pub mod live;
pub mod logs;
pub mod status;
pub mod teams;
pub mod usage;

pub use body::{
    json_object, json_object_limited, merge_settings, query, text, unknown, MAX_BODY_BYTES,
    SETTINGS,
};

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_store::StoreError;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::console::session;
use super::handlers::method_not_allowed;
use super::server::App;
use crate::error::{error_response, json_response, GatewayError};
use crate::governance::auth::{take_key, KeyEntry, Keys};
use crate::governance::{GovernanceError, Principal};

/// An admin handler's answer: the response, or an error response.
pub type Reply = Result<Response, Fail>;

/// An admin call's error response (boxed: a `Response` is large to move around).
pub struct Fail(Box<Response>);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Fail {
    fn from(r: Response) -> Fail {
        Fail(Box::new(r))
    }
}

/// The admin API's routes (merged into the server's router).
pub fn routes() -> Router<Arc<App>> {
    let no = method_not_allowed;
    Router::new()
        .route("/admin/cache", delete(clear_cache).fallback(no))
        .route(
            "/admin/keys",
            get(keys::list).post(keys::create).fallback(no),
        )
        .route(
            "/admin/keys/{id}",
            get(keys::get)
                .patch(keys::patch)
                .delete(keys::revoke)
                .fallback(no),
        )
        .route(
            "/admin/teams",
            get(teams::list).post(teams::create).fallback(no),
        )
        .route(
            "/admin/teams/{id}",
            get(teams::get)
                .patch(teams::patch)
                .delete(teams::delete)
                .fallback(no),
        )
        .route(
            "/admin/credentials",
            get(credentials::list)
                .post(credentials::create)
                .fallback(no),
        )
        .route(
            "/admin/credentials/{name}",
            get(credentials::get)
                .patch(credentials::patch)
                .delete(credentials::delete)
                .fallback(no),
        )
        .route("/admin/usage", get(usage::usage).fallback(no))
        .route("/admin/logs", get(logs::logs).fallback(no))
        .route("/admin/analytics", get(logs::analytics).fallback(no))
        .route("/admin/live", get(live::live).fallback(no))
        .route("/admin/circuits", get(status::circuits).fallback(no))
        .route("/admin/info", get(status::info).fallback(no))
        .route_layer(middleware::from_fn(console_csrf))
}

/// The header a console session's changing calls carry (see the module's documentation).
pub const CONSOLE_HEADER: &str = "x-switchyard-console";

/// Refuses (403) a call authenticated by the console's cookie alone that may change something
/// and lacks [`CONSOLE_HEADER`]`: 1`.
async fn console_csrf(req: Request, next: Next) -> Response {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reads && session::cookie(req.headers()).is_some() {
        let by_cookie = take_key(&mut req.headers().clone()).is_none();
        let marked = req
            .headers()
            .get(CONSOLE_HEADER)
            .is_some_and(|v| v.as_bytes() == b"1");
        if by_cookie && !marked {
            return fail(GatewayError::Forbidden(format!(
                "a console session changes the gateway only with the header `{CONSOLE_HEADER}: 1`"
            )))
            .into_response();
        }
    }
    next.run(req).await
}

/// Who called an admin endpoint.
pub enum Caller {
    Admin,
    /// An ordinary gateway key.
    Key(Arc<KeyEntry>),
}

/// The caller, by the key its headers carry (or, without one, the console's session cookie):
/// 403 when the admin API is off; 401 without a key, with a wrong one, or with a revoked or
/// expired gateway key (whose error says so), or with an invalid or expired session.
pub async fn caller<'a>(app: &'a App, headers: &HeaderMap) -> Result<(Caller, &'a Keys), Fail> {
    let Some(keys) = &app.governance.keys else {
        return Err(fail(GovernanceError::AdminOff));
    };
    let mut h = headers.clone();
    let Some(key) = take_key(&mut h) else {
        let token =
            session::cookie(headers).ok_or_else(|| fail(GatewayError::AdminUnauthorized))?;
        let now = crate::telemetry::request_log::now_ms();
        return match session::verify(keys.console_session_key(), token, now) {
            Ok(_) => Ok((Caller::Admin, keys)),
            Err(_) => Err(fail(GatewayError::AdminUnauthorized)),
        };
    };
    // Compared by digest: the time taken says nothing about the admin key.
    if keys.is_admin(&key) {
        return Ok((Caller::Admin, keys));
    }
    match keys.principal(&key).await {
        Ok(Principal::Key(k)) => Ok((Caller::Key(k), keys)),
        Ok(Principal::Admin) => Ok((Caller::Admin, keys)),
        Err(GovernanceError::InvalidKey) => Err(fail(GatewayError::AdminUnauthorized)),
        Err(e) => Err(fail(e)),
    }
}

/// The admin key's check: an ordinary gateway key is a 403.
pub async fn admin<'a>(app: &'a App, headers: &HeaderMap) -> Result<&'a Keys, Fail> {
    match caller(app, headers).await? {
        (Caller::Admin, keys) => Ok(keys),
        (Caller::Key(_), _) => Err(fail(GovernanceError::AdminOnly)),
    }
}

/// Any gateway error as a response.
pub fn fail(e: impl Into<GatewayError>) -> Fail {
    e.into().into_response().into()
}

/// 400, with the field at fault in `param`.
pub fn bad(message: impl Into<String>, param: Option<&str>) -> Fail {
    fail(GatewayError::bad_request(message, param))
}

/// 400 for a `path: message` error (from the settings checks), its path as `param`.
pub fn invalid(message: String) -> Fail {
    let param = message
        .split_once(": ")
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty() && !p.contains(' '))
        .map(str::to_owned);
    bad(message, param.as_deref())
}

/// 404: no `what` is called `id`.
pub fn not_found(what: &str, id: &str) -> Fail {
    error_response(
        StatusCode::NOT_FOUND,
        &ErrorEnvelope::new(ErrorKind::NotFoundError, format!("no {what} `{id}`"))
            .with_code("not_found"),
    )
    .into()
}

/// 409: the change conflicts with the gateway's state.
pub fn conflict(message: impl Into<String>) -> Fail {
    error_response(
        StatusCode::CONFLICT,
        &ErrorEnvelope::new(ErrorKind::InvalidRequestError, message).with_code("conflict"),
    )
    .into()
}

/// A failed store call: 409 for a conflict, else 503.
pub fn store_error(e: StoreError) -> Fail {
    match e {
        StoreError::Conflict(m) => conflict(m),
        other => fail(GovernanceError::Store(other.to_string())),
    }
}

/// A JSON response.
pub fn reply(status: StatusCode, v: &Value) -> Response {
    json_response(status, Bytes::from(v.to_string()))
}

/// `{"object": "list", "data": […]}`.
pub fn list(data: Vec<Value>) -> Response {
    reply(StatusCode::OK, &json!({"object": "list", "data": data}))
}

/// A record as JSON, with `extra` members added.
pub fn record<T: serde::Serialize>(r: &T, extra: &[(&str, Value)]) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        for (k, x) in extra {
            m.insert((*k).to_owned(), x.clone());
        }
    }
    v
}

#[derive(Deserialize)]
pub struct ClearQuery {
    namespace: Option<String>,
}

/// `DELETE /admin/cache`.
pub async fn clear_cache(
    State(app): State<Arc<App>>,
    Query(q): Query<ClearQuery>,
    headers: HeaderMap,
) -> Reply {
    admin(&app, &headers).await?;
    if let Some(sem) = &app.semantic {
        // This instance's vectors; another instance's vectors of cleared answers find no
        // answer at their next match and are dropped then.
        sem.clear(q.namespace.as_deref());
    }
    match app.cache.clear(q.namespace.as_deref()).await {
        Ok(removed) => {
            let body = json!({"cleared": true, "namespace": q.namespace, "removed": removed});
            Ok(reply(StatusCode::OK, &body))
        }
        Err(e) => Err(fail(GatewayError::UpstreamUnreachable(format!(
            "clearing the cache: {e}"
        )))),
    }
}
