//! End-to-end tests against a token endpoint on 127.0.0.1 that verifies the JWT like Google's.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::config::ServerSettings;
use crate::upstream::Upstreams;

const KEY: &str = include_str!("../testdata/test_sa_key.pem");
const KEY_PKCS1: &str = include_str!("../testdata/test_sa_key_pkcs1.pem");
const PUBLIC_KEY: &str = include_str!("../testdata/test_sa_key.pub.pem");
const OTHER_KEY: &str = include_str!("../testdata/other_key.pem");
const EMAIL: &str = "switchyard-test@example-project.iam.gserviceaccount.com";

/// A line from the middle of the test key: no message may contain it.
fn key_fragment() -> &'static str {
    KEY.lines().nth(5).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Unauthorized,
    ServerError,
    NotJson,
    NoToken,
}

struct Endpoint {
    hits: AtomicUsize,
    expires_in: AtomicU64,
    delay_ms: AtomicU64,
    mode: StdMutex<Mode>,
    /// The `aud` the JWT must carry: this endpoint's own URL.
    audience: StdMutex<String>,
    last_kid: StdMutex<Option<String>>,
}

#[derive(Deserialize)]
struct SeenClaims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

async fn token_handler(State(ep): State<Arc<Endpoint>>, body: String) -> Response {
    let n = ep.hits.fetch_add(1, Ordering::SeqCst) + 1;
    let delay = ep.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mode = *ep.mode.lock().unwrap();
    match mode {
        Mode::Ok => {}
        Mode::Unauthorized => {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens."})),
            )
                .into_response()
        }
        Mode::ServerError => {
            return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response()
        }
        Mode::NotJson => return (StatusCode::OK, "<html>hello</html>").into_response(),
        Mode::NoToken => {
            return axum::Json(json!({"token_type": "Bearer", "expires_in": 3600}))
                .into_response()
        }
    }
    let invalid_grant = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    let mut grant_type = None;
    let mut assertion = None;
    for pair in body.split('&') {
        match pair.split_once('=') {
            Some(("grant_type", v)) => grant_type = Some(v.to_owned()),
            Some(("assertion", v)) => assertion = Some(v.to_owned()),
            _ => {}
        }
    }
    if grant_type.as_deref() != Some("urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
        return invalid_grant("bad grant_type");
    }
    let Some(assertion) = assertion else {
        return invalid_grant("no assertion");
    };
    let header = match jsonwebtoken::decode_header(&assertion) {
        Ok(h) => h,
        Err(_) => return invalid_grant("bad JWT header"),
    };
    if header.alg != Algorithm::RS256 {
        return invalid_grant("alg must be RS256");
    }
    *ep.last_kid.lock().unwrap() = header.kid;
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[ep.audience.lock().unwrap().clone()]);
    validation.set_issuer(&[EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let claims = match jsonwebtoken::decode::<SeenClaims>(&assertion, &key, &validation) {
        Ok(d) => d.claims,
        Err(_) => return invalid_grant("Invalid JWT Signature."),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if claims.scope != SCOPE
        || claims.iss != EMAIL
        || claims.aud != *ep.audience.lock().unwrap()
        || claims.exp != claims.iat + 3600
        || claims.iat.abs_diff(now) > 60
    {
        return invalid_grant("bad claims");
    }
    axum::Json(json!({
        "access_token": format!("ya29.test-token-{n}"),
        "expires_in": ep.expires_in.load(Ordering::SeqCst),
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Starts the endpoint; returns it and its token URL.
async fn endpoint() -> (Arc<Endpoint>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let ep = Arc::new(Endpoint {
        hits: AtomicUsize::new(0),
        expires_in: AtomicU64::new(3599),
        delay_ms: AtomicU64::new(0),
        mode: StdMutex::new(Mode::Ok),
        audience: StdMutex::new(url.clone()),
        last_kid: StdMutex::new(None),
    });
    let app = Router::new()
        .route("/token", post(token_handler))
        .with_state(ep.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (ep, url)
}

fn client() -> Upstreams {
    Upstreams::new(&ServerSettings::default()).unwrap()
}

fn sa_json(key: &str, token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "example-project",
        "private_key_id": "0123456789abcdef",
        "private_key": key,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": token_uri,
    })
    .to_string()
}

/// A clock the test moves by hand.
fn manual_clock() -> (Clock, Arc<StdMutex<Duration>>) {
    let base = Instant::now();
    let offset = Arc::new(StdMutex::new(Duration::ZERO));
    let o = offset.clone();
    (Arc::new(move || base + *o.lock().unwrap()), offset)
}

fn assert_no_key_material(e: &AuthError) {
    let printed = format!("{e} {e:?}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
    assert!(!printed.contains(key_fragment()), "{printed}");
    assert!(!printed.contains("eyJ"), "a JWT leaked: {printed}");
}

#[tokio::test]
async fn exchanges_a_verified_jwt_and_caches_the_token() {
    let (ep, url) = endpoint().await;
    let tokens = GoogleTokens::new();
    let client = client();
    let json = sa_json(KEY, &url);

    let t = tokens.token(&client, &json, false).await.unwrap();
    assert_eq!(t.expose(), "ya29.test-token-1");
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        ep.last_kid.lock().unwrap().as_deref(),
        Some("0123456789abcdef")
    );

    // Served from the cache: the endpoint is not asked again.
    let t = tokens.token(&client, &json, false).await.unwrap();
    assert_eq!(t.expose(), "ya29.test-token-1");
    let t = tokens.token(&client, &json, true).await.unwrap();
    assert_eq!(t.expose(), "ya29.test-token-1");
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
    assert!(format!("{tokens:?}").contains("cached_accounts: 1"));
}

#[tokio::test]
async fn pkcs1_keys_work_too() {
    let (ep, url) = endpoint().await;
    let tokens = GoogleTokens::new();
    let t = tokens
        .token(&client(), &sa_json(KEY_PKCS1, &url), false)
        .await
        .unwrap();
    assert_eq!(t.expose(), "ya29.test-token-1");
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_is_refreshed_a_minute_before_it_expires() {
    let (ep, url) = endpoint().await;
    ep.expires_in.store(3600, Ordering::SeqCst);
    let (clock, offset) = manual_clock();
    let tokens = GoogleTokens::with_clock(clock);
    let client = client();
    let json = sa_json(KEY, &url);

    assert_eq!(
        tokens.token(&client, &json, false).await.unwrap().expose(),
        "ya29.test-token-1"
    );
    *offset.lock().unwrap() = Duration::from_secs(3539);
    assert_eq!(
        tokens.token(&client, &json, false).await.unwrap().expose(),
        "ya29.test-token-1"
    );
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);

    *offset.lock().unwrap() = Duration::from_secs(3540);
    assert_eq!(
        tokens.token(&client, &json, false).await.unwrap().expose(),
        "ya29.test-token-2"
    );
    assert_eq!(ep.hits.load(Ordering::SeqCst), 2);
    // The new token is cached from the time it was fetched.
    *offset.lock().unwrap() = Duration::from_secs(3540 + 3539);
    assert_eq!(
        tokens.token(&client, &json, false).await.unwrap().expose(),
        "ya29.test-token-2"
    );
    assert_eq!(ep.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn short_lived_tokens_are_not_cached() {
    let (ep, url) = endpoint().await;
    ep.expires_in.store(30, Ordering::SeqCst);
    let tokens = GoogleTokens::new();
    let client = client();
    let json = sa_json(KEY, &url);
    tokens.token(&client, &json, false).await.unwrap();
    let t = tokens.token(&client, &json, false).await.unwrap();
    assert_eq!(t.expose(), "ya29.test-token-2");
    assert_eq!(ep.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_exchange() {
    let (ep, url) = endpoint().await;
    ep.delay_ms.store(200, Ordering::SeqCst);
    let tokens = Arc::new(GoogleTokens::new());
    let client = client();
    let json = sa_json(KEY, &url);
    let calls = (0..8).map(|_| {
        let (tokens, client, json) = (tokens.clone(), client.clone(), json.clone());
        tokio::spawn(async move { tokens.token(&client, &json, false).await })
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().expose(), "ya29.test-token-1");
    }
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn another_key_for_the_same_account_does_not_get_the_cached_token() {
    let (ep, url) = endpoint().await;
    let tokens = GoogleTokens::new();
    let client = client();
    tokens
        .token(&client, &sa_json(KEY, &url), false)
        .await
        .unwrap();
    // Same client_email and token_uri, a key the endpoint does not accept.
    let e = tokens
        .token(&client, &sa_json(OTHER_KEY, &url), false)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
    assert_eq!(e.status_code(), StatusCode::UNAUTHORIZED);
    assert!(
        e.to_string()
            .contains("invalid_grant: Invalid JWT Signature."),
        "{e}"
    );
    assert_eq!(ep.hits.load(Ordering::SeqCst), 2);
    assert_no_key_material(&e);
    // The failed exchange left no cache entry behind; the good one is still cached.
    assert!(format!("{tokens:?}").contains("cached_accounts: 1"));
}

#[tokio::test]
async fn token_endpoint_errors_are_clear() {
    let (ep, url) = endpoint().await;
    let tokens = GoogleTokens::new();
    let client = client();
    let json = sa_json(KEY, &url);

    *ep.mode.lock().unwrap() = Mode::Unauthorized;
    let e = tokens.token(&client, &json, false).await.unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
    assert!(e.to_string().contains("401"), "{e}");
    assert!(e.to_string().contains("unauthorized_client"), "{e}");
    assert_no_key_material(&e);

    *ep.mode.lock().unwrap() = Mode::ServerError;
    let e = tokens.token(&client, &json, false).await.unwrap_err();
    assert!(matches!(e, AuthError::TokenExchange(_)), "{e:?}");
    assert_eq!(e.status_code(), StatusCode::BAD_GATEWAY);
    assert!(e.to_string().contains("503"), "{e}");
    assert_no_key_material(&e);

    *ep.mode.lock().unwrap() = Mode::NotJson;
    let e = tokens.token(&client, &json, false).await.unwrap_err();
    assert!(e.to_string().contains("is not JSON"), "{e}");

    *ep.mode.lock().unwrap() = Mode::NoToken;
    let e = tokens.token(&client, &json, false).await.unwrap_err();
    assert!(e.to_string().contains("no access_token"), "{e}");

    // Nothing was cached by the failures; a good answer is used at once.
    assert!(format!("{tokens:?}").contains("cached_accounts: 0"));
    *ep.mode.lock().unwrap() = Mode::Ok;
    assert_eq!(
        tokens.token(&client, &json, false).await.unwrap().expose(),
        "ya29.test-token-5"
    );
}

#[tokio::test]
async fn unreachable_endpoint_is_a_token_exchange_error() {
    // A port that was just free and is now closed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let e = GoogleTokens::new()
        .token(
            &client(),
            &sa_json(KEY, &format!("http://{addr}/token")),
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::TokenExchange(_)), "{e:?}");
    assert!(
        e.to_string().contains("cannot reach the token endpoint"),
        "{e}"
    );
    assert_no_key_material(&e);
}

#[tokio::test]
async fn bad_service_account_json_is_refused_before_any_request() {
    let (ep, url) = endpoint().await;
    let tokens = GoogleTokens::new();
    let client = client();
    let without = |field: &str| {
        let mut v: Value = serde_json::from_str(&sa_json(KEY, &url)).unwrap();
        v.as_object_mut().unwrap().remove(field);
        v.to_string()
    };
    let with = |field: &str, value: Value| {
        let mut v: Value = serde_json::from_str(&sa_json(KEY, &url)).unwrap();
        v[field] = value;
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (format!("{{\"private_key\": {KEY:?}"), "not valid JSON"),
        ("[1, 2]".into(), "must be a JSON object"),
        (without("client_email"), "no `client_email`"),
        (without("private_key"), "no `private_key`"),
        (with("client_email", json!("")), "no `client_email`"),
        (with("private_key", json!(42)), "`private_key` in the service account JSON must be a string"),
        (with("type", json!("authorized_user")), "not a service account key"),
        (
            with(
                "private_key",
                json!("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"),
            ),
            "not a PEM-encoded RSA private key",
        ),
        (
            with("private_key", json!(KEY.replace(key_fragment(), "AAAA"))),
            "not a PEM-encoded RSA private key",
        ),
        (with("private_key", json!("just some text")), "not a PEM-encoded RSA private key"),
        (with("token_uri", json!("ftp://example.com/token")), "token_uri"),
    ];
    for (json, expected) in cases {
        let e = tokens.token(&client, &json, false).await.unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidCredentials(_)),
            "{expected}: {e:?}"
        );
        assert_eq!(e.status_code(), StatusCode::BAD_REQUEST);
        assert!(
            e.to_string().contains(expected),
            "expected `{expected}` in `{e}`"
        );
        assert_no_key_material(&e);
    }
    assert_eq!(ep.hits.load(Ordering::SeqCst), 0);
    assert!(format!("{tokens:?}").contains("cached_accounts: 0"));
}

#[tokio::test]
async fn client_supplied_token_uri_may_not_be_internal() {
    let tokens = GoogleTokens::new();
    let client = client();
    for uri in [
        "http://10.0.0.1/token",
        "http://169.254.169.254/computeMetadata/v1/token",
        "http://metadata.google.internal/token",
        "http://[fd00::1]/token",
    ] {
        // Refused before any connection is attempted.
        let e = tokens
            .token(&client, &sa_json(KEY, uri), false)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidCredentials(_)),
            "{uri}: {e:?}"
        );
        assert!(e.to_string().contains("token_uri"), "{e}");
        assert!(e.to_string().contains("internal"), "{e}");
    }
    // The operator's trusted hosts apply.
    let (ep, url) = endpoint().await;
    let strict = GoogleTokens::with_trusted_hosts(TrustedHosts::parse(["10.0.0.0/8"]).unwrap());
    let e = strict
        .token(&client, &sa_json(KEY, &url), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("internal address"), "{e}");
    // From the server's own config, the same endpoint is fine.
    strict
        .token(&client, &sa_json(KEY, &url), true)
        .await
        .unwrap();
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn parse_defaults_and_redaction() {
    let json =
        json!({"type": "service_account", "client_email": EMAIL, "private_key": KEY}).to_string();
    let sa = ServiceAccount::parse(&json).unwrap();
    assert_eq!(sa.token_uri(), DEFAULT_TOKEN_URI);
    assert_eq!(sa.client_email(), EMAIL);
    let printed = format!("{sa:?}");
    assert!(!printed.contains("PRIVATE KEY"), "{printed}");
    assert!(!printed.contains(key_fragment()), "{printed}");
    // `type` may be left out.
    let json = json!({"client_email": EMAIL, "private_key": KEY, "token_uri": ""}).to_string();
    assert_eq!(
        ServiceAccount::parse(&json).unwrap().token_uri(),
        DEFAULT_TOKEN_URI
    );
}

#[test]
fn jwt_claims_are_googles() {
    let sa = ServiceAccount::parse(&sa_json(KEY, "https://oauth2.googleapis.com/token")).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let jwt = signed_jwt(&sa, now).unwrap();
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://oauth2.googleapis.com/token"]);
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<SeenClaims>(&jwt, &key, &validation).unwrap();
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    assert_eq!(data.claims.iss, EMAIL);
    assert_eq!(data.claims.scope, SCOPE);
    assert_eq!(data.claims.iat, 1_700_000_000);
    assert_eq!(data.claims.exp, 1_700_003_600);
}

#[test]
fn token_responses() {
    let ok = |v: Value| parse_token_response(v.to_string().as_bytes());
    let (t, d) =
        ok(json!({"access_token": "abc", "expires_in": 3599, "token_type": "Bearer"})).unwrap();
    assert_eq!((t.expose(), d), ("abc", Duration::from_secs(3599)));
    let (_, d) = ok(json!({"access_token": "abc"})).unwrap();
    assert_eq!(d, Duration::from_secs(3600));
    let (_, d) = ok(json!({"access_token": "abc", "expires_in": "120"})).unwrap();
    assert_eq!(d, Duration::from_secs(120));
    let (_, d) = ok(json!({"access_token": "abc", "expires_in": 1e12})).unwrap();
    assert_eq!(d, Duration::from_secs(24 * 3600));
    assert!(ok(json!({"access_token": "abc", "token_type": "mac"})).is_err());
    assert!(ok(json!({"access_token": "a b"})).is_err());
    assert!(ok(json!({"access_token": ""})).is_err());
    assert!(ok(json!({"access_token": "abc", "expires_in": -5})).is_err());
    assert_eq!(
        describe_error(br#"{"error":"invalid_grant","error_description":"Bad\nthing"}"#),
        ": invalid_grant: Badthing"
    );
    assert_eq!(describe_error(b"<html>"), "");
}
