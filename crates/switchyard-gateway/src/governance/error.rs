//! Governance's refusals: each with its status and a stable `code` clients can branch on.

use http::StatusCode;
use switchyard_types::{ErrorEnvelope, ErrorKind};

/// Why governance refused a request (or could not decide).
#[derive(Debug, Clone, thiserror::Error)]
pub enum GovernanceError {
    #[error("this gateway requires a gateway key: send it as `Authorization: Bearer sy-…` (or x-portkey-api-key, x-api-key, api-key)")]
    MissingKey,
    #[error("the gateway key is not valid")]
    InvalidKey,
    #[error("the gateway key was revoked")]
    RevokedKey,
    #[error("the gateway key expired")]
    ExpiredKey,
    /// The key may not use this model, provider, route or virtual key.
    #[error("this gateway key may not use {what} `{name}`")]
    NotAllowed { what: &'static str, name: String },
    /// A budget is spent.
    #[error("the {scope}'s budget is exhausted: {spent} of {limit} {unit} used{period}")]
    BudgetExhausted {
        scope: &'static str,
        spent: String,
        limit: String,
        unit: &'static str,
        period: String,
    },
    /// A rate limit refused the request.
    #[error("rate limit reached for the {scope}: {value} {kind} per {per}; retry after {retry_after_ms} ms")]
    RateLimited {
        scope: &'static str,
        kind: &'static str,
        value: u64,
        per: &'static str,
        retry_after_ms: u64,
    },
    /// A fail-closed limit's shared counters are unreachable.
    #[error(
        "rate limits can't be checked right now (their shared store is unreachable); retry shortly"
    )]
    CountersUnavailable,
    /// An admin operation with an ordinary key.
    #[error("this needs the admin key")]
    AdminOnly,
    /// The admin API without `auth.admin_key`.
    #[error("the admin API is off: set auth.admin_key (or SWITCHYARD_ADMIN_KEY)")]
    AdminOff,
    /// The key database failed.
    #[error("the key database is unavailable: {0}")]
    Store(String),
}

/// The codes of governance's refusals (their `code` in error bodies).
pub const CODES: &[&str] = &[
    "missing_gateway_key",
    "invalid_gateway_key",
    "revoked_gateway_key",
    "expired_gateway_key",
    "model_not_allowed",
    "provider_not_allowed",
    "route_not_allowed",
    "virtual_key_not_allowed",
    "budget_exceeded",
    "rate_limit_exceeded",
    "limits_unavailable",
];

impl GovernanceError {
    pub fn status_code(&self) -> StatusCode {
        use GovernanceError::*;
        match self {
            MissingKey | InvalidKey | RevokedKey | ExpiredKey => StatusCode::UNAUTHORIZED,
            NotAllowed { .. } | BudgetExhausted { .. } => StatusCode::PRECONDITION_FAILED,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            CountersUnavailable | Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminOnly | AdminOff => StatusCode::FORBIDDEN,
        }
    }

    /// The stable `code` of the error body.
    pub fn code(&self) -> &'static str {
        use GovernanceError::*;
        match self {
            MissingKey => "missing_gateway_key",
            InvalidKey => "invalid_gateway_key",
            RevokedKey => "revoked_gateway_key",
            ExpiredKey => "expired_gateway_key",
            NotAllowed { what, .. } => match *what {
                "model" => "model_not_allowed",
                "provider" => "provider_not_allowed",
                "route" => "route_not_allowed",
                _ => "virtual_key_not_allowed",
            },
            BudgetExhausted { .. } => "budget_exceeded",
            RateLimited { .. } => "rate_limit_exceeded",
            CountersUnavailable => "limits_unavailable",
            AdminOnly => "admin_key_required",
            AdminOff => "admin_api_off",
            Store(_) => "key_store_unavailable",
        }
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        let kind = match self.status_code().as_u16() {
            412 => ErrorKind::InvalidRequestError,
            s => ErrorKind::for_status(s),
        };
        ErrorEnvelope::new(kind, self.to_string()).with_code(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_their_statuses_and_codes() {
        let cases = [
            (GovernanceError::MissingKey, 401, "missing_gateway_key"),
            (GovernanceError::RevokedKey, 401, "revoked_gateway_key"),
            (
                GovernanceError::NotAllowed {
                    what: "model",
                    name: "gpt-4o".into(),
                },
                412,
                "model_not_allowed",
            ),
            (
                GovernanceError::CountersUnavailable,
                503,
                "limits_unavailable",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status_code().as_u16(), status);
            let env = e.envelope();
            assert_eq!(env.error.code.as_deref(), Some(code));
        }
    }
}
