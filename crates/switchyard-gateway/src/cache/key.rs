//! Cache keys: a SHA-256 over everything that makes two requests the same question to the same
//! target from the same tenant.
//!
//! - **The tenant**: the credential the client authenticated with (its provider key; once
//!   gateway keys exist, its gateway key), plus the namespace it names
//!   (`x-portkey-cache-namespace`) — so two clients with different keys never share an entry,
//!   and one client can keep separate partitions. A namespace the operator declares shared
//!   (`cache.shared_namespaces`) drops the credential: everyone naming it shares it. A target
//!   with the operator's own credentials is one tenant, the operator's.
//! - **The endpoint and the target**: provider, base URL (a custom host is another target),
//!   provider options (region, resource, deployment, organisation…), and the values of the
//!   client headers forwarded to it (a forwarded `authorization` is a credential too).
//! - **The request as sent upstream**: the body after `model` rewriting and `override_params`,
//!   parsed and written back with its members sorted, without `stream` and `stream_options` —
//!   a streamed and a plain request share their entry.
//!
//! Keys hold no secret: the credential only enters the hash.

use ring::digest::{Context, SHA256};
use serde_json::Value;
use switchyard_providers::Endpoint;

use crate::routing::tree::{Credential, Leaf};

/// A cache key.
pub type CacheKey = [u8; 32];

/// The namespace part of a key, also what `DELETE /admin/cache?namespace=` clears.
pub fn namespace_label(namespace: Option<&str>) -> &str {
    namespace.unwrap_or("-")
}

/// The key of `body` (the upstream body, JSON) sent to `leaf` for `endpoint`; `None` when the
/// body is not a JSON object (not cacheable).
pub fn key(
    leaf: &Leaf,
    endpoint: Endpoint,
    body: &[u8],
    forwarded: &[(&str, &[u8])],
    namespace: Option<&str>,
    shared_namespace: bool,
) -> Option<CacheKey> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    obj.remove("stream");
    obj.remove("stream_options");
    let canonical = serde_json::to_vec(&Value::Object(obj)).ok()?;
    let mut h = Context::new(&SHA256);
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"switchyard-cache-v1");
    match (&leaf.credential, shared_namespace) {
        (_, true) => part(b"shared"),
        (Credential::Client(k), false) => {
            part(b"client");
            part(k.expose().as_bytes());
        }
        (Credential::Server(_), false) => part(b"operator"),
        (Credential::None, false) => part(b"anonymous"),
    }
    part(namespace_label(namespace).as_bytes());
    part(endpoint.name().as_bytes());
    part(leaf.provider.slug.as_bytes());
    part(leaf.base_url().as_bytes());
    for (k, v) in &leaf.options {
        part(k.as_bytes());
        part(v.as_bytes());
    }
    for (name, value) in forwarded {
        part(name.as_bytes());
        part(value);
    }
    part(&canonical);
    let digest = h.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    Some(out)
}
