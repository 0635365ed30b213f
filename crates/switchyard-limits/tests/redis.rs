//! The Redis counters against the real server at 127.0.0.1:6379 (`SWITCHYARD_TEST_REDIS` to point
//! elsewhere). Each test works under a random prefix and deletes its keys at the end.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use redis::AsyncCommands;
use switchyard_limits::{Counters, Limit, LimitsError, Window};

const TIMEOUT: Duration = Duration::from_secs(2);
/// Outer bound on calls to an unreachable Redis: well above the counters' own timeout, so only
/// a hang trips it.
const HANG: Duration = Duration::from_secs(10);

fn url() -> String {
    std::env::var("SWITCHYARD_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn unique_prefix() -> String {
    format!("sy-limits-test:{:016x}:", fastrand::u64(..))
}

/// A node: its own client and connection.
fn node(prefix: &str) -> Counters {
    Counters::redis(
        redis::Client::open(url()).unwrap(),
        prefix.to_owned(),
        TIMEOUT,
    )
}

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Deletes every key under `prefix`.
async fn cleanup(prefix: &str) {
    let mut c = raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut c)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = c.del(keys).await.unwrap();
    }
}

/// The server's clock, in epoch ms.
async fn server_ms() -> u64 {
    let (s, us): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut raw().await)
        .await
        .unwrap();
    s * 1000 + us / 1000
}

fn limit(key: &str, window: Window, max: u64, take: u64) -> Limit<'_> {
    Limit {
        key,
        window,
        max,
        take,
    }
}

#[tokio::test]
async fn requests_limit_admits_exactly_max_then_refuses_with_retry_after() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let rph = [limit("key:k1:requests:rph", Window::Hour, 5, 1)];
    for left in (0..5).rev() {
        let a = c.acquire(&rph).await.unwrap();
        assert!(a.allowed);
        assert_eq!(a.states[0].remaining, left);
        assert_eq!(a.ticket.len(), 1);
    }
    let refused = c.acquire(&rph).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.refused, Some(0));
    assert!(refused.ticket.is_empty());
    let reset = refused.states[0].reset;
    assert!(reset > Duration::ZERO && reset <= Window::Hour.duration());
    // 5 taken in this window: one more fits 1/5 of the way into the next.
    let wait = reset + Window::Hour.duration() / 5;
    let diff = refused.retry_after.abs_diff(wait);
    assert!(diff <= Duration::from_millis(1), "{refused:?}");

    // The window's key, named by its epoch index, expires after two windows.
    let index = server_ms().await / 3_600_000;
    let key = format!("{prefix}rl:key:k1:requests:rph:{index}");
    let mut r = raw().await;
    let count: Option<u64> = r.get(&key).await.unwrap();
    let ttl: i64 = r.pttl(&key).await.unwrap();
    assert_eq!(count, Some(5), "{key}");
    assert!(ttl > 7_000_000 && ttl <= 7_200_000, "{ttl}");
    cleanup(&prefix).await;
}

#[tokio::test]
async fn previous_window_weight_lets_in_the_sliding_estimate() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    // The previous day's window took all 1000; its weight has fallen by the share of today
    // already gone.
    let day = 86_400_000;
    let now = server_ms().await;
    let index = now / day;
    let _: () = raw()
        .await
        .set(format!("{prefix}rl:tokens:{}", index - 1), 1000)
        .await
        .unwrap();
    let free = ((now - index * day) as f64 / day as f64 * 1000.0).floor() as u64;
    let state = c
        .acquire(&[limit("tokens", Window::Day, 1000, 0)])
        .await
        .unwrap()
        .states[0];
    assert!(state.remaining.abs_diff(free) <= 1, "{state:?} vs {free}");
    let a = c
        .acquire(&[limit("tokens", Window::Day, 1000, state.remaining)])
        .await
        .unwrap();
    assert!(a.allowed);
    // 0, or 1 if a day's 1/1000 passed between the two calls.
    assert!(a.states[0].remaining <= 1, "{a:?}");
    let refused = c
        .acquire(&[limit("tokens", Window::Day, 1000, 2)])
        .await
        .unwrap();
    assert!(!refused.allowed);
    // Admitted once the previous day's weight falls by one or two tokens' worth.
    assert!(refused.retry_after > Duration::ZERO);
    assert!(refused.retry_after <= Duration::from_secs(3 * 86_400 / 1000));
    cleanup(&prefix).await;
}

#[tokio::test]
async fn a_refusal_by_one_limit_takes_nothing_from_the_others() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let both = [
        limit("key:k1:requests:rph", Window::Hour, 10, 1),
        limit("ws:w1:requests:rph", Window::Hour, 2, 1),
    ];
    assert!(c.acquire(&both).await.unwrap().allowed);
    assert!(c.acquire(&both).await.unwrap().allowed);
    let refused = c.acquire(&both).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.refused, Some(1));
    assert_eq!(refused.states[0].remaining, 8);
    assert_eq!(refused.states[1].remaining, 0);
    let a = c
        .acquire(&[limit("key:k1:requests:rph", Window::Hour, 10, 8)])
        .await
        .unwrap();
    assert!(a.allowed);
    assert_eq!(a.states[0].remaining, 0);
    cleanup(&prefix).await;
}

