//! The OpenAI error envelope: `{"error":{"message","type","param","code"}}`.

use serde::{Deserialize, Serialize};

/// The `type` field of an OpenAI error. Serialised as the snake_case strings OpenAI (and Portkey,
/// for `timeout_error`) use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    RateLimitError,
    TimeoutError,
    ApiError,
    ServerError,
}

impl ErrorKind {
    /// The wire string of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequestError => "invalid_request_error",
            ErrorKind::AuthenticationError => "authentication_error",
            ErrorKind::PermissionError => "permission_error",
            ErrorKind::NotFoundError => "not_found_error",
            ErrorKind::RateLimitError => "rate_limit_error",
            ErrorKind::TimeoutError => "timeout_error",
            ErrorKind::ApiError => "api_error",
            ErrorKind::ServerError => "server_error",
        }
    }

    /// The kind OpenAI uses for an HTTP status.
    pub fn for_status(status: u16) -> Self {
        match status {
            400 | 409 | 413 | 415 | 422 => ErrorKind::InvalidRequestError,
            401 => ErrorKind::AuthenticationError,
            403 => ErrorKind::PermissionError,
            404 => ErrorKind::NotFoundError,
            408 | 504 => ErrorKind::TimeoutError,
            429 => ErrorKind::RateLimitError,
            500..=599 => ErrorKind::ApiError,
            _ => ErrorKind::InvalidRequestError,
        }
    }
}

/// The inner object of an OpenAI error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

impl ErrorEnvelope {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            error: ErrorBody {
                message: message.into(),
                kind: kind.as_str().to_owned(),
                param: None,
                code: None,
            },
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.error.param = Some(param.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.error.code = Some(code.into());
        self
    }

    /// Serialises to JSON bytes. Serialising this struct cannot fail (only strings inside).
    pub fn to_bytes(&self) -> bytes::Bytes {
        match serde_json::to_vec(self) {
            Ok(v) => v.into(),
            Err(_) => bytes::Bytes::from_static(
                br#"{"error":{"message":"internal error","type":"api_error","param":null,"code":null}}"#,
            ),
        }
    }

    /// Reads an OpenAI-style error body, if `body` is one. Accepts the common variants upstreams
    /// emit: `{"error":{"message":..}}`, `{"error":"text"}` and `{"message":..}`.
    pub fn from_upstream(body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Inner {
            Obj {
                message: Option<serde_json::Value>,
                #[serde(rename = "type")]
                kind: Option<String>,
                param: Option<serde_json::Value>,
                code: Option<serde_json::Value>,
            },
            Text(String),
        }
        #[derive(Deserialize)]
        struct Outer {
            error: Option<Inner>,
            message: Option<String>,
        }
        let outer: Outer = serde_json::from_slice(body).ok()?;
        let value_str = |v: Option<serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        };
        match (outer.error, outer.message) {
            (
                Some(Inner::Obj {
                    message,
                    kind,
                    param,
                    code,
                }),
                _,
            ) => Some(ErrorEnvelope {
                error: ErrorBody {
                    message: value_str(message).unwrap_or_default(),
                    kind: kind.unwrap_or_else(|| ErrorKind::ApiError.as_str().to_owned()),
                    param: value_str(param),
                    code: value_str(code),
                },
            }),
            (Some(Inner::Text(message)), _) | (None, Some(message)) => {
                Some(ErrorEnvelope::new(ErrorKind::ApiError, message))
            }
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_serialises_with_all_four_fields() {
        let e = ErrorEnvelope::new(ErrorKind::InvalidRequestError, "bad").with_param("model");
        let v: serde_json::Value = serde_json::from_slice(&e.to_bytes()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error":{"message":"bad","type":"invalid_request_error","param":"model","code":null}})
        );
    }

    #[test]
    fn upstream_error_variants_are_recognised() {
        let a = ErrorEnvelope::from_upstream(br#"{"error":{"message":"m","type":"t","code":42}}"#)
            .unwrap();
        assert_eq!(a.error.message, "m");
        assert_eq!(a.error.code.as_deref(), Some("42"));
        let b = ErrorEnvelope::from_upstream(br#"{"error":"plain"}"#).unwrap();
        assert_eq!(b.error.message, "plain");
        let c = ErrorEnvelope::from_upstream(br#"{"message":"top"}"#).unwrap();
        assert_eq!(c.error.message, "top");
        assert!(ErrorEnvelope::from_upstream(b"not json").is_none());
        assert!(ErrorEnvelope::from_upstream(br#"{"ok":true}"#).is_none());
    }

    #[test]
    fn status_maps_to_openai_kind() {
        assert_eq!(ErrorKind::for_status(429), ErrorKind::RateLimitError);
        assert_eq!(ErrorKind::for_status(408), ErrorKind::TimeoutError);
        assert_eq!(ErrorKind::for_status(401), ErrorKind::AuthenticationError);
        assert_eq!(ErrorKind::for_status(503), ErrorKind::ApiError);
    }
}
