//! The console's session token: stateless, so any node with the same admin key accepts a
//! session another node issued, and nothing is stored anywhere.
//!
//! `v1.<expires, unix ms>.<nonce, 32 hex>.<base64url(HMAC-SHA256(k, "v1.<expires>.<nonce>"))>`,
//! where `k` is [`Keys::console_session_key`](crate::governance::auth::Keys::console_session_key)
//! (SHA-256 of a domain tag and the admin key). The token never contains the admin key or
//! anything from which it could be computed faster than by guessing; a changed admin key
//! changes `k`, which ends every session. The signature is checked in constant time
//! (`hmac`'s `verify_slice`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::Sha256;

/// The session cookie's name.
pub const COOKIE: &str = "switchyard_console";
/// How long a session lasts.
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;
/// The token's version tag (the first field).
const VERSION: &str = "v1";
/// The nonce's length, in hex digits (128 random bits).
const NONCE_HEX: usize = 32;
/// A token longer than this is not one of ours (checked before any work).
const MAX_TOKEN: usize = 256;

type HmacSha256 = Hmac<Sha256>;

/// Why a token was refused (every one is a 401 to the caller; the reason is for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("not a console session token")]
    Malformed,
    #[error("the session token's signature does not match")]
    BadSignature,
    #[error("the console session has expired")]
    Expired,
}

/// A new token for `key`, valid until `expires_ms` (unix milliseconds).
pub fn issue(key: &[u8; 32], expires_ms: i64) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let body = format!("{VERSION}.{expires_ms}.{nonce}");
    let sig = URL_SAFE_NO_PAD.encode(mac(key, &body).finalize().into_bytes());
    format!("{body}.{sig}")
}

/// Checks `token` against `key` at `now_ms`: its expiry (unix ms) when valid.
pub fn verify(key: &[u8; 32], token: &str, now_ms: i64) -> Result<i64, SessionError> {
    if token.len() > MAX_TOKEN {
        return Err(SessionError::Malformed);
    }
    let (body, sig) = token.rsplit_once('.').ok_or(SessionError::Malformed)?;
    let mut parts = body.split('.');
    let (Some(version), Some(expires), Some(nonce), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SessionError::Malformed);
    };
    let well_formed = version == VERSION
        && !expires.is_empty()
        && expires.bytes().all(|b| b.is_ascii_digit())
        && nonce.len() == NONCE_HEX
        && nonce.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(SessionError::Malformed);
    }
    let expires: i64 = expires.parse().map_err(|_| SessionError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| SessionError::Malformed)?;
    mac(key, body)
        .verify_slice(&sig)
        .map_err(|_| SessionError::BadSignature)?;
    if expires <= now_ms {
        return Err(SessionError::Expired);
    }
    Ok(expires)
}

fn mac(key: &[u8; 32], body: &str) -> HmacSha256 {
    // HMAC pads a short key with zeros to the hash's block size (64 bytes for SHA-256): the
    // padded key gives the same MAC, without `new_from_slice`'s (unreachable) error.
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    let mut m = <HmacSha256 as hmac::digest::KeyInit>::new(&block);
    m.update(body.as_bytes());
    m
}

/// The session token in the request's `cookie` headers, if any.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == COOKIE).then(|| value.trim().trim_matches('"'))
        })
}

/// The `set-cookie` value of a new session (`Secure` when the client reached us over HTTPS).
pub fn set_cookie(token: &str, secure: bool) -> String {
    let max_age = LIFETIME_MS / 1000;
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")
}

/// The `set-cookie` value that ends a session in the browser.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// Whether the client reached the gateway over HTTPS (through a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: [u8; 32] = [7; 32];
    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn an_issued_token_verifies_until_it_expires() {
        let t = issue(&K, NOW + 1000);
        assert_eq!(verify(&K, &t, NOW), Ok(NOW + 1000));
        assert_eq!(verify(&K, &t, NOW + 1000), Err(SessionError::Expired));
        assert_eq!(verify(&K, &t, NOW + 5000), Err(SessionError::Expired));
    }

    #[test]
    fn the_padded_key_gives_the_standard_hmac() {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&K).unwrap();
        m.update(b"x");
        assert_eq!(
            m.finalize().into_bytes(),
            mac(&K, "x").finalize().into_bytes()
        );
    }

    #[test]
    fn two_tokens_differ_by_their_nonce() {
        assert_ne!(issue(&K, NOW), issue(&K, NOW));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let t = issue(&K, NOW + 1000);
        // A later expiry with the old signature.
        let later = t.replacen(
            &format!(".{}.", NOW + 1000),
            &format!(".{}.", NOW + 9999),
            1,
        );
        assert_eq!(verify(&K, &later, NOW), Err(SessionError::BadSignature));
        // A flipped signature character.
        let mut bytes = t.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(bytes).unwrap();
        assert_eq!(verify(&K, &flipped, NOW), Err(SessionError::BadSignature));
        for junk in [
            "",
            "v1",
            "v1.1.2.3",
            "v2.1.00112233445566778899aabbccddeeff.AAAA",
            "x.y.z.w.v",
        ] {
            assert!(verify(&K, junk, NOW).is_err(), "{junk}");
        }
        assert_eq!(
            verify(&K, &"a".repeat(1000), NOW),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn a_token_signed_with_another_admin_keys_key_is_refused() {
        let t = issue(&[8; 32], NOW + 1000);
        assert_eq!(verify(&K, &t, NOW), Err(SessionError::BadSignature));
    }

    #[test]
    fn the_cookie_is_found_among_others_and_is_http_only_and_strict() {
        let mut h = HeaderMap::new();
        h.append(
            "cookie",
            "a=1; switchyard_console=tok.en; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h), Some("tok.en"));
        let c = set_cookie("tok", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(set_cookie("tok", true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(is_https(&h));
    }
}
