use super::*;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::Map;
use switchyard_guardrails::{HookEvent, RequestType};

fn prepared(params: Value) -> Prepared {
    Prepared::new(&params).unwrap()
}

fn age(v: Value) -> Result<u64, String> {
    max_token_age(Some(&v)).map_err(|e| e.to_string())
}

#[test]
fn max_token_age_reads_joses_spans_and_whole_seconds() {
    let cases = [
        (json!("1d"), 86_400),
        (json!("1h"), 3600),
        (json!("30m"), 1800),
        (json!("10s"), 10),
        (json!("2w"), 1_209_600),
        (json!("1y"), 31_557_600),
        (json!("1 day"), 86_400),
        (json!("3 Hours"), 10_800),
        (json!("5mins"), 300),
        (json!("1.5h"), 5400),
        (json!("90 SECONDS"), 90),
        (json!(3600), 3600),
        // Portkey's `|| '1d'`.
        (json!(""), 86_400),
        (json!(0), 86_400),
        (json!(null), 86_400),
    ];
    for (v, want) in cases {
        assert_eq!(age(v.clone()), Ok(want), "{v}");
    }
    assert_eq!(max_token_age(None).unwrap(), 86_400);
    for v in [
        json!("1"),
        json!("d"),
        json!("1 d ago"),
        json!("-1d"),
        json!("+1d"),
        json!("1  d"),
        json!(" 1d"),
        json!("1.d"),
        json!(".5d"),
        json!("1.2.3d"),
        json!("1 fortnight"),
        json!("0.1s"),
        json!("11y"),
        json!(-5),
        json!(1.5),
        json!(true),
        json!(["1d"]),
    ] {
        let e = age(v.clone()).unwrap_err();
        assert!(e.contains("`maxTokenAge`"), "{v}: {e}");
    }
}

#[test]
fn parameters_are_checked_when_the_config_is_loaded() {
    let ok = |p: Value| Jwt.prepare(&p).map(|_| ()).map_err(|e| e.to_string());
    let uri = "https://issuer.example/.well-known/jwks.json";
    assert_eq!(ok(json!({ "jwksUri": uri })), Ok(()));
    assert_eq!(
        ok(
            json!({"jwksUri": uri, "headerKey": "X-User-Token", "cacheMaxAge": 0,
                  "clockTolerance": 0, "maxTokenAge": "1h"})
        ),
        Ok(())
    );
    let cases = [
        (json!({}), "`jwksUri` is required"),
        (
            json!({"jwksUri": "ftp://issuer.example/jwks"}),
            "http or https",
        ),
        (
            json!({"jwksUri": "https://u:p@issuer.example/jwks"}),
            "credentials",
        ),
        (
            json!({"jwksUri": uri, "headerKey": "bad header"}),
            "`headerKey`",
        ),
        (json!({"jwksUri": uri, "headerKey": 7}), "`headerKey`"),
        (json!({"jwksUri": uri, "cacheMaxAge": -1}), "`cacheMaxAge`"),
        (json!({"jwksUri": uri, "cacheMaxAge": 1.5}), "`cacheMaxAge`"),
        (
            json!({"jwksUri": uri, "cacheMaxAge": 40_000_000}),
            "`cacheMaxAge`",
        ),
        (
            json!({"jwksUri": uri, "cacheMaxAge": "60"}),
            "`cacheMaxAge`",
        ),
        (
            json!({"jwksUri": uri, "clockTolerance": 3601}),
            "`clockTolerance`",
        ),
        (
            json!({"jwksUri": uri, "clockTolerance": -5}),
            "`clockTolerance`",
        ),
        (
            json!({"jwksUri": uri, "maxTokenAge": "forever"}),
            "`maxTokenAge`",
        ),
    ];
    for (p, want) in cases {
        match ok(p.clone()) {
            Err(e) => assert!(e.contains(want), "{p}: {e}"),
            Ok(()) => panic!("{p}: accepted"),
        }
    }
    let p = prepared(json!({"jwksUri": uri, "cacheMaxAge": 0, "clockTolerance": 0}));
    assert_eq!(
        p.cache_max_age,
        Duration::from_secs(86_400),
        "0 is the default"
    );
    assert_eq!(p.clock_tolerance, 0, "0 is no tolerance");
    assert_eq!(p.header.as_str(), "authorization");
}

