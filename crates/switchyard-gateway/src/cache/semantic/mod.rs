//! Semantic caching: a request that *means* the same as a stored one gets its answer.
//!
//! For a target whose cache mode is `semantic`, a lookup that found no exact entry splits the
//! request into the text compared by meaning and the rest ([`text`]), embeds the text through
//! the server's embedding route ([`embed`]), and searches the request's partition — the hash
//! of the tenant, the endpoint, the target and the rest — for a stored request at least
//! `cache.semantic.threshold` similar ([`index`]). A hit answers with the stored request's
//! exact entry. When the answer comes back from the upstream, it is stored as an exact entry
//! and its vector is added to the index — and, with Redis, published to every instance
//! ([`share`]).
//!
//! Anything failing on the way (the embedding route down or slow, Redis down) turns the
//! lookup into a plain miss: the request is served, a counter and a throttled warning say so.

pub mod embed;
pub mod index;
mod partition;
pub mod share;
pub mod text;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::key::CacheKey;
use crate::cache::store::Store;
use crate::cache::warn::Throttled;
use crate::config::stores::SemanticSettings;
use embed::Embedder;
use index::{Match, VectorIndex};

/// The semantic side of the cache.
pub struct Semantic {
    embedder: Embedder,
    index: Arc<VectorIndex>,
    store: Arc<Store>,
    pub threshold: f32,
    pub max_input: usize,
    max_entries: usize,
    /// This instance, in the shared stream (its own entries are not read back).
    origin: u64,
    failed: Throttled,
}

impl Semantic {
    /// The semantic cache over `store`; with a Redis store, this instance starts following
    /// the others' vectors (call within a Tokio runtime).
    pub fn new(settings: &SemanticSettings, embedder: Embedder, store: Arc<Store>) -> Arc<Self> {
        let index = Arc::new(VectorIndex::new(settings.max_entries, settings.max_bytes));
        let origin = fastrand::u64(..);
        if store.as_redis().is_some() {
            tokio::spawn(share::follow(store.clone(), Arc::downgrade(&index), origin));
        }
        Arc::new(Semantic {
            embedder,
            index,
            store,
            threshold: settings.threshold,
            max_input: settings.max_input_bytes,
            max_entries: settings.max_entries,
            origin,
            failed: Throttled::default(),
        })
    }

    /// The name of the embedding route (part of every partition).
    pub fn embedder_name(&self) -> &str {
        self.embedder.name()
    }

    /// The unit-length embedding of `text`; `None` (counted, warned) when it failed.
    pub async fn vector(&self, text: &str, trace_id: &Arc<str>) -> Option<Arc<[f32]>> {
        match self.embedder.embed(text, trace_id).await {
            Ok(mut v) => {
                if index::normalize(&mut v) {
                    Some(v.into())
                } else {
                    self.failed.note(
                        "semantic cache skipped",
                        "the embedding route answered a zero vector",
                    );
                    None
                }
            }
            Err(e) => {
                self.failed.note(
                    "semantic cache skipped; requests are served uncached",
                    &e.to_string(),
                );
                None
            }
        }
    }

    /// Stored requests of `partition` similar enough to `vector`, best first. The search
    /// runs on a blocking thread (up to a millisecond in a large partition).
    pub async fn search(&self, partition: CacheKey, vector: Arc<[f32]>) -> Vec<Match> {
        let (index, threshold) = (self.index.clone(), self.threshold);
        tokio::task::spawn_blocking(move || {
            index.search(&partition, &vector, threshold, Instant::now())
        })
        .await
        .unwrap_or_default()
    }

    /// The vector of `key` in `partition` stands for an answer that is gone.
    pub fn forget(&self, partition: &CacheKey, key: &CacheKey) {
        self.index.forget(partition, key);
    }

    /// Adds the vector of a stored answer (on a blocking thread: a graph insert takes
    /// milliseconds), and publishes it to the other instances.
    pub async fn remember(
        &self,
        partition: CacheKey,
        vector: Arc<[f32]>,
        key: CacheKey,
        namespace: Arc<str>,
        ttl: Duration,
    ) {
        let index = self.index.clone();
        let (v, ns) = (vector.clone(), namespace.clone());
        let expires = Instant::now() + ttl;
        let _ = tokio::task::spawn_blocking(move || index.insert(partition, &v, key, ns, expires))
            .await;
        if let Some(redis) = self.store.as_redis() {
            let rec = share::Record {
                partition: &partition,
                key: &key,
                namespace: &namespace,
                vector: &vector,
                ttl,
            };
            share::publish(redis, self.origin, self.max_entries, rec).await;
        }
    }

    /// Drops the vectors of `namespace` (all for `None`) from this instance's index.
    pub fn clear(&self, namespace: Option<&str>) {
        self.index.clear(namespace);
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Lookups that went on without a semantic search because the embedding failed.
    pub fn failures(&self) -> u64 {
        self.failed.count()
    }
}
