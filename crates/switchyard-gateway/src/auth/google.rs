//! Google service-account OAuth for Vertex AI: the service account's key signs a JWT (RS256),
//! the JWT is exchanged at the account's `token_uri` for an access token
//! ([RFC 7523](https://www.rfc-editor.org/rfc/rfc7523) `jwt-bearer` grant), and the token is
//! cached until a minute before it expires.
//!
//! Tokens are cached per (client_email, token_uri, SHA-256 of the private key): a caller that
//! knows an account's e-mail address but not its key never gets that account's cached token.
//! Concurrent callers for the same account wait on one exchange instead of each making their own.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::AuthError;
use crate::config::Secret;
use crate::ssrf::{check_custom_host, validate_base_url, HostCheck, TrustedHosts};
use crate::upstream::{blocked_in, Upstreams};

/// Where tokens are exchanged when the service-account JSON names no `token_uri`.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The OAuth scope requested: all of Google Cloud, which Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, form-encoded.
const GRANT_TYPE_FORM: &str = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
/// Lifetime of the signed JWT (Google's maximum).
const JWT_LIFETIME_SECS: u64 = 3600;
/// A cached token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// `expires_in` when the token endpoint leaves it out.
const DEFAULT_EXPIRES_IN: u64 = 3600;
/// Longer lifetimes are cached for this long only.
const MAX_EXPIRES_IN: u64 = 24 * 3600;
/// The whole exchange (resolution, connection, request, response) must finish in this time.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);
/// A token response larger than this is refused.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Past this many cached accounts, expired and unused entries are dropped.
const MAX_CACHED_ACCOUNTS: usize = 1024;
/// Token-endpoint error descriptions are cut to this many characters.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// A parsed service-account key file. `Debug` redacts the private key.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    client_email: String,
    private_key: Secret,
    private_key_id: Option<String>,
    token_uri: String,
}

impl ServiceAccount {
    /// Parses a service-account JSON key file (`type` `service_account`, `client_email`,
    /// `private_key`, optional `private_key_id` and `token_uri`). Error messages name fields,
    /// never their values.
    pub fn parse(json: &str) -> Result<Self, AuthError> {
        let invalid = |m: String| AuthError::InvalidCredentials(m);
        let v: Value = serde_json::from_str(json).map_err(|e| {
            // serde_json's messages can quote the input; keep only the position.
            invalid(format!(
                "the service account JSON is not valid JSON (error at line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(obj) = v else {
            return Err(invalid(
                "the service account JSON must be a JSON object".into(),
            ));
        };
        let field = |name: &str| -> Result<Option<&str>, AuthError> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(invalid(format!(
                    "`{name}` in the service account JSON must be a string"
                ))),
            }
        };
        match field("type")? {
            None | Some("service_account") => {}
            Some(_) => {
                return Err(invalid(
                    "the JSON is not a service account key (its `type` is not `service_account`)"
                        .into(),
                ))
            }
        }
        let required = |name: &str| {
            field(name)?.ok_or_else(|| invalid(format!("the service account JSON has no `{name}`")))
        };
        let client_email = required("client_email")?.trim().to_owned();
        let private_key = Secret::new(required("private_key")?);
        let private_key_id = field("private_key_id")?.map(|s| s.trim().to_owned());
        let token_uri = field("token_uri")?
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        Ok(ServiceAccount {
            client_email,
            private_key,
            private_key_id,
            token_uri,
        })
    }

    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }
}

/// A cache entry's identity: the account, where its tokens come from, and its key's hash.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    client_email: String,
    token_uri: String,
    key_sha256: [u8; 32],
}

impl CacheKey {
    fn new(sa: &ServiceAccount) -> Self {
        let digest =
            ring::digest::digest(&ring::digest::SHA256, sa.private_key.expose().as_bytes());
        let mut key_sha256 = [0u8; 32];
        key_sha256.copy_from_slice(digest.as_ref());
        CacheKey {
            client_email: sa.client_email.clone(),
            token_uri: sa.token_uri.clone(),
            key_sha256,
        }
    }
}

struct CachedToken {
    token: Secret,
    /// The token is exchanged again from this instant on.
    refresh_at: Instant,
}

