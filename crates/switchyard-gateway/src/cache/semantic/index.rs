//! The in-memory vector index: one per partition, compared by cosine similarity.
//!
//! A partition holds the vectors of requests that differ only in their text (`text.rs`), so a
//! lookup searches one partition, never the whole index: brute force up to
//! [`FLAT_MAX`] vectors, an HNSW graph above ([`super::partition`]; costs in
//! docs/benchmarks.md).
//!
//! The index is bounded in entries and in bytes (`cache.semantic.max_entries`, `max_bytes`):
//! beyond either, the oldest vectors go first. An expired vector is skipped by every search
//! at once, and freed when the oldest are evicted. Vectors are normalised when inserted, so
//! the cosine similarity is a dot product. Inserts can take milliseconds once a partition is
//! a graph: callers run them on a blocking thread.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use super::partition::{self, dot, Meta, Partition, Pending};
use crate::cache::key::CacheKey;

pub use super::partition::FLAT_MAX;

/// Candidates a search returns, best first (a stale one is skipped for the next).
const CANDIDATES: usize = 4;
/// Bookkeeping per vector, beyond its floats (an estimate, for `max_bytes`).
const OVERHEAD: u64 = 512;

/// A stored request close enough to the one looked up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// The cosine similarity.
    pub similarity: f32,
    /// The exact key of the stored answer.
    pub key: CacheKey,
}

/// The index (see the module doc).
pub struct VectorIndex {
    partitions: RwLock<HashMap<CacheKey, Arc<RwLock<Partition>>>>,
    ledger: Mutex<Ledger>,
    next_id: AtomicU64,
    max_entries: usize,
    max_bytes: u64,
}

/// Every vector, oldest first, and the totals the bounds apply to.
#[derive(Default)]
struct Ledger {
    order: VecDeque<(CacheKey, u64)>,
    entries: usize,
    bytes: u64,
}

