//! What the pipeline knows about a request: one [`RequestRecord`] per request, handed to the
//! on-complete phase exactly once, and one [`AttemptRecord`] per upstream try.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use switchyard_types::usage::TokenUsage;

use crate::config::providers::ProviderEntry;
use crate::routing::tree::Leaf;

/// One request, start to end. Filled as the request goes: the handler sets what the client
/// asked, the engine's outcome sets the target and status, the response body adds the bytes,
/// the usage and how it ended.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub trace_id: Arc<str>,
    pub started: Instant,
    /// `chat`, `completions`, `embeddings`, `proxy`, … (`-` when refused before routing).
    pub op: &'static str,
    /// `request` (the request's own headers), `config` (the server's file), or `-`.
    pub route: &'static str,
    pub stream: bool,
    /// The `model` the client asked for.
    pub model: Option<String>,
    /// The gateway key that called (with gateway keys on), and its team.
    pub key_id: Option<Arc<str>>,
    pub team_id: Option<Arc<str>>,
    /// The server file's route taken, by name (with gateway keys on).
    pub route_name: Option<Arc<str>>,
    /// `x-portkey-cache-status` of the response (`HIT`, `MISS`, `SEMANTIC HIT`, …;
    /// `DISABLED` when no cache applied), once the head is built.
    pub cache_status: &'static str,
    pub status: StatusCode,
    /// The provider of the target that answered (or failed last).
    pub provider: Option<Arc<ProviderEntry>>,
    /// The target that answered (its virtual key, its model override).
    pub leaf: Option<Arc<Leaf>>,
    /// Its path in the routing tree (`config.targets[1]`).
    pub target: Option<Arc<str>>,
    /// Retries made by that target (Portkey's `-1`: every retry used up).
    pub retries: i32,
    /// Upstream tries made, retries and fallbacks included.
    pub attempts: u32,
    /// Time spent waiting for upstream response heads, summed over tries: the request's latency
    /// minus this is what the gateway itself added.
    pub upstream_wait: Duration,
    /// Every upstream try, in order (kept when some hook reads records on complete; at most
    /// [`MAX_TRIES`]).
    pub tries: Vec<TryRecord>,
    /// A low-cardinality label of the failure, if the request failed.
    pub error: Option<&'static str>,
    /// Tokens used, when the provider reported them.
    pub usage: Option<TokenUsage>,
    /// Response body bytes sent to the client.
    pub bytes: u64,
    /// A stream that broke, stalled or was cut after it committed: why.
    pub stream_error: Option<String>,
    /// The client went away before the response was over.
    pub client_gone: bool,
    /// From `started` to the end of the response body.
    pub duration: Duration,
    /// What hooks kept for this request (`RequestContext::with_scratch`), for their taps and
    /// on-complete. No guards here (permits, locks): the request log and traces keep the
    /// record in their queues after the response (`Hook::on_complete_shared`), and a guard
    /// would be released late.
    pub extensions: http::Extensions,
    /// The response's cost, once computed (`Governance::cost`): the response head, metrics,
    /// the request log and the live feed all report it, and each would otherwise look the
    /// price up again.
    pub cost: CostMemo,
}

/// A computed cost and what it was computed from: the usage and the answering target (a
/// stream's usage is only known at its end, so a cost computed earlier from other inputs is
/// not reused).
#[derive(Debug, Clone, Default)]
pub struct CostMemo(std::sync::OnceLock<(CostInputs, Option<f64>)>);

/// What a cost depends on that can change while a request goes: its usage, the provider and
/// the target that answered (by identity: their addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostInputs {
    pub usage: TokenUsage,
    pub provider: usize,
    pub leaf: usize,
}

impl CostInputs {
    pub fn new(usage: TokenUsage, provider: &Arc<ProviderEntry>, leaf: &Arc<Leaf>) -> Self {
        CostInputs {
            usage,
            provider: Arc::as_ptr(provider).addr(),
            leaf: Arc::as_ptr(leaf).addr(),
        }
    }
}

