//! The server's config file (YAML): server settings, provider credentials, named routes and a
//! default route. Route values are Portkey Gateway Configs, so any JSON config pastes in as is.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use switchyard_providers::catalog;
use switchyard_providers::native::ProviderOptions;

use super::errors::ConfigErrors;
use super::gateway::{self, is_option_key, BuildInput, Origin};
use super::governance::GovernanceSettings;
use super::providers::{ProviderEntry, Providers};
use super::secret::Secret;
use super::stores::{parse_cache, parse_redis, CacheSettings, RedisSettings};
use super::values::{interpolate_env, ByteSize, HumanDuration};
use crate::guardrails::spec::{Catalog, HookKind, Parser};
use crate::routing::tree::Node;
use crate::ssrf::{validate_base_url, TrustedHosts, DEFAULT_TRUSTED_HOSTS};

/// Portkey's `azureFoundryUrl`: the `azure-ai` deployment's endpoint, read as its host.
pub(crate) const FOUNDRY_URL: &str = "azure_foundry_url";

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Server settings with every default applied.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Largest upload streamed through to a pass-through path (a body that is not JSON, such as
    /// a multipart audio file): it is not read into memory, so it may be larger than
    /// `max_body_bytes`.
    pub max_upload_bytes: usize,
    /// How long in-flight requests may run after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    pub trusted_hosts: TrustedHosts,
    /// First retry waits about this long; each later one twice as long (with jitter).
    pub retry_base_delay: Duration,
    /// No single backoff wait is longer than this.
    pub retry_max_delay: Duration,
    /// A `retry-after` longer than this is not waited for: the response is returned instead.
    pub max_retry_after: Duration,
    /// Applies when neither the request nor the route sets `request_timeout`.
    pub default_request_timeout: Option<Duration>,
    /// Without any `request_timeout`: how long one try may take — the response head and a
    /// whole answer, or everything up to a stream's first content.
    pub response_timeout: Duration,
    /// Without any `request_timeout`: the longest silence from an upstream stream after it
    /// committed.
    pub stream_idle_timeout: Duration,
    /// A deadline for the whole request (every try, backoff wait and fallback), unless the
    /// route's config sets `total_timeout`.
    pub total_timeout: Option<Duration>,
    /// Largest non-streamed upstream response (a larger one fails the try).
    pub max_response_bytes: usize,
    /// Ask OpenAI-compatible hosts for a stream's usage even when the client did not
    /// (`stream_options.include_usage`; the extra chunk is not forwarded).
    pub stream_usage: bool,
    /// One access-log line per request, written when its response ends.
    pub access_log: bool,
    /// Trees built from request headers kept for reuse (0: none; see `http::route`).
    pub route_cache_size: u64,
    /// Requests in flight at once (streams count until they end); one more gets a 503 with
    /// `retry-after`. `None`: no limit.
    pub max_concurrent_requests: Option<usize>,
    /// Open client connections at once; one more is answered with a 503 and closed. `None`: no
    /// limit.
    pub max_connections: Option<usize>,
    /// A client must send its whole request head within this (idle keep-alive connections are
    /// closed after it too).
    pub header_read_timeout: Duration,
    /// A client must send its whole request body within this (408 otherwise).
    pub body_read_timeout: Duration,
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    /// Runtime worker threads; `None`: one per CPU core.
    pub worker_threads: Option<usize>,
    /// Passive health checking of upstream targets (`server.circuit_breaker`).
    pub circuit_breaker: CircuitBreakerSettings,
    /// How upstream host names are resolved (`server.dns`).
    pub dns: DnsSettings,
}

/// The resolver every outbound connection uses (see `crate::upstream::resolver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// Name servers to ask; empty: the system's (`/etc/resolv.conf`).
    pub nameservers: Vec<SocketAddr>,
    /// Cached answers (entries), each kept for its record's TTL.
    pub cache_size: usize,
    /// Answers are cached for at least this long, even with a shorter TTL.
    pub min_ttl: Duration,
    /// Answers are cached for at most this long, so a long TTL cannot pin an address.
    pub max_ttl: Duration,
    /// How long one query waits for an answer; `None`: the system's setting (5 s by default).
    pub timeout: Option<Duration>,
    /// Further tries after a failed query; `None`: the system's setting (2 by default).
    pub attempts: Option<usize>,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            nameservers: Vec::new(),
            cache_size: 1024,
            min_ttl: Duration::ZERO,
            max_ttl: Duration::from_secs(300),
            timeout: None,
            attempts: None,
        }
    }
}

