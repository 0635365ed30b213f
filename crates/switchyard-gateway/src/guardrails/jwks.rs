//! The JWKS cache of `default.jwt`: key sets fetched over HTTP GET (through
//! `outbound::send`) and kept in memory per `jwksUri`.
//!
//! - A set is fresh for the check's `cacheMaxAge` (never less than [`REFETCH_FLOOR`]).
//! - A `kid` the fresh set lacks triggers one refetch (key rotation) — but a URI is fetched at
//!   most once per [`REFETCH_FLOOR`], whatever the reason, so tokens with made-up kids can't
//!   make the gateway hammer the JWKS endpoint. Concurrent requests wait for the fetch in
//!   flight instead of starting their own.
//! - When a refresh fails, the previous set keeps serving for up to one more `cacheMaxAge`
//!   (stale-if-error); with no usable set, the failure is the check's error.
//! - At most [`MAX_URIS`] URIs are kept (configs come from clients too).

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue, Method, Uri};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde_json::Value;

use super::outbound;

/// A URI is fetched at most once in this long.
pub const REFETCH_FLOOR: Duration = Duration::from_secs(10);
/// How long a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest JWKS read.
const MAX_JWKS: usize = 1 << 20;
/// The most URIs cached.
const MAX_URIS: u64 = 1024;

type Keys = Arc<Vec<Jwk>>;

#[derive(Default)]
struct Entry {
    state: Mutex<State>,
    /// Held while fetching: one fetch per URI at a time.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default, Clone)]
struct State {
    /// The last set fetched successfully, and when.
    keys: Option<(Keys, Instant)>,
    /// The last fetch attempt (successful or not).
    attempted: Option<Instant>,
    /// Why the last attempt failed, if it did.
    error: Option<String>,
}

#[derive(Debug)]
enum Plan {
    Use(Keys),
    Fetch,
    Fail(String),
}

fn since(now: Instant, then: Instant) -> Duration {
    now.saturating_duration_since(then)
}

/// What to do for `kid`, given the cached state, at `now`.
fn plan(s: &State, now: Instant, max_age: Duration, kid: &str) -> Plan {
    let ttl = max_age.max(REFETCH_FLOOR);
    let fresh = s
        .keys
        .as_ref()
        .filter(|(_, at)| since(now, *at) < ttl)
        .map(|(k, _)| k);
    if let Some(keys) = fresh {
        if find(keys, kid).is_some() {
            return Plan::Use(keys.clone());
        }
    }
    if s.attempted.is_none_or(|t| since(now, t) >= REFETCH_FLOOR) {
        return Plan::Fetch;
    }
    usable(s, now, ttl)
}

/// Without fetching: the fresh set (a kid miss stays a miss), or a stale one within its
/// stale-if-error window, or the last error.
fn usable(s: &State, now: Instant, ttl: Duration) -> Plan {
    match &s.keys {
        Some((keys, at)) if since(now, *at) < ttl.saturating_mul(2) => Plan::Use(keys.clone()),
        _ => Plan::Fail(
            s.error
                .clone()
                .unwrap_or_else(|| "the JWKS is not available".to_owned()),
        ),
    }
}

/// The signing key with this `kid` (a key marked `use: enc` is not one).
pub fn find<'a>(keys: &'a [Jwk], kid: &str) -> Option<&'a Jwk> {
    keys.iter().find(|k| {
        k.common.key_id.as_deref() == Some(kid)
            && !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption))
    })
}

static CACHE: LazyLock<moka::sync::Cache<String, Arc<Entry>>> =
    LazyLock::new(|| moka::sync::Cache::new(MAX_URIS));

fn lock(e: &Entry) -> std::sync::MutexGuard<'_, State> {
    e.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key set of `uri` to look `kid` up in: cached, or fetched as the rules above allow.
pub async fn keys(uri: &Uri, kid: &str, max_age: Duration) -> Result<Keys, String> {
    let entry = CACHE.get_with(uri.to_string(), || Arc::new(Entry::default()));
    let decide = |e: &Entry| plan(&lock(e), Instant::now(), max_age, kid);
    match decide(&entry) {
        Plan::Use(k) => return Ok(k),
        Plan::Fail(e) => return Err(e),
        Plan::Fetch => {}
    }
    let _fetching = entry.fetching.lock().await;
    // Another request may have fetched while this one waited.
    match decide(&entry) {
        Plan::Use(k) => return Ok(k),
        Plan::Fail(e) => return Err(e),
        Plan::Fetch => {}
    }
    let fetched = fetch(uri).await;
    let now = Instant::now();
    let mut s = lock(&entry);
    s.attempted = Some(now);
    match fetched {
        Ok(keys) => {
            let keys = Arc::new(keys);
            s.keys = Some((keys.clone(), now));
            s.error = None;
            Ok(keys)
        }
        Err(e) => {
            tracing::warn!(target: "switchyard::guardrails", jwks = %outbound::display_url(uri), error = %e, "JWKS fetch failed");
            s.error = Some(e);
            match usable(&s, now, max_age.max(REFETCH_FLOOR)) {
                Plan::Use(k) => Ok(k),
                Plan::Fail(e) => Err(e),
                Plan::Fetch => Err("the JWKS is not available".to_owned()),
            }
        }
    }
}

