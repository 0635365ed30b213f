//! `default.jwt`: passes when the client's request carries a valid JWT, signed by a key of a
//! JWK Set.
//!
//! Parameters (Portkey's): `jwksUri` (required, http or https), `headerKey` (the request header
//! holding the token, default `Authorization`; a `Bearer ` prefix is stripped), `cacheMaxAge`
//! (seconds the JWKS is cached, default 86400), `clockTolerance` (seconds of leeway on `exp`,
//! `nbf` and `iat`, default 5), `maxTokenAge` (how old `iat` may be: `"1d"`, `"12h"`, `"30m"`,
//! `"10s"`, `"2w"`, `"1y"` and the long unit names jose reads, or whole seconds; default
//! `"1d"`). Portkey has no `algorithms` parameter; nor has this check.
//!
//! A token passes when its header names a `kid` of the JWKS (see `jwks.rs` for the cache and
//! its refetch limit), its algorithm is the key's (the key's `alg`, or else any asymmetric one
//! its type allows: RS*/PS* for RSA, ES256 for P-256, ES384 for P-384, EdDSA for Ed25519), its
//! signature verifies, `exp` (if any) is not past and `nbf` (if any) not ahead by more than
//! `clockTolerance`, and `iat` is present and at most `maxTokenAge` old — jose's `jwtVerify`
//! rules, which Portkey uses. `data` is `{verdict, explanation}`; the token is never echoed.
//!
//! Where this differs from Portkey, for safety: anything wrong with the *token* (unreadable,
//! no `kid`, an HMAC or unknown algorithm, a key that can't be used) is a failed verdict,
//! never a check error — an error passes unless `failOnError`, so a client must not be able
//! to cause one. Only a JWKS that can't be had is an error (set `failOnError: true` to fail
//! closed then). Symmetric (`oct`) keys and HS* tokens are refused: a shared secret published
//! at a URL is no secret. A key without `alg` is usable (Portkey's jose import needs one).
//! `clockTolerance: 0` means none (Portkey's `|| 5` turns it into 5); `cacheMaxAge: 0` is the
//! default, as in Portkey.
//!
//! Output checks of a stream see no headers: there this check fails.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderName, Uri};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use switchyard_guardrails::{
    Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck, Registry,
};

use super::{jwks, outbound};

const DEFAULT_CACHE_MAX_AGE: u64 = 86_400;
const MAX_CACHE_MAX_AGE: u64 = 365 * 86_400;
const DEFAULT_CLOCK_TOLERANCE: u64 = 5;
const MAX_CLOCK_TOLERANCE: u64 = 3600;
const DEFAULT_MAX_TOKEN_AGE: u64 = 86_400;
/// Ten of jose's years.
const MAX_MAX_TOKEN_AGE: u64 = 10 * 31_557_600;

pub(super) fn register(r: &mut Registry) {
    r.register(Arc::new(Jwt));
}

struct Jwt;

#[derive(Debug)]
struct Prepared {
    jwks: Uri,
    header: HeaderName,
    cache_max_age: Duration,
    clock_tolerance: u64,
    max_token_age: u64,
}

fn bad(m: impl Into<String>) -> CheckError {
    CheckError::InvalidParameters(m.into())
}

/// Whole seconds `0..=max` (`null` or absent = `default`; 0 = `default` when `zero_is_default`,
/// Portkey's `||`).
fn seconds(
    params: &Value,
    key: &str,
    default: u64,
    max: u64,
    zero_is_default: bool,
) -> Result<u64, CheckError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(0) if zero_is_default => Ok(default),
            Some(n) if n <= max => Ok(n),
            _ => Err(bad(format!(
                "`{key}` must be a whole number of seconds from 0 to {max}"
            ))),
        },
    }
}