/// When a target is ejected from `fallback` and `loadbalance` groups, and for how long
/// (see `crate::health`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerSettings {
    pub enabled: bool,
    /// Consecutive failures (after retries) that open a target's circuit.
    pub failure_threshold: u32,
    /// How long an opened circuit keeps its target ejected before one probe request may try it.
    pub cooldown: Duration,
    /// Each failed probe doubles the cooldown, up to this.
    pub max_cooldown: Duration,
}

impl Default for CircuitBreakerSettings {
    fn default() -> Self {
        CircuitBreakerSettings {
            enabled: true,
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(300),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            max_body_bytes: 10 << 20,
            max_upload_bytes: 512 << 20,
            shutdown_grace: Duration::from_secs(30),
            trusted_hosts: TrustedHosts::default(),
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(16),
            max_retry_after: Duration::from_secs(60),
            default_request_timeout: None,
            response_timeout: Duration::from_secs(600),
            stream_idle_timeout: Duration::from_secs(300),
            total_timeout: None,
            max_response_bytes: 32 << 20,
            stream_usage: true,
            access_log: true,
            route_cache_size: 4096,
            max_concurrent_requests: Some(10_000),
            max_connections: Some(10_000),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 256,
            worker_threads: None,
            circuit_breaker: CircuitBreakerSettings::default(),
            dns: DnsSettings::default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    max_body_size: Option<ByteSize>,
    max_upload_size: Option<ByteSize>,
    shutdown_grace: Option<HumanDuration>,
    trusted_hosts: Option<Vec<String>>,
    retry_base_delay: Option<HumanDuration>,
    retry_max_delay: Option<HumanDuration>,
    max_retry_after: Option<HumanDuration>,
    default_request_timeout: Option<HumanDuration>,
    response_timeout: Option<HumanDuration>,
    stream_idle_timeout: Option<HumanDuration>,
    total_timeout: Option<HumanDuration>,
    max_response_size: Option<ByteSize>,
    stream_usage: Option<bool>,
    access_log: Option<bool>,
    admin_key: Option<String>,
    route_cache_size: Option<u64>,
    max_concurrent_requests: Option<usize>,
    max_connections: Option<usize>,
    header_read_timeout: Option<HumanDuration>,
    body_read_timeout: Option<HumanDuration>,
    connect_timeout: Option<HumanDuration>,
    pool_idle_timeout: Option<HumanDuration>,
    pool_max_idle_per_host: Option<usize>,
    worker_threads: Option<usize>,
    circuit_breaker: Option<RawCircuitBreaker>,
    dns: Option<RawDns>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDns {
    nameservers: Option<Vec<String>>,
    cache_size: Option<usize>,
    min_ttl: Option<HumanDuration>,
    max_ttl: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
    attempts: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCircuitBreaker {
    enabled: Option<bool>,
    failure_threshold: Option<u32>,
    cooldown: Option<HumanDuration>,
    max_cooldown: Option<HumanDuration>,
}

/// The whole runtime configuration, validated.
#[derive(Debug, Default)]
pub struct GatewayConfig {
    pub server: ServerSettings,
    pub providers: Providers,
    /// Model alias → routing tree.
    pub routes: HashMap<String, Arc<Node>>,
    pub default_route: Option<Arc<Node>>,
    /// The Gateway Config each route was built from, by name (`default` for an inline default
    /// route): a key's guardrails are added to it and the route built again for that key.
    pub route_sources: HashMap<String, Value>,
    /// The `cache:` section: where cached answers live.
    pub cache: CacheSettings,
    /// The `redis:` section, when shared state goes through Redis.
    pub redis: Option<RedisSettings>,
    /// The guardrail checks, and the `guardrails:` section's named hooks.
    pub guardrails: Catalog,
    /// Gateway keys, virtual keys, limits, budgets and prices (`auth:`, `database:`,
    /// `virtual_keys:`, `pricing:`).
    pub governance: GovernanceSettings,
    /// Metrics, traces and the request log (`metrics:`, `traces:`, `request_log:`).
    pub telemetry: super::telemetry::TelemetrySettings,
    /// Conversation state of the Responses API (`responses:`).
    pub responses: super::responses::ResponsesSettings,
    /// The file's sections as read (after `${VAR}` substitution), by name: a reload compares
    /// them to tell what changed.
    pub sections: serde_json::Map<String, Value>,
}

impl GatewayConfig {
    /// Reads and validates a YAML (or JSON) config file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let mut errs = ConfigErrors::default();
            errs.push(
                &path.display().to_string(),
                format!("cannot read config file: {e}"),
            );
            errs
        })?;
        Self::from_yaml(&text, &|k| std::env::var(k).ok())
    }

    /// Parses and validates config text, resolving `${VAR}` with `env`.
    pub fn from_yaml(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let mut root: Value = match serde_yaml_ng::from_str::<Option<Value>>(text) {
            Ok(Some(v)) => v,
            Ok(None) => Value::Object(Default::default()),
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!("line {} column {}", l.line(), l.column()))
                    .unwrap_or_else(|| "config".into());
                errs.push(&at, format!("not valid YAML: {e}"));
                return Err(errs);
            }
        };
        let Some(obj) = root.as_object_mut() else {
            errs.push(
                "config",
                "must be a mapping with server, providers, routes, default_route",
            );
            return Err(errs);
        };
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "server"
                    | "providers"
                    | "routes"
                    | "default_route"
                    | "cache"
                    | "redis"
                    | "guardrails"
                    | "auth"
                    | "database"
                    | "virtual_keys"
                    | "pricing"
                    | "metrics"
                    | "traces"
                    | "request_log"
                    | "responses"
            ) {
                errs.push(
                    key,
                    "unknown section (expected server, providers, routes, default_route, cache, redis, guardrails, auth, database, virtual_keys, pricing, metrics, traces, request_log, responses)",
                );
            }
        }
        interpolate_env(&mut root, "", env, &mut errs);

        let server = parse_server(root.get("server"), &mut errs);
        let providers = parse_providers(root.get("providers"), &mut errs);
        let redis = parse_redis(root.get("redis"), &mut errs);
        let cache = parse_cache(root.get("cache"), redis.as_ref(), &mut errs);
        let guardrails = parse_guardrails(root.get("guardrails"), &mut errs);
        let governance = super::governance::parse(
            super::governance::Sections {
                auth: root.get("auth"),
                database: root.get("database"),
                virtual_keys: root.get("virtual_keys"),
                pricing: root.get("pricing"),
            },
            &providers,
            redis.as_ref(),
            env,
            &mut errs,
        );
        let telemetry = super::telemetry::parse(
            root.get("metrics"),
            root.get("traces"),
            root.get("request_log"),
            &mut errs,
        );
        let responses = super::responses::parse(root.get("responses"), &mut errs);
        let mut config = GatewayConfig {
            server,
            providers,
            routes: HashMap::new(),
            default_route: None,
            route_sources: HashMap::new(),
            cache,
            redis,
            guardrails,
            governance,
            telemetry,
            responses,
            sections: root.as_object().cloned().unwrap_or_default(),
        };

        if let Some(routes) = root.get("routes") {
            match routes.as_object() {
                Some(map) => {
                    for (name, value) in map {
                        if let Some(tree) =
                            config.build_route(value, &format!("routes.{name}"), &mut errs)
                        {
                            config.routes.insert(name.clone(), Arc::new(tree));
                            config.route_sources.insert(name.clone(), value.clone());
                        }
                    }
                }
                None => errs.push(
                    "routes",
                    "must be a mapping of model alias to Gateway Config",
                ),
            }
        }
        match root.get("default_route") {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) => match config.routes.get(name) {
                Some(tree) => {
                    config.default_route = Some(tree.clone());
                    if let Some(src) = config.route_sources.get(name).cloned() {
                        config.route_sources.insert("default".into(), src);
                    }
                }
                None if errs
                    .0
                    .iter()
                    .any(|e| e.path.starts_with(&format!("routes.{name}"))) => {}
                None => errs.push("default_route", format!("no route is named `{name}`")),
            },
            Some(v @ Value::Object(_)) => {
                config.default_route = config
                    .build_route(v, "default_route", &mut errs)
                    .map(Arc::new);
                config.route_sources.insert("default".into(), v.clone());
            }
            Some(_) => errs.push("default_route", "must be a route name or a Gateway Config"),
        }
        if let Some(s) = &config.cache.semantic {
            if !config.routes.contains_key(&s.route) {
                errs.push(
                    "cache.semantic.route",
                    format!(
                        "no route is named `{}` (it embeds the text compared)",
                        s.route
                    ),
                );
            }
        }
        if errs.is_empty() {
            Ok(config)
        } else {
            Err(errs)
        }
    }

    fn build_route(&self, value: &Value, at: &str, errs: &mut ConfigErrors) -> Option<Node> {
        let input = BuildInput {
            semantic_cache: self.cache.semantic.is_some(),
            guardrails: &self.guardrails,
            virtual_keys: &self.governance.virtual_keys,
            ..BuildInput::new(&self.providers, Origin::Server, &self.server.trusted_hosts)
        };
        match gateway::build_tree(value, at, &input) {
            Ok(built) => {
                for key in &built.ignored {
                    tracing::warn!(key = %key, "config key ignored: it is not a Gateway Config key");
                }
                Some(built.node)
            }
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        }
    }
}