#[tokio::test]
async fn token_take_larger_than_max_is_refused_on_an_empty_window() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let a = c
        .acquire(&[limit("t", Window::Hour, 100, 101)])
        .await
        .unwrap();
    assert!(!a.allowed);
    assert_eq!(a.states[0].remaining, 100);
    assert!(a.retry_after > Window::Hour.duration());
    assert!(a.retry_after <= 2 * Window::Hour.duration());
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw().await)
        .await
        .unwrap();
    assert!(keys.is_empty(), "a refusal wrote {keys:?}");
}

#[tokio::test]
async fn settlement_returns_tokens_and_never_goes_below_zero() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let tokens = |take| [limit("key:k1:tokens:rph", Window::Hour, 1000, take)];
    let a = c.acquire(&tokens(800)).await.unwrap();
    assert!(a.allowed);
    assert!(!c.acquire(&tokens(300)).await.unwrap().allowed);
    c.settle(&a.ticket, 0, -500).await.unwrap();
    let b = c.acquire(&tokens(700)).await.unwrap();
    assert!(b.allowed);
    assert_eq!(b.states[0].remaining, 0);
    c.settle(&b.ticket, 0, 1).await.unwrap();
    assert!(!c.acquire(&tokens(1)).await.unwrap().allowed);
    c.settle(&a.ticket, 0, -1_000_000).await.unwrap();
    assert_eq!(
        c.acquire(&tokens(0)).await.unwrap().states[0].remaining,
        1000
    );
    // Clamped at zero, the key keeps its expiry.
    let index = server_ms().await / 3_600_000;
    let key = format!("{prefix}rl:key:k1:tokens:rph:{index}");
    let mut r = raw().await;
    let count: Option<u64> = r.get(&key).await.unwrap();
    let ttl: i64 = r.pttl(&key).await.unwrap();
    assert_eq!(count, Some(0));
    assert!(ttl > 0, "{ttl}");
    cleanup(&prefix).await;
}

#[tokio::test]
async fn settling_after_the_window_expired_is_a_no_op() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let a = c
        .acquire(&[limit("t", Window::Minute, 1000, 10)])
        .await
        .unwrap();
    assert!(a.allowed);
    // The window's key expires (here: is deleted) before the answer is settled.
    cleanup(&prefix).await;
    c.settle(&a.ticket, 0, 500).await.unwrap();
    c.settle(&a.ticket, 0, -5).await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut raw().await)
        .await
        .unwrap();
    assert!(keys.is_empty(), "settling re-created {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_enforce_one_limit_exactly() {
    let prefix = unique_prefix();
    let (a, b) = (node(&prefix), node(&prefix));
    // Both connected before the race, so their calls interleave.
    a.spend_get(&["warm"]).await.unwrap();
    b.spend_get(&["warm"]).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move {
            let r = c
                .acquire(&[
                    limit("key:k1:requests:rpd", Window::Day, 50, 1),
                    limit("ws:w1:requests:rpd", Window::Day, 1000, 1),
                ])
                .await
                .unwrap();
            (i % 2, r.allowed)
        });
    }
    let mut allowed = [0, 0];
    while let Some(r) = tasks.join_next().await {
        let (node, ok) = r.unwrap();
        allowed[node] += usize::from(ok);
    }
    assert_eq!(allowed[0] + allowed[1], 50, "{allowed:?}");
    // Refusals took nothing from the second limit either.
    let state = a
        .acquire(&[limit("ws:w1:requests:rpd", Window::Day, 1000, 0)])
        .await
        .unwrap()
        .states[0];
    assert_eq!(state.remaining, 950);
    cleanup(&prefix).await;
}

#[tokio::test]
async fn spend_adds_from_two_nodes_sum_exactly() {
    let prefix = unique_prefix();
    let (a, b) = (node(&prefix), node(&prefix));
    let ttl = Duration::from_secs(3600);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move { c.spend_add("ws:w1:2026-05", 0.25, ttl).await.unwrap() });
    }
    let mut totals = Vec::new();
    while let Some(r) = tasks.join_next().await {
        totals.push(r.unwrap());
    }
    // Every add saw a distinct running total.
    totals.sort_by(f64::total_cmp);
    totals.dedup();
    assert_eq!(totals.len(), 200);
    assert_eq!(
        a.spend_get(&["ws:w1:2026-05", "absent"]).await.unwrap(),
        vec![Some(50.0), None]
    );
    let ttl_ms: i64 = raw()
        .await
        .pttl(format!("{prefix}spend:ws:w1:2026-05"))
        .await
        .unwrap();
    assert!(ttl_ms > 3_500_000 && ttl_ms <= 3_600_000, "{ttl_ms}");
    cleanup(&prefix).await;
}

