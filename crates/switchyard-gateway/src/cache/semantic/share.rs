//! Semantic entries shared through Redis, which has no vector search (7.x): every instance
//! appends the vectors it stores to one Redis stream (`<prefix>cache:semantic`, trimmed to
//! about `cache.semantic.max_entries`) and follows it, so each instance holds every
//! instance's vectors in its own index and searches locally. The answers themselves are the
//! exact entries, already in Redis.
//!
//! A new instance reads the stream from its start, so it knows the vectors stored before it
//! came up (those whose answers expired are skipped). Redis down: publishing is skipped and
//! counted like any bypass; the follower reconnects once a second and resumes after the last
//! entry it read.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Value};

use super::index::VectorIndex;
use crate::cache::key::CacheKey;
use crate::cache::store::{RedisStore, Store};

/// How long one read waits for new entries (a dropped gateway's follower ends after this).
const BLOCK: Duration = Duration::from_secs(2);
/// Entries read at once.
const BATCH: usize = 512;

/// One stored vector, as published.
pub struct Record<'a> {
    pub partition: &'a CacheKey,
    pub key: &'a CacheKey,
    pub namespace: &'a str,
    pub vector: &'a [f32],
    pub ttl: Duration,
}

/// The stream's key for a store's prefix.
pub fn stream_key(redis: &RedisStore) -> String {
    format!("{}semantic", redis.prefix())
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Appends `rec` to the stream (best effort: a failure is a counted bypass).
pub async fn publish(redis: &RedisStore, origin: u64, max_len: usize, rec: Record<'_>) {
    let expires = unix_ms(SystemTime::now() + rec.ttl);
    let vector: Vec<u8> = rec.vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    let cmd = redis::cmd("XADD")
        .arg(stream_key(redis))
        .arg("MAXLEN")
        .arg("~")
        .arg(max_len.max(1))
        .arg("*")
        .arg("o")
        .arg(origin)
        .arg("p")
        .arg(&rec.partition[..])
        .arg("k")
        .arg(&rec.key[..])
        .arg("n")
        .arg(rec.namespace)
        .arg("e")
        .arg(expires)
        .arg("v")
        .arg(vector)
        .clone();
    let _: Option<Value> = redis.run(cmd).await;
}

/// Follows the stream into `index` until the index is dropped; skips `origin`'s own entries.
pub async fn follow(store: Arc<Store>, index: Weak<VectorIndex>, origin: u64) {
    let Some(redis) = store.as_redis() else {
        return;
    };
    let key = stream_key(redis);
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(redis.timeout().max(Duration::from_millis(500)))
        .set_response_timeout(BLOCK + Duration::from_secs(1));
    let mut last = String::from("0-0");
    let mut conn: Option<MultiplexedConnection> = None;
    while index.strong_count() > 0 {
        let c = match &mut conn {
            Some(c) => c,
            None => match redis
                .client()
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    redis.bypass(&format!("semantic stream: {e}"));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let reply: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(2000))
            .arg("STREAMS")
            .arg(&key)
            .arg(&last)
            .query_async(c)
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                redis.bypass(&format!("semantic stream: {e}"));
                conn = None;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(index) = index.upgrade() else {
            return;
        };
        let entries: Vec<_> = reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .collect();
        if let Some(e) = entries.last() {
            last = e.id.clone();
        }
        // Graph inserts take milliseconds: on a blocking thread, in order.
        let _ = tokio::task::spawn_blocking(move || {
            for entry in entries {
                apply(&index, origin, &entry.map);
            }
        })
        .await;
    }
}

/// Inserts one published entry; anything malformed, expired or one's own is skipped.
fn apply(index: &VectorIndex, origin: u64, fields: &std::collections::HashMap<String, Value>) {
    let bytes = |name: &str| match fields.get(name) {
        Some(Value::BulkString(b)) => Some(b.as_slice()),
        _ => None,
    };
    let number = |name: &str| std::str::from_utf8(bytes(name)?).ok()?.parse::<u64>().ok();
    let (Some(o), Some(p), Some(k), Some(n), Some(e), Some(v)) = (
        number("o"),
        bytes("p"),
        bytes("k"),
        bytes("n").and_then(|n| std::str::from_utf8(n).ok()),
        number("e"),
        bytes("v"),
    ) else {
        return;
    };
    let (Ok(p), Ok(k)) = (CacheKey::try_from(p), CacheKey::try_from(k)) else {
        return;
    };
    let left = e.saturating_sub(unix_ms(SystemTime::now()));
    if o == origin || left == 0 || v.is_empty() || v.len() % 4 != 0 {
        return;
    }
    let vector: Vec<f32> = v
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut unit = vector;
    if !super::index::normalize(&mut unit) {
        return;
    }
    let expires = std::time::Instant::now() + Duration::from_millis(left);
    index.insert(p, &unit, k, n.into(), expires);
}
