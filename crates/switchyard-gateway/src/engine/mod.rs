//! The routing engine: walks the tree for one request, attempting leaves and applying each
//! group's strategy (single, fallback, loadbalance, conditional).

mod attempt;
mod messages;
pub mod native;
pub mod rerank;
pub mod responses;
pub mod stream;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use switchyard_types::usage::TokenUsage;

use crate::config::providers::ProviderEntry;
use crate::config::ServerSettings;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::health::{HealthTracker, Permit, Verdict, SKIPPED_TARGETS_HEADER};
use crate::pipeline::record::TryRecord;
use crate::pipeline::Pipeline;
use crate::routing::query::Facts;
use crate::routing::select::{pick_conditional, pick_weighted, pick_weighted_available};
use crate::routing::tree::{Leaf, Mode, Node, NodeKind};
use crate::upstream::Upstreams;
use attempt::Deadline;
use stream::EventForwarder;

/// Runs requests against upstreams. One per server, shared by every request.
pub struct Engine {
    clients: Upstreams,
    settings: Arc<ServerSettings>,
    google_tokens: crate::auth::google::GoogleTokens,
    /// Circuit breakers per target, fed by every leaf attempt.
    health: HealthTracker,
    /// The hooks of the per-attempt and attempt-end phases.
    pipeline: Arc<Pipeline>,
}

/// A response ready for the client.
pub struct Success {
    /// The leaf that answered (`x-portkey-last-used-option-index`).
    pub path: Arc<str>,
    pub provider: Arc<ProviderEntry>,
    /// The target that answered.
    pub leaf: Arc<Leaf>,
    /// Retries made by that leaf (`x-portkey-retry-attempt-count`).
    pub retries: i32,
    pub status: StatusCode,
    /// Upstream response headers worth passing on.
    pub headers: HeaderMap,
    pub body: SuccessBody,
    /// Tokens a whole body reported (a stream's are read as it passes).
    pub usage: Option<TokenUsage>,
    /// Upstream tries made by the whole walk, retries and fallbacks included.
    pub attempts: u32,
    /// Time spent waiting on the upstream, summed over those tries.
    pub upstream_wait: Duration,
    /// Those tries (when the pipeline keeps them).
    pub tries: Vec<TryRecord>,
}

pub enum SuccessBody {
    /// A whole response body.
    Full(Bytes),
    /// An OpenAI event stream, forwarded event by event.
    Events(Box<EventForwarder>),
    /// A proxied response body, streamed through untouched.
    Raw(Box<crate::upstream::UpstreamBody>),
    /// A native provider's stream, translated to OpenAI chunks.
    Native(Box<native::NativeStream>),
}

/// Why a node did not produce a response.
#[derive(Debug)]
pub struct Failure {
    /// The last leaf tried (`None` if the failure happened before any leaf).
    pub path: Option<Arc<str>>,
    pub provider: Option<Arc<ProviderEntry>>,
    pub retries: i32,
    pub error: GatewayError,
    /// Upstream response headers, for upstream error responses (and the gateway's
    /// `x-switchyard-skipped-targets`).
    pub headers: Option<HeaderMap>,
    /// A gateway-side problem no other target can fix: stops a fallback.
    pub terminal: bool,
    /// One line per failed leaf, in the order they were tried.
    pub history: Vec<String>,
    /// Upstream tries made by the whole walk.
    pub attempts: u32,
    /// Time spent waiting on the upstream, summed over those tries.
    pub upstream_wait: Duration,
    /// Those tries (when the pipeline keeps them).
    pub tries: Vec<TryRecord>,
}