/// One account's cache slot; its lock is held across an exchange, so callers that arrive
/// meanwhile wait for that exchange's result.
type Slot = Arc<Mutex<Option<CachedToken>>>;

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Access tokens for Google service accounts, cached until 60 s before they expire.
pub struct GoogleTokens {
    slots: StdMutex<HashMap<CacheKey, Slot>>,
    trusted: TrustedHosts,
    clock: Clock,
}

impl Default for GoogleTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for GoogleTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleTokens")
            .field("cached_accounts", &self.slot_count())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl GoogleTokens {
    /// A cache that checks client-supplied `token_uri`s against the default trusted hosts
    /// (loopback only).
    pub fn new() -> Self {
        Self::with_trusted_hosts(TrustedHosts::default())
    }

    /// A cache that checks client-supplied `token_uri`s against the operator's
    /// `server.trusted_hosts`.
    pub fn with_trusted_hosts(trusted: TrustedHosts) -> Self {
        GoogleTokens {
            slots: StdMutex::new(HashMap::new()),
            trusted,
            clock: Arc::new(Instant::now),
        }
    }

    #[cfg(test)]
    fn with_clock(clock: Clock) -> Self {
        GoogleTokens {
            clock,
            ..Self::new()
        }
    }

    /// The access token for this service account, from cache or freshly exchanged. `client` is
    /// the gateway's pooled upstream client. `allow_internal_token_uri` is false when the JSON
    /// came from a client request: then a `token_uri` at an internal address (other than the
    /// trusted hosts) is refused, as a client's `custom_host` would be.
    pub async fn token(
        &self,
        clients: &Upstreams,
        service_account_json: &str,
        allow_internal_token_uri: bool,
    ) -> Result<Secret, AuthError> {
        let sa = ServiceAccount::parse(service_account_json)?;
        let host_check = if allow_internal_token_uri {
            validate_base_url(&sa.token_uri)
                .map_err(|e| AuthError::InvalidCredentials(format!("token_uri: {e}")))?;
            HostCheck::Allowed
        } else {
            check_custom_host(&sa.token_uri, &self.trusted)
                .map_err(|e| AuthError::InvalidCredentials(format!("token_uri: {e}")))?
        };

        let key = CacheKey::new(&sa);
        let slot = self.slot(&key);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref() {
            if (self.clock)() < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        *cached = None;

        let started = (self.clock)();
        // A client's token_uri goes through the public pool, whose resolver refuses internal
        // addresses when the connection is made.
        let client_host = matches!(host_check, HostCheck::Resolve { .. });
        let exchanged = tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(clients, client_host, &sa))
            .await
            .unwrap_or_else(|_| {
                Err(AuthError::TokenExchange(format!(
                    "the token endpoint did not answer within {} s",
                    EXCHANGE_TIMEOUT.as_secs()
                )))
            });
        match exchanged {
            Ok((token, expires_in)) => {
                let lifetime = expires_in.saturating_sub(REFRESH_MARGIN);
                *cached = Some(CachedToken {
                    token: token.clone(),
                    refresh_at: started.checked_add(lifetime).unwrap_or(started),
                });
                Ok(token)
            }
            Err(e) => {
                drop(cached);
                self.forget(&key, &slot);
                Err(e)
            }
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Slot>> {
        // The map is never left half-updated, so a poisoned lock is still usable.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn slot_count(&self) -> usize {
        self.slots().len()
    }

    /// The account's slot, created if need be (dropping expired, unused entries when the
    /// cache is full).
    fn slot(&self, key: &CacheKey) -> Slot {
        let mut slots = self.slots();
        if let Some(s) = slots.get(key) {
            return s.clone();
        }
        if slots.len() >= MAX_CACHED_ACCOUNTS {
            let now = (self.clock)();
            slots.retain(|_, s| {
                Arc::strong_count(s) > 1
                    || match s.try_lock() {
                        Ok(c) => c.as_ref().is_some_and(|c| now < c.refresh_at),
                        Err(_) => true,
                    }
            });
        }
        slots.entry(key.clone()).or_default().clone()
    }

    /// Drops a slot left empty by a failed exchange, unless someone else is waiting on it.
    fn forget(&self, key: &CacheKey, slot: &Slot) {
        let mut slots = self.slots();
        let unused = slots.get(key).is_some_and(|s| {
            Arc::ptr_eq(s, slot)
                && Arc::strong_count(s) <= 2
                && s.try_lock().is_ok_and(|c| c.is_none())
        });
        if unused {
            slots.remove(key);
        }
    }
}

/// Signs the JWT and exchanges it for an access token: (token, lifetime).
async fn exchange(
    clients: &Upstreams,
    client_host: bool,
    sa: &ServiceAccount,
) -> Result<(Secret, Duration), AuthError> {
    let assertion = signed_jwt(sa, SystemTime::now())?;
    let body = format!("{GRANT_TYPE_FORM}&assertion={assertion}");
    let request = Request::builder()
        .method(Method::POST)
        .uri(&sa.token_uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(crate::upstream::full(Bytes::from(body)))
        .map_err(|_| AuthError::InvalidCredentials("token_uri is not a valid URL".into()))?;
    let response = clients
        .send(request, client_host)
        .await
        .map_err(|e| match blocked_in(&e) {
            Some(blocked) => AuthError::InvalidCredentials(format!(
                "token_uri: {blocked}; add it to server.trusted_hosts to allow it"
            )),
            None => AuthError::TokenExchange(format!(
                "cannot reach the token endpoint: {}",
                with_sources(&e)
            )),
        })?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| {
            AuthError::TokenExchange(format!(
                "cannot read the token endpoint's answer: {}",
                with_sources(e.as_ref())
            ))
        })?
        .to_bytes();
    if !status.is_success() {
        let what = describe_error(&bytes);
        return Err(match status {
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                AuthError::Rejected(format!(
                    "the token endpoint refused the service account ({status}{what})"
                ))
            }
            _ => AuthError::TokenExchange(format!("the token endpoint answered {status}{what}")),
        });
    }
    parse_token_response(&bytes)
}

/// The RS256 JWT for the `jwt-bearer` grant.
fn signed_jwt(sa: &ServiceAccount, now: SystemTime) -> Result<String, AuthError> {
    // Neither jsonwebtoken's nor the PEM decoder's errors are shown: they could quote the key.
    let key = EncodingKey::from_rsa_pem(sa.private_key.expose().as_bytes()).map_err(|_| {
        AuthError::InvalidCredentials(
            "`private_key` in the service account JSON is not a PEM-encoded RSA private key".into(),
        )
    })?;
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| AuthError::Signing("the system clock is before 1970".into()))?
        .as_secs();
    let claims = Claims {
        iss: &sa.client_email,
        scope: SCOPE,
        aud: &sa.token_uri,
        iat,
        exp: iat + JWT_LIFETIME_SECS,
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = sa.private_key_id.clone();
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| {
        AuthError::InvalidCredentials(
            "cannot sign a JWT with `private_key` from the service account JSON".into(),
        )
    })
}