/// The `guardrails:` section: named hooks (a hook object or shorthand) that any config names
/// by their name. Each is checked here, once, so a mistake is reported where it is written.
fn parse_guardrails(v: Option<&Value>, errs: &mut ConfigErrors) -> Catalog {
    let mut catalog = Catalog::builtin().clone();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return catalog;
    };
    let Some(map) = v.as_object() else {
        errs.push("guardrails", "must be a mapping of name to hook");
        return catalog;
    };
    for (name, hook) in map {
        if !hook.is_object() {
            errs.push(
                &format!("guardrails.{name}"),
                "must be a hook (an object of checks)",
            );
            continue;
        }
        catalog.named.insert(name.clone(), hook.clone());
    }
    for name in map.keys() {
        let mut p = Parser {
            catalog: &catalog,
            errs,
        };
        p.list(
            &Value::Array(vec![Value::String(name.clone())]),
            &format!("guardrails.{name}"),
            switchyard_guardrails::HookEvent::BeforeRequest,
            Some(HookKind::Guardrail),
        );
    }
    catalog
}

fn parse_server(v: Option<&Value>, errs: &mut ConfigErrors) -> ServerSettings {
    let mut s = ServerSettings::default();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return s;
    };
    let Some(raw) = errs.read::<RawServer>(v, "server") else {
        return s;
    };
    if let Some(l) = raw.listen {
        match l.parse() {
            Ok(a) => s.listen = a,
            Err(_) => errs.push(
                "server.listen",
                format!("`{l}` is not an address like {DEFAULT_LISTEN}"),
            ),
        }
    }
    if let Some(ByteSize(b)) = raw.max_body_size {
        s.max_body_bytes = b;
    }
    if let Some(ByteSize(b)) = raw.max_upload_size {
        s.max_upload_bytes = b;
    }
    if let Some(hosts) = raw.trusted_hosts {
        let all = DEFAULT_TRUSTED_HOSTS
            .iter()
            .copied()
            .chain(hosts.iter().map(String::as_str));
        match TrustedHosts::parse(all) {
            Ok(t) => s.trusted_hosts = t,
            Err(e) => errs.push("server.trusted_hosts", e),
        }
    }
    let d = |v: Option<HumanDuration>, default: Duration| v.map(|h| h.0).unwrap_or(default);
    s.shutdown_grace = d(raw.shutdown_grace, s.shutdown_grace);
    s.retry_base_delay = d(raw.retry_base_delay, s.retry_base_delay);
    s.retry_max_delay = d(raw.retry_max_delay, s.retry_max_delay);
    s.max_retry_after = d(raw.max_retry_after, s.max_retry_after);
    s.connect_timeout = d(raw.connect_timeout, s.connect_timeout);
    s.pool_idle_timeout = d(raw.pool_idle_timeout, s.pool_idle_timeout);
    s.default_request_timeout = raw.default_request_timeout.map(|h| h.0);
    s.total_timeout = raw.total_timeout.map(|h| h.0);
    if let Some(n) = raw.max_connections {
        // 0: no limit.
        s.max_connections = (n > 0).then_some(n);
    }
    for (at, value, field) in [
        (
            "server.response_timeout",
            raw.response_timeout,
            &mut s.response_timeout,
        ),
        (
            "server.stream_idle_timeout",
            raw.stream_idle_timeout,
            &mut s.stream_idle_timeout,
        ),
        (
            "server.header_read_timeout",
            raw.header_read_timeout,
            &mut s.header_read_timeout,
        ),
        (
            "server.body_read_timeout",
            raw.body_read_timeout,
            &mut s.body_read_timeout,
        ),
    ] {
        match value {
            Some(HumanDuration(d)) if d.is_zero() => errs.push(at, "must be longer than 0"),
            Some(HumanDuration(d)) => *field = d,
            None => {}
        }
    }
    match raw.max_response_size {
        Some(ByteSize(0)) => errs.push("server.max_response_size", "must be at least 1 byte"),
        Some(ByteSize(b)) => s.max_response_bytes = b,
        None => {}
    }
    if let Some(b) = raw.stream_usage {
        s.stream_usage = b;
    }
    if let Some(b) = raw.access_log {
        s.access_log = b;
    }
    if raw.admin_key.is_some() {
        errs.push(
            "server.admin_key",
            "moved to auth.admin_key (which also turns gateway keys on: docs/governance.md)",
        );
    }
    if let Some(n) = raw.route_cache_size {
        s.route_cache_size = n;
    }
    if let Some(n) = raw.max_concurrent_requests {
        // 0: no limit.
        s.max_concurrent_requests = (n > 0).then_some(n);
    }
    match raw.worker_threads {
        Some(0) => errs.push("server.worker_threads", "must be at least 1"),
        n => s.worker_threads = n,
    }
    if let Some(n) = raw.pool_max_idle_per_host {
        s.pool_max_idle_per_host = n;
    }
    if let Some(cb) = raw.circuit_breaker {
        s.circuit_breaker = parse_circuit_breaker(cb, errs);
    }
    if let Some(dns) = raw.dns {
        s.dns = parse_dns(dns, errs);
    }
    s
}

