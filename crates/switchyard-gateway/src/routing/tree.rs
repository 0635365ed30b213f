//! The immutable routing tree a Gateway Config resolves into.
//!
//! Inheritance (override params, retry, timeout, custom host, forward headers) is applied while
//! the tree is built, so a [`Leaf`] carries everything one attempt needs.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Uri};
use serde_json::value::RawValue;
use switchyard_providers::native::ProviderOptions;
use switchyard_providers::Endpoint;

use super::query::Query;
use crate::config::providers::ProviderEntry;
use crate::config::secret::Secret;

/// How a group of targets is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always the first target.
    Single,
    /// Targets in order until one succeeds.
    Fallback,
    /// One target, picked at random by weight.
    LoadBalance,
    /// The target named by the first matching condition, else the default.
    Conditional,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Fallback => "fallback",
            Mode::LoadBalance => "loadbalance",
            Mode::Conditional => "conditional",
        }
    }
}

/// A node of the tree: a leaf (one provider target) or a group with a strategy.
#[derive(Debug)]
pub struct Node {
    /// The JSON path of this node, e.g. `config.targets[1]`, reported in
    /// `x-portkey-last-used-option-index`.
    pub path: Arc<str>,
    pub name: Option<String>,
    pub weight: f64,
    pub kind: NodeKind,
    /// The whole request's deadline across tries, backoff and fallbacks (`total_timeout`; the
    /// root only).
    pub total_timeout: Option<Duration>,
}

#[derive(Debug)]
pub enum NodeKind {
    Leaf(Arc<Leaf>),
    Group(Group),
}

#[derive(Debug)]
pub struct Group {
    pub mode: Mode,
    pub targets: Vec<Node>,
    /// For fallback: only these statuses move on to the next target. `None`: any non-2xx.
    pub on_status_codes: Option<Vec<u16>>,
    pub conditions: Vec<Condition>,
    /// Index into `targets` used when no condition matches.
    pub default: Option<usize>,
}

#[derive(Debug)]
pub struct Condition {
    pub query: Query,
    /// Index into the group's targets.
    pub then: usize,
}

/// Whose credentials a leaf uses.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A key the client sent (config `api_key` or `Authorization`).
    Client(Secret),
    /// The key configured for the provider in the server's config file.
    Server(Secret),
    /// No key (local servers that need none).
    None,
}

/// One provider target with everything inherited resolved. `Debug` prints option names only:
/// options may hold credentials (AWS secret keys, service accounts).
pub struct Leaf {
    pub provider: Arc<ProviderEntry>,
    pub credential: Credential,
    /// Replaces the provider's base URL.
    pub custom_host: Option<String>,
    /// The host was named by a client (`custom_host`): requests go through the public pool,
    /// whose resolver refuses internal addresses when each connection is made.
    pub client_host: bool,
    pub forward_headers: Vec<HeaderName>,
    /// The target carries the operator's credentials (the server file's key or provider
    /// options): the header policy keeps the client from choosing the billed account, and an
    /// upstream 401/403 is the operator's problem, not the client's.
    pub server_credentials: bool,
    /// Paths under `/v1/` that may be passed through on the server's credentials
    /// (`allow_proxy_paths` in the server's config file; `*` for all). Without them, a target
    /// with the server's credentials serves only the endpoints the gateway understands.
    pub allow_proxy_paths: Vec<String>,
    /// Top-level body members to set, in order (later wins).
    pub override_params: Vec<(String, Box<RawValue>)>,
    pub retry: RetryPolicy,
    pub request_timeout: Option<Duration>,
    pub options: ProviderOptions,
    /// How this target's answers are cached (`cache` in the config; `None`: not cached).
    pub cache: Option<crate::cache::policy::CachePolicy>,
    /// The target's input and output hooks (`None`: no guardrails).
    pub hooks: Option<Arc<crate::guardrails::spec::LeafHooks>>,
    /// `strict_open_ai_compliance` of the target (inherited): `Some(false)` lets answers carry
    /// Portkey's provider-native extras (`content_blocks`, reasoning).
    pub strict_open_ai_compliance: Option<bool>,
    /// The virtual key whose credential the target uses (its limits and budget apply to each
    /// attempt of the target).
    pub virtual_key: Option<Arc<crate::governance::virtual_keys::VirtualKey>>,
    /// What every request to this target computes the same way, computed once: the leaf lives
    /// as long as its tree (a file route, or a header route in the route cache).
    pub memo: LeafMemo,
}