/// `{"access_token", "expires_in", "token_type"}` → (token, lifetime).
fn parse_token_response(bytes: &[u8]) -> Result<(Secret, Duration), AuthError> {
    let bad = |m: &str| AuthError::TokenExchange(format!("the token endpoint's answer {m}"));
    let v: Value = serde_json::from_slice(bytes).map_err(|_| bad("is not JSON"))?;
    let token = match v.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t,
        _ => return Err(bad("has no access_token")),
    };
    // The token becomes an Authorization header value.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("has an access_token that is not a header-safe string"));
    }
    match v.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(bad("has a token_type other than Bearer")),
    }
    let expires_in = match v.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN,
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or_else(|| bad("has a negative expires_in"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| bad("has an expires_in that is not a number"))?,
        Some(_) => return Err(bad("has an expires_in that is not a number")),
    };
    Ok((
        Secret::new(token.as_str()),
        Duration::from_secs(expires_in.min(MAX_EXPIRES_IN)),
    ))
}

/// `: <error>: <error_description>` from an OAuth error body, trimmed to printable text.
fn describe_error(bytes: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return String::new();
    };
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::trim);
    let parts: Vec<&str> = [text("error"), text("error_description")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    let joined: String = parts
        .join(": ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    format!(": {joined}")
}

/// An error and its causes, `a: b: c`.
fn with_sources(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_msg = s.to_string();
        if !msg.ends_with(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests;
