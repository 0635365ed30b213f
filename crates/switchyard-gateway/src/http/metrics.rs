//! `GET /metrics`: the Prometheus text exposition (`metrics.bearer_token`, when set, guards it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use http::{header, HeaderValue, StatusCode};

use super::server::App;
use crate::error::GatewayError;

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<App>>, req: Request) -> Response {
    let Some(m) = &app.metrics else {
        return axum::response::IntoResponse::into_response(GatewayError::NotFound(
            "GET /metrics (metrics.enabled is false)".into(),
        ));
    };
    if let Some(token) = &app.config.telemetry.metrics.bearer_token {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
        if digest(sent).as_ref() != digest(token.expose()).as_ref() {
            return axum::response::IntoResponse::into_response(GatewayError::Forbidden(
                "/metrics needs `Authorization: Bearer <metrics.bearer_token>`".into(),
            ));
        }
    }
    let body = m.render(app.engine.health().counts());
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
