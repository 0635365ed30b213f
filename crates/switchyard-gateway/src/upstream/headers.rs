//! The header policy: which headers cross the gateway, in each direction, and whose they are.
//!
//! One module decides it all, so a rule can't be kept in one code path and forgotten in another:
//!
//! - **Never forwarded** from a client: hop-by-hop headers (`connection`, `te`, `upgrade`, …),
//!   `host`, the body framing (`content-length`, `transfer-encoding`), `expect`, and the
//!   gateway's own `x-portkey-*` headers. A config or `x-portkey-forward-headers` naming one is
//!   refused when it is read ([`check_forwardable`]), so nothing a client asks for is silently
//!   dropped.
//! - **Forwarded headers replace**: a header the client forwards replaces the gateway's value of
//!   the same name (the provider's auth header included) instead of being sent beside it.
//! - **The operator's credentials stay the operator's**: on a target that carries the server's
//!   credentials a client can't change which account or organisation is billed — client
//!   forward-headers don't apply (refused with a 400, see the engine), and a proxied request
//!   carries only [`SERVER_ROUTE_REQUEST_ALLOWLIST`] of the client's headers.
//! - **Upstream response headers**: framing and hop-by-hop headers, cookies, `date`, `server` and
//!   upstream `x-portkey-*` headers never pass. On a server-credential target only
//!   [`SERVER_ROUTE_RESPONSE_ALLOWLIST`] passes, so the operator's account details
//!   (`openai-organization`, `openai-project`, …) don't reach clients.

use http::header::{self, HeaderName};
use http::HeaderMap;

/// Headers that describe a connection, not a message, and never cross a proxy (RFC 9110 §7.6.1).
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Headers a client can never have sent upstream, whatever it asks for.
pub fn is_never_forwarded(name: &HeaderName) -> bool {
    is_hop_by_hop(name)
        || name == header::HOST
        || name == header::CONTENT_LENGTH
        || name == header::EXPECT
        || name.as_str().starts_with("x-portkey-")
}

/// Refuses a forward-headers list that names a header the gateway never forwards. The error
/// names the header.
pub fn check_forwardable(names: &[HeaderName]) -> Result<(), String> {
    match names.iter().find(|n| is_never_forwarded(n)) {
        Some(n) => Err(format!(
            "`{n}` can't be forwarded: hop-by-hop, host, framing and x-portkey-* headers are set by the gateway"
        )),
        None => Ok(()),
    }
}

/// Copies the client's values of `names` into `out`, each replacing whatever `out` held under
/// that name (so a forwarded `authorization` replaces the provider key rather than adding a
/// second one). Names the client did not send are left as they are.
pub fn forward_client_headers(client: &HeaderMap, names: &[HeaderName], out: &mut HeaderMap) {
    for name in names {
        if is_never_forwarded(name) {
            continue;
        }
        let mut values = client.get_all(name).iter();
        if let Some(first) = values.next() {
            out.insert(name.clone(), first.clone());
            for v in values {
                out.append(name.clone(), v.clone());
            }
        }
    }
}

/// Client headers a proxied (`/v1/*`) request keeps on a target with the server's credentials:
/// what describes the body and the API version, nothing that picks an account, project or
/// organisation.
pub const SERVER_ROUTE_REQUEST_ALLOWLIST: &[&str] = &[
    "content-type",
    "accept",
    "accept-language",
    "openai-beta",
    "anthropic-version",
    "anthropic-beta",
    "idempotency-key",
];

/// Client headers sent upstream on proxied (`/v1/*`) requests: everything but what is never
/// forwarded, the client's credentials and `accept-encoding` (the gateway reads upstream bodies
/// itself); with the server's credentials, only [`SERVER_ROUTE_REQUEST_ALLOWLIST`].
pub fn proxy_request_headers(client: &HeaderMap, server_credentials: bool, out: &mut HeaderMap) {
    for (k, v) in client {
        let keep = if server_credentials {
            SERVER_ROUTE_REQUEST_ALLOWLIST.contains(&k.as_str())
        } else {
            !(is_never_forwarded(k)
                || k == header::AUTHORIZATION
                || k == header::ACCEPT_ENCODING
                || k == header::COOKIE)
        };
        if keep {
            out.append(k.clone(), v.clone());
        }
    }
}

/// Upstream response headers a client may see from a target with the server's credentials:
/// the body's description, request ids for support tickets, and rate-limit hints so a client
/// can back off — nothing that names the operator's account.
pub const SERVER_ROUTE_RESPONSE_ALLOWLIST: &[&str] = &[
    "content-type",
    "content-disposition",
    "cache-control",
    "retry-after",
    "retry-after-ms",
    "x-request-id",
    "request-id",
    "openai-processing-ms",
    "openai-version",
];

