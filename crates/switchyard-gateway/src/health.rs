//! Passive health checking: a circuit breaker per upstream target, fed by the final outcome of
//! every leaf attempt and consulted by `fallback` and `loadbalance` groups.
//!
//! A circuit is **closed** (traffic flows) until `failure_threshold` consecutive failures open
//! it. An **open** circuit ejects its target for `cooldown`; after that it is **half-open**:
//! exactly one request may probe the target (the claim is made under the shard's lock). A probe
//! that succeeds closes the circuit; one that fails opens it again for twice as long, up to
//! `max_cooldown`. Any success on a target closes its circuit and resets its count.
//!
//! Failures are connection errors, timeouts, upstream 5xx, 429 and 408; other 4xx statuses (the
//! client's fault) and the gateway's own validation errors neither count nor reset the count.
//!
//! Cost: only circuits with something to remember are stored — a success on a closed circuit
//! removes its entry — so checking a healthy target is one relaxed atomic load, with no lock.
//! The map is split into shards behind short, never-awaited `std` mutexes. Entries idle for an
//! hour are swept, and a shard never holds more than [`SHARD_CAPACITY`] entries (the least
//! recently seen goes first), so memory stays bounded whatever clients send in header configs.
//!
//! Time is `tokio::time::Instant`, so tests drive it with a paused clock.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::file::CircuitBreakerSettings;
use crate::error::GatewayError;
use crate::routing::tree::{Credential, Leaf, Node, NodeKind};

/// Response header listing the JSON paths of targets skipped because their circuit was open.
pub const SKIPPED_TARGETS_HEADER: &str = "x-switchyard-skipped-targets";

/// Entries not touched for this long are dropped (their circuit is as good as closed again).
pub const IDLE_EVICTION: Duration = Duration::from_secs(3600);
/// Most circuits one shard remembers.
pub const SHARD_CAPACITY: usize = 1024;
const SHARDS: usize = 16;
/// How often a shard looks for idle entries (on its next locked operation).
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// The identity of an upstream target: a hash of its provider, effective base URL, credential,
/// `model` override and provider options. The same target in two requests' header configs has
/// the same identity; the credential only enters as part of the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TargetId(u64);

impl TargetId {
    /// An identity from a raw value (for tests and tools).
    pub fn from_raw(v: u64) -> Self {
        TargetId(v)
    }
}

/// How an attempt's final outcome counts for its target's circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The target answered: closes the circuit, resets the count.
    Success,
    /// The target is unwell: counts towards opening the circuit.
    Failure,
    /// Says nothing about the target (a client error, a gateway-side problem).
    Neutral,
}

impl Verdict {
    /// The verdict on an attempt that ended in `error`.
    pub fn of_error(error: &GatewayError) -> Verdict {
        match error {
            GatewayError::Timeout { .. }
            | GatewayError::UpstreamUnreachable(_)
            | GatewayError::UpstreamStream(_) => Verdict::Failure,
            GatewayError::Upstream { status, .. }
                if status.is_server_error() || matches!(status.as_u16(), 408 | 429) =>
            {
                Verdict::Failure
            }
            _ => Verdict::Neutral,
        }
    }
}

/// A circuit's state as seen from outside (diagnostics and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed {
        failures: u32,
    },
    /// Ejected for `remaining` more.
    Open {
        remaining: Duration,
    },
    /// Cooled down: the next request may probe (unless one already is).
    HalfOpen {
        probing: bool,
    },
}

/// One circuit, for diagnostics ([`HealthTracker::snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitInfo {
    /// The target's JSON path (`config.targets[1]`) when its circuit was created.
    pub target: Arc<str>,
    /// Its provider's slug.
    pub provider: Arc<str>,
    pub state: CircuitState,
    /// Consecutive counted failures.
    pub failures: u32,
}

struct Circuit {
    /// Consecutive counted failures.
    failures: u32,
    /// The target's JSON path and provider when the circuit was created (for
    /// [`HealthTracker::snapshot`]; the same target under another path keeps the first).
    path: Arc<str>,
    provider: Arc<str>,
    open: Option<Open>,
    /// The cooldown of the current open period.
    cooldown: Duration,
    last_seen: Instant,
}