fn parse_dns(raw: RawDns, errs: &mut ConfigErrors) -> DnsSettings {
    let mut dns = DnsSettings::default();
    for (i, ns) in raw.nameservers.unwrap_or_default().iter().enumerate() {
        let ns = ns.trim();
        // `1.1.1.1`, `[::1]` or `::1` mean port 53; `127.0.0.1:5353` and `[::1]:5353` name one.
        let addr = ns.parse::<SocketAddr>().ok().or_else(|| {
            ns.trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        });
        match addr {
            Some(a) => dns.nameservers.push(a),
            None => errs.push(
                &format!("server.dns.nameservers[{i}]"),
                format!("`{ns}` is not an IP address with an optional port, like 10.0.0.2:53"),
            ),
        }
    }
    match raw.cache_size {
        Some(0) => errs.push(
            "server.dns.cache_size",
            "must be at least 1 (use `max_ttl: 0s` to keep no answers)",
        ),
        Some(n) => dns.cache_size = n,
        None => {}
    }
    if let Some(HumanDuration(d)) = raw.min_ttl {
        dns.min_ttl = d;
    }
    match raw.max_ttl {
        Some(HumanDuration(d)) if d < dns.min_ttl => errs.push(
            "server.dns.max_ttl",
            format!("must be at least min_ttl ({} ms)", dns.min_ttl.as_millis()),
        ),
        Some(HumanDuration(d)) => dns.max_ttl = d,
        // A long min_ttl raises the default cap rather than being an error.
        None => dns.max_ttl = dns.max_ttl.max(dns.min_ttl),
    }
    match raw.timeout {
        Some(HumanDuration(d)) if d.is_zero() => {
            errs.push("server.dns.timeout", "must be longer than 0")
        }
        t => dns.timeout = t.map(|h| h.0),
    }
    dns.attempts = raw.attempts;
    dns
}

