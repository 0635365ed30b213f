//! Provider authentication that is more than copying a key into a header: AWS Signature
//! Version 4 for Bedrock ([`aws`], with the AWS default credential chain for operators who opt
//! in, [`aws_chain`]) and Google service-account OAuth for Vertex AI ([`google`]).
//!
//! Nothing here ever formats a secret: credentials are held as [`crate::config::Secret`], and
//! every [`AuthError`] message is written so that it cannot contain key material.
//! See `docs/auth.md`.

pub mod apply;
pub mod aws;
pub mod aws_chain;
pub mod google;
pub mod oci;

use http::StatusCode;

/// Why a request could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credentials given are missing, incomplete or malformed (a bad service-account JSON,
    /// a private key that is not an RSA PEM, a refused `token_uri`, …): the caller's fault, 400.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    /// The identity provider understood the request and refused the credentials (for example
    /// Google's `invalid_grant` for a revoked key or a deleted service account): 401.
    #[error("credentials rejected: {0}")]
    Rejected(String),
    /// The token endpoint could not be reached, timed out, failed, or answered with something
    /// that is not a token: 502.
    #[error("token exchange failed: {0}")]
    TokenExchange(String),
    /// The request itself could not be signed (for example a URL without a host): a gateway
    /// bug rather than the caller's, 500.
    #[error("cannot sign request: {0}")]
    Signing(String),
}

impl AuthError {
    /// The HTTP status the gateway answers with.
    pub fn status_code(&self) -> StatusCode {
        match self {
            AuthError::InvalidCredentials(_) => StatusCode::BAD_REQUEST,
            AuthError::Rejected(_) => StatusCode::UNAUTHORIZED,
            AuthError::TokenExchange(_) => StatusCode::BAD_GATEWAY,
            AuthError::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message without the variant's prefix.
    pub fn message(&self) -> &str {
        match self {
            AuthError::InvalidCredentials(m)
            | AuthError::Rejected(m)
            | AuthError::TokenExchange(m)
            | AuthError::Signing(m) => m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(
            AuthError::InvalidCredentials("x".into()).status_code(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            AuthError::Rejected("x".into()).status_code(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            AuthError::TokenExchange("x".into()).status_code(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            AuthError::Signing("x".into()).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let e = AuthError::TokenExchange("timed out".into());
        assert_eq!(e.to_string(), "token exchange failed: timed out");
        assert_eq!(e.message(), "timed out");
    }
}
