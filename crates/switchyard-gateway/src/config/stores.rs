//! The server file's `cache:` and `redis:` sections: where shared state lives.
//!
//! ```yaml
//! cache:
//!   backend: memory          # or redis (then `redis.url` is required)
//!   max_bytes: 256MiB        # memory backend: answers kept, at most
//!   max_entry_size: 4MiB     # the largest answer stored
//!   shared_namespaces: []    # x-portkey-cache-namespace values every tenant shares
//!   semantic:                # only for targets whose cache mode is `semantic`
//!     route: embed           # the route (of `routes:`) that turns text into an embedding
//!     threshold: 0.95        # cosine similarity a hit needs
//!     timeout: 2s            # the longest wait for the embedding
//!     max_input_size: 32KiB  # longer text is not compared by meaning
//!     max_entries: 100000    # vectors kept, at most
//!     max_bytes: 512MiB      # …and their bytes, at most
//! redis:
//!   url: redis://127.0.0.1:6379
//!   timeout: 50ms            # the longest wait for Redis before the cache is bypassed
//!   prefix: "switchyard:"
//! ```

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::errors::ConfigErrors;
use super::values::{ByteSize, HumanDuration};

/// Where cached answers live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheBackend {
    #[default]
    Memory,
    Redis,
}

/// The `cache:` section.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub backend: CacheBackend,
    pub max_bytes: u64,
    pub max_entry_bytes: usize,
    pub shared_namespaces: Vec<String>,
    /// Semantic matching (`None` when the file has no `cache.semantic`).
    pub semantic: Option<SemanticSettings>,
}

/// The `cache.semantic:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSettings {
    /// The route that embeds text.
    pub route: String,
    /// The cosine similarity a semantic hit needs, in (0, 1].
    pub threshold: f32,
    /// The longest wait for an embedding (then the request goes on uncached).
    pub timeout: Duration,
    /// Text longer than this (bytes) is not compared by meaning.
    pub max_input_bytes: usize,
    /// Vectors kept in the index, at most…
    pub max_entries: usize,
    /// …and their bytes, at most.
    pub max_bytes: u64,
}

impl SemanticSettings {
    fn new(route: String) -> Self {
        SemanticSettings {
            route,
            threshold: 0.95,
            timeout: Duration::from_secs(2),
            max_input_bytes: 32 << 10,
            max_entries: 100_000,
            max_bytes: 512 << 20,
        }
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            backend: CacheBackend::Memory,
            max_bytes: 256 << 20,
            max_entry_bytes: 4 << 20,
            shared_namespaces: Vec::new(),
            semantic: None,
        }
    }
}

/// The `redis:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    pub url: String,
    pub timeout: Duration,
    pub prefix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    backend: Option<String>,
    max_bytes: Option<ByteSize>,
    max_entry_size: Option<ByteSize>,
    shared_namespaces: Option<Vec<String>>,
    semantic: Option<RawSemantic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSemantic {
    route: String,
    threshold: Option<f64>,
    timeout: Option<HumanDuration>,
    max_input_size: Option<ByteSize>,
    max_entries: Option<usize>,
    max_bytes: Option<ByteSize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedis {
    url: String,
    timeout: Option<HumanDuration>,
    prefix: Option<String>,
}

/// The `cache:` section (defaults when absent).
pub fn parse_cache(
    v: Option<&Value>,
    redis: Option<&RedisSettings>,
    errs: &mut ConfigErrors,
) -> CacheSettings {
    let mut s = CacheSettings::default();
    let Some(r) = v
        .filter(|v| !v.is_null())
        .and_then(|v| errs.read::<RawCache>(v, "cache"))
    else {
        return s;
    };
    match r.backend.as_deref() {
        None | Some("memory") => {}
        Some("redis") if redis.is_some() => s.backend = CacheBackend::Redis,
        Some("redis") => errs.push(
            "cache.backend",
            "redis needs a `redis:` section with its url",
        ),
        Some(other) => errs.push(
            "cache.backend",
            format!("unknown backend `{other}` (expected memory or redis)"),
        ),
    }
    if let Some(ByteSize(b)) = r.max_bytes {
        s.max_bytes = u64::try_from(b).unwrap_or(u64::MAX);
    }
    if let Some(ByteSize(b)) = r.max_entry_size {
        s.max_entry_bytes = b;
    }
    s.shared_namespaces = r.shared_namespaces.unwrap_or_default();
    s.semantic = r.semantic.and_then(|r| parse_semantic(r, errs));
    s
}

fn parse_semantic(r: RawSemantic, errs: &mut ConfigErrors) -> Option<SemanticSettings> {
    let mut s = SemanticSettings::new(r.route);
    if s.route.is_empty() {
        errs.push("cache.semantic.route", "must name a route of `routes:`");
        return None;
    }
    if let Some(t) = r.threshold {
        if !(t > 0.0 && t <= 1.0) {
            errs.push(
                "cache.semantic.threshold",
                "must be a cosine similarity above 0 and at most 1",
            );
            return None;
        }
        s.threshold = t as f32;
    }
    if let Some(HumanDuration(t)) = r.timeout {
        s.timeout = t;
    }
    if let Some(ByteSize(b)) = r.max_input_size {
        s.max_input_bytes = b;
    }
    if let Some(n) = r.max_entries {
        s.max_entries = n;
    }
    if let Some(ByteSize(b)) = r.max_bytes {
        s.max_bytes = u64::try_from(b).unwrap_or(u64::MAX);
    }
    Some(s)
}

/// The `redis:` section (`None` when absent).
pub fn parse_redis(v: Option<&Value>, errs: &mut ConfigErrors) -> Option<RedisSettings> {
    let r = errs.read::<RawRedis>(v.filter(|v| !v.is_null())?, "redis")?;
    if !(r.url.starts_with("redis://") || r.url.starts_with("rediss://")) {
        errs.push("redis.url", "must be a redis:// or rediss:// URL");
        return None;
    }
    Some(RedisSettings {
        url: r.url,
        timeout: r.timeout.map_or(Duration::from_millis(50), |t| t.0),
        prefix: r.prefix.unwrap_or_else(|| "switchyard:".into()),
    })
}