/// `maxTokenAge`: whole seconds, or jose's time span — a number (decimals allowed), an
/// optional space and a unit (`s`, `sec(s)`, `second(s)`, `m`, `min(s)`, `minute(s)`, `h`,
/// `hr(s)`, `hour(s)`, `d`, `day(s)`, `w`, `week(s)`, `y`, `yr(s)`, `year(s)`, any case),
/// rounded to seconds. Signs and `ago` / `from now` (meaningless for an age) are refused.
fn max_token_age(v: Option<&Value>) -> Result<u64, CheckError> {
    let err = || {
        bad(format!(
            "`maxTokenAge` must be a time span such as \"1d\", \"12h\", \"30m\" or \"10s\", or whole seconds, from 1s to {MAX_MAX_TOKEN_AGE}s"
        ))
    };
    let secs = match v {
        None | Some(Value::Null) => return Ok(DEFAULT_MAX_TOKEN_AGE),
        Some(Value::String(s)) if s.is_empty() => return Ok(DEFAULT_MAX_TOKEN_AGE),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => return Ok(DEFAULT_MAX_TOKEN_AGE),
            Some(n) => n,
            None => return Err(err()),
        },
        Some(Value::String(s)) => span(s).ok_or_else(err)?,
        Some(_) => return Err(err()),
    };
    if (1..=MAX_MAX_TOKEN_AGE).contains(&secs) {
        Ok(secs)
    } else {
        Err(err())
    }
}

fn span(s: &str) -> Option<u64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, rest) = s.split_at(split);
    let unit = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let valid_number = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1;
    if !valid_number {
        return None;
    }
    let value = f64::from_str(number).ok()?;
    let unit = match unit.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600.0,
        _ => return None,
    };
    let secs = (value * unit).round();
    (secs.is_finite() && secs <= MAX_MAX_TOKEN_AGE as f64).then_some(secs as u64)
}

impl Check for Jwt {
    fn id(&self) -> &'static str {
        "default.jwt"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared::new(params)?))
    }
}

impl Prepared {
    fn new(params: &Value) -> Result<Prepared, CheckError> {
        let jwks = outbound::target_url(params, "jwksUri")?;
        let header = match params.get("headerKey") {
            None | Some(Value::Null) => HeaderName::from_static("authorization"),
            Some(Value::String(s)) if s.is_empty() => HeaderName::from_static("authorization"),
            Some(Value::String(s)) => HeaderName::from_bytes(s.as_bytes())
                .map_err(|_| bad("`headerKey` is not a valid header name"))?,
            Some(_) => return Err(bad("`headerKey` must be a string")),
        };
        let cache_max_age = seconds(
            params,
            "cacheMaxAge",
            DEFAULT_CACHE_MAX_AGE,
            MAX_CACHE_MAX_AGE,
            true,
        )?;
        let clock_tolerance = seconds(
            params,
            "clockTolerance",
            DEFAULT_CLOCK_TOLERANCE,
            MAX_CLOCK_TOLERANCE,
            false,
        )?;
        Ok(Prepared {
            jwks,
            header,
            cache_max_age: Duration::from_secs(cache_max_age),
            clock_tolerance,
            max_token_age: max_token_age(params.get("maxTokenAge"))?,
        })
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        Box::pin(self.call(cx))
    }
}

fn verdict(ok: bool, explanation: &str) -> Result<CheckOutcome, CheckError> {
    Ok(CheckOutcome::new(
        ok,
        json!({"verdict": ok, "explanation": explanation}),
    ))
}

fn invalid(why: &str) -> Result<CheckOutcome, CheckError> {
    verdict(false, &format!("JWT validation error: {why}"))
}