/// Per-leaf values computed on first use.
#[derive(Default)]
pub struct LeafMemo {
    /// The target's circuit-breaker identity (`health::HealthTracker::identity`).
    pub circuit: OnceLock<crate::health::TargetId>,
    /// The upstream URI of each endpoint, for OpenAI-compatible targets.
    uris: [OnceLock<Uri>; 8],
    /// The static credential header (`Authorization: Bearer …`, `x-api-key: …`), marked
    /// sensitive; `None` for credentials computed per request (SigV4, OAuth tokens).
    pub auth: OnceLock<Option<(HeaderName, HeaderValue)>>,
}

impl LeafMemo {
    /// The memoised URI of `endpoint`.
    pub fn uri(&self, endpoint: Endpoint) -> &OnceLock<Uri> {
        &self.uris[match endpoint {
            Endpoint::ChatCompletions => 0,
            Endpoint::Completions => 1,
            Endpoint::Embeddings => 2,
            Endpoint::Messages => 3,
            Endpoint::ImageGenerations => 4,
            Endpoint::Responses => 5,
            Endpoint::CountTokens => 6,
            Endpoint::Rerank => 7,
        }]
    }
}

impl std::fmt::Debug for Leaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaf")
            .field("provider", &self.provider.slug)
            .field("credential", &self.credential)
            .field("custom_host", &self.custom_host)
            .field("forward_headers", &self.forward_headers)
            .field("server_credentials", &self.server_credentials)
            .field("allow_proxy_paths", &self.allow_proxy_paths)
            .field("override_params", &self.override_params)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .field("cache", &self.cache)
            .field("hooks", &self.hooks.is_some())
            .field("virtual_key", &self.virtual_key.as_ref().map(|v| &v.name))
            .finish()
    }
}

impl Leaf {
    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.custom_host
            .as_deref()
            .unwrap_or_else(|| self.provider.base_url())
    }

    /// Whether a `/v1/{path}` pass-through may use this target. Always, with the client's own
    /// credentials; with the server's, only on a path `allow_proxy_paths` names (a path names
    /// itself and everything under it).
    pub fn allows_proxy(&self, path: &str) -> bool {
        if !self.server_credentials {
            return true;
        }
        let path = path.split('?').next().unwrap_or("").trim_matches('/');
        // Listing models reads nothing of the operator's account but what `GET /v1/models`
        // shows anyway.
        if path == "models" {
            return true;
        }
        self.allow_proxy_paths.iter().any(|p| {
            p == "*"
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The overridden `model`, if any.
    pub fn model_override(&self) -> Option<&RawValue> {
        self.override_params
            .iter()
            .rev()
            .find(|(k, _)| k == "model")
            .map(|(_, v)| v.as_ref())
    }

    /// The model this target sends for a request that asked for `asked`: its
    /// `override_params.model`, else the asked one (without a `<provider>/` prefix).
    pub fn model_sent<'a>(&'a self, asked: Option<&'a str>) -> Option<std::borrow::Cow<'a, str>> {
        if let Some(raw) = self.model_override() {
            if let Ok(m) = serde_json::from_str::<String>(raw.get()) {
                return Some(m.into());
            }
        }
        let m = asked?;
        Some(
            m.strip_prefix(self.provider.slug.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(m)
                .into(),
        )
    }
}

/// The statuses retried when a config's `retry` names none (Portkey's default list).
pub const DEFAULT_RETRY_STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// Per-leaf retry policy from the config's `retry` object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetryPolicy {
    /// Retries after the first try (0 = no retry).
    pub attempts: u32,
    pub on_status_codes: Vec<u16>,
    /// Wait as long as the upstream's `retry-after`/`retry-after-ms` asks.
    pub use_retry_after_header: bool,
    /// Also retry when the exchange broke after the request was sent (a reset, a truncated or
    /// garbled answer): the upstream may have processed it, so a retry can bill twice.
    pub after_send: bool,
}

impl RetryPolicy {
    pub fn retries_status(&self, status: u16) -> bool {
        self.attempts > 0 && self.on_status_codes.contains(&status)
    }
}

impl Node {
    /// Whether any conditional group in this subtree reads `params.*` (the request body).
    pub fn reads_params(&self) -> bool {
        match &self.kind {
            NodeKind::Leaf(_) => false,
            NodeKind::Group(g) => {
                g.conditions.iter().any(|c| c.query.reads_params())
                    || g.targets.iter().any(Node::reads_params)
            }
        }
    }

    /// Every leaf of the subtree, depth first.
    pub fn leaves(&self) -> Vec<&Arc<Leaf>> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Arc<Leaf>>) {
        match &self.kind {
            NodeKind::Leaf(l) => out.push(l),
            NodeKind::Group(g) => g.targets.iter().for_each(|t| t.collect_leaves(out)),
        }
    }
}