#[tokio::test]
async fn spend_seed_does_not_overwrite() {
    let prefix = unique_prefix();
    let c = node(&prefix);
    let ttl = Duration::from_secs(60);
    c.spend_seed("a", 12.5, ttl).await.unwrap();
    c.spend_seed("a", 99.0, ttl).await.unwrap();
    assert_eq!(c.spend_add("a", 0.5, ttl).await.unwrap(), 13.0);
    c.spend_seed("a", 99.0, ttl).await.unwrap();
    assert_eq!(
        c.spend_get(&["a", "b"]).await.unwrap(),
        vec![Some(13.0), None]
    );
    assert_eq!(c.spend_get(&[]).await.unwrap(), Vec::<Option<f64>>::new());
    cleanup(&prefix).await;
}

#[tokio::test]
async fn no_limits_is_allowed_without_redis() {
    let c = Counters::redis(
        redis::Client::open("redis://127.0.0.1:1").unwrap(),
        "x:".to_owned(),
        TIMEOUT,
    );
    let a = c.acquire(&[]).await.unwrap();
    assert!(a.allowed && a.states.is_empty() && a.ticket.is_empty());
}

/// Every call on `down` is `Unavailable`, and returns (within `HANG`); `ticket_from` makes a real
/// ticket to settle.
async fn every_call_is_unavailable(down: &Counters, up: &Counters) {
    let rl = [limit("t", Window::Hour, 10, 1)];
    let ticket = up.acquire(&rl).await.unwrap().ticket;
    let unavailable = |r: Result<(), LimitsError>, what: &str| match r {
        Err(LimitsError::Unavailable(why)) => assert!(!why.is_empty()),
        Ok(()) => panic!("{what} succeeded"),
    };
    for _ in 0..2 {
        let r = tokio::time::timeout(HANG, down.acquire(&rl)).await.unwrap();
        unavailable(r.map(drop), "acquire");
        let r = tokio::time::timeout(HANG, down.settle(&ticket, 0, -1))
            .await
            .unwrap();
        unavailable(r, "settle");
        let r = tokio::time::timeout(HANG, down.spend_add("s", 1.0, TIMEOUT))
            .await
            .unwrap();
        unavailable(r.map(drop), "spend_add");
        let r = tokio::time::timeout(HANG, down.spend_get(&["s"]))
            .await
            .unwrap();
        unavailable(r.map(drop), "spend_get");
        let r = tokio::time::timeout(HANG, down.spend_seed("s", 1.0, TIMEOUT))
            .await
            .unwrap();
        unavailable(r, "spend_seed");
    }
}

#[tokio::test]
async fn unreachable_redis_is_unavailable_not_a_hang() {
    let prefix = unique_prefix();
    let up = node(&prefix);
    let down = Counters::redis(
        redis::Client::open("redis://127.0.0.1:1").unwrap(),
        prefix.clone(),
        Duration::from_millis(300),
    );
    every_call_is_unavailable(&down, &up).await;
    cleanup(&prefix).await;
}

#[tokio::test]
async fn a_redis_that_never_answers_is_unavailable_within_the_timeout() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let prefix = unique_prefix();
    let up = node(&prefix);
    let down = Counters::redis(
        redis::Client::open(format!("redis://{addr}")).unwrap(),
        prefix.clone(),
        Duration::from_millis(300),
    );
    let started = tokio::time::Instant::now();
    every_call_is_unavailable(&down, &up).await;
    // Ten calls: one waits out the timeout connecting, the rest fail at once until a second
    // has passed.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    silent.abort();
    cleanup(&prefix).await;
}

#[tokio::test]
async fn a_redis_that_comes_up_later_is_used_once_reachable() {
    // A port with nothing behind it yet.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let prefix = unique_prefix();
    let c = Counters::redis(
        redis::Client::open(format!("redis://{addr}")).unwrap(),
        prefix.clone(),
        Duration::from_millis(300),
    );
    let rl = [limit("t", Window::Hour, 10, 1)];
    let r = tokio::time::timeout(HANG, c.acquire(&rl)).await.unwrap();
    assert!(matches!(r, Err(LimitsError::Unavailable(_))), "{r:?}");
    // Redis appears there (a proxy to the real one).
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let redis_addr = url().trim_start_matches("redis://").to_owned();
    let proxy = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let redis_addr = redis_addr.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(redis_addr).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    // The next attempt comes at most a second after the failed one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = tokio::time::timeout(HANG, c.acquire(&rl))
        .await
        .unwrap()
        .unwrap();
    assert!(a.allowed);
    proxy.abort();
    cleanup(&prefix).await;
}
