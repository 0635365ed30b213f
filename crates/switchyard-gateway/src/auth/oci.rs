//! OCI request signing (API-key auth) for the `oracle` provider: "Signature Version 1" of
//! <https://docs.oracle.com/iaas/Content/API/Concepts/signingrequests.htm>, which is
//! draft-cavage-http-signatures-08 with `rsa-sha256`.
//!
//! The signing string is one `name: value` line per signed header, in the order the
//! `headers` parameter lists them: `(request-target)` (the lower-case method and the path
//! and query as sent), `date`, `host`, and for requests with a body `x-content-sha256` (the
//! body's SHA-256, base64), `content-type` and `content-length`. It is signed with the
//! user's RSA key (RSASSA-PKCS1-v1_5, SHA-256) and sent as
//! `Authorization: Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",
//! algorithm="rsa-sha256",headers="…",signature="<base64>"`.
//!
//! The gateway signs the finished upstream request last, like SigV4. The private key is held
//! as a [`Secret`]: no error, log line or `Debug` output shows it.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Uri};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use sha2::{Digest, Sha256};

use super::AuthError;
use crate::config::Secret;

/// The tenancy OCID (`x-portkey-oracle-tenancy`, a config's `oracleTenancy`).
pub const OPT_TENANCY: &str = "oracle_tenancy";
/// The user OCID (`oracle_user`).
pub const OPT_USER: &str = "oracle_user";
/// The API key's fingerprint (`oracle_fingerprint`, `12:34:…`).
pub const OPT_FINGERPRINT: &str = "oracle_fingerprint";
/// The API key's RSA private key, PEM (`oracle_private_key`; `\n` escapes are accepted, so it
/// fits in one header line).
pub const OPT_PRIVATE_KEY: &str = "oracle_private_key";
/// The passphrase of an encrypted private key (`oracle_key_passphrase`): encrypted keys are
/// refused, so it only matters in the error message.
pub const OPT_KEY_PASSPHRASE: &str = "oracle_key_passphrase";

/// The headers signed on a request with a body, in signing order.
const BODY_HEADERS: &str =
    "(request-target) date host x-content-sha256 content-type content-length";
/// The headers signed on a request without one.
const PLAIN_HEADERS: &str = "(request-target) date host";

/// API-key credentials for one request. `Debug` shows the key id (OCIDs and a fingerprint,
/// identifiers rather than secrets) and redacts the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciCredentials {
    /// `<tenancy>/<user>/<fingerprint>`.
    pub key_id: String,
    pub private_key: Secret,
}

impl OciCredentials {
    /// From the `oracle_*` options. `Err((message, option))` names the first missing or
    /// malformed option; messages never contain option values.
    pub fn from_options(
        options: &BTreeMap<String, String>,
    ) -> Result<Self, (String, &'static str)> {
        let get = |k: &str| options.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut parts = Vec::with_capacity(3);
        for name in [OPT_TENANCY, OPT_USER, OPT_FINGERPRINT] {
            let Some(v) = get(name) else {
                return Err((
                    format!("oracle needs {OPT_TENANCY}, {OPT_USER}, {OPT_FINGERPRINT} and {OPT_PRIVATE_KEY} to sign requests; {name} is missing"),
                    name,
                ));
            };
            if !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'_' | b'-'))
            {
                return Err((
                    format!("{name} may hold only letters, digits, '.', ':', '_' and '-'"),
                    name,
                ));
            }
            parts.push(v);
        }
        let Some(key) = get(OPT_PRIVATE_KEY) else {
            return Err((
                format!("oracle needs {OPT_PRIVATE_KEY} (the API key's PEM private key) to sign requests"),
                OPT_PRIVATE_KEY,
            ));
        };
        Ok(OciCredentials {
            key_id: parts.join("/"),
            private_key: Secret::new(key),
        })
    }
}

/// The RSA key pair in `pem`: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE
/// KEY`). Errors never quote the key.
fn key_pair(pem: &str) -> Result<RsaKeyPair, AuthError> {
    let not_rsa = || {
        AuthError::InvalidCredentials(format!(
            "{OPT_PRIVATE_KEY} is not a PEM-encoded RSA private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
        ))
    };
    // A key sent in a header has its line breaks written as `\n`.
    let pem = pem.replace("\\r", "").replace("\\n", "\n");
    if pem.contains("ENCRYPTED") {
        return Err(AuthError::InvalidCredentials(format!(
            "{OPT_PRIVATE_KEY} is encrypted, which is not supported ({OPT_KEY_PASSPHRASE} is not used); send the decrypted key (`openssl rsa -in key.pem -out key_plain.pem`)"
        )));
    }
    let (pkcs1, rest) = if let Some((_, rest)) = pem.split_once("-----BEGIN RSA PRIVATE KEY-----") {
        (true, rest)
    } else if let Some((_, rest)) = pem.split_once("-----BEGIN PRIVATE KEY-----") {
        (false, rest)
    } else {
        return Err(not_rsa());
    };
    let (b64, _) = rest.split_once("-----END").ok_or_else(not_rsa)?;
    let b64: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(b64.as_bytes()).map_err(|_| not_rsa())?;
    let pair = if pkcs1 {
        RsaKeyPair::from_der(&der)
    } else {
        RsaKeyPair::from_pkcs8(&der)
    };
    pair.map_err(|_| not_rsa())
}

