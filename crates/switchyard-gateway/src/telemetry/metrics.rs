//! Prometheus metrics at `GET /metrics`, named after the OpenTelemetry GenAI semantic
//! conventions where one exists (`gen_ai_client_operation_duration_seconds`,
//! `gen_ai_client_token_usage`, `gen_ai_server_time_to_first_token_seconds`, …) and
//! `switchyard_*` for the gateway's own (docs/observability.md lists them all).
//!
//! Labels are bounded: the provider slug, the model (the first [`MAX_MODELS`] distinct names,
//! then `other` — a client can't grow the series without bound), the operation, a status
//! class, an error type from the gateway's closed list of labels, the cache status, stream or
//! not. Names are interned (`Arc<str>`), so a warm series is found and updated without
//! allocating; the series of one (operation, provider, model) are resolved from their families
//! once and kept together ([`ModelSeries`]), so a request updates them after one lookup.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use bytes::Bytes;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use switchyard_types::usage::TokenUsage;

use crate::context::RequestContext;
use crate::governance::Governance;
use crate::pipeline::{
    AttemptRecord, ChunkAction, EarlyAnswer, Hook, HookFuture, Phases, RequestRecord, StreamTap,
};
use crate::routing::tree::Node;

/// Distinct model names kept as label values; the rest are `other`.
pub const MAX_MODELS: usize = 256;

/// An interned label value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(Arc<str>);

impl EncodeLabelValue for Name {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.0)
    }
}

/// The maps read on every request (names, series): `foldhash`, seeded per process, hashes a
/// short key in a fraction of SipHash's time; the keys are bounded (interned names stop at a
/// cap), so a flood of crafted names cannot grow a bucket without end.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Interns label values, at most `cap` of them (then `other`).
struct Interner {
    names: RwLock<FastMap<Box<str>, Name>>,
    cap: usize,
    other: Name,
}

impl Interner {
    fn new(cap: usize) -> Interner {
        Interner {
            names: RwLock::new(FastMap::default()),
            cap,
            other: Name(Arc::from("other")),
        }
    }

    fn get(&self, s: &str) -> Name {
        if let Some(n) = self
            .names
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(s)
        {
            return n.clone();
        }
        let mut names = self
            .names
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.len() >= self.cap {
            return self.other.clone();
        }
        names
            .entry(s.into())
            .or_insert_with(|| Name(Arc::from(s)))
            .clone()
    }
}

/// Which [`ModelSeries`]: the operation and the interned names, compared and hashed by address
/// (an interned value has one; were two equal values ever at two addresses, they would only
/// share their series through two entries).
#[derive(Clone)]
struct SeriesKey(&'static str, Name, Name);

impl PartialEq for SeriesKey {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self.0, o.0)
            && Arc::ptr_eq(&self.1 .0, &o.1 .0)
            && Arc::ptr_eq(&self.2 .0, &o.2 .0)
    }
}

impl Eq for SeriesKey {}

impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(self.0.as_ptr() as usize);
        h.write_usize(Arc::as_ptr(&self.1 .0).cast::<u8>() as usize);
        h.write_usize(Arc::as_ptr(&self.2 .0).cast::<u8>() as usize);
    }
}

/// Which [`ProviderSeries`]: an interned provider name, compared and hashed by address.
#[derive(Clone)]
struct ProviderKey(Name);

impl PartialEq for ProviderKey {
    fn eq(&self, o: &Self) -> bool {
        Arc::ptr_eq(&self.0 .0, &o.0 .0)
    }
}

impl Eq for ProviderKey {}

impl Hash for ProviderKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_usize(Arc::as_ptr(&self.0 .0).cast::<u8>() as usize);
    }
}

/// One provider's per-attempt series, taken from their families on first use and kept (as
/// [`ModelSeries`]): every upstream try observes them, and a family's lookup hashes its
/// labels' text each time.
#[derive(Default)]
struct ProviderSeries {
    upstream: OnceLock<Histogram>,
    /// `switchyard_upstream_attempts` by status class (an attempt without a status, labelled
    /// with why, goes through the family).
    attempts: [OnceLock<Counter>; STATUS_CLASSES.len()],
}

/// One (operation, provider, model)'s series, each taken from its family on first use (a series
/// nobody observed stays out of the exposition) and kept: the handles share the family's
/// values.
struct ModelSeries {
    duration: OnceLock<Histogram>,
    overhead: OnceLock<Histogram>,
    /// Input, output, cached input.
    tokens: [OnceLock<Histogram>; 3],
    cost: OnceLock<Counter<f64, AtomicU64>>,
    /// `switchyard_requests` for requests without an error, by status class, cache status and
    /// stream ([`ModelSeries::requests_slot`]): the family's lookup hashes seven labels.
    requests: [OnceLock<Counter>; REQUEST_SLOTS],
}

