//! The gateway's errors, and the one place they become HTTP responses.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use switchyard_types::json::BodyError;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::config::ConfigErrors;

/// Everything that can go wrong with a request, from reading it to the last upstream attempt.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("{0}")]
    Body(#[from] BodyError),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client did not send its whole body in time (408).
    #[error("the request body was not received within {ms}ms")]
    BodyTimeout { ms: u128 },
    #[error("unsupported content type `{0}`: send application/json")]
    UnsupportedMediaType(String),
    #[error("invalid config: {0}")]
    Config(ConfigErrors),
    #[error("{0}")]
    NoRoute(String),
    /// The request is understood but not allowed on this route (403).
    #[error("{0}")]
    Forbidden(String),
    /// An admin call without the admin key (401).
    #[error("the admin API needs `Authorization: Bearer <auth.admin_key>`")]
    AdminUnauthorized,
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method {0} is not allowed on this path")]
    MethodNotAllowed(http::Method),
    #[error("{0}")]
    NoConditionMatched(String),
    /// The request timed out waiting for the upstream (Portkey's 408 `timeout_error`).
    #[error("Request exceeded the timeout sent in the request: {ms}ms")]
    Timeout { ms: u128 },
    #[error("upstream unreachable: {0}")]
    UpstreamUnreachable(String),
    #[error("upstream stream failed: {0}")]
    UpstreamStream(String),
    /// An upstream error response, passed on with its status.
    #[error("upstream returned {status}")]
    Upstream {
        status: StatusCode,
        envelope: ErrorEnvelope,
    },
    /// A pipeline hook passed over a target (503 when no other target answered).
    #[error("target skipped: {0}")]
    TargetSkipped(String),
    /// The upstream refused the operator's own credentials: a gateway misconfiguration, not
    /// the client's fault (502, and a warning in the log).
    #[error("the upstream refused the gateway's credentials for provider `{provider}` (HTTP {status}); the gateway's operator needs to fix them")]
    ServerCredentialsRejected { provider: String, status: u16 },
    #[error("{0}")]
    Auth(#[from] crate::auth::AuthError),
    /// A gateway key, limit or budget refused the request.
    #[error("{0}")]
    Governance(#[from] crate::governance::GovernanceError),
    #[error("{0}")]
    Internal(String),
    /// A pipeline hook answered for the target it failed (a denied guardrail's 446): its
    /// status and body are the response.
    #[error("a pipeline hook answered with HTTP {}", .0.status.as_u16())]
    Answered(Box<crate::pipeline::EarlyAnswer>),
}

impl GatewayError {
    pub fn bad_request(message: impl Into<String>, param: Option<&str>) -> Self {
        GatewayError::BadRequest {
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            GatewayError::BadRequest { .. }
            | GatewayError::Body(_)
            | GatewayError::NoRoute(_)
            | GatewayError::NoConditionMatched(_) => StatusCode::BAD_REQUEST,
            GatewayError::Config(e) if e.only_credentials() => StatusCode::UNAUTHORIZED,
            GatewayError::Config(_) => StatusCode::BAD_REQUEST,
            GatewayError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
            GatewayError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::Forbidden(_) => StatusCode::FORBIDDEN,
            GatewayError::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            GatewayError::Timeout { .. } | GatewayError::BodyTimeout { .. } => {
                StatusCode::REQUEST_TIMEOUT
            }
            GatewayError::UpstreamUnreachable(_)
            | GatewayError::UpstreamStream(_)
            | GatewayError::ServerCredentialsRejected { .. } => StatusCode::BAD_GATEWAY,
            GatewayError::Upstream { status, .. } => *status,
            GatewayError::Auth(e) => e.status_code(),
            GatewayError::TargetSkipped(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Governance(e) => e.status_code(),
            GatewayError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::Answered(a) => a.status,
        }
    }

    /// A low-cardinality label for logs and metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            GatewayError::BadRequest { .. } => "bad_request",
            GatewayError::Body(_) => "bad_body",
            GatewayError::PayloadTooLarge { .. } => "payload_too_large",
            GatewayError::UnsupportedMediaType(_) => "unsupported_media_type",
            GatewayError::Config(_) => "invalid_config",
            GatewayError::NoRoute(_) => "no_route",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::MethodNotAllowed(_) => "method_not_allowed",
            GatewayError::Forbidden(_) => "forbidden",
            GatewayError::AdminUnauthorized => "admin_unauthorized",
            GatewayError::NoConditionMatched(_) => "no_condition_matched",
            GatewayError::Timeout { .. } => "timeout",
            GatewayError::BodyTimeout { .. } => "body_timeout",
            GatewayError::UpstreamUnreachable(_) => "upstream_unreachable",
            GatewayError::UpstreamStream(_) => "upstream_stream",
            GatewayError::Upstream { .. } => "upstream_error",
            GatewayError::ServerCredentialsRejected { .. } => "gateway_credentials_rejected",
            GatewayError::Auth(_) => "provider_auth",
            GatewayError::TargetSkipped(_) => "target_skipped",
            GatewayError::Governance(e) => e.code(),
            GatewayError::Internal(_) => "internal",
            GatewayError::Answered(_) => "hooks_failed",
        }
    }

    /// The OpenAI error body for this error.
    pub fn envelope(&self) -> ErrorEnvelope {
        let status = self.status_code();
        match self {
            GatewayError::Upstream { envelope, .. } => envelope.clone(),
            GatewayError::Governance(e) => e.envelope(),
            GatewayError::BadRequest { message, param } => {
                let e = ErrorEnvelope::new(ErrorKind::InvalidRequestError, message.clone());
                match param {
                    Some(p) => e.with_param(p.clone()),
                    None => e,
                }
            }
            GatewayError::Body(b) => {
                let e = ErrorEnvelope::new(ErrorKind::InvalidRequestError, b.to_string())
                    .with_code(match b {
                        BodyError::WrongType { .. } => "invalid_type",
                        _ => "invalid_json",
                    });
                match b.param() {
                    Some(p) => e.with_param(p),
                    None => e,
                }
            }
            GatewayError::Config(errs) => {
                let kind = if errs.only_credentials() {
                    ErrorKind::AuthenticationError
                } else {
                    ErrorKind::InvalidRequestError
                };
                let e = ErrorEnvelope::new(kind, self.to_string()).with_code(
                    if errs.only_credentials() {
                        "missing_api_key"
                    } else {
                        "invalid_config"
                    },
                );
                match errs.first_path() {
                    Some(p) => e.with_param(p),
                    None => e,
                }
            }
            GatewayError::Timeout { .. } => {
                ErrorEnvelope::new(ErrorKind::TimeoutError, self.to_string())
            }
            GatewayError::PayloadTooLarge { .. } => {
                ErrorEnvelope::new(ErrorKind::InvalidRequestError, self.to_string())
                    .with_code("payload_too_large")
            }
            GatewayError::NotFound(_) => {
                ErrorEnvelope::new(ErrorKind::NotFoundError, self.to_string())
            }
            GatewayError::Forbidden(_) => {
                ErrorEnvelope::new(ErrorKind::PermissionError, self.to_string())
                    .with_code("forbidden")
            }
            GatewayError::NoRoute(_) => {
                ErrorEnvelope::new(ErrorKind::InvalidRequestError, self.to_string())
                    .with_code("no_route")
            }
            _ => ErrorEnvelope::new(ErrorKind::for_status(status.as_u16()), self.to_string())
                .with_code(self.metric_label()),
        }
    }
}

impl GatewayError {
    /// The response body: the OpenAI error envelope, or a hook's own answer.
    pub fn body(&self) -> Bytes {
        match self {
            GatewayError::Answered(a) => a.body.clone(),
            _ => self.envelope().to_bytes(),
        }
    }
}

/// Renders an OpenAI error body with `status`.
pub fn error_response(status: StatusCode, envelope: &ErrorEnvelope) -> Response {
    json_response(status, envelope.to_bytes())
}

pub fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        json_response(self.status_code(), self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_matches_portkeys_408_body() {
        let e = GatewayError::Timeout { ms: 5000 };
        assert_eq!(e.status_code(), StatusCode::REQUEST_TIMEOUT);
        let env = e.envelope();
        assert_eq!(env.error.kind, "timeout_error");
        assert_eq!(
            env.error.message,
            "Request exceeded the timeout sent in the request: 5000ms"
        );
    }

    #[test]
    fn missing_credentials_are_401_and_other_config_errors_400() {
        let mut creds = ConfigErrors::default();
        creds.push_credentials("config.api_key", "no API key");
        assert_eq!(
            GatewayError::Config(creds).status_code(),
            StatusCode::UNAUTHORIZED
        );
        let mut bad = ConfigErrors::default();
        bad.push("config.strategy.mode", "unknown mode");
        let e = GatewayError::Config(bad);
        assert_eq!(e.status_code(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.envelope().error.param.as_deref(),
            Some("config.strategy.mode")
        );
    }
}
