//! The web console: a single-page app served by the gateway itself, its files embedded in the
//! binary ([`assets`]), signed in with the admin key for an HttpOnly session cookie
//! ([`session`]), and driven entirely through the admin API (`/admin/*`, which accepts the
//! cookie in place of the key).
//!
//! - `GET /console`, `GET /console/` → the app's page; `GET /console/assets/app.js` and
//!   `GET /console/assets/app.css` → its script and styles. Any other `/console/…` path is a
//!   404. Every answer carries a strict content security policy, `nosniff`, `no-referrer`,
//!   `x-frame-options: DENY` and `cache-control: no-cache` (files also an ETag; a matching
//!   `if-none-match` is a 304).
//! - `POST /console/login` with `{"admin_key": "<key>"}` (at most 4 KiB) → 204 and
//!   `set-cookie: switchyard_console=<token>; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`
//!   (`; Secure` when `x-forwarded-proto: https`). A wrong key is a 401, no admin key
//!   configured (the admin API is off) a 403, a malformed body a 400, a larger one a 413.
//! - `POST /console/logout` → 204, the cookie cleared (`Max-Age=0`). The token itself stays
//!   valid until it expires: sessions are stateless (see [`session`]).
//! - `GET /console/session` → `{"authenticated": true, "expires_at": <unix ms>}` with a valid
//!   session cookie, else a 401 (403 when the admin API is off).
//!
//! Sessions last 12 hours and survive restarts; every node with the same admin key accepts
//! them, and changing the admin key ends them all.

pub mod assets;
pub mod session;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::admin::{bad, fail, json_object_limited, reply, Fail, Reply};
use super::handlers::method_not_allowed;
use super::server::App;
use crate::error::GatewayError;
use crate::governance::auth::Keys;
use crate::governance::GovernanceError;
use crate::telemetry::request_log::now_ms;

/// The largest login body read.
pub const MAX_LOGIN_BYTES: usize = 4 * 1024;

/// The console's routes (merged into the server's router).
pub fn routes() -> Router<Arc<App>> {
    let no = method_not_allowed;
    Router::new()
        .route("/console", get(index).fallback(no))
        .route("/console/", get(index).fallback(no))
        .route("/console/assets/app.js", get(app_js).fallback(no))
        .route("/console/assets/app.css", get(app_css).fallback(no))
        .route("/console/login", post(login).fallback(no))
        .route("/console/logout", post(logout).fallback(no))
        .route("/console/session", get(current).fallback(no))
        .route("/console/{*rest}", any(not_found))
        .layer(map_response(secure))
}

/// Adds the console's security headers to every answer.
async fn secure(mut resp: Response) -> Response {
    assets::security_headers(resp.headers_mut());
    resp
}

async fn index(headers: HeaderMap) -> Response {
    assets::serve(&assets::INDEX, &headers)
}

async fn app_js(headers: HeaderMap) -> Response {
    assets::serve(&assets::APP_JS, &headers)
}

async fn app_css(headers: HeaderMap) -> Response {
    assets::serve(&assets::APP_CSS, &headers)
}

/// 404 for any other path under `/console/` (not the app's page: a missing file should look
/// missing, not like HTML).
async fn not_found(req: axum::extract::Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri().path());
    GatewayError::NotFound(what).into_response()
}

/// The keys, or 403 when the admin API is off.
fn keys(app: &App) -> Result<&Keys, Fail> {
    app.governance
        .keys
        .as_ref()
        .ok_or_else(|| fail(GovernanceError::AdminOff))
}

/// `POST /console/login`.
async fn login(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Reply {
    let keys = keys(&app)?;
    let body = json_object_limited(&app, &headers, body, MAX_LOGIN_BYTES).await?;
    let mut admin_key = None;
    for (name, value) in body {
        match (name.as_str(), value) {
            ("admin_key", Value::String(k)) => admin_key = Some(k),
            ("admin_key", _) => return Err(bad("admin_key: must be a string", Some("admin_key"))),
            (other, _) => {
                return Err(bad(
                    format!("{other}: unknown member (expected admin_key)"),
                    Some(other),
                ))
            }
        }
    }
    let Some(admin_key) = admin_key else {
        return Err(bad("admin_key: required", Some("admin_key")));
    };
    // Compared by digest: the time taken says nothing about the admin key.
    if !keys.is_admin(&admin_key) {
        return Err(fail(GatewayError::AdminUnauthorized));
    }
    let expires = now_ms().saturating_add(session::LIFETIME_MS);
    let token = session::issue(keys.console_session_key(), expires);
    let cookie = session::set_cookie(&token, session::is_https(&headers));
    Ok(no_content(&cookie))
}

/// `POST /console/logout`: clears the cookie (whoever asks; it only affects their browser).
async fn logout(headers: HeaderMap) -> Response {
    no_content(&session::clear_cookie(session::is_https(&headers)))
}

/// `GET /console/session`.
async fn current(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    let keys = keys(&app)?;
    let token = session::cookie(&headers).ok_or_else(|| fail(GatewayError::AdminUnauthorized))?;
    match session::verify(keys.console_session_key(), token, now_ms()) {
        Ok(expires_at) => Ok(reply(
            StatusCode::OK,
            &json!({"authenticated": true, "expires_at": expires_at}),
        )),
        Err(_) => Err(fail(GatewayError::AdminUnauthorized)),
    }
}

/// 204 with `set-cookie`.
fn no_content(cookie: &str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}
