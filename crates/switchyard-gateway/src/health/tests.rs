use std::sync::{Arc, Barrier};

use http::StatusCode;
use serde_json::json;
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::time::advance;

use super::*;
use crate::config::gateway::{self, BuildInput, Origin};
use crate::config::providers::Providers;
use crate::ssrf::TrustedHosts;

const PATH: &str = "config.targets[0]";

fn tracker() -> HealthTracker {
    HealthTracker::new(CircuitBreakerSettings::default())
}

fn id(n: u64) -> TargetId {
    TargetId::from_raw(n)
}

fn record(t: &HealthTracker, id: TargetId, v: Verdict) {
    t.acquire(id, PATH, "openai").record(v);
}

fn fail_n(t: &HealthTracker, id: TargetId, n: u32) {
    for _ in 0..n {
        record(t, id, Verdict::Failure);
    }
}

fn open_for(t: &HealthTracker, id: TargetId) -> Duration {
    match t.state(id) {
        CircuitState::Open { remaining } => remaining,
        other => panic!("expected an open circuit, got {other:?}"),
    }
}

fn upstream(status: u16) -> GatewayError {
    GatewayError::Upstream {
        status: StatusCode::from_u16(status).unwrap(),
        envelope: ErrorEnvelope::new(ErrorKind::for_status(status), "x"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_names_circuits_by_path_and_provider_with_their_state() {
    let t = tracker();
    assert!(t.snapshot().is_empty());
    fail_n(&t, id(1), 5);
    t.acquire(id(2), "config.targets[1]", "anthropic")
        .record(Verdict::Failure);
    let snap = t.snapshot();
    assert_eq!(snap.len(), 2);
    assert_eq!(&*snap[0].target, PATH);
    assert_eq!(&*snap[0].provider, "openai");
    assert_eq!(snap[0].failures, 5);
    assert!(matches!(snap[0].state, CircuitState::Open { .. }));
    assert_eq!(&*snap[1].target, "config.targets[1]");
    assert_eq!(snap[1].state, CircuitState::Closed { failures: 1 });
    record(&t, id(1), Verdict::Success);
    assert_eq!(t.snapshot().len(), 1, "a closed circuit is forgotten");
}

#[tokio::test(start_paused = true)]
async fn opens_after_the_threshold_of_consecutive_failures() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 4);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 4 });
    assert!(t.is_available(a));
    assert!(t.try_acquire(a, PATH, "openai").is_some());
    record(&t, a, Verdict::Failure);
    assert_eq!(open_for(&t, a), Duration::from_secs(30));
    assert!(!t.is_available(a));
    assert!(t.try_acquire(a, PATH, "openai").is_none());
    // An explicit choice still goes through, but is not a probe.
    let forced = t.acquire(a, PATH, "openai");
    assert!(!forced.is_probe());
    forced.record(Verdict::Failure);
    assert_eq!(
        open_for(&t, a),
        Duration::from_secs(30),
        "forced traffic does not extend the cooldown"
    );
    assert!(t.is_available(id(2)), "other targets are unaffected");
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_count_and_forgets_the_target() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 4);
    assert_eq!(t.tracked(), 1);
    record(&t, a, Verdict::Success);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 0 });
    assert_eq!(t.tracked(), 0, "healthy targets take no memory");
    fail_n(&t, a, 4);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 4 });
}

#[tokio::test(start_paused = true)]
async fn neutral_outcomes_neither_count_nor_reset() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 4);
    for _ in 0..10 {
        record(&t, a, Verdict::Neutral);
    }
    assert_eq!(t.state(a), CircuitState::Closed { failures: 4 });
    record(&t, a, Verdict::Failure);
    assert!(matches!(t.state(a), CircuitState::Open { .. }));
}

#[test]
fn client_errors_are_not_failures() {
    for s in [500, 502, 503, 504, 529, 429, 408] {
        assert_eq!(Verdict::of_error(&upstream(s)), Verdict::Failure, "{s}");
    }
    for s in [400, 401, 403, 404, 409, 413, 422] {
        assert_eq!(Verdict::of_error(&upstream(s)), Verdict::Neutral, "{s}");
    }
    assert_eq!(
        Verdict::of_error(&GatewayError::Timeout { ms: 10 }),
        Verdict::Failure
    );
    assert_eq!(
        Verdict::of_error(&GatewayError::UpstreamUnreachable("refused".into())),
        Verdict::Failure
    );
    assert_eq!(
        Verdict::of_error(&GatewayError::UpstreamStream("reset".into())),
        Verdict::Failure
    );
    assert_eq!(
        Verdict::of_error(&GatewayError::bad_request("no", None)),
        Verdict::Neutral
    );
    assert_eq!(
        Verdict::of_error(&GatewayError::Internal("bug".into())),
        Verdict::Neutral
    );
}