impl Prepared {
    async fn call(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let Some(headers) = cx.headers else {
            return verdict(
                false,
                "The request headers are not available to this check (output checks of a stream)",
            );
        };
        let raw = match headers.get(&self.header) {
            Some(v) if !v.is_empty() => v,
            _ => return verdict(false, "Missing authorization header"),
        };
        let Ok(raw) = raw.to_str() else {
            return invalid("Invalid Compact JWS");
        };
        let token = strip_bearer(raw).trim();
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return invalid("Invalid Compact JWS");
        };
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return invalid("\"alg\" (Algorithm) Header Parameter value not allowed");
        }
        let Some(kid) = header.kid.as_deref() else {
            return verdict(false, "No matching key found for kid");
        };
        let keys = jwks::keys(&self.jwks, kid, self.cache_max_age)
            .await
            .map_err(|e| CheckError::Failed(format!("JWT validation error: {e}")))?;
        let Some(jwk) = jwks::find(&keys, kid) else {
            return verdict(false, "No matching key found for kid");
        };
        if !algorithms(jwk).contains(&header.alg) {
            return invalid("\"alg\" (Algorithm) Header Parameter value not allowed");
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            return invalid("the key for this kid can't be used");
        };
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = match jsonwebtoken::decode::<Value>(token, &key, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                return invalid(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        "signature verification failed"
                    }
                    _ => "Invalid Compact JWS",
                })
            }
        };
        match self.claims(&claims, now()) {
            Ok(()) => verdict(true, "JWT token validation succeeded"),
            Err(why) => invalid(why),
        }
    }

    /// jose's claim checks, with `clockTolerance` as leeway. `now` in seconds since the epoch.
    fn claims(&self, c: &Value, now: f64) -> Result<(), &'static str> {
        if !c.is_object() {
            return Err("JWT Claims Set must be a top-level JSON object");
        }
        let tolerance = self.clock_tolerance as f64;
        let iat = match c.get("iat") {
            None => return Err("\"iat\" claim missing"),
            Some(v) => v.as_f64().ok_or("\"iat\" claim must be a number")?,
        };
        if let Some(nbf) = c.get("nbf") {
            let nbf = nbf.as_f64().ok_or("\"nbf\" claim must be a number")?;
            if nbf > now + tolerance {
                return Err("\"nbf\" claim timestamp check failed");
            }
        }
        if let Some(exp) = c.get("exp") {
            let exp = exp.as_f64().ok_or("\"exp\" claim must be a number")?;
            if exp <= now - tolerance {
                return Err("\"exp\" claim timestamp check failed");
            }
        }
        let age = now - iat;
        if age - tolerance > self.max_token_age as f64 {
            return Err("\"iat\" claim timestamp check failed (too far in the past)");
        }
        if age < -tolerance {
            return Err("\"iat\" claim timestamp check failed (it should be in the past)");
        }
        Ok(())
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as f64
}

/// Portkey's `replace(/^Bearer\s+/i, '')`.
fn strip_bearer(v: &str) -> &str {
    let (Some(prefix), Some(rest)) = (v.get(..6), v.get(6..)) else {
        return v;
    };
    let trimmed = rest.trim_start();
    if prefix.eq_ignore_ascii_case("bearer") && trimmed.len() < rest.len() {
        trimmed
    } else {
        v
    }
}

/// The algorithms a token signed with `jwk` may use: the key's `alg`, or those its type allows.
/// Never HMAC.
fn algorithms(jwk: &Jwk) -> Vec<Algorithm> {
    use Algorithm as A;
    if let Some(alg) = &jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::RS256 => vec![A::RS256],
            KeyAlgorithm::RS384 => vec![A::RS384],
            KeyAlgorithm::RS512 => vec![A::RS512],
            KeyAlgorithm::PS256 => vec![A::PS256],
            KeyAlgorithm::PS384 => vec![A::PS384],
            KeyAlgorithm::PS512 => vec![A::PS512],
            KeyAlgorithm::ES256 => vec![A::ES256],
            KeyAlgorithm::ES384 => vec![A::ES384],
            KeyAlgorithm::EdDSA => vec![A::EdDSA],
            _ => vec![],
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            vec![A::RS256, A::RS384, A::RS512, A::PS256, A::PS384, A::PS512]
        }
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![A::ES256],
            EllipticCurve::P384 => vec![A::ES384],
            _ => vec![],
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => vec![A::EdDSA],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