fn parse_circuit_breaker(
    raw: RawCircuitBreaker,
    errs: &mut ConfigErrors,
) -> CircuitBreakerSettings {
    let mut cb = CircuitBreakerSettings::default();
    if let Some(e) = raw.enabled {
        cb.enabled = e;
    }
    match raw.failure_threshold {
        Some(0) => errs.push(
            "server.circuit_breaker.failure_threshold",
            "must be at least 1 (use `enabled: false` to turn the circuit breaker off)",
        ),
        Some(n) => cb.failure_threshold = n,
        None => {}
    }
    match raw.cooldown {
        Some(HumanDuration(d)) if d.is_zero() => {
            errs.push("server.circuit_breaker.cooldown", "must be longer than 0")
        }
        Some(HumanDuration(d)) => cb.cooldown = d,
        None => {}
    }
    match raw.max_cooldown {
        Some(HumanDuration(d)) if d < cb.cooldown => errs.push(
            "server.circuit_breaker.max_cooldown",
            format!(
                "must be at least the cooldown ({} ms)",
                cb.cooldown.as_millis()
            ),
        ),
        Some(HumanDuration(d)) => cb.max_cooldown = d,
        // A long cooldown raises the default cap rather than being an error.
        None => cb.max_cooldown = cb.max_cooldown.max(cb.cooldown),
    }
    cb
}

