//! Criterion bench of the in-process hot path, an acquire over three limits (a key's requests
//! and tokens per minute, its workspace's requests per day):
//! `cargo bench -p switchyard-limits --bench limits`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_limits::{Counters, Limit, MemoryCounters, Window};

const LIMITS: [Limit<'static>; 3] = [
    Limit {
        key: "key:key_1:requests:rpm",
        window: Window::Minute,
        max: u64::MAX / 2,
        take: 1,
    },
    Limit {
        key: "key:key_1:tokens:rpm",
        window: Window::Minute,
        max: u64::MAX / 2,
        take: 512,
    },
    Limit {
        key: "workspace:ws_1:requests:rpd",
        window: Window::Day,
        max: u64::MAX / 2,
        take: 1,
    },
];

/// Polls a future that never waits (the memory backend's) to its end.
fn ready<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(f).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the memory backend never waits"),
    }
}

fn acquire(c: &mut Criterion) {
    let counters = Counters::memory();
    c.bench_function("memory_acquire_3_limits", |b| {
        b.iter(|| {
            let a = ready(counters.acquire(black_box(&LIMITS))).unwrap();
            assert!(a.allowed);
            a
        })
    });
    let memory = MemoryCounters::new();
    c.bench_function("memory_acquire_3_limits_refused", |b| {
        let full = LIMITS.map(|l| Limit { max: 0, ..l });
        b.iter(|| memory.acquire(black_box(&full)))
    });
}

criterion_group!(benches, acquire);
criterion_main!(benches);