struct Open {
    until: Instant,
    /// The token of the request probing the half-open circuit.
    probe: Option<u64>,
}

#[derive(Default)]
struct Shard {
    /// `circuits.len()`, readable without the lock.
    len: AtomicUsize,
    inner: Mutex<ShardInner>,
}

#[derive(Default)]
struct ShardInner {
    circuits: HashMap<u64, Circuit>,
    next_sweep: Option<Instant>,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, ShardInner> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ShardInner {
    /// Drops idle entries once every [`SWEEP_INTERVAL`].
    fn maintain(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_INTERVAL);
        self.circuits
            .retain(|_, c| now.saturating_duration_since(c.last_seen) <= IDLE_EVICTION);
    }

    /// The circuit for `id`, created closed (evicting the least recently seen entry when the
    /// shard is full). `path` and `provider` are copied only when it is created.
    fn circuit(
        &mut self,
        id: u64,
        now: Instant,
        cooldown: Duration,
        path: &str,
        provider: &str,
    ) -> &mut Circuit {
        if !self.circuits.contains_key(&id) && self.circuits.len() >= SHARD_CAPACITY {
            self.maintain(now);
            if self.circuits.len() >= SHARD_CAPACITY {
                let oldest = self
                    .circuits
                    .iter()
                    .min_by_key(|(_, c)| c.last_seen)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.circuits.remove(&k);
                }
            }
        }
        self.circuits.entry(id).or_insert_with(|| Circuit {
            failures: 0,
            path: Arc::from(path),
            provider: Arc::from(provider),
            open: None,
            cooldown,
            last_seen: now,
        })
    }
}

/// The circuit breakers of every target the gateway has seen fail. One per server.
pub struct HealthTracker {
    settings: CircuitBreakerSettings,
    keys: RandomState,
    shards: Box<[Shard]>,
    next_probe: AtomicU64,
}

impl std::fmt::Debug for HealthTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthTracker")
            .field("settings", &self.settings)
            .field("tracked", &self.tracked())
            .finish()
    }
}

/// A request's admission to one target. Record the attempt's outcome with [`Permit::record`];
/// a permit dropped unrecorded (the request was cancelled) gives back a probe it held.
#[must_use = "record the attempt's outcome"]
pub struct Permit<'a> {
    /// `None` when the circuit breaker is off.
    tracker: Option<&'a HealthTracker>,
    id: TargetId,
    probe: Option<u64>,
    /// For log lines: the target's JSON path and provider slug (never its key).
    path: &'a str,
    provider: &'a str,
}

impl Permit<'_> {
    /// Whether this request is the half-open circuit's single probe.
    pub fn is_probe(&self) -> bool {
        self.probe.is_some()
    }

    pub fn record(mut self, verdict: Verdict) {
        if let Some(t) = self.tracker {
            let probe = self.probe.take();
            t.record(self.id, probe, verdict, self.path, self.provider);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let (Some(t), Some(token)) = (self.tracker, self.probe.take()) {
            t.record(
                self.id,
                Some(token),
                Verdict::Neutral,
                self.path,
                self.provider,
            );
        }
    }
}

