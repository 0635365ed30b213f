//! AWS Signature Version 4 for Bedrock, by the `aws-sigv4` crate (the AWS SDK's own signer).
//!
//! The gateway signs the finished upstream request last, just before sending it: every header
//! present then (except `authorization`, `user-agent`, `x-amzn-trace-id` and
//! `transfer-encoding`, which the signer leaves out because proxies change them) is signed, and
//! the body's SHA-256 is both signed and sent as `x-amz-content-sha256`. The URL path is taken
//! as it will be sent, already percent-encoded (a Bedrock model id `…-v1:0` travels as
//! `…-v1%3A0`); the signer encodes each segment once more for the canonical request, as SigV4
//! asks of every service but S3.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign as sigv4_sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use super::AuthError;
use crate::config::Secret;

/// The provider option holding the access key id (`x-portkey-aws-access-key-id`).
pub const OPT_ACCESS_KEY_ID: &str = "aws_access_key_id";
/// The provider option holding the secret access key (`x-portkey-aws-secret-access-key`).
pub const OPT_SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
/// The provider option holding a temporary session token (`x-portkey-aws-session-token`).
pub const OPT_SESSION_TOKEN: &str = "aws_session_token";
/// The provider option holding the region (`x-portkey-aws-region`).
pub const OPT_REGION: &str = "aws_region";

/// Headers the signer sets; stale copies (from an earlier attempt) are removed before signing.
const SIGNING_HEADERS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// Static AWS credentials for one request. `Debug` shows the access key id (an identifier, not
/// a secret) and redacts the secret key and session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub region: String,
}

impl AwsCredentials {
    /// From provider options `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`,
    /// `aws_region` (as strings; blank counts as absent). `Ok(None)` when no access key id is
    /// present (and no secret key or session token either); `Err(message naming the missing
    /// option)` when partially present. Messages never contain option values.
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Option<Self>, String> {
        let get = |k: &str| options.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let secret = get(OPT_SECRET_ACCESS_KEY);
        let token = get(OPT_SESSION_TOKEN);
        let Some(access_key_id) = get(OPT_ACCESS_KEY_ID) else {
            return match (secret, token) {
                (None, None) => Ok(None),
                (Some(_), _) => Err(format!(
                    "{OPT_SECRET_ACCESS_KEY} is set but {OPT_ACCESS_KEY_ID} is missing"
                )),
                (None, Some(_)) => Err(format!(
                    "{OPT_SESSION_TOKEN} is set but {OPT_ACCESS_KEY_ID} is missing"
                )),
            };
        };
        let Some(secret) = secret else {
            return Err(format!(
                "{OPT_SECRET_ACCESS_KEY} is missing (required with {OPT_ACCESS_KEY_ID})"
            ));
        };
        let Some(region) = get(OPT_REGION) else {
            return Err(format!(
                "{OPT_REGION} is missing (required to sign with {OPT_ACCESS_KEY_ID})"
            ));
        };
        if !access_key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "{OPT_ACCESS_KEY_ID} may only contain letters, digits, `_` and `-`"
            ));
        }
        if !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "{OPT_REGION} may only contain letters, digits and `-`"
            ));
        }
        Ok(Some(AwsCredentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: token.map(Secret::new),
            region: region.to_owned(),
        }))
    }
}

/// Signs a request in place: adds `authorization`, `x-amz-date`, `x-amz-content-sha256` and,
/// when a session token is set, `x-amz-security-token`, replacing any earlier values (so a
/// retried request can be signed again). All added values are marked sensitive. `url` is the
/// absolute URL exactly as it will be sent; `headers` must already hold every other header that
/// will be sent. `service` is `"bedrock"` for the Bedrock runtime.
pub fn sign(
    method: &Method,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    creds: &AwsCredentials,
    service: &str,
    now: SystemTime,
) -> Result<(), AuthError> {
    sign_with(
        method,
        url,
        headers,
        body,
        creds,
        service,
        now,
        PayloadChecksumKind::XAmzSha256,
    )
}