/// `host[:port]` as the client sends it in `Host` (the port only when not the scheme's
/// default), which HTTP/2 sends as `:authority`.
fn host_header(uri: &Uri) -> Option<String> {
    let host = uri.host().filter(|h| !h.is_empty())?;
    let default = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => 0,
    };
    Some(match uri.port_u16() {
        Some(p) if p != default => format!("{host}:{p}"),
        _ => host.to_owned(),
    })
}

fn value(v: &str) -> Result<HeaderValue, AuthError> {
    HeaderValue::from_str(v)
        .map_err(|_| AuthError::Signing("a signed header value is not a valid header".into()))
}

/// Signs a request in place: sets `date`, and for a request with a body `x-content-sha256`,
/// `content-length` (and `content-type: application/json` when none is set), then
/// `authorization`, replacing earlier values (so a retried request is signed again). `url` is
/// the absolute URL exactly as it will be sent.
pub fn sign(
    method: &Method,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    creds: &OciCredentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| AuthError::Signing("the upstream URL is not a valid URL".into()))?;
    let host = host_header(&uri).ok_or_else(|| {
        AuthError::Signing("the upstream URL is not absolute (no scheme or host)".into())
    })?;
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let date = httpdate::fmt_http_date(now);
    headers.remove(header::AUTHORIZATION);
    headers.insert(header::DATE, value(&date)?);
    let mut lines = vec![
        format!(
            "(request-target): {} {target}",
            method.as_str().to_ascii_lowercase()
        ),
        format!("date: {date}"),
        format!("host: {host}"),
    ];
    let with_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if with_body {
        let sha = STANDARD.encode(Sha256::digest(body));
        let content_type = match headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) {
            Some(Ok(ct)) => ct.to_owned(),
            Some(Err(_)) => {
                return Err(AuthError::Signing(
                    "content-type is not visible ASCII".into(),
                ))
            }
            None => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                "application/json".to_owned()
            }
        };
        let length = body.len().to_string();
        headers.insert(HeaderName::from_static("x-content-sha256"), value(&sha)?);
        headers.insert(header::CONTENT_LENGTH, value(&length)?);
        lines.push(format!("x-content-sha256: {sha}"));
        lines.push(format!("content-type: {content_type}"));
        lines.push(format!("content-length: {length}"));
    } else {
        headers.remove("x-content-sha256");
    }
    let signature = signature(&lines.join("\n"), creds.private_key.expose())?;
    let signed = if with_body {
        BODY_HEADERS
    } else {
        PLAIN_HEADERS
    };
    let mut auth = value(&format!(
        "Signature version=\"1\",keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{signed}\",signature=\"{signature}\"",
        creds.key_id
    ))?;
    auth.set_sensitive(true);
    headers.insert(header::AUTHORIZATION, auth);
    Ok(())
}

/// Parsed keys by the SHA-256 of their PEM text. Decoding and checking an RSA key costs far
/// more than signing with it, and a target sends the same key with every request.
static KEYS: LazyLock<moka::sync::Cache<[u8; 32], Arc<RsaKeyPair>>> =
    LazyLock::new(|| moka::sync::Cache::new(256));

/// [`key_pair`], parsed once per key.
fn cached_key_pair(pem: &str) -> Result<Arc<RsaKeyPair>, AuthError> {
    let digest: [u8; 32] = Sha256::digest(pem.as_bytes()).into();
    if let Some(pair) = KEYS.get(&digest) {
        return Ok(pair);
    }
    let pair = Arc::new(key_pair(pem)?);
    KEYS.insert(digest, pair.clone());
    Ok(pair)
}

/// The base64 RSASSA-PKCS1-v1_5 SHA-256 signature of `signing_string`.
fn signature(signing_string: &str, pem: &str) -> Result<String, AuthError> {
    let pair = cached_key_pair(pem)?;
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_string.as_bytes(),
        &mut sig,
    )
    .map_err(|_| AuthError::Signing("RSA signing failed".into()))?;
    Ok(STANDARD.encode(sig))
}

#[cfg(test)]
mod tests;
