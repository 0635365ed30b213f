//! The console's static files, embedded in the binary at build time from `console/dist/`
//! (built by the console's TypeScript project), so the gateway serves its console with no
//! files beside it.
//!
//! Every answer carries a strict content security policy (scripts, styles and connections to
//! this origin only; no framing), `nosniff`, `no-referrer`, and `cache-control: no-cache` with
//! an ETag: a browser revalidates each load and gets a 304 while the binary is the same.

use std::sync::OnceLock;

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

/// The console's content security policy.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One embedded file.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    const fn new(bytes: &'static [u8], content_type: &'static str) -> Asset {
        Asset {
            bytes,
            content_type,
            etag: OnceLock::new(),
        }
    }

    /// `"<first 16 bytes of SHA-256, hex>"`, computed at the first request.
    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.bytes);
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        })
    }
}

pub static INDEX: Asset = Asset::new(
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../console/dist/index.html"
    )),
    "text/html; charset=utf-8",
);
pub static APP_JS: Asset = Asset::new(
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../console/dist/app.js"
    )),
    "text/javascript; charset=utf-8",
);
pub static APP_CSS: Asset = Asset::new(
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../console/dist/app.css"
    )),
    "text/css; charset=utf-8",
);

/// The headers every console answer carries (files, session calls and errors alike).
pub fn security_headers(h: &mut HeaderMap) {
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-cache"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// `asset`, or a 304 when the request's `if-none-match` names its ETag. (The security headers
/// are added by the console router's layer; a HEAD request's body is dropped by axum.)
pub fn serve(asset: &'static Asset, req: &HeaderMap) -> Response {
    let etag = asset.etag();
    let fresh = req
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/").as_bytes() == etag.as_bytes()
        });
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(asset.bytes))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::ETAG, etag.clone());
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.bytes.len()));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_is_a_304_when_its_etag_matches() {
        let first = serve(&APP_JS, &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag);
        let again = serve(&APP_JS, &h);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(serve(&APP_JS, &h).status(), StatusCode::OK);
    }
}
