//! One partition's vectors: brute force while small, an HNSW graph (USearch) once larger.
//!
//! Vectors are unit length, so the inner product is the cosine similarity. Up to [`FLAT_MAX`]
//! vectors are kept contiguous and searched by brute force. The insert that goes past it builds
//! a graph of them — outside the partition's lock, on the inserting (blocking) thread, while
//! searches and further inserts go on against the flat vectors — then swaps it in, with the
//! vectors that came in meanwhile. A graph insert runs under the *read* lock (USearch inserts
//! and searches concurrently); only growing the graph's capacity, removals and the
//! bookkeeping take the write lock, briefly.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::cache::key::CacheKey;

/// The largest partition searched by brute force.
pub const FLAT_MAX: usize = 1024;
/// Graph capacity kept free ahead of concurrent inserts.
const HEADROOM: usize = 64;

/// What a vector stands for: the exact entry holding the answer.
#[derive(Clone)]
pub struct Meta {
    pub key: CacheKey,
    pub namespace: std::sync::Arc<str>,
    pub expires: Instant,
}

/// The vectors of one partition (behind a `RwLock`, see the module doc).
pub struct Partition {
    pub dims: usize,
    by_key: HashMap<CacheKey, u64>,
    pub meta: HashMap<u64, Meta>,
    /// Vectors searched by brute force: all of them until the graph exists, and those that
    /// came in while it was being built.
    flat_ids: Vec<u64>,
    flat: Vec<f32>,
    graph: Option<Index>,
    /// A graph is being built from a snapshot of the flat vectors.
    promoting: bool,
}

/// What an insert has left to do after its first, short write lock.
pub enum Pending {
    /// Nothing: stored (`true`) or refused (`false`).
    Done(bool),
    /// Add the vector to the graph, under the read lock.
    Graph,
    /// Stored in the flat vectors; build a graph of this snapshot (ids, floats).
    Promote(Vec<u64>, Vec<f32>),
}

/// A dot product the compiler vectorises (eight independent sums).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

impl Partition {
    pub fn new(dims: usize) -> Self {
        Partition {
            dims,
            by_key: HashMap::new(),
            meta: HashMap::new(),
            flat_ids: Vec::new(),
            flat: Vec::new(),
            graph: None,
            promoting: false,
        }
    }

    /// Candidates at least `threshold` similar to `query`: (id, similarity), unsorted.
    pub fn search(&self, query: &[f32], threshold: f32, want: usize) -> Vec<(u64, f32)> {
        let mut out: Vec<(u64, f32)> = self
            .flat_ids
            .iter()
            .zip(self.flat.chunks_exact(self.dims))
            .map(|(id, v)| (*id, dot(query, v)))
            .filter(|(_, s)| *s >= threshold)
            .collect();
        if let Some(g) = &self.graph {
            if let Ok(m) = g.search(query, want) {
                out.extend(
                    m.keys
                        .into_iter()
                        .zip(m.distances)
                        .map(|(id, d)| (id, 1.0 - d))
                        .filter(|(_, s)| *s >= threshold),
                );
            }
        }
        out
    }

    /// The first step of an insert, under the write lock: bookkeeping, and the vector itself
    /// unless it goes into the graph.
    pub fn begin_insert(&mut self, id: u64, v: &[f32], meta: Meta) -> Pending {
        if self.dims != v.len() || v.is_empty() {
            return Pending::Done(false);
        }
        if let Some(old) = self.by_key.get(&meta.key).copied() {
            // The same answer stored again (a refresh, or another instance's echo).
            if let Some(m) = self.meta.get_mut(&old) {
                m.expires = meta.expires;
            }
            return Pending::Done(false);
        }
        if let (Some(g), false) = (&self.graph, self.promoting) {
            if g.size() + HEADROOM > g.capacity()
                && g.reserve(g.capacity().saturating_mul(2) + HEADROOM)
                    .is_err()
            {
                return Pending::Done(false);
            }
            self.by_key.insert(meta.key, id);
            self.meta.insert(id, meta);
            return Pending::Graph;
        }
        self.by_key.insert(meta.key, id);
        self.meta.insert(id, meta);
        self.flat_ids.push(id);
        self.flat.extend_from_slice(v);
        if self.graph.is_none() && !self.promoting && self.flat_ids.len() > FLAT_MAX {
            self.promoting = true;
            return Pending::Promote(self.flat_ids.clone(), self.flat.clone());
        }
        Pending::Done(true)
    }

    /// Removes vector `id`.
    pub fn remove(&mut self, id: u64) {
        if let Some(m) = self.meta.remove(&id) {
            self.by_key.remove(&m.key);
        }
        if let Some(pos) = self.flat_ids.iter().position(|i| *i == id) {
            let last = self.flat_ids.len() - 1;
            self.flat_ids.swap_remove(pos);
            if pos != last {
                let d = self.dims;
                self.flat.copy_within(last * d..(last + 1) * d, pos * d);
            }
            self.flat.truncate(last * self.dims);
        } else if let Some(g) = &self.graph {
            let _ = g.remove(id);
        }
    }
}