impl CostMemo {
    /// The cost for `inputs`: the one kept when it was computed from the same inputs, else
    /// `compute()` (kept when nothing is yet).
    pub fn get_or(&self, inputs: CostInputs, compute: impl FnOnce() -> Option<f64>) -> Option<f64> {
        if let Some((kept, cost)) = self.0.get() {
            if *kept == inputs {
                return *cost;
            }
            return compute();
        }
        let cost = compute();
        let _ = self.0.set((inputs, cost));
        cost
    }
}

impl RequestRecord {
    pub fn new(trace_id: Arc<str>, started: Instant) -> Self {
        RequestRecord {
            trace_id,
            started,
            op: "-",
            route: "-",
            stream: false,
            model: None,
            key_id: None,
            team_id: None,
            route_name: None,
            cache_status: "DISABLED",
            status: StatusCode::OK,
            provider: None,
            leaf: None,
            target: None,
            retries: 0,
            attempts: 0,
            upstream_wait: Duration::ZERO,
            tries: Vec::new(),
            error: None,
            usage: None,
            bytes: 0,
            stream_error: None,
            client_gone: false,
            duration: Duration::ZERO,
            extensions: http::Extensions::new(),
            cost: CostMemo::default(),
        }
    }

    /// The model sent upstream: the answering target's, or for a failed request the last
    /// try's (see [`Leaf::model_sent`]).
    pub fn model_sent(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.leaf
            .as_ref()
            .or_else(|| self.tries.last().map(|t| &t.leaf))
            .and_then(|leaf| leaf.model_sent(self.model.as_deref()))
    }

    /// The provider slug, or `-`.
    pub fn provider_slug(&self) -> &str {
        self.provider.as_ref().map_or("-", |p| p.slug.as_str())
    }
}

/// The most tries a record keeps (a walk stops recording beyond).
pub const MAX_TRIES: usize = 64;

/// One upstream try, as the request's record keeps it.
#[derive(Debug, Clone)]
pub struct TryRecord {
    /// The target's path in the routing tree.
    pub target: Arc<str>,
    /// The target tried (its provider, its model override).
    pub leaf: Arc<Leaf>,
    /// 0 for the first try of this target, then 1, 2, … for its retries.
    pub retry: u32,
    /// The upstream's status, when a response head arrived.
    pub status: Option<StatusCode>,
    /// Why the try failed, if it did (a low-cardinality label).
    pub error: Option<&'static str>,
    /// When it was sent.
    pub started: Instant,
    /// From sending to the response head (or the failure).
    pub elapsed: Duration,
}

impl TryRecord {
    pub fn provider(&self) -> &str {
        &self.leaf.provider.slug
    }

    /// Whether the try failed (an error, or no 2xx head).
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.status.is_none_or(|s| !s.is_success())
    }
}

/// One upstream try, for the attempt-end phase.
#[derive(Debug, Clone, Copy)]
pub struct AttemptRecord<'a> {
    pub trace_id: &'a str,
    /// The target's path in the routing tree.
    pub target: &'a str,
    pub provider: &'a str,
    /// 0 for the first try of this target, then 1, 2, … for its retries.
    pub retry: u32,
    /// The upstream's status, when a response head arrived.
    pub status: Option<StatusCode>,
    /// Why the try failed, if it did (a low-cardinality label).
    pub error: Option<&'static str>,
    /// From sending to the response head (or the failure).
    pub elapsed: Duration,
}

/// A leaf built from a Portkey config target (for tests of record readers).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub fn test_leaf(target: &str) -> Arc<Leaf> {
    use crate::config::gateway::{build, BuildInput, Origin};
    use crate::config::providers::Providers;
    use crate::ssrf::TrustedHosts;
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    let input = BuildInput::new(&providers, Origin::Server, &trusted);
    let config: serde_json::Value = serde_json::from_str(target).unwrap();
    let node = build(&config, "config", &input).unwrap();
    node.leaves()[0].clone()
}