#[test]
fn claims_follow_joses_rules_with_the_clock_tolerance() {
    let p = prepared(json!({"jwksUri": "https://i.example/jwks", "maxTokenAge": "1h"}));
    let now = 1_000_000.0;
    let ok = |c: Value| p.claims(&c, now);
    assert_eq!(ok(json!({"iat": 999_000})), Ok(()));
    assert_eq!(
        ok(json!({"iat": 999_000, "exp": 1_000_100, "nbf": 999_000})),
        Ok(())
    );
    // Within the 5 s tolerance.
    assert_eq!(ok(json!({"iat": 999_000, "exp": 999_996})), Ok(()));
    assert_eq!(ok(json!({"iat": 999_000, "nbf": 1_000_005})), Ok(()));
    assert_eq!(ok(json!({"iat": 1_000_005})), Ok(()));
    assert_eq!(ok(json!({"iat": 1_000_000 - 3605})), Ok(()));
    // Beyond it.
    let fails = [
        (
            json!({"iat": 999_000, "exp": 999_995}),
            "\"exp\" claim timestamp",
        ),
        (
            json!({"iat": 999_000, "nbf": 1_000_006}),
            "\"nbf\" claim timestamp",
        ),
        (json!({"iat": 1_000_006}), "should be in the past"),
        (json!({"iat": 1_000_000 - 3606}), "too far in the past"),
        (json!({}), "\"iat\" claim missing"),
        (
            json!({"iat": "yesterday"}),
            "\"iat\" claim must be a number",
        ),
        (
            json!({"iat": 999_000, "exp": "soon"}),
            "\"exp\" claim must be a number",
        ),
        (
            json!({"iat": 999_000, "nbf": null}),
            "\"nbf\" claim must be a number",
        ),
        (json!([1]), "top-level JSON object"),
    ];
    for (c, want) in fails {
        match ok(c.clone()) {
            Err(e) => assert!(e.contains(want), "{c}: {e}"),
            Ok(()) => panic!("{c}: passed"),
        }
    }
}

#[test]
fn bearer_is_stripped_as_portkey_does() {
    assert_eq!(strip_bearer("Bearer abc"), "abc");
    assert_eq!(strip_bearer("bearer \t abc"), "abc");
    assert_eq!(strip_bearer("BEARER abc"), "abc");
    assert_eq!(strip_bearer("Bearerabc"), "Bearerabc");
    assert_eq!(strip_bearer("abc"), "abc");
    assert_eq!(strip_bearer("Beé"), "Beé");
}

#[test]
fn a_keys_algorithms_come_from_its_alg_or_its_type_and_never_hmac() {
    let jwk = |v: Value| serde_json::from_value::<Jwk>(v).unwrap();
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert_eq!(algorithms(&jwk(rsa.clone())).len(), 6);
    let mut rs384 = rsa.clone();
    rs384["alg"] = json!("RS384");
    assert_eq!(algorithms(&jwk(rs384)), vec![Algorithm::RS384]);
    let mut oaep = rsa;
    oaep["alg"] = json!("RSA-OAEP");
    assert!(algorithms(&jwk(oaep)).is_empty());
    let ec = json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"});
    assert_eq!(algorithms(&jwk(ec)), vec![Algorithm::ES384]);
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"});
    assert_eq!(algorithms(&jwk(ed)), vec![Algorithm::EdDSA]);
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert!(algorithms(&jwk(oct.clone())).is_empty());
    let mut hs = oct;
    hs["alg"] = json!("HS256");
    assert!(algorithms(&jwk(hs)).is_empty());
}

/// The verdict on a request with `headers` (never reaching the JWKS: it is unroutable).
async fn judge(headers: Option<&HeaderMap>) -> (bool, String) {
    let p = Jwt
        .prepare(&json!({"jwksUri": "http://jwks.invalid/keys", "headerKey": "x-token"}))
        .unwrap();
    let request = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let metadata = Map::new();
    let cx = CheckContext {
        event: HookEvent::BeforeRequest,
        request_type: RequestType::ChatComplete,
        request: &request,
        response: None,
        provider: "openai",
        metadata: &metadata,
        headers,
    };
    let o = p.run(&cx).await.unwrap();
    assert_eq!(o.data["verdict"], o.verdict);
    (
        o.verdict,
        o.data["explanation"].as_str().unwrap().to_owned(),
    )
}

fn with_token(t: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-token", HeaderValue::from_str(t).unwrap());
    h
}

#[tokio::test]
async fn tokens_a_client_botched_fail_the_check_without_any_fetch() {
    assert_eq!(
        judge(Some(&HeaderMap::new())).await,
        (false, "Missing authorization header".to_owned())
    );
    assert_eq!(
        judge(Some(&with_token(""))).await.1,
        "Missing authorization header"
    );
    let (ok, why) = judge(None).await;
    assert!(!ok && why.contains("not available"), "{why}");
    let (ok, why) = judge(Some(&with_token("Bearer not.a.jwt"))).await;
    assert!(!ok && why.starts_with("JWT validation error"), "{why}");
    assert!(!why.contains("not.a.jwt"), "the token is never echoed");

    let claims = json!({"iat": now() as u64});
    let hmac = jsonwebtoken::encode(
        &Header {
            kid: Some("k".into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims,
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let (ok, why) = judge(Some(&with_token(&hmac))).await;
    assert!(!ok && why.contains("\"alg\""), "{why}");

    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(include_bytes!("../../../tests/fixtures/jwt/rsa.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        judge(Some(&with_token(&format!("Bearer {no_kid}")))).await,
        (false, "No matching key found for kid".to_owned())
    );
}