/// Headers the gateway adds to an answer, as many as is usual: the `x-portkey-*` five and the
/// cost header, with a couple to spare.
const GATEWAY_ADDS: usize = 8;

/// Upstream response headers passed to the client. Never: hop-by-hop headers, body framing and
/// encoding (the gateway frames and decodes bodies itself), cookies, `date`, `server`, upstream
/// `x-portkey-*`. On a server-credential target only [`SERVER_ROUTE_RESPONSE_ALLOWLIST`] and
/// `x-ratelimit-*` pass.
pub fn response_headers(upstream: &HeaderMap, server_credentials: bool) -> HeaderMap {
    // Room for the headers the gateway adds (`x-portkey-*`, cost, rate limits): a map sized
    // to the upstream's alone grows (rehashing every entry) on the first of them.
    let mut out = HeaderMap::with_capacity(upstream.len() + GATEWAY_ADDS);
    for (k, v) in upstream {
        let name = k.as_str();
        let keep = if server_credentials {
            SERVER_ROUTE_RESPONSE_ALLOWLIST.contains(&name) || name.starts_with("x-ratelimit-")
        } else {
            !(is_hop_by_hop(k)
                || k == header::CONTENT_LENGTH
                || k == header::CONTENT_ENCODING
                || k == header::SET_COOKIE
                || k == header::DATE
                || k == header::SERVER
                || name.starts_with("x-portkey-"))
        };
        if keep {
            out.append(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_replace_the_gateways_value() {
        let client = map(&[
            ("authorization", "Bearer client"),
            ("x-team", "a"),
            ("x-team", "b"),
        ]);
        let mut out = map(&[("authorization", "Bearer provider")]);
        let names = [header::AUTHORIZATION, HeaderName::from_static("x-team")];
        forward_client_headers(&client, &names, &mut out);
        let auth: Vec<_> = out.get_all("authorization").iter().collect();
        assert_eq!(auth, ["Bearer client"], "one auth header, the client's");
        assert_eq!(out.get_all("x-team").iter().count(), 2);
    }

    #[test]
    fn framing_host_and_hop_by_hop_headers_are_never_forwarded() {
        for name in [
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "te",
            "upgrade",
            "x-portkey-config",
        ] {
            let n = HeaderName::from_static(name);
            assert!(
                check_forwardable(std::slice::from_ref(&n)).is_err(),
                "{name}"
            );
            let mut client = HeaderMap::new();
            client.insert(n.clone(), HeaderValue::from_static("x"));
            let mut out = HeaderMap::new();
            forward_client_headers(&client, &[n], &mut out);
            assert!(out.is_empty(), "{name}");
        }
        assert!(check_forwardable(&[HeaderName::from_static("x-trace")]).is_ok());
    }

    #[test]
    fn proxied_requests_on_server_credentials_keep_only_the_allowlist() {
        let client = map(&[
            ("content-type", "application/json"),
            ("openai-organization", "org-other"),
            ("openai-project", "proj-other"),
            ("openai-beta", "assistants=v2"),
            ("x-anything", "1"),
            ("authorization", "Bearer client"),
            ("host", "gateway"),
        ]);
        let mut out = HeaderMap::new();
        proxy_request_headers(&client, true, &mut out);
        let mut names: Vec<_> = out.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-type", "openai-beta"]);

        let mut out = HeaderMap::new();
        proxy_request_headers(&client, false, &mut out);
        assert!(
            out.contains_key("openai-organization"),
            "the client's own account"
        );
        assert!(out.contains_key("x-anything"));
        assert!(!out.contains_key("authorization") && !out.contains_key("host"));
    }

    #[test]
    fn server_credential_responses_hide_the_operators_account() {
        let upstream = map(&[
            ("content-type", "application/json"),
            ("openai-organization", "org-operator"),
            ("openai-project", "proj-operator"),
            ("x-ratelimit-remaining-requests", "99"),
            ("x-request-id", "req_1"),
            ("set-cookie", "__cf_bm=1"),
            ("transfer-encoding", "chunked"),
        ]);
        let server = response_headers(&upstream, true);
        assert!(!server.contains_key("openai-organization"));
        assert!(!server.contains_key("openai-project"));
        assert!(!server.contains_key("set-cookie"));
        assert!(server.contains_key("x-ratelimit-remaining-requests"));
        assert!(server.contains_key("x-request-id"));
        let client = response_headers(&upstream, false);
        assert!(
            client.contains_key("openai-organization"),
            "the client's own account"
        );
        assert!(!client.contains_key("set-cookie") && !client.contains_key("transfer-encoding"));
    }
}