/// Scales `v` to unit length; `false` when it has none (all zeros, or not finite).
pub fn normalize(v: &mut [f32]) -> bool {
    let norm = dot(v, v).sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl VectorIndex {
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        VectorIndex {
            partitions: RwLock::default(),
            ledger: Mutex::default(),
            next_id: AtomicU64::new(1),
            max_entries,
            max_bytes,
        }
    }

    fn partition(&self, p: &CacheKey) -> Option<Arc<RwLock<Partition>>> {
        self.partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(p)
            .cloned()
    }

    /// The stored requests of `partition` at least `threshold` similar to `query` (unit
    /// length), best first.
    pub fn search(
        &self,
        partition: &CacheKey,
        query: &[f32],
        threshold: f32,
        now: Instant,
    ) -> Vec<Match> {
        let Some(p) = self.partition(partition) else {
            return Vec::new();
        };
        let p = p.read().unwrap_or_else(PoisonError::into_inner);
        if p.dims != query.len() {
            return Vec::new();
        }
        let mut candidates = p.search(query, threshold, CANDIDATES * 2);
        candidates.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        candidates
            .into_iter()
            .filter_map(|(id, similarity)| {
                let m = p.meta.get(&id)?;
                (m.expires > now).then_some(Match {
                    similarity,
                    key: m.key,
                })
            })
            .take(CANDIDATES)
            .collect()
    }

    /// Stores `vector` (unit length) for the answer under `key`; an entry already stored for
    /// `key` only has its expiry moved. `false` when it was not stored (its length differs
    /// from the partition's, or the graph refused it).
    pub fn insert(
        &self,
        partition: CacheKey,
        vector: &[f32],
        key: CacheKey,
        namespace: Arc<str>,
        expires: Instant,
    ) -> bool {
        let p = {
            let mut map = self
                .partitions
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            map.entry(partition)
                .or_insert_with(|| Arc::new(RwLock::new(Partition::new(vector.len()))))
                .clone()
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let meta = Meta {
            key,
            namespace,
            expires,
        };
        let pending = p
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .begin_insert(id, vector, meta);
        let stored = match pending {
            Pending::Done(stored) => stored,
            Pending::Graph => partition::graph_insert(&p, id, vector),
            Pending::Promote(ids, data) => {
                partition::promote(&p, vector.len(), ids, data);
                true
            }
        };
        if !stored {
            return false;
        }
        let mut ledger = lock(&self.ledger);
        ledger.order.push_back((partition, id));
        ledger.entries += 1;
        ledger.bytes += entry_bytes(vector.len());
        self.evict(&mut ledger, Instant::now());
        true
    }

    /// Drops the oldest vectors while over a bound or expired.
    fn evict(&self, ledger: &mut Ledger, now: Instant) {
        while let Some(&(partition, id)) = ledger.order.front() {
            let over = ledger.entries > self.max_entries || ledger.bytes > self.max_bytes;
            let p = self.partition(&partition);
            let expired = p.as_ref().is_none_or(|p| {
                p.read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .meta
                    .get(&id)
                    .is_none_or(|m| m.expires <= now)
            });
            if !over && !expired {
                return;
            }
            ledger.order.pop_front();
            if let Some(p) = p {
                if let Some(dims) = self.remove_in(&partition, &p, |i, _| i == id) {
                    ledger.entries -= 1;
                    ledger.bytes = ledger.bytes.saturating_sub(entry_bytes(dims));
                }
            }
        }
    }

    /// Removes the vectors of `p` that `doomed` picks; the partition's dimensions when one
    /// was (at most one per call unless `doomed` picks several, see [`VectorIndex::clear`]).
    fn remove_in(
        &self,
        key: &CacheKey,
        p: &Arc<RwLock<Partition>>,
        doomed: impl Fn(u64, &Meta) -> bool,
    ) -> Option<usize> {
        let mut guard = p.write().unwrap_or_else(PoisonError::into_inner);
        let ids: Vec<u64> = guard
            .meta
            .iter()
            .filter(|(i, m)| doomed(**i, m))
            .map(|(i, _)| *i)
            .collect();
        for id in &ids {
            guard.remove(*id);
        }
        let dims = guard.dims;
        if guard.meta.is_empty() {
            drop(guard);
            let mut map = self
                .partitions
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            // Still empty (no insert came in between): drop the partition.
            if map.get(key).is_some_and(|p| {
                p.read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .meta
                    .is_empty()
            }) {
                map.remove(key);
            }
        }
        (!ids.is_empty()).then_some(dims)
    }

    /// Drops every vector of `namespace` (all for `None`).
    pub fn clear(&self, namespace: Option<&str>) {
        let mut ledger = lock(&self.ledger);
        let all: Vec<(CacheKey, Arc<RwLock<Partition>>)> = self
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, p)| (*k, p.clone()))
            .collect();
        for (k, p) in all {
            let mut removed = 0usize;
            let dims = p.read().unwrap_or_else(PoisonError::into_inner).dims;
            {
                let before = p.read().unwrap_or_else(PoisonError::into_inner).meta.len();
                self.remove_in(&k, &p, |_, m| {
                    namespace.is_none_or(|ns| &*m.namespace == ns)
                });
                let after = p.read().unwrap_or_else(PoisonError::into_inner).meta.len();
                removed += before - after;
            }
            ledger.entries = ledger.entries.saturating_sub(removed);
            ledger.bytes = ledger
                .bytes
                .saturating_sub(entry_bytes(dims) * removed as u64);
        }
        if namespace.is_none() {
            ledger.order.clear();
        }
    }

    /// Drops the vector standing for `key` in `partition` (its answer is gone).
    pub fn forget(&self, partition: &CacheKey, key: &CacheKey) {
        let Some(p) = self.partition(partition) else {
            return;
        };
        let mut ledger = lock(&self.ledger);
        if let Some(dims) = self.remove_in(partition, &p, |_, m| &m.key == key) {
            ledger.entries = ledger.entries.saturating_sub(1);
            ledger.bytes = ledger.bytes.saturating_sub(entry_bytes(dims));
        }
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        lock(&self.ledger).entries
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn entry_bytes(dims: usize) -> u64 {
    (dims as u64).saturating_mul(4).saturating_add(OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn unit(mut v: Vec<f32>) -> Vec<f32> {
        assert!(normalize(&mut v));
        v
    }

    fn key(n: u8) -> CacheKey {
        [n; 32]
    }

    /// A unit vector for `n`, far from every other `n`'s.
    fn spread(n: usize, dims: usize) -> Vec<f32> {
        let mut rng = fastrand::Rng::with_seed(n as u64);
        unit((0..dims).map(|_| rng.f32() - 0.5).collect())
    }

    #[test]
    fn a_close_vector_is_found_a_far_one_and_another_partition_are_not() {
        let idx = VectorIndex::new(100, u64::MAX);
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        assert!(idx.insert(
            key(1),
            &unit(vec![1.0, 0.0, 0.0]),
            key(10),
            "-".into(),
            later
        ));
        let near = unit(vec![0.99, 0.1, 0.0]);
        let found = idx.search(&key(1), &near, 0.95, now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, key(10));
        assert!(found[0].similarity > 0.99 && found[0].similarity <= 1.0);
        assert!(idx
            .search(&key(1), &unit(vec![0.0, 1.0, 0.0]), 0.95, now)
            .is_empty());
        assert!(idx.search(&key(2), &near, 0.95, now).is_empty());
    }

    #[test]
    fn expired_vectors_are_skipped_and_bounds_evict_the_oldest() {
        let idx = VectorIndex::new(2, u64::MAX);
        let now = Instant::now();
        let v = unit(vec![1.0, 0.0]);
        idx.insert(
            key(1),
            &v,
            key(10),
            "-".into(),
            now + Duration::from_secs(1),
        );
        assert!(idx
            .search(&key(1), &v, 0.9, now + Duration::from_secs(2))
            .is_empty());
        idx.insert(
            key(1),
            &unit(vec![0.0, 1.0]),
            key(11),
            "-".into(),
            now + Duration::from_secs(99),
        );
        idx.insert(
            key(2),
            &v,
            key(12),
            "-".into(),
            now + Duration::from_secs(99),
        );
        idx.insert(
            key(3),
            &v,
            key(13),
            "-".into(),
            now + Duration::from_secs(99),
        );
        assert_eq!(idx.len(), 2);
        assert!(idx
            .search(&key(1), &unit(vec![0.0, 1.0]), 0.9, now)
            .is_empty());
        assert_eq!(idx.search(&key(3), &v, 0.9, now)[0].key, key(13));
        let bytes = VectorIndex::new(usize::MAX, entry_bytes(2) * 2);
        for n in 0..5 {
            bytes.insert(
                key(n),
                &v,
                key(n),
                "-".into(),
                now + Duration::from_secs(99),
            );
        }
        assert_eq!(bytes.len(), 2);
    }

    #[test]
    fn the_same_answer_is_stored_once_and_vectors_of_another_length_are_refused() {
        let idx = VectorIndex::new(10, u64::MAX);
        let later = Instant::now() + Duration::from_secs(60);
        assert!(idx.insert(key(1), &unit(vec![1.0, 0.0]), key(10), "-".into(), later));
        assert!(!idx.insert(key(1), &unit(vec![1.0, 0.0]), key(10), "-".into(), later));
        assert!(!idx.insert(
            key(1),
            &unit(vec![1.0, 0.0, 0.0]),
            key(11),
            "-".into(),
            later
        ));
        assert_eq!(idx.len(), 1);
    }

    #[test]
    fn clearing_a_namespace_and_forgetting_a_key_drop_only_those() {
        let idx = VectorIndex::new(10, u64::MAX);
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let v = unit(vec![1.0, 0.0]);
        idx.insert(key(1), &v, key(10), "a".into(), later);
        idx.insert(key(2), &v, key(11), "b".into(), later);
        idx.insert(key(3), &v, key(12), "b".into(), later);
        idx.clear(Some("b"));
        assert_eq!(idx.len(), 1);
        assert_eq!(idx.search(&key(1), &v, 0.9, now).len(), 1);
        idx.forget(&key(1), &key(10));
        assert!(idx.is_empty());
        assert!(idx.search(&key(1), &v, 0.9, now).is_empty());
    }

    #[test]
    fn a_partition_outgrowing_brute_force_moves_into_the_graph_and_still_finds_its_vectors() {
        let idx = VectorIndex::new(usize::MAX, u64::MAX);
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let dims = 16;
        let n = FLAT_MAX + 200;
        for i in 0..n {
            let mut k = [0u8; 32];
            k[..8].copy_from_slice(&(i as u64).to_le_bytes());
            assert!(idx.insert(key(1), &spread(i, dims), k, "-".into(), later));
        }
        assert_eq!(idx.len(), n);
        for i in [0, FLAT_MAX / 2, FLAT_MAX + 100] {
            let found = idx.search(&key(1), &spread(i, dims), 0.999, now);
            assert_eq!(
                found.first().map(|m| m.key[..8].to_vec()),
                Some((i as u64).to_le_bytes().to_vec())
            );
        }
        let mut k = [0u8; 32];
        k[..8].copy_from_slice(&5u64.to_le_bytes());
        idx.forget(&key(1), &k);
        assert!(idx.search(&key(1), &spread(5, dims), 0.999, now).is_empty());
    }
}