#[tokio::test(start_paused = true)]
async fn four_hundreds_never_open_a_circuit() {
    let t = tracker();
    let a = id(1);
    for _ in 0..50 {
        record(&t, a, Verdict::of_error(&upstream(400)));
    }
    assert_eq!(t.state(a), CircuitState::Closed { failures: 0 });
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_exactly_one_probe_under_concurrency() {
    let t = Arc::new(tracker());
    let a = id(7);
    fail_n(&t, a, 5);
    advance(Duration::from_secs(29)).await;
    assert!(
        t.try_acquire(a, PATH, "openai").is_none(),
        "still cooling down"
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(t.state(a), CircuitState::HalfOpen { probing: false });

    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let handle = tokio::runtime::Handle::current();
    let results: Vec<(bool, bool)> = std::thread::scope(|s| {
        let spawned: Vec<_> = (0..threads)
            .map(|_| {
                let (t, barrier, handle) = (t.clone(), barrier.clone(), handle.clone());
                s.spawn(move || {
                    // The runtime's (paused) clock.
                    let _rt = handle.enter();
                    barrier.wait();
                    let permit = t.try_acquire(a, PATH, "openai");
                    let got = (
                        permit.is_some(),
                        permit.as_ref().is_some_and(Permit::is_probe),
                    );
                    // Hold the probe: dropping it would give it back.
                    std::mem::forget(permit);
                    got
                })
            })
            .collect();
        spawned.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|(some, _)| *some).count(), 1);
    assert_eq!(results.iter().filter(|(_, probe)| *probe).count(), 1);
    assert_eq!(t.state(a), CircuitState::HalfOpen { probing: true });
    assert!(!t.is_available(a));
    // A forced request while the probe is out is not a second probe.
    assert!(!t.acquire(a, PATH, "openai").is_probe());
}

#[tokio::test(start_paused = true)]
async fn a_successful_probe_closes_the_circuit() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 5);
    advance(Duration::from_secs(30)).await;
    let probe = t.try_acquire(a, PATH, "openai").unwrap();
    assert!(probe.is_probe());
    probe.record(Verdict::Success);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 0 });
    assert_eq!(t.tracked(), 0);
    // Back to the full threshold, and the base cooldown.
    fail_n(&t, a, 4);
    assert!(t.is_available(a));
    record(&t, a, Verdict::Failure);
    assert_eq!(open_for(&t, a), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn failed_probes_double_the_cooldown_up_to_the_cap() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 5);
    let mut cooldown = Duration::from_secs(30);
    for expected in [60, 120, 240, 300, 300] {
        advance(cooldown).await;
        let probe = t.try_acquire(a, PATH, "openai").unwrap();
        assert!(probe.is_probe());
        probe.record(Verdict::Failure);
        cooldown = open_for(&t, a);
        assert_eq!(cooldown, Duration::from_secs(expected));
        advance(cooldown - Duration::from_millis(1)).await;
        assert!(t.try_acquire(a, PATH, "openai").is_none());
        advance(Duration::from_millis(1)).await;
        cooldown = Duration::ZERO;
    }
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_or_inconclusive_probe_is_given_back() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 5);
    advance(Duration::from_secs(30)).await;
    // The request was cancelled.
    drop(t.try_acquire(a, PATH, "openai").unwrap());
    assert_eq!(t.state(a), CircuitState::HalfOpen { probing: false });
    // The probe got a 400: it says nothing about the target.
    let probe = t.try_acquire(a, PATH, "openai").unwrap();
    assert!(probe.is_probe());
    probe.record(Verdict::Neutral);
    assert_eq!(t.state(a), CircuitState::HalfOpen { probing: false });
    assert!(t.try_acquire(a, PATH, "openai").unwrap().is_probe());
}

#[tokio::test(start_paused = true)]
async fn a_forced_success_closes_an_open_circuit() {
    let t = tracker();
    let a = id(1);
    fail_n(&t, a, 5);
    record(&t, a, Verdict::Success);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 0 });
}

#[tokio::test(start_paused = true)]
async fn idle_entries_are_evicted_after_an_hour() {
    let t = tracker();
    // Same shard (the shard is chosen by the high bits).
    let (a, b) = (id(1), id(2));
    fail_n(&t, a, 5);
    assert_eq!(t.tracked(), 1);
    advance(Duration::from_secs(30 * 60)).await;
    record(&t, b, Verdict::Failure);
    assert_eq!(t.tracked(), 2, "half an hour is not idle enough");
    advance(IDLE_EVICTION).await;
    record(&t, b, Verdict::Failure);
    assert_eq!(t.tracked(), 1);
    assert_eq!(t.state(a), CircuitState::Closed { failures: 0 });
    assert_eq!(t.state(b), CircuitState::Closed { failures: 2 });
}