impl Failure {
    fn terminal(error: GatewayError) -> Self {
        Failure {
            path: None,
            provider: None,
            retries: 0,
            error,
            headers: None,
            terminal: true,
            history: Vec::new(),
            attempts: 0,
            upstream_wait: Duration::ZERO,
            tries: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.error.status_code()
    }
}

pub type Outcome = Result<Success, Failure>;

type BoxFut<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

impl Engine {
    pub fn new(clients: Upstreams, settings: Arc<ServerSettings>, pipeline: Arc<Pipeline>) -> Self {
        let google_tokens =
            crate::auth::google::GoogleTokens::with_trusted_hosts(settings.trusted_hosts.clone());
        let health = HealthTracker::new(settings.circuit_breaker);
        Engine {
            clients,
            settings,
            google_tokens,
            health,
            pipeline,
        }
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The targets' circuit breakers.
    pub fn health(&self) -> &HealthTracker {
        &self.health
    }

    /// Executes `root` for `req`. When more than one leaf failed, the final error's message lists
    /// every target's reason. Targets skipped because their circuit was open are listed in
    /// `x-switchyard-skipped-targets`.
    /// A `total_timeout` on the root (else `server.total_timeout`) bounds the whole walk.
    pub async fn execute(&self, root: &Node, req: &RequestContext) -> Outcome {
        let total = root
            .total_timeout
            .or(self.settings.total_timeout)
            .map(|t| Deadline::after(t, true));
        let mut walk = Walk {
            total,
            ..Walk::default()
        };
        let outcome = self.run(root, req, &mut walk).await;
        match outcome {
            Ok(mut s) => {
                walk.mark(&mut s.headers);
                s.attempts = walk.attempts;
                s.upstream_wait = walk.upstream_wait;
                s.tries = walk.tries;
                Ok(s)
            }
            Err(mut f) => {
                f.attempts = walk.attempts;
                f.upstream_wait = walk.upstream_wait;
                f.tries = std::mem::take(&mut walk.tries);
                if !walk.skipped.is_empty() {
                    walk.mark(f.headers.get_or_insert_with(HeaderMap::new));
                } else if let Some(h) = &mut f.headers {
                    walk.mark(h);
                }
                // A hook's own answer (a denied guardrail's 446) is the last target's, as is.
                if f.history.len() > 1 && !matches!(f.error, GatewayError::Answered(_)) {
                    let mut envelope = f.error.envelope();
                    envelope.error.message = format!(
                        "All {} targets failed: {}",
                        f.history.len(),
                        f.history.join("; ")
                    );
                    f.error = GatewayError::Upstream {
                        status: f.status(),
                        envelope,
                    };
                }
                Err(f)
            }
        }
    }

    fn run<'a>(
        &'a self,
        node: &'a Node,
        req: &'a RequestContext,
        walk: &'a mut Walk,
    ) -> BoxFut<'a> {
        Box::pin(async move {
            let group = match &node.kind {
                // A leaf reached directly (single, conditional, the root, or every alternative
                // ejected): attempted whatever its circuit says.
                NodeKind::Leaf(leaf) => {
                    let id = self.health.identity(leaf);
                    let permit = self.health.acquire(id, &node.path, &leaf.provider.slug);
                    return self
                        .attempt_recorded(leaf, &node.path, req, permit, walk)
                        .await;
                }
                NodeKind::Group(g) => g,
            };
            match group.mode {
                Mode::Single => match group.targets.first() {
                    Some(t) => self.run(t, req, walk).await,
                    None => Err(Failure::terminal(GatewayError::Internal(
                        "empty target list".into(),
                    ))),
                },
                Mode::LoadBalance => self.load_balance(&group.targets, req, walk).await,
                Mode::Conditional => {
                    let reads_params = group.conditions.iter().any(|c| c.query.reads_params());
                    let facts = Facts {
                        metadata: &req.metadata,
                        params: if reads_params { req.params() } else { None },
                    };
                    match pick_conditional(group, &facts) {
                        Some(i) => self.run(&group.targets[i], req, walk).await,
                        None => Err(Failure::terminal(GatewayError::NoConditionMatched(format!(
                            "no condition of {}.strategy matched the request and there is no strategy.default",
                            node.path
                        )))),
                    }
                }
                Mode::Fallback => {
                    let mut history = Vec::new();
                    let mut last: Option<Failure> = None;
                    let outer_recoverable = walk.recoverable;
                    for (i, target) in group.targets.iter().enumerate() {
                        walk.recoverable = outer_recoverable || i + 1 < group.targets.len();
                        let outcome = match self.enter(target) {
                            Entry::Leaf(leaf, permit) => {
                                self.attempt_recorded(leaf, &target.path, req, permit, walk)
                                    .await
                            }
                            Entry::Group => self.run(target, req, walk).await,
                            Entry::Ejected => {
                                let rest = &group.targets[i + 1..];
                                if rest.iter().any(|t| self.health.node_available(t)) {
                                    walk.skip(&target.path);
                                    continue;
                                }
                                // Every remaining target is ejected: try them in order rather
                                // than fail without trying.
                                self.run(target, req, walk).await
                            }
                        };
                        match outcome {
                            Ok(s) => return Ok(s),
                            Err(mut f) => {
                                history.append(&mut f.history);
                                let status = f.status().as_u16();
                                let falls_through = match &group.on_status_codes {
                                    Some(codes) => codes.contains(&status),
                                    None => true,
                                };
                                if f.terminal || !falls_through {
                                    f.history = history;
                                    return Err(f);
                                }
                                last = Some(f);
                            }
                        }
                    }
                    walk.recoverable = outer_recoverable;
                    match last {
                        Some(mut f) => {
                            f.history = history;
                            Err(f)
                        }
                        None => Err(Failure::terminal(GatewayError::Internal(
                            "empty target list".into(),
                        ))),
                    }
                }
            }
        })
    }

