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
//!   its top-level members in name order, without `stream` and `stream_options` — a streamed
//!   and a plain request share their entry. Member values are hashed as sent (read in place,
//!   nothing copied): the same request from the same SDK writes the same bytes; two that
//!   differ only in the order or spacing of a nested object are two entries (a miss, never a
//!   wrong answer).
//!
//! Keys hold no secret: the credential only enters the hash.

use std::collections::BTreeMap;

use ring::digest::{Context, SHA256};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use switchyard_providers::Endpoint;

use crate::routing::tree::{Credential, Leaf};

/// A cache key.
pub type CacheKey = [u8; 32];

/// The namespace part of a key, also what `DELETE /admin/cache?namespace=` clears.
pub fn namespace_label(namespace: Option<&str>) -> &str {
    namespace.unwrap_or("-")
}

/// Who asks and where to: everything of a key but the request body.
pub struct Scope<'a> {
    pub leaf: &'a Leaf,
    pub endpoint: Endpoint,
    /// The forwarded client headers, name and value.
    pub forwarded: &'a [(&'a str, &'a [u8])],
    /// The client's namespace.
    pub namespace: Option<&'a str>,
    /// The namespace is one the operator shares between tenants.
    pub shared_namespace: bool,
    /// The gateway key's team (or the key, without a team): with gateway keys on, callers
    /// using the operator's credentials are tenants by their key.
    pub tenant: Option<&'a str>,
}

/// The upstream body (JSON) as a cache key sees it: an object without `stream` and
/// `stream_options`; `None` when it is not a JSON object (not cacheable).
pub fn canonical(body: &[u8]) -> Option<Map<String, Value>> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    obj.remove("stream");
    obj.remove("stream_options");
    Some(obj)
}

/// The exact-match key of the upstream `body` (JSON) sent within `scope`; `None` when the body
/// is not a JSON object (not cacheable).
pub fn exact(scope: &Scope<'_>, body: &[u8]) -> Option<CacheKey> {
    // Borrowed member names and values: no copy of the body. A name with escapes can't be
    // borrowed; such a body takes the parsed way.
    match serde_json::from_slice::<BTreeMap<&str, &RawValue>>(body) {
        Ok(members) => Some(hash(scope, b"exact", &[], |part| {
            for (name, value) in members {
                if name != "stream" && name != "stream_options" {
                    part(name.as_bytes());
                    part(value.get().as_bytes());
                }
            }
        })),
        Err(_) => {
            let parsed = canonical(body)?;
            let bytes = serde_json::to_vec(&parsed).ok()?;
            Some(hash(scope, b"exact-parsed", &[], |part| part(&bytes)))
        }
    }
}

/// The semantic partition of a request: `rest` is its body without the text compared by
/// meaning, `embedder` names what embeds that text (vectors of two embedders never meet).
pub fn partition(scope: &Scope<'_>, embedder: &str, rest: &Map<String, Value>) -> Option<CacheKey> {
    // serde_json's map is ordered by key: the same members always write the same bytes.
    let bytes = serde_json::to_vec(rest).ok()?;
    Some(hash(scope, b"partition", embedder.as_bytes(), |part| {
        part(&bytes)
    }))
}

fn hash(
    scope: &Scope<'_>,
    kind: &[u8],
    extra: &[u8],
    body: impl FnOnce(&mut dyn FnMut(&[u8])),
) -> CacheKey {
    let leaf = scope.leaf;
    let mut h = Context::new(&SHA256);
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(b"switchyard-cache-v2");
    part(kind);
    part(extra);
    match (&leaf.credential, scope.shared_namespace) {
        (_, true) => part(b"shared"),
        (Credential::Client(k), false) => {
            part(b"client");
            part(k.expose().as_bytes());
        }
        (Credential::Server(_), false) => part(b"operator"),
        (Credential::None, false) => part(b"anonymous"),
    }
    if let (Some(t), false) = (scope.tenant, scope.shared_namespace) {
        part(b"tenant");
        part(t.as_bytes());
    }
    part(namespace_label(scope.namespace).as_bytes());
    part(scope.endpoint.name().as_bytes());
    part(leaf.provider.slug.as_bytes());
    part(leaf.base_url().as_bytes());
    for (k, v) in &leaf.options {
        part(k.as_bytes());
        part(v.as_bytes());
    }
    for (name, value) in scope.forwarded {
        part(name.as_bytes());
        part(value);
    }
    body(&mut part);
    let digest = h.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