async fn fetch(uri: &Uri) -> Result<Vec<Jwk>, String> {
    let url = outbound::display_url(uri);
    let accept = [(
        HeaderName::from_static("accept"),
        HeaderValue::from_static("application/json"),
    )];
    let (status, body) = outbound::send(
        "JWKS endpoint",
        Method::GET,
        uri,
        &accept,
        None,
        FETCH_TIMEOUT,
        MAX_JWKS,
    )
    .await
    .map_err(|e| format!("cannot fetch the JWKS from {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "cannot fetch the JWKS from {url}: HTTP {}",
            status.as_u16()
        ));
    }
    parse(&body).map_err(|e| format!("the JWKS at {url} {e}"))
}

/// A JWK Set's keys. Each key is read on its own: one of a kind this gateway can't use (say,
/// an encryption key or an unknown curve) is skipped, not fatal to the set.
fn parse(body: &[u8]) -> Result<Vec<Jwk>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "is not JSON".to_owned())?;
    let Some(keys) = v.get("keys").and_then(Value::as_array) else {
        return Err("has no `keys` array".to_owned());
    };
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: Duration = Duration::from_secs(86400);

    fn set(kids: &[&str]) -> Keys {
        let keys = kids
            .iter()
            .map(|k| {
                json!({"kty": "EC", "crv": "P-256", "kid": k,
                            "x": "Eo4VXyO5r5SFc_6TuJvfb4CNx5shFslFm1BYpjrwTsM",
                            "y": "tl65iwOtxXuKFz1lOnwPfme9b8_1zmW8m3LvApkBNS4"})
            })
            .collect::<Vec<_>>();
        Arc::new(parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap())
    }

    fn kind(p: &Plan) -> &'static str {
        match p {
            Plan::Use(_) => "use",
            Plan::Fetch => "fetch",
            Plan::Fail(_) => "fail",
        }
    }

    #[test]
    fn fetches_when_cold_stale_or_missing_a_kid_but_at_most_once_per_floor() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let cold = State::default();
        assert_eq!(kind(&plan(&cold, t0, DAY, "a")), "fetch");

        let warm = State {
            keys: Some((set(&["a"]), t0)),
            attempted: Some(t0),
            error: None,
        };
        // A known kid: the cache answers.
        assert_eq!(kind(&plan(&warm, at(5), DAY, "a")), "use");
        // An unknown kid right after a fetch: no refetch, the set is used (and misses).
        assert_eq!(kind(&plan(&warm, at(5), DAY, "b")), "use");
        // ... after the floor: one refetch.
        assert_eq!(kind(&plan(&warm, at(11), DAY, "b")), "fetch");
        // Expired after cacheMaxAge.
        assert_eq!(kind(&plan(&warm, at(86401), DAY, "a")), "fetch");
        // cacheMaxAge below the floor is raised to it.
        let short = Duration::from_secs(1);
        assert_eq!(kind(&plan(&warm, at(5), short, "a")), "use");
        assert_eq!(kind(&plan(&warm, at(10), short, "a")), "fetch");
    }

    #[test]
    fn a_failed_refresh_serves_the_old_set_for_one_more_max_age_then_errors() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let failed = State {
            keys: Some((set(&["a"]), t0)),
            attempted: Some(at(100)),
            error: Some("down".into()),
        };
        let max = Duration::from_secs(60);
        assert_eq!(kind(&plan(&failed, at(105), max, "a")), "use");
        assert_eq!(kind(&plan(&failed, at(110), max, "a")), "fetch");
        let gone = State {
            attempted: Some(at(200)),
            ..failed.clone()
        };
        match plan(&gone, at(205), max, "a") {
            Plan::Fail(e) => assert_eq!(e, "down"),
            p => panic!("{p:?}"),
        }
        let never = State {
            keys: None,
            attempted: Some(t0),
            error: Some("down".into()),
        };
        assert_eq!(kind(&plan(&never, at(3), max, "a")), "fail");
    }

    #[test]
    fn sets_are_read_key_by_key_and_encryption_keys_never_match() {
        let body = json!({"keys": [
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "XYZ", "kid": "odd"},
            {"kty": "EC", "crv": "P-256", "kid": "sig",
             "x": "Eo4VXyO5r5SFc_6TuJvfb4CNx5shFslFm1BYpjrwTsM",
             "y": "tl65iwOtxXuKFz1lOnwPfme9b8_1zmW8m3LvApkBNS4"}
        ]});
        let keys = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(find(&keys, "sig").is_some());
        assert!(find(&keys, "enc").is_none());
        assert!(find(&keys, "odd").is_none());
        assert!(parse(b"[]").is_err());
        assert!(parse(b"nope").is_err());
    }
}