    /// One target by weight, among those whose circuit allows traffic (all of them when none
    /// does).
    async fn load_balance(
        &self,
        targets: &[Node],
        req: &RequestContext,
        walk: &mut Walk,
    ) -> Outcome {
        if !self.health.enabled() {
            return match pick_weighted(targets, fastrand::f64()) {
                Some(i) => self.run(&targets[i], req, walk).await,
                None => Err(no_weight()),
            };
        }
        let mut available: Vec<bool> = targets
            .iter()
            .map(|t| self.health.node_available(t))
            .collect();
        // Each round either attempts a target or marks one more as ejected, so this ends.
        loop {
            let Some(pick) = pick_weighted_available(targets, fastrand::f64(), |i| {
                available.get(i).copied().unwrap_or(false)
            }) else {
                return Err(no_weight());
            };
            if let Some(d) = pick.displaced {
                walk.skip(&targets[d].path);
            }
            let target = &targets[pick.index];
            if pick.failed_open {
                return self.run(target, req, walk).await;
            }
            match self.enter(target) {
                Entry::Leaf(leaf, permit) => {
                    return self
                        .attempt_recorded(leaf, &target.path, req, permit, walk)
                        .await
                }
                Entry::Group => return self.run(target, req, walk).await,
                // Lost the race for a half-open target's probe: pick again without it.
                Entry::Ejected => {
                    walk.skip(&target.path);
                    if let Some(a) = available.get_mut(pick.index) {
                        *a = false;
                    }
                }
            }
        }
    }

    /// Asks `node`'s circuit (a leaf) or its leaves' circuits (a group) whether it may be tried.
    fn enter<'a>(&'a self, node: &'a Node) -> Entry<'a> {
        match &node.kind {
            NodeKind::Leaf(leaf) => {
                let id = self.health.identity(leaf);
                match self.health.try_acquire(id, &node.path, &leaf.provider.slug) {
                    Some(permit) => Entry::Leaf(leaf, permit),
                    None => Entry::Ejected,
                }
            }
            NodeKind::Group(_) if self.health.node_available(node) => Entry::Group,
            NodeKind::Group(_) => Entry::Ejected,
        }
    }

    /// Attempts `leaf` and records the final outcome (after retries) in its circuit.
    async fn attempt_recorded(
        &self,
        leaf: &Arc<Leaf>,
        path: &Arc<str>,
        req: &RequestContext,
        permit: Permit<'_>,
        walk: &mut Walk,
    ) -> Outcome {
        let outcome = self.attempt_leaf(leaf, path, req, walk).await;
        permit.record(match &outcome {
            Ok(_) => Verdict::Success,
            // A gateway-side refusal (e.g. an SSRF check) says nothing about the target.
            Err(f) if f.terminal => Verdict::Neutral,
            // A hook passed over the target: nothing was learnt about it.
            Err(f) if matches!(f.error, GatewayError::TargetSkipped(_)) => Verdict::Neutral,
            Err(f) => Verdict::of_error(&f.error),
        });
        outcome
    }

    /// The timeout for one attempt: the request header, else the target's, else the server's.
    fn timeout_for(
        &self,
        req: &RequestContext,
        leaf_timeout: Option<Duration>,
    ) -> Option<Duration> {
        req.timeout_override
            .or(leaf_timeout)
            .or(self.settings.default_request_timeout)
    }
}

fn no_weight() -> Failure {
    Failure::terminal(GatewayError::Internal(
        "no target with a weight above 0".into(),
    ))
}

/// How a fallback or loadbalance group may use one of its targets.
enum Entry<'a> {
    /// A leaf whose circuit admitted the request.
    Leaf(&'a Arc<Leaf>, Permit<'a>),
    /// A group with at least one leaf whose circuit allows traffic.
    Group,
    /// Every circuit under the target is open.
    Ejected,
}

/// What one request's walk of the tree collected on the way.
#[derive(Default)]
struct Walk {
    /// The request's overall deadline, if it has one.
    total: Option<Deadline>,
    /// Upstream tries so far.
    attempts: u32,
    /// Time spent waiting on the upstream so far.
    upstream_wait: Duration,
    /// The tries so far (when the pipeline keeps them).
    tries: Vec<TryRecord>,
    /// Targets passed over because their circuit was open, in order.
    skipped: Vec<Arc<str>>,
    /// The target being tried has a fallback after it: a stream should not commit on a
    /// role-only opening chunk, since an error right after it can still fall back.
    recoverable: bool,
}

impl Walk {
    fn skip(&mut self, path: &Arc<str>) {
        if !self.skipped.contains(path) {
            tracing::debug!(target = %path, "skipping a target whose circuit is open");
            self.skipped.push(path.clone());
        }
    }

    /// Sets `x-switchyard-skipped-targets` (or removes an upstream's header of that name).
    fn mark(&self, headers: &mut HeaderMap) {
        headers.remove(SKIPPED_TARGETS_HEADER);
        if self.skipped.is_empty() {
            return;
        }
        let list = self
            .skipped
            .iter()
            .map(|p| &**p)
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(v) = http::HeaderValue::from_str(&list) {
            headers.insert(SKIPPED_TARGETS_HEADER, v);
        }
    }
}
