//! The semantic cache's lookup cost: one search of a partition holding 1,024 (brute force),
//! 10,000 and 100,000 (HNSW graph) vectors of 1,536 dimensions (OpenAI's
//! text-embedding-3-small), the worst case where every entry shares one partition.
//!
//! `cargo bench -p switchyard-gateway --bench semantic` (building the 100k index takes a
//! while); numbers in docs/benchmarks.md.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_gateway::cache::semantic::index::{normalize, VectorIndex, FLAT_MAX};

const DIMS: usize = 1536;

fn vector(rng: &mut fastrand::Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIMS).map(|_| rng.f32() - 0.5).collect();
    normalize(&mut v);
    v
}

fn filled(n: usize) -> (VectorIndex, Vec<f32>) {
    let idx = VectorIndex::new(usize::MAX, u64::MAX);
    let later = Instant::now() + Duration::from_secs(3600);
    let probe = vector(&mut fastrand::Rng::with_seed(n as u64 / 2));
    // Two threads insert (graph inserts run concurrently), as the gateway's blocking pool does.
    let started = Instant::now();
    std::thread::scope(|s| {
        for half in 0..2 {
            let idx = &idx;
            s.spawn(move || {
                for i in (half..n).step_by(2) {
                    let v = vector(&mut fastrand::Rng::with_seed(i as u64));
                    let mut key = [0u8; 32];
                    key[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    idx.insert([1; 32], &v, key, "-".into(), later);
                }
            });
        }
    });
    let took = started.elapsed();
    eprintln!(
        "filled {n} vectors in {took:?}: {:?} of CPU per insert",
        took * 2 / u32::try_from(n).unwrap_or(u32::MAX)
    );
    let mut probe = probe;
    // A query close to a stored vector, as a rephrased question is.
    for (i, x) in probe.iter_mut().enumerate() {
        if i % 50 == 0 {
            *x += 0.01;
        }
    }
    normalize(&mut probe);
    (idx, probe)
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("semantic_lookup");
    for (name, n) in [
        ("flat_1024", FLAT_MAX),
        ("hnsw_10k", 10_000),
        ("hnsw_100k", 100_000),
    ] {
        let (idx, probe) = filled(n);
        let now = Instant::now();
        assert_eq!(idx.search(&[1; 32], &probe, 0.95, now).len(), 1);
        g.bench_function(name, |b| {
            b.iter(|| idx.search(&[1; 32], std::hint::black_box(&probe), 0.95, now))
        });
    }
    g.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