impl HealthTracker {
    pub fn new(settings: CircuitBreakerSettings) -> Self {
        let mut settings = settings;
        settings.failure_threshold = settings.failure_threshold.max(1);
        settings.max_cooldown = settings.max_cooldown.max(settings.cooldown);
        HealthTracker {
            settings,
            keys: RandomState::new(),
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            next_probe: AtomicU64::new(1),
        }
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    pub fn settings(&self) -> &CircuitBreakerSettings {
        &self.settings
    }

    /// The identity of `leaf`'s target: stable for the life of the process. (Not computed when
    /// the circuit breaker is off: every target is then the same, unused, identity.)
    pub fn identity(&self, leaf: &Leaf) -> TargetId {
        if !self.settings.enabled {
            return TargetId(0);
        }
        *leaf
            .memo
            .circuit
            .get_or_init(|| self.compute_identity(leaf))
    }

    fn compute_identity(&self, leaf: &Leaf) -> TargetId {
        let mut h = self.keys.build_hasher();
        leaf.provider.slug.hash(&mut h);
        leaf.base_url().hash(&mut h);
        match &leaf.credential {
            Credential::Client(k) | Credential::Server(k) => Some(k.expose()),
            Credential::None => None,
        }
        .hash(&mut h);
        leaf.model_override().map(|m| m.get()).hash(&mut h);
        // Region, resource, deployment, AWS keys…: part of the effective endpoint and credential
        // for native and Azure providers.
        leaf.options.hash(&mut h);
        TargetId(h.finish())
    }

    /// Circuits remembered, by state: (closed, open, half-open).
    pub fn counts(&self) -> (usize, usize, usize) {
        let now = Instant::now();
        let (mut closed, mut open, mut half) = (0, 0, 0);
        for shard in self.shards.iter() {
            for c in shard.lock().circuits.values() {
                match &c.open {
                    None => closed += 1,
                    Some(o) if o.until > now => open += 1,
                    Some(_) => half += 1,
                }
            }
        }
        (closed, open, half)
    }

    /// Number of circuits remembered.
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.len.load(Ordering::Relaxed))
            .sum()
    }

    fn shard(&self, id: TargetId) -> &Shard {
        // The top bits: the shard's map hashes the whole value again.
        let i = (id.0 >> 32) as usize % self.shards.len().max(1);
        &self.shards[i]
    }

    /// Whether `id` may take traffic now (closed, or half-open with no probe in flight), without
    /// claiming anything.
    pub fn is_available(&self, id: TargetId) -> bool {
        if !self.settings.enabled {
            return true;
        }
        let shard = self.shard(id);
        if shard.len.load(Ordering::Relaxed) == 0 {
            return true;
        }
        let now = Instant::now();
        let inner = shard.lock();
        inner.circuits.get(&id.0).is_none_or(|c| match &c.open {
            None => true,
            Some(o) => now >= o.until && o.probe.is_none(),
        })
    }

    /// Whether any leaf of `node` may take traffic now.
    pub fn node_available(&self, node: &Node) -> bool {
        if !self.settings.enabled {
            return true;
        }
        match &node.kind {
            NodeKind::Leaf(leaf) => self.is_available(self.identity(leaf)),
            NodeKind::Group(g) => {
                g.targets.is_empty() || g.targets.iter().any(|t| self.node_available(t))
            }
        }
    }

    /// Admits a request to `id` if its circuit allows: `None` while the target is ejected (open
    /// and cooling down, or half-open with a probe in flight). A half-open circuit's probe is
    /// claimed by the one caller that gets it.
    pub fn try_acquire<'a>(
        &'a self,
        id: TargetId,
        path: &'a str,
        provider: &'a str,
    ) -> Option<Permit<'a>> {
        self.admit(id, false)
            .map(|probe| self.permit(id, probe, path, provider))
    }

    /// Admits a request to `id` whatever its circuit says (the target was chosen explicitly, or
    /// every alternative is ejected too). Takes the probe when one is due.
    pub fn acquire<'a>(&'a self, id: TargetId, path: &'a str, provider: &'a str) -> Permit<'a> {
        let probe = self.admit(id, true).flatten();
        self.permit(id, probe, path, provider)
    }

    fn permit<'a>(
        &'a self,
        id: TargetId,
        probe: Option<u64>,
        path: &'a str,
        provider: &'a str,
    ) -> Permit<'a> {
        Permit {
            tracker: self.settings.enabled.then_some(self),
            id,
            probe,
            path,
            provider,
        }
    }

    /// `Some(probe token or None)` when admitted; `None` when ejected (never with `force`).
    fn admit(&self, id: TargetId, force: bool) -> Option<Option<u64>> {
        if !self.settings.enabled {
            return Some(None);
        }
        let shard = self.shard(id);
        if shard.len.load(Ordering::Relaxed) == 0 {
            return Some(None);
        }
        let now = Instant::now();
        let mut inner = shard.lock();
        let Some(c) = inner.circuits.get_mut(&id.0) else {
            return Some(None);
        };
        c.last_seen = now;
        match &mut c.open {
            None => Some(None),
            Some(o) if now >= o.until && o.probe.is_none() => {
                let token = self.next_probe.fetch_add(1, Ordering::Relaxed);
                o.probe = Some(token);
                Some(Some(token))
            }
            Some(_) if force => Some(None),
            Some(_) => None,
        }
    }

    /// Records the final outcome of an attempt on `id`. `probe` is the token of a probe permit.
    fn record(
        &self,
        id: TargetId,
        probe: Option<u64>,
        verdict: Verdict,
        path: &str,
        provider: &str,
    ) {
        let shard = self.shard(id);
        if verdict != Verdict::Failure && shard.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let now = Instant::now();
        let mut inner = shard.lock();
        inner.maintain(now);
        match verdict {
            Verdict::Success => {
                if let Some(c) = inner.circuits.remove(&id.0) {
                    if c.open.is_some() {
                        tracing::info!(
                            target = %path,
                            provider = %provider,
                            probe = probe.is_some(),
                            "circuit closed: target is healthy again"
                        );
                    }
                }
            }
            Verdict::Neutral => {
                if let Some(o) = inner.circuits.get_mut(&id.0).and_then(|c| c.open.as_mut()) {
                    if probe.is_some() && o.probe == probe {
                        // The probe proved nothing: the next request probes again.
                        o.probe = None;
                    }
                }
            }
            Verdict::Failure => {
                let settings = &self.settings;
                let c = inner.circuit(id.0, now, settings.cooldown, path, provider);
                c.last_seen = now;
                c.failures = c.failures.saturating_add(1);
                match &mut c.open {
                    None if c.failures >= settings.failure_threshold => {
                        c.cooldown = settings.cooldown;
                        c.open = Some(Open {
                            until: now + c.cooldown,
                            probe: None,
                        });
                        tracing::warn!(
                            target = %path,
                            provider = %provider,
                            failures = c.failures,
                            cooldown_ms = c.cooldown.as_millis() as u64,
                            "circuit opened: target ejected after consecutive failures"
                        );
                    }
                    None => {}
                    Some(o) if probe.is_some() && o.probe == probe => {
                        c.cooldown = c.cooldown.saturating_mul(2).min(settings.max_cooldown);
                        o.until = now + c.cooldown;
                        o.probe = None;
                        tracing::warn!(
                            target = %path,
                            provider = %provider,
                            failures = c.failures,
                            cooldown_ms = c.cooldown.as_millis() as u64,
                            "circuit opened again: the probe failed"
                        );
                    }
                    // Forced traffic to a target already ejected: it stays open as it is.
                    Some(_) => {}
                }
            }
        }
        shard.len.store(inner.circuits.len(), Ordering::Relaxed);
    }

    /// Every circuit remembered, as it is now, ordered by target path: the circuits with
    /// something to remember (a closed circuit without failures is not stored). Never a key:
    /// a target is named by its path and provider.
    pub fn snapshot(&self) -> Vec<CircuitInfo> {
        let now = Instant::now();
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            if shard.len.load(Ordering::Relaxed) == 0 {
                continue;
            }
            for c in shard.lock().circuits.values() {
                out.push(CircuitInfo {
                    target: c.path.clone(),
                    provider: c.provider.clone(),
                    state: c.state(now),
                    failures: c.failures,
                });
            }
        }
        out.sort_by(|a, b| (&a.target, &a.provider).cmp(&(&b.target, &b.provider)));
        out
    }

    /// The circuit of `id` as it is now.
    pub fn state(&self, id: TargetId) -> CircuitState {
        let now = Instant::now();
        let inner = self.shard(id).lock();
        inner
            .circuits
            .get(&id.0)
            .map_or(CircuitState::Closed { failures: 0 }, |c| c.state(now))
    }
}

impl Circuit {
    fn state(&self, now: Instant) -> CircuitState {
        match &self.open {
            None => CircuitState::Closed {
                failures: self.failures,
            },
            Some(o) if now < o.until => CircuitState::Open {
                remaining: o.until - now,
            },
            Some(o) => CircuitState::HalfOpen {
                probing: o.probe.is_some(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