#[allow(clippy::too_many_arguments)]
fn sign_with(
    method: &Method,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    creds: &AwsCredentials,
    service: &str,
    now: SystemTime,
    checksum: PayloadChecksumKind,
) -> Result<(), AuthError> {
    // The signer needs an absolute URL with a host (and would panic without one).
    let uri: Uri = url
        .parse()
        .map_err(|_| AuthError::Signing("the upstream URL is not a valid URL".into()))?;
    if uri.scheme().is_none() || uri.host().is_none_or(str::is_empty) {
        return Err(AuthError::Signing(
            "the upstream URL is not absolute (no scheme or host)".into(),
        ));
    }
    if service.is_empty() {
        return Err(AuthError::Signing("no service name to sign for".into()));
    }
    for name in SIGNING_HEADERS {
        headers.remove(*name);
    }

    let identity: Identity = Credentials::new(
        creds.access_key_id.as_str(),
        creds.secret_access_key.expose(),
        creds.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "switchyard",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = checksum;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&creds.region)
        .name(service)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| AuthError::Signing(e.to_string()))?
        .into();

    // Values that are not visible ASCII can't be canonicalised; they go out unsigned, which
    // SigV4 allows (only the headers named in SignedHeaders are checked).
    let signable_headers = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
    let request = SignableRequest::new(
        method.as_str(),
        url,
        signable_headers,
        SignableBody::Bytes(body),
    )
    .map_err(signing_error)?;
    let (instructions, _signature) = sigv4_sign(request, &params)
        .map_err(signing_error)?
        .into_parts();
    let (new_headers, _query) = instructions.into_parts();
    for h in new_headers {
        let name = HeaderName::from_bytes(h.name().as_bytes())
            .map_err(|_| AuthError::Signing(format!("bad header name `{}`", h.name())))?;
        let mut value = HeaderValue::from_str(h.value()).map_err(|_| {
            AuthError::Signing(format!("the signer produced a bad `{}` value", h.name()))
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(())
}

/// The signer's errors name what failed (never a credential); keep the cause chain.
fn signing_error(e: aws_sigv4::http_request::SigningError) -> AuthError {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    AuthError::Signing(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    // AWS's published SigV4 test suite (shipped with the aws-sigv4 crate as
    // `aws-signing-test-suite/v4`): credentials, time, region and service of every case.
    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_TOKEN: &str = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";

    /// 2015-08-30T12:36:00Z.
    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn creds(region: &str, token: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: AKID.into(),
            secret_access_key: Secret::new(SECRET),
            session_token: token.map(Secret::new),
            region: region.into(),
        }
    }

    fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
        h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn suite_case(
        method: Method,
        headers: &[(&str, &str)],
        body: &[u8],
        token: Option<&str>,
        checksum: PayloadChecksumKind,
    ) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        sign_with(
            &method,
            "https://example.amazonaws.com/",
            &mut h,
            body,
            &creds("us-east-1", token),
            "service",
            suite_time(),
            checksum,
        )
        .unwrap();
        h
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        let h = suite_case(Method::GET, &[], b"", None, PayloadChecksumKind::NoHeader);
        assert_eq!(header(&h, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            header(&h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        // An explicit Host header gives the same signature as the one derived from the URL.
        let h2 = suite_case(
            Method::GET,
            &[("host", "example.amazonaws.com")],
            b"",
            None,
            PayloadChecksumKind::NoHeader,
        );
        assert_eq!(header(&h2, "authorization"), header(&h, "authorization"));
    }

    #[test]
    fn aws_test_suite_post_vanilla() {
        let h = suite_case(Method::POST, &[], b"", None, PayloadChecksumKind::NoHeader);
        assert!(header(&h, "authorization").ends_with(
            "SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn aws_test_suite_get_vanilla_with_session_token() {
        let h = suite_case(
            Method::GET,
            &[],
            b"",
            Some(SUITE_TOKEN),
            PayloadChecksumKind::NoHeader,
        );
        assert_eq!(header(&h, "x-amz-security-token"), SUITE_TOKEN);
        assert!(header(&h, "authorization").ends_with(
            "SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        ));
    }

    #[test]
    fn aws_test_suite_post_x_www_form_urlencoded_signs_the_body() {
        // The public `sign` (which sends x-amz-content-sha256) reproduces this case exactly.
        let mut h = HeaderMap::new();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h.insert("content-length", HeaderValue::from_static("13"));
        sign(
            &Method::POST,
            "https://example.amazonaws.com/",
            &mut h,
            b"Param1=value1",
            &creds("us-east-1", None),
            "service",
            suite_time(),
        )
        .unwrap();
        assert_eq!(
            header(&h, "x-amz-content-sha256"),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        assert_eq!(
            header(&h, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"
        );
    }

    const BEDROCK_URL: &str = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

    fn bedrock(body: &[u8], token: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        sign(
            &Method::POST,
            BEDROCK_URL,
            &mut h,
            body,
            &creds("us-east-1", token),
            "bedrock",
            suite_time(),
        )
        .unwrap();
        h
    }

    /// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=<64 hex>` → (credential,
    /// signed headers, signature).
    fn parse_authorization(v: &str) -> (String, String, String) {
        let rest = v.strip_prefix("AWS4-HMAC-SHA256 ").unwrap();
        let parts: Vec<&str> = rest.split(", ").collect();
        assert_eq!(parts.len(), 3, "{v}");
        let credential = parts[0].strip_prefix("Credential=").unwrap();
        let signed = parts[1].strip_prefix("SignedHeaders=").unwrap();
        let sig = parts[2].strip_prefix("Signature=").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sig
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        (credential.into(), signed.into(), sig.into())
    }

    #[test]
    fn bedrock_request_is_signed_and_stable() {
        let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
        let h = bedrock(body, None);
        let (credential, signed, sig) = parse_authorization(header(&h, "authorization"));
        assert_eq!(
            credential,
            "AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request"
        );
        assert_eq!(signed, "content-type;host;x-amz-content-sha256;x-amz-date");
        assert_eq!(header(&h, "x-amz-date"), "20150830T123600Z");
        assert_eq!(header(&h, "x-amz-content-sha256").len(), 64);
        assert!(h.get("x-amz-security-token").is_none());
        // Same inputs, same signature.
        let again = bedrock(body, None);
        assert_eq!(parse_authorization(header(&again, "authorization")).2, sig);
        // Another body, another signature.
        let other = bedrock(br#"{"messages":[]}"#, None);
        assert_ne!(parse_authorization(header(&other, "authorization")).2, sig);
        assert_ne!(
            header(&other, "x-amz-content-sha256"),
            header(&h, "x-amz-content-sha256")
        );
        // Another time, another signature.
        let mut later = HeaderMap::new();
        later.insert("content-type", HeaderValue::from_static("application/json"));
        sign(
            &Method::POST,
            BEDROCK_URL,
            &mut later,
            body,
            &creds("us-east-1", None),
            "bedrock",
            suite_time() + Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(header(&later, "x-amz-date"), "20150830T123601Z");
        assert_ne!(parse_authorization(header(&later, "authorization")).2, sig);
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let h = bedrock(b"{}", Some("FwoGZXIvYXdzEXAMPLETOKEN"));
        assert_eq!(
            header(&h, "x-amz-security-token"),
            "FwoGZXIvYXdzEXAMPLETOKEN"
        );
        let (_, signed, _) = parse_authorization(header(&h, "authorization"));
        assert_eq!(
            signed,
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
        );
    }

    #[test]
    fn signing_again_replaces_the_previous_signature() {
        let mut h = bedrock(b"{}", Some("tok"));
        let first = header(&h, "authorization").to_owned();
        sign(
            &Method::POST,
            BEDROCK_URL,
            &mut h,
            b"{}",
            &creds("us-east-1", None),
            "bedrock",
            suite_time(),
        )
        .unwrap();
        assert_eq!(h.get_all("authorization").iter().count(), 1);
        assert!(h.get("x-amz-security-token").is_none());
        assert_ne!(header(&h, "authorization"), first);
        // Identical to signing a fresh map: the stale headers took no part.
        assert_eq!(
            header(&h, "authorization"),
            header(&bedrock(b"{}", None), "authorization")
        );
    }

    #[test]
    fn percent_encoded_colon_in_the_path_signs() {
        // Bedrock model ids and ARNs carry `:` and `/` encoded inside one path segment.
        for url in [
            BEDROCK_URL,
            "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
            "http://127.0.0.1:9100/model/m%3A0/invoke",
        ] {
            let mut h = HeaderMap::new();
            sign(
                &Method::POST,
                url,
                &mut h,
                b"{}",
                &creds("us-west-2", None),
                "bedrock",
                SystemTime::now(),
            )
            .unwrap();
            parse_authorization(header(&h, "authorization"));
        }
        // The encoded and the raw forms are different canonical paths.
        let mut raw = HeaderMap::new();
        sign(
            &Method::POST,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
            &mut raw,
            b"{}",
            &creds("us-east-1", None),
            "bedrock",
            suite_time(),
        )
        .unwrap();
        assert_ne!(
            parse_authorization(header(&raw, "authorization")).2,
            parse_authorization(header(&bedrock(b"{}", None), "authorization")).2
        );
    }

    #[test]
    fn signed_values_are_sensitive_and_secrets_never_print() {
        let token = "SESSIONTOKENVALUE123";
        let h = bedrock(b"{}", Some(token));
        for name in SIGNING_HEADERS {
            assert!(h.get(*name).unwrap().is_sensitive(), "{name}");
        }
        assert!(!h.get("content-type").unwrap().is_sensitive());
        let printed = format!("{h:?}");
        assert!(!printed.contains(token), "{printed}");
        assert!(!printed.contains("Signature="), "{printed}");

        let c = creds("us-east-1", Some(token));
        let printed = format!("{c:?}");
        assert!(printed.contains(AKID));
        assert!(!printed.contains(SECRET), "{printed}");
        assert!(!printed.contains(token), "{printed}");
    }

    #[test]
    fn unsignable_requests_are_errors_without_secrets() {
        for url in ["/model/x/converse", "not a url", ""] {
            let mut h = HeaderMap::new();
            let e = sign(
                &Method::POST,
                url,
                &mut h,
                b"",
                &creds("us-east-1", Some("TOKEN-VALUE")),
                "bedrock",
                suite_time(),
            )
            .unwrap_err();
            assert!(matches!(e, AuthError::Signing(_)), "{url}: {e:?}");
            let printed = format!("{e} {e:?}");
            assert!(!printed.contains(SECRET) && !printed.contains("TOKEN-VALUE"));
            assert!(h.is_empty());
        }
        let mut h = HeaderMap::new();
        let e = sign(
            &Method::POST,
            BEDROCK_URL,
            &mut h,
            b"",
            &creds("us-east-1", None),
            "",
            suite_time(),
        )
        .unwrap_err();
        assert!(matches!(e, AuthError::Signing(_)));
    }

    #[test]
    fn headers_that_are_not_text_go_unsigned() {
        let mut h = HeaderMap::new();
        h.insert("x-odd", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        h.insert("content-type", HeaderValue::from_static("application/json"));
        sign(
            &Method::POST,
            BEDROCK_URL,
            &mut h,
            b"{}",
            &creds("us-east-1", None),
            "bedrock",
            suite_time(),
        )
        .unwrap();
        let (_, signed, _) = parse_authorization(header(&h, "authorization"));
        assert_eq!(signed, "content-type;host;x-amz-content-sha256;x-amz-date");
        assert!(h.get("x-odd").is_some());
    }

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn credentials_from_options() {
        assert_eq!(AwsCredentials::from_options(&opts(&[])), Ok(None));
        assert_eq!(
            AwsCredentials::from_options(&opts(&[("aws_region", "us-east-1")])),
            Ok(None)
        );
        assert_eq!(
            AwsCredentials::from_options(&opts(&[("aws_access_key_id", "  ")])),
            Ok(None)
        );

        let c = AwsCredentials::from_options(&opts(&[
            ("aws_access_key_id", "AKIDEXAMPLE"),
            ("aws_secret_access_key", SECRET),
            ("aws_session_token", "tok"),
            ("aws_region", "eu-west-1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.access_key_id, "AKIDEXAMPLE");
        assert_eq!(c.secret_access_key.expose(), SECRET);
        assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("tok"));
        assert_eq!(c.region, "eu-west-1");

        let c = AwsCredentials::from_options(&opts(&[
            ("aws_access_key_id", "AKIDEXAMPLE"),
            ("aws_secret_access_key", SECRET),
            ("aws_session_token", ""),
            ("aws_region", "eu-west-1"),
        ]))
        .unwrap()
        .unwrap();
        assert!(c.session_token.is_none());
    }

    #[test]
    fn partial_credentials_name_the_missing_option_and_hide_values() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("aws_access_key_id", "AKIDEXAMPLE"),
                    ("aws_region", "us-east-1"),
                ],
                "aws_secret_access_key is missing",
            ),
            (
                &[
                    ("aws_access_key_id", "AKIDEXAMPLE"),
                    ("aws_secret_access_key", SECRET),
                ],
                "aws_region is missing",
            ),
            (
                &[
                    ("aws_secret_access_key", SECRET),
                    ("aws_region", "us-east-1"),
                ],
                "aws_access_key_id is missing",
            ),
            (
                &[("aws_session_token", "SESSIONTOKENVALUE")],
                "aws_access_key_id is missing",
            ),
            (
                &[
                    ("aws_access_key_id", "AKID/../x"),
                    ("aws_secret_access_key", SECRET),
                    ("aws_region", "us-east-1"),
                ],
                "aws_access_key_id may only contain",
            ),
            (
                &[
                    ("aws_access_key_id", "AKIDEXAMPLE"),
                    ("aws_secret_access_key", SECRET),
                    ("aws_region", "us-east-1/x"),
                ],
                "aws_region may only contain",
            ),
        ];
        for (pairs, expected) in cases {
            let e = AwsCredentials::from_options(&opts(pairs)).unwrap_err();
            assert!(e.contains(expected), "{e}");
            assert!(
                !e.contains(SECRET) && !e.contains("SESSIONTOKENVALUE"),
                "{e}"
            );
        }
    }
}