fn parse_providers(v: Option<&Value>, errs: &mut ConfigErrors) -> Providers {
    let mut providers = Providers::default();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return providers;
    };
    let Some(map) = v.as_object() else {
        errs.push(
            "providers",
            "must be a mapping of provider name to settings",
        );
        return providers;
    };
    let sorted: BTreeMap<_, _> = map.iter().collect();
    for (slug, settings) in sorted {
        let at = format!("providers.{slug}");
        let Some(obj) = settings.as_object() else {
            errs.push(
                &at,
                "must be a mapping (api_key, base_url, provider options)",
            );
            continue;
        };
        let mut api_key = None;
        let mut base_url = None;
        let mut options = ProviderOptions::new();
        for (k, val) in obj {
            let field = format!("{at}.{k}");
            match (k.as_str(), val) {
                ("api_key", Value::String(s)) if !s.is_empty() => api_key = Some(Secret::new(s.as_str())),
                ("api_key", Value::Null | Value::String(_)) => {}
                ("base_url", Value::String(s)) => match validate_base_url(s) {
                    Ok(()) => base_url = Some(s.trim_end_matches('/').to_owned()),
                    Err(e) => errs.push(&field, e),
                },
                // Portkey's Azure AI Foundry endpoint option is this provider's base URL.
                (FOUNDRY_URL, Value::String(s)) if slug == "azure-ai" => {
                    match validate_base_url(s) {
                        Ok(()) if base_url.is_none() => {
                            base_url = Some(s.trim_end_matches('/').to_owned())
                        }
                        Ok(()) => errs.push(&field, "give either base_url or azure_foundry_url"),
                        Err(e) => errs.push(&field, e),
                    }
                }
                ("api_key" | "base_url", _) => errs.push(&field, "must be a string"),
                (crate::auth::aws_chain::OPT_AUTH_TYPE, Value::String(s)) => {
                    match crate::auth::aws_chain::check_auth_type(s) {
                        Ok(()) => {
                            options.insert(k.to_owned(), s.trim().to_owned());
                        }
                        Err(e) => errs.push(&field, e),
                    }
                }
                (k, Value::String(s)) if is_option_key(k) => {
                    options.insert(k.to_owned(), s.clone());
                }
                (k, other) if is_option_key(k) => {
                    options.insert(k.to_owned(), other.to_string());
                }
                _ => errs.push(&field, "unknown field (expected api_key, base_url or a provider option such as aws_region)"),
            }
        }
        let spec = match catalog::lookup(slug) {
            Some(spec) => spec,
            None if base_url.is_some() => match catalog::lookup("openai") {
                Some(openai) => openai,
                None => continue,
            },
            None => {
                errs.push(
                    &at,
                    "not a built-in provider: give it a `base_url` to use it as an OpenAI-compatible host",
                );
                continue;
            }
        };
        providers.insert(ProviderEntry::new(
            slug.clone(),
            spec,
            base_url,
            api_key,
            options,
        ));
    }
    providers
}

#[cfg(test)]
mod tests;