#[tokio::test(start_paused = true)]
async fn memory_is_capped() {
    let t = tracker();
    for n in 0..20_000u64 {
        record(
            &t,
            id(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            Verdict::Failure,
        );
    }
    assert!(t.tracked() <= SHARDS * SHARD_CAPACITY, "{}", t.tracked());
    assert!(t.tracked() > SHARD_CAPACITY);
}

#[tokio::test(start_paused = true)]
async fn a_full_shard_evicts_its_least_recently_seen_entry() {
    let t = tracker();
    // All in shard 0.
    for n in 0..SHARD_CAPACITY as u64 {
        record(&t, id(n), Verdict::Failure);
        advance(Duration::from_millis(1)).await;
    }
    fail_n(&t, id(5), 1);
    advance(Duration::from_millis(1)).await;
    record(&t, id(u32::MAX as u64), Verdict::Failure);
    assert_eq!(t.tracked(), SHARD_CAPACITY);
    assert_eq!(
        t.state(id(0)),
        CircuitState::Closed { failures: 0 },
        "oldest evicted"
    );
    assert_eq!(t.state(id(5)), CircuitState::Closed { failures: 2 });
}

#[tokio::test(start_paused = true)]
async fn disabled_tracks_nothing() {
    let t = HealthTracker::new(CircuitBreakerSettings {
        enabled: false,
        ..CircuitBreakerSettings::default()
    });
    let a = id(1);
    fail_n(&t, a, 100);
    assert_eq!(t.tracked(), 0);
    assert!(t.is_available(a));
    assert!(t.try_acquire(a, PATH, "openai").is_some());
}

#[tokio::test(start_paused = true)]
async fn settings_are_used() {
    let t = HealthTracker::new(CircuitBreakerSettings {
        enabled: true,
        failure_threshold: 2,
        cooldown: Duration::from_millis(200),
        max_cooldown: Duration::from_millis(500),
    });
    let a = id(1);
    fail_n(&t, a, 2);
    assert_eq!(open_for(&t, a), Duration::from_millis(200));
    advance(Duration::from_millis(200)).await;
    t.try_acquire(a, PATH, "openai")
        .unwrap()
        .record(Verdict::Failure);
    assert_eq!(open_for(&t, a), Duration::from_millis(400));
    advance(Duration::from_millis(400)).await;
    t.try_acquire(a, PATH, "openai")
        .unwrap()
        .record(Verdict::Failure);
    assert_eq!(open_for(&t, a), Duration::from_millis(500));
}

fn leaf_of(t: &HealthTracker, config: serde_json::Value) -> TargetId {
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    let input = BuildInput::new(&providers, Origin::Server, &trusted);
    let node = gateway::build(&config, "config", &input).unwrap();
    let leaves = node.leaves();
    t.identity(leaves[0])
}

#[test]
fn identity_is_stable_and_tells_targets_apart() {
    let t = tracker();
    let base =
        json!({"provider": "openai", "api_key": "sk-a", "custom_host": "http://127.0.0.1:9/v1"});
    let same = leaf_of(&t, base.clone());
    assert_eq!(
        same,
        leaf_of(&t, base.clone()),
        "same target, same identity"
    );
    // Inside a group, with an unrelated weight and retry: still the same target.
    let grouped = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"provider": "openai", "api_key": "sk-a", "custom_host": "http://127.0.0.1:9/v1", "weight": 3, "retry": {"attempts": 2}}
    ]});
    assert_eq!(same, leaf_of(&t, grouped));
    let variants = [
        json!({"provider": "openai", "api_key": "sk-b", "custom_host": "http://127.0.0.1:9/v1"}),
        json!({"provider": "openai", "api_key": "sk-a", "custom_host": "http://127.0.0.1:10/v1"}),
        json!({"provider": "groq", "api_key": "sk-a", "custom_host": "http://127.0.0.1:9/v1"}),
        json!({"provider": "openai", "api_key": "sk-a", "custom_host": "http://127.0.0.1:9/v1", "override_params": {"model": "gpt-4o"}}),
    ];
    for v in variants {
        assert_ne!(same, leaf_of(&t, v.clone()), "{v}");
    }
    // Other override params are not part of the target.
    assert_eq!(
        same,
        leaf_of(
            &t,
            json!({"provider": "openai", "api_key": "sk-a", "custom_host": "http://127.0.0.1:9/v1", "override_params": {"temperature": 0}})
        )
    );
}
