//! The admin API: operations on the gateway's own state, behind `server.admin_key`
//! (`Authorization: Bearer <key>`); without a configured key every admin call is a 403.
//!
//! - `DELETE /admin/cache[?namespace=<name>]`: drops the cached answers of one namespace (the
//!   `x-portkey-cache-namespace` clients sent; `-` for requests without one), or all of them.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::server::App;
use crate::error::{json_response, GatewayError};

/// The admin key check. The digests of the two keys are compared, so the time it takes says
/// nothing about the key.
fn authorized(app: &App, headers: &HeaderMap) -> Result<(), GatewayError> {
    let Some(key) = &app.config.server.admin_key else {
        return Err(GatewayError::Forbidden(
            "the admin API is off: set server.admin_key".into(),
        ));
    };
    let sent = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    if digest(sent).as_ref() == digest(key.expose()).as_ref() {
        Ok(())
    } else {
        Err(GatewayError::AdminUnauthorized)
    }
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
) -> Response {
    if let Err(e) = authorized(&app, &headers) {
        return e.into_response();
    }
    if let Some(sem) = &app.semantic {
        // This instance's vectors; another instance's vectors of cleared answers find no
        // answer at their next match and are dropped then.
        sem.clear(q.namespace.as_deref());
    }
    match app.cache.clear(q.namespace.as_deref()).await {
        Ok(removed) => {
            let body = json!({"cleared": true, "namespace": q.namespace, "removed": removed});
            json_response(StatusCode::OK, Bytes::from(body.to_string()))
        }
        Err(e) => {
            GatewayError::UpstreamUnreachable(format!("clearing the cache: {e}")).into_response()
        }
    }
}
