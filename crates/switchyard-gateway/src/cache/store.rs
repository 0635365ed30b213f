//! Where cached answers live: in memory (the default, zero config) or in Redis, shared by every
//! gateway instance that points at it.
//!
//! - **Memory** (moka): bounded by bytes (`cache.max_bytes`), each entry expiring after its own
//!   `max_age`, least-used entries evicted first.
//! - **Redis**: `SET … PX <max_age>` under `<prefix><namespace hex>:<key hex>`, so a namespace
//!   can be cleared with one `SCAN`. Redis down or slow never fails a request: every call has a
//!   bounded wait (`redis.timeout`), and on an error or a timeout the cache is bypassed — a miss
//!   on read, nothing on write — with a warning (at most one every ten seconds) and a counter.
//!   A reconnection is attempted at most once a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::sync::Cache;
use redis::aio::ConnectionManager;
use tokio::sync::Mutex;

use super::key::CacheKey;
use super::warn::Throttled;

/// One stored answer (the whole non-streamed JSON body).
#[derive(Clone)]
struct Stored {
    body: Bytes,
    ttl: Duration,
    namespace: Arc<str>,
}

struct PerEntryTtl;

impl moka::Expiry<CacheKey, Stored> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _: &CacheKey,
        v: &Stored,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(v.ttl)
    }
}

/// The configured store.
pub struct Store(Backend);

enum Backend {
    Memory(Cache<CacheKey, Stored>),
    Redis(RedisStore),
}

impl Store {
    /// A Redis store (see [`RedisStore::new`]).
    pub fn redis(store: RedisStore) -> Store {
        Store(Backend::Redis(store))
    }

    /// An in-memory store of at most `max_bytes` of answers.
    pub fn memory(max_bytes: u64) -> Store {
        Store(Backend::Memory(
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_: &CacheKey, v: &Stored| {
                    u32::try_from(v.body.len().saturating_add(96)).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .support_invalidation_closures()
                .build(),
        ))
    }

    /// The stored answer for `key`, if any (a Redis failure is a miss).
    pub async fn get(&self, key: &CacheKey, namespace: &str) -> Option<Bytes> {
        match &self.0 {
            Backend::Memory(c) => c.get(key).map(|s| s.body),
            Backend::Redis(r) => r.get(key, namespace).await,
        }
    }

    /// Stores `body` for `ttl` (a Redis failure drops it).
    pub async fn put(&self, key: CacheKey, namespace: &str, body: Bytes, ttl: Duration) {
        match &self.0 {
            Backend::Memory(c) => c.insert(
                key,
                Stored {
                    body,
                    ttl,
                    namespace: namespace.into(),
                },
            ),
            Backend::Redis(r) => r.put(&key, namespace, body, ttl).await,
        }
    }

    /// Drops every entry of `namespace` (all entries for `None`); how many, when known.
    pub async fn clear(&self, namespace: Option<&str>) -> Result<Option<u64>, String> {
        match &self.0 {
            Backend::Memory(c) => {
                match namespace {
                    None => c.invalidate_all(),
                    Some(ns) => {
                        let ns: Arc<str> = ns.into();
                        c.invalidate_entries_if(move |_, v| v.namespace == ns)
                            .map_err(|e| e.to_string())?;
                    }
                }
                Ok(None)
            }
            Backend::Redis(r) => r.clear(namespace).await.map(Some),
        }
    }

    /// Times the store was bypassed because it failed or was too slow.
    pub fn bypassed(&self) -> u64 {
        match &self.0 {
            Backend::Memory(_) => 0,
            Backend::Redis(r) => r.bypassed.count(),
        }
    }

    /// The Redis store, when answers live there.
    pub fn as_redis(&self) -> Option<&RedisStore> {
        match &self.0 {
            Backend::Memory(_) => None,
            Backend::Redis(r) => Some(r),
        }
    }
}

/// The Redis store (see the module doc).
pub struct RedisStore {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    last_attempt: std::sync::Mutex<Option<Instant>>,
    prefix: String,
    timeout: Duration,
    bypassed: Throttled,
}

impl RedisStore {
    /// A store at `url` (nothing is connected before the first use).
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<RedisStore, String> {
        let client = redis::Client::open(url).map_err(|e| format!("`{url}`: {e}"))?;
        Ok(RedisStore {
            client,
            conn: Mutex::new(None),
            last_attempt: std::sync::Mutex::new(None),
            prefix: prefix.to_owned(),
            timeout,
            bypassed: Throttled::default(),
        })
    }

    /// The client (for a connection of one's own, e.g. to block on a stream).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The prefix of every key.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The bounded wait of every command.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn entry_key(&self, key: &CacheKey, namespace: &str) -> String {
        format!("{}{}:{}", self.prefix, hex(namespace.as_bytes()), hex(key))
    }

    /// A connection, made at most once a second while Redis is unreachable.
    async fn connection(&self) -> Option<ConnectionManager> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Some(c.clone());
        }
        {
            let mut last = self
                .last_attempt
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let made =
            tokio::time::timeout(self.timeout, ConnectionManager::new(self.client.clone())).await;
        match made {
            Ok(Ok(c)) => {
                *conn = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => {
                self.bypass(&format!("cannot connect: {e}"));
                None
            }
            Err(_) => {
                self.bypass("connecting timed out");
                None
            }
        }
    }

    /// Counts (and now and then logs) a failure that bypassed the cache.
    pub fn bypass(&self, why: &str) {
        self.bypassed
            .note("redis cache bypassed; requests are served uncached", why);
    }

    /// Runs one command with the bounded wait; `None` when it failed (the cache is bypassed).
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                self.bypass(&e.to_string());
                None
            }
            Err(_) => {
                self.bypass("command timed out");
                None
            }
        }
    }

    async fn get(&self, key: &CacheKey, namespace: &str) -> Option<Bytes> {
        let value: Option<Vec<u8>> = self
            .run(
                redis::cmd("GET")
                    .arg(self.entry_key(key, namespace))
                    .clone(),
            )
            .await?;
        value.map(Bytes::from)
    }

    async fn put(&self, key: &CacheKey, namespace: &str, body: Bytes, ttl: Duration) {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: Option<()> = self
            .run(
                redis::cmd("SET")
                    .arg(self.entry_key(key, namespace))
                    .arg(body.as_ref())
                    .arg("PX")
                    .arg(ms)
                    .clone(),
            )
            .await;
    }

    async fn clear(&self, namespace: Option<&str>) -> Result<u64, String> {
        let pattern = match namespace {
            Some(ns) => format!("{}{}:*", self.prefix, hex(ns.as_bytes())),
            None => format!("{}*", self.prefix),
        };
        let mut conn = self
            .connection()
            .await
            .ok_or_else(|| "redis is unreachable".to_owned())?;
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}
