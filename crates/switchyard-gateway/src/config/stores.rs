//! The server file's `cache:` and `redis:` sections: where shared state lives.
//!
//! ```yaml
//! cache:
//!   backend: memory          # or redis (then `redis.url` is required)
//!   max_bytes: 256MiB        # memory backend: answers kept, at most
//!   max_entry_size: 4MiB     # the largest answer stored
//!   shared_namespaces: []    # x-portkey-cache-namespace values every tenant shares
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
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            backend: CacheBackend::Memory,
            max_bytes: 256 << 20,
            max_entry_bytes: 4 << 20,
            shared_namespaces: Vec::new(),
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedis {
    url: String,
    timeout: Option<HumanDuration>,
    prefix: Option<String>,
}

fn raw<T: for<'de> Deserialize<'de>>(
    v: &Value,
    section: &str,
    errs: &mut ConfigErrors,
) -> Option<T> {
    match serde_path_to_error::deserialize(v) {
        Ok(r) => Some(r),
        Err(e) => {
            let path = e.path().to_string();
            let at = if path == "." {
                section.to_owned()
            } else {
                format!("{section}.{path}")
            };
            errs.push(&at, e.into_inner().to_string());
            None
        }
    }
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
        .and_then(|v| raw::<RawCache>(v, "cache", errs))
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
    s
}

/// The `redis:` section (`None` when absent).
pub fn parse_redis(v: Option<&Value>, errs: &mut ConfigErrors) -> Option<RedisSettings> {
    let r = raw::<RawRedis>(v.filter(|v| !v.is_null())?, "redis", errs)?;
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