/// Status classes ([`status_class`]) × cache statuses × stream or not.
const REQUEST_SLOTS: usize = STATUS_CLASSES.len() * CACHE_STATUSES.len() * 2;
const STATUS_CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];
/// The cache statuses a request can end with.
const CACHE_STATUSES: [&str; 6] = [
    "DISABLED",
    "MISS",
    "HIT",
    "SEMANTIC HIT",
    "SEMANTIC MISS",
    "REFRESH",
];

impl Default for ModelSeries {
    fn default() -> Self {
        ModelSeries {
            duration: OnceLock::new(),
            overhead: OnceLock::new(),
            tokens: Default::default(),
            cost: OnceLock::new(),
            requests: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl ModelSeries {
    /// The kept `switchyard_requests` series of these labels, when they are a request without
    /// an error (anything else is looked up in the family).
    fn requests_slot(&self, l: &RequestLabels) -> Option<&OnceLock<Counter>> {
        if l.error_type != "none" {
            return None;
        }
        let class = STATUS_CLASSES.iter().position(|c| *c == l.status_class)?;
        let cache = CACHE_STATUSES.iter().position(|c| *c == l.cache_status)?;
        let stream = usize::from(l.stream == "true");
        self.requests
            .get((class * CACHE_STATUSES.len() + cache) * 2 + stream)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    provider: Name,
    model: Name,
    status_class: &'static str,
    error_type: &'static str,
    cache_status: &'static str,
    stream: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    operation: &'static str,
    provider: Name,
    model: Name,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    operation: &'static str,
    provider: Name,
    model: Name,
    token_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    provider: Name,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: Name,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 1 ms to ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

fn micro_seconds() -> Histogram {
    // 10 µs to ~80 ms: the gateway's own time.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 14))
}

fn token_counts() -> Histogram {
    // OpenTelemetry's advice for gen_ai.client.token.usage.
    Histogram::new(exponential_buckets(1.0, 4.0, 14))
}

/// Every metric, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    names: Interner,
    models: Interner,
    requests: Family<RequestLabels, Counter>,
    duration: Histograms<ModelLabels>,
    overhead: Histograms<OperationLabels>,
    upstream: Histograms<ProviderLabels>,
    tokens: Histograms<TokenLabels>,
    ttft: Histograms<ModelLabels>,
    per_token: Histograms<ModelLabels>,
    cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    attempts: Family<AttemptLabels, Counter>,
    retries: Family<ProviderLabels, Counter>,
    fallbacks: Family<ProviderLabels, Counter>,
    refusals: Family<CodeLabels, Counter>,
    guardrails: Family<VerdictLabels, Counter>,
    in_flight: Gauge,
    circuits: Family<StateLabels, Gauge>,
    dropped_spans: Counter,
    dropped_log_rows: Counter,
    series: RwLock<FastMap<SeriesKey, Arc<ModelSeries>>>,
    providers: RwLock<FastMap<ProviderKey, Arc<ProviderSeries>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            names: Interner::new(4096),
            models: Interner::new(MAX_MODELS),
            requests: Family::default(),
            duration: Family::new_with_constructor(seconds),
            overhead: Family::new_with_constructor(micro_seconds),
            upstream: Family::new_with_constructor(seconds),
            tokens: Family::new_with_constructor(token_counts),
            ttft: Family::new_with_constructor(seconds),
            per_token: Family::new_with_constructor(seconds),
            cost: Family::default(),
            attempts: Family::default(),
            retries: Family::default(),
            fallbacks: Family::default(),
            refusals: Family::default(),
            guardrails: Family::default(),
            in_flight: Gauge::default(),
            circuits: Family::default(),
            dropped_spans: Counter::default(),
            dropped_log_rows: Counter::default(),
            series: RwLock::new(FastMap::default()),
            providers: RwLock::new(FastMap::default()),
            registry: Registry::default(),
        };
        registry.register(
            "switchyard_requests",
            "Requests answered, by operation, provider, model, status class, error type, cache status and stream",
            m.requests.clone(),
        );
        registry.register(
            "gen_ai_client_operation_duration_seconds",
            "Time from a request's arrival to the end of its response, for requests a provider answered",
            m.duration.clone(),
        );
        registry.register(
            "switchyard_gateway_overhead_seconds",
            "A whole (non-streamed) response's time minus the time spent waiting on upstreams: what the gateway itself added",
            m.overhead.clone(),
        );
        registry.register(
            "switchyard_upstream_duration_seconds",
            "Time from sending one upstream try to its response head (or its failure)",
            m.upstream.clone(),
        );
        registry.register(
            "gen_ai_client_token_usage",
            "Tokens per request, by type (input, output, cached_input)",
            m.tokens.clone(),
        );
        registry.register(
            "gen_ai_server_time_to_first_token_seconds",
            "For streams: time from the request's arrival to the first streamed chunk",
            m.ttft.clone(),
        );
        registry.register(
            "gen_ai_server_time_per_output_token_seconds",
            "For streams: time after the first chunk per output token",
            m.per_token.clone(),
        );
        registry.register(
            "switchyard_cost_usd",
            "What responses cost, in US dollars, from the price table",
            m.cost.clone(),
        );
        registry.register(
            "switchyard_upstream_attempts",
            "Upstream tries, by provider and outcome (status class or failure)",
            m.attempts.clone(),
        );
        registry.register(
            "switchyard_retries",
            "Retries of a target",
            m.retries.clone(),
        );
        registry.register(
            "switchyard_fallbacks",
            "Requests answered after an earlier target failed, by the provider that answered",
            m.fallbacks.clone(),
        );
        registry.register(
            "switchyard_governance_refusals",
            "Requests refused by gateway keys, limits or budgets, by error code",
            m.refusals.clone(),
        );
        registry.register(
            "switchyard_guardrail_checks",
            "Guardrail checks run, by verdict",
            m.guardrails.clone(),
        );
        registry.register(
            "switchyard_requests_in_flight",
            "Requests routed and not yet over (streams until they end)",
            m.in_flight.clone(),
        );
        registry.register(
            "switchyard_circuits",
            "Targets' circuit breakers by state",
            m.circuits.clone(),
        );
        registry.register(
            "switchyard_trace_spans_dropped",
            "Trace spans dropped rather than waited for (the collector slow or down, the queue full)",
            m.dropped_spans.clone(),
        );
        registry.register(
            "switchyard_request_log_rows_dropped",
            "Request-log rows dropped rather than waited for (the writer behind, its queue full)",
            m.dropped_log_rows.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition of every metric, with the circuits' states as of now.
    pub fn render(&self, circuits: (usize, usize, usize)) -> Bytes {
        let (closed, open, half_open) = circuits;
        for (state, n) in [("closed", closed), ("open", open), ("half_open", half_open)] {
            self.circuits
                .get_or_create(&StateLabels { state })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        for (total, counter) in [
            (super::traces::dropped_spans(), &self.dropped_spans),
            (super::request_log::dropped_rows(), &self.dropped_log_rows),
        ] {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        let mut out = String::with_capacity(16 << 10);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            return Bytes::new();
        }
        Bytes::from(out)
    }

    /// The series of (`op`, `provider`, `model`), found once.
    fn model_series(&self, op: &'static str, provider: &Name, model: &Name) -> Arc<ModelSeries> {
        kept(&self.series, SeriesKey(op, provider.clone(), model.clone()))
    }

    /// The per-attempt series of `provider`, found once.
    fn provider_series(&self, provider: &Name) -> Arc<ProviderSeries> {
        kept(&self.providers, ProviderKey(provider.clone()))
    }

    /// Counts a guardrail check's verdict.
    pub fn guardrail(&self, verdict: &'static str) {
        self.guardrails
            .get_or_create(&VerdictLabels { verdict })
            .inc();
    }
}

/// `key`'s entry of `map`, made (empty) on first use: a read lock on every later call.
fn kept<K: Hash + Eq, V: Default>(map: &RwLock<FastMap<K, Arc<V>>>, key: K) -> Arc<V> {
    if let Some(v) = map
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
    {
        return v.clone();
    }
    map.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_default()
        .clone()
}

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

use super::operation_name as operation;

/// The hook that feeds the metrics.
pub struct MetricsHook {
    pub metrics: Arc<Metrics>,
    pub governance: Arc<Governance>,
}

/// Marks a request counted in flight (scratch).
#[derive(Clone, Copy)]
struct InFlight;

impl MetricsHook {
    fn labels(&self, r: &RequestRecord) -> (Name, Name) {
        let provider = self.metrics.names.get(r.provider_slug());
        let model = self.metrics.models.get(r.model.as_deref().unwrap_or("-"));
        (provider, model)
    }
}

impl Hook for MetricsHook {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn phases(&self) -> Phases {
        Phases {
            on_request: true,
            attempt_end: true,
            per_chunk: true,
            on_complete: true,
            ..Phases::default()
        }
    }

    fn on_request<'a>(
        &'a self,
        req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        self.metrics.in_flight.inc();
        req.with_scratch(|s| s.insert(InFlight));
        Box::pin(std::future::ready(None))
    }

    fn attempt_end(&self, a: &AttemptRecord) {
        let m = &self.metrics;
        let provider = m.names.get(a.provider);
        let series = m.provider_series(&provider);
        series
            .upstream
            .get_or_init(|| {
                m.upstream
                    .get_or_create(&ProviderLabels {
                        provider: provider.clone(),
                    })
                    .clone()
            })
            .observe(a.elapsed.as_secs_f64());
        // A status when one came back, else why there was none (timeout, connect, …).
        let outcome = match (a.status, a.error) {
            (Some(s), _) => status_class(s.as_u16()),
            (None, Some(e)) => e,
            (None, None) => "unknown",
        };
        let attempts = || {
            m.attempts
                .get_or_create(&AttemptLabels {
                    provider: provider.clone(),
                    outcome,
                })
                .clone()
        };
        match STATUS_CLASSES.iter().position(|c| *c == outcome) {
            Some(i) => match series.attempts.get(i) {
                Some(slot) => slot.get_or_init(attempts).inc(),
                None => attempts().inc(),
            },
            None => attempts().inc(),
        };
        if a.retry > 0 {
            self.metrics
                .retries
                .get_or_create(&ProviderLabels { provider })
                .inc();
        }
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        if !record.stream || !record.status.is_success() {
            return None;
        }
        let (provider, model) = self.labels(record);
        Some(Box::new(Ttft {
            metrics: self.metrics.clone(),
            labels: ModelLabels {
                operation: operation(record.op),
                provider,
                model,
            },
            started: record.started,
            first: None,
        }))
    }

    fn on_complete(&self, r: &RequestRecord) {
        let m = &self.metrics;
        if r.extensions.get::<InFlight>().is_some() {
            m.in_flight.dec();
        }
        let (provider, model) = self.labels(r);
        let op = operation(r.op);
        let refused = r
            .extensions
            .get::<crate::governance::hook::Refused>()
            .map(|x| x.0)
            .or_else(|| {
                r.error
                    .filter(|e| crate::governance::error::CODES.contains(e))
            });
        if let Some(code) = refused {
            m.refusals.get_or_create(&CodeLabels { code }).inc();
        }
        let requests = RequestLabels {
            operation: op,
            provider: provider.clone(),
            model: model.clone(),
            status_class: status_class(r.status.as_u16()),
            error_type: refused.or(r.error).unwrap_or("none"),
            cache_status: r.cache_status,
            stream: if r.stream { "true" } else { "false" },
        };
        let series = r
            .provider
            .is_some()
            .then(|| m.model_series(op, &provider, &model));
        match series.as_ref().and_then(|s| s.requests_slot(&requests)) {
            Some(slot) => slot
                .get_or_init(|| m.requests.get_or_create(&requests).clone())
                .inc(),
            None => m.requests.get_or_create(&requests).inc(),
        };
        if let Some(g) = r.extensions.get::<crate::guardrails::Outcome>() {
            for _ in 0..g.passed {
                m.guardrail("pass");
            }
            for _ in 0..g.failed {
                m.guardrail("fail");
            }
        }
        let Some(series) = series else {
            return;
        };
        let labels = || ModelLabels {
            operation: op,
            provider: provider.clone(),
            model: model.clone(),
        };
        series
            .duration
            .get_or_init(|| m.duration.get_or_create(&labels()).clone())
            .observe(r.duration.as_secs_f64());
        if !r.stream {
            series
                .overhead
                .get_or_init(|| {
                    m.overhead
                        .get_or_create(&OperationLabels { operation: op })
                        .clone()
                })
                .observe(r.duration.saturating_sub(r.upstream_wait).as_secs_f64());
        }
        if r.attempts > 1 && i64::from(r.attempts) - 1 > i64::from(r.retries.max(0)) {
            m.fallbacks
                .get_or_create(&ProviderLabels {
                    provider: provider.clone(),
                })
                .inc();
        }
        if let Some(u) = r.usage {
            for ((token_type, n), slot) in [
                ("input", u.input),
                ("output", u.output),
                ("cached_input", u.cached_input),
            ]
            .into_iter()
            .zip(&series.tokens)
            {
                if n == 0 && token_type == "cached_input" {
                    continue;
                }
                slot.get_or_init(|| {
                    m.tokens
                        .get_or_create(&TokenLabels {
                            operation: op,
                            provider: provider.clone(),
                            model: model.clone(),
                            token_type,
                        })
                        .clone()
                })
                .observe(n as f64);
            }
        }
        if r.status.is_success() {
            if let Some(c) = self.governance.cost(r) {
                series
                    .cost
                    .get_or_init(|| m.cost.get_or_create(&labels()).clone())
                    .inc_by(c);
            }
        }
    }
}

/// Time to the first chunk and per output token, for one stream.
struct Ttft {
    metrics: Arc<Metrics>,
    labels: ModelLabels,
    started: Instant,
    first: Option<Instant>,
}

impl StreamTap for Ttft {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if self.first.is_none() && !chunk.is_empty() {
            let now = Instant::now();
            self.first = Some(now);
            self.metrics
                .ttft
                .get_or_create(&self.labels)
                .observe(now.duration_since(self.started).as_secs_f64());
        }
        ChunkAction::Send(chunk)
    }

    fn on_end(&mut self, usage: Option<TokenUsage>) -> Option<Bytes> {
        if let (Some(first), Some(u)) = (self.first, usage) {
            if u.output > 0 {
                let per = first.elapsed().as_secs_f64() / u.output as f64;
                self.metrics
                    .per_token
                    .get_or_create(&self.labels)
                    .observe(per);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_past_the_cap_are_other() {
        let i = Interner::new(2);
        assert_eq!(&*i.get("a").0, "a");
        assert_eq!(&*i.get("b").0, "b");
        assert_eq!(&*i.get("c").0, "other");
        assert_eq!(&*i.get("a").0, "a", "known names stay");
    }

    #[test]
    fn each_error_free_label_set_keeps_its_own_requests_series() {
        let m = Metrics::new();
        let (p, model) = (m.names.get("openai"), m.models.get("gpt-4o"));
        let s = m.model_series("chat", &p, &model);
        let labels = |status_class, error_type, cache_status, stream| RequestLabels {
            operation: "chat",
            provider: p.clone(),
            model: model.clone(),
            status_class,
            error_type,
            cache_status,
            stream,
        };
        let mut slots = std::collections::HashSet::new();
        for class in STATUS_CLASSES {
            for cache in CACHE_STATUSES {
                for stream in ["true", "false"] {
                    let slot = s.requests_slot(&labels(class, "none", cache, stream));
                    assert!(
                        slots.insert(slot.map(std::ptr::from_ref)),
                        "{class} {cache}"
                    );
                }
            }
        }
        assert_eq!(slots.len(), REQUEST_SLOTS);
        assert!(s
            .requests_slot(&labels("5xx", "upstream_error", "MISS", "false"))
            .is_none());
        let slot = s
            .requests_slot(&labels("2xx", "none", "HIT", "true"))
            .unwrap();
        let l = labels("2xx", "none", "HIT", "true");
        slot.get_or_init(|| m.requests.get_or_create(&l).clone())
            .inc();
        assert_eq!(m.requests.get_or_create(&l).get(), 1, "the family's value");
    }

    #[test]
    fn a_model_series_is_found_once_and_shares_its_familys_values() {
        let m = Metrics::new();
        let (p, model) = (m.names.get("openai"), m.models.get("gpt-4o"));
        let a = m.model_series("chat", &p, &model);
        let b = m.model_series("chat", &m.names.get("openai"), &m.models.get("gpt-4o"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &m.model_series("embeddings", &p, &model)));
        let labels = ModelLabels {
            operation: "chat",
            provider: p.clone(),
            model: model.clone(),
        };
        a.duration
            .get_or_init(|| m.duration.get_or_create(&labels).clone())
            .observe(0.5);
        let text = String::from_utf8(m.render((0, 0, 0)).to_vec()).unwrap();
        assert!(text.contains(
            "gen_ai_client_operation_duration_seconds_count{operation=\"chat\",provider=\"openai\",model=\"gpt-4o\"} 1"
        ));
        assert!(
            !text.contains("gen_ai_client_token_usage_count"),
            "a series never observed is not exported"
        );
    }

    #[test]
    fn the_exposition_names_every_family() {
        let m = Metrics::new();
        m.guardrail("pass");
        let text = String::from_utf8(m.render((3, 1, 0)).to_vec()).unwrap();
        for name in [
            "switchyard_guardrail_checks_total{verdict=\"pass\"} 1",
            "switchyard_circuits{state=\"open\"} 1",
            "# TYPE gen_ai_client_token_usage histogram",
            "# TYPE switchyard_requests counter",
            "# TYPE switchyard_trace_spans_dropped counter",
            "# TYPE switchyard_request_log_rows_dropped counter",
        ] {
            assert!(text.contains(name), "{name} in\n{text}");
        }
    }
}