/// Adds `v` as `id` to the graph of `p`, concurrently with searches; `false` when refused
/// (then its bookkeeping is undone).
pub fn graph_insert(p: &RwLock<Partition>, id: u64, v: &[f32]) -> bool {
    let added = {
        let guard = p.read().unwrap_or_else(PoisonError::into_inner);
        guard.graph.as_ref().is_some_and(|g| g.add(id, v).is_ok())
    };
    if !added {
        p.write().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
    added
}

/// Builds a graph of `ids`/`data` (no lock held), then swaps it into `p` with the vectors
/// inserted or removed meanwhile. On failure the partition stays flat.
pub fn promote(p: &RwLock<Partition>, dims: usize, ids: Vec<u64>, data: Vec<f32>) {
    let built = graph(dims, ids.len() * 2 + HEADROOM).filter(|g| {
        ids.iter()
            .zip(data.chunks_exact(dims))
            .all(|(id, v)| g.add(*id, v).is_ok())
    });
    let mut guard = p.write().unwrap_or_else(PoisonError::into_inner);
    guard.promoting = false;
    let Some(g) = built else {
        return;
    };
    let in_graph: std::collections::HashSet<u64> = ids.into_iter().collect();
    let part = &mut *guard;
    let mut keep_ids = Vec::new();
    let mut keep = Vec::new();
    for (id, v) in part.flat_ids.iter().zip(part.flat.chunks_exact(dims)) {
        if in_graph.contains(id) {
            continue;
        }
        if g.size() + 1 > g.capacity() {
            let _ = g.reserve(g.capacity().saturating_mul(2) + HEADROOM);
        }
        if g.add(*id, v).is_err() {
            // Stays searched by brute force.
            keep_ids.push(*id);
            keep.extend_from_slice(v);
        }
    }
    // Snapshot vectors removed while the graph was built.
    for id in &in_graph {
        if !part.meta.contains_key(id) {
            let _ = g.remove(*id);
        }
    }
    part.flat_ids = keep_ids;
    part.flat = keep;
    part.graph = Some(g);
}

/// An HNSW graph for `dims`-long unit vectors (inner product = cosine), room for `capacity`.
fn graph(dims: usize, capacity: usize) -> Option<Index> {
    let options = IndexOptions {
        dimensions: dims,
        metric: MetricKind::IP,
        quantization: ScalarKind::F32,
        ..IndexOptions::default()
    };
    let g = Index::new(&options).ok()?;
    g.reserve(capacity).ok()?;
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn meta(n: u64) -> Meta {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&n.to_le_bytes());
        Meta {
            key,
            namespace: "-".into(),
            expires: Instant::now() + Duration::from_secs(60),
        }
    }

    fn vector(n: u64) -> Vec<f32> {
        let mut rng = fastrand::Rng::with_seed(n);
        let mut v: Vec<f32> = (0..16).map(|_| rng.f32() - 0.5).collect();
        let norm = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    fn best(p: &RwLock<Partition>, n: u64) -> Option<u64> {
        let guard = p.read().unwrap();
        let mut found = guard.search(&vector(n), 0.999, 8);
        found.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        found.first().map(|(id, _)| *id)
    }

    #[test]
    fn vectors_inserted_or_removed_while_the_graph_is_built_are_carried_over() {
        let p = RwLock::new(Partition::new(16));
        let mut snapshot = None;
        for n in 0..=FLAT_MAX as u64 {
            let pending = p.write().unwrap().begin_insert(n, &vector(n), meta(n));
            if let Pending::Promote(ids, data) = pending {
                snapshot = Some((ids, data));
            }
        }
        let (ids, data) = snapshot.expect("the insert past FLAT_MAX asks for a graph");
        // Meanwhile: one more vector, and one of the snapshot's removed.
        let late = FLAT_MAX as u64 + 1;
        assert!(matches!(
            p.write()
                .unwrap()
                .begin_insert(late, &vector(late), meta(late)),
            Pending::Done(true)
        ));
        p.write().unwrap().remove(3);
        promote(&p, 16, ids, data);
        assert!(p.read().unwrap().graph.is_some());
        assert!(p.read().unwrap().flat_ids.is_empty());
        assert_eq!(best(&p, late), Some(late));
        assert_eq!(best(&p, 7), Some(7));
        assert_eq!(best(&p, 3), None, "removed while the graph was built");
        // After the swap, inserts go into the graph.
        let after = late + 1;
        assert!(matches!(
            p.write()
                .unwrap()
                .begin_insert(after, &vector(after), meta(after)),
            Pending::Graph
        ));
        assert!(graph_insert(&p, after, &vector(after)));
        assert_eq!(best(&p, after), Some(after));
    }

    #[test]
    fn a_vector_of_another_length_is_refused() {
        let mut p = Partition::new(16);
        assert!(matches!(
            p.begin_insert(1, &[1.0; 8], meta(1)),
            Pending::Done(false)
        ));
        assert!(p.meta.is_empty());
    }
}
