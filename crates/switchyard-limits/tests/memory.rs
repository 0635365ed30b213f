//! The in-process counters on a paused clock: windows start exactly where each test says.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use switchyard_limits::{Counters, Limit, Window};
use tokio::time::advance;

const MINUTE: Duration = Duration::from_secs(60);

/// Memory counters whose clock starts on a day boundary (so on a minute and an hour one too).
fn counters() -> Counters {
    Counters::memory_with_origin(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_006_400))
}

fn limit(key: &str, window: Window, max: u64, take: u64) -> Limit<'_> {
    Limit {
        key,
        window,
        max,
        take,
    }
}

/// How many single takes `key` admits now (each one taken).
async fn admitted(c: &Counters, key: &str, max: u64) -> u64 {
    let mut n = 0;
    while c
        .acquire(&[limit(key, Window::Minute, max, 1)])
        .await
        .unwrap()
        .allowed
    {
        n += 1;
        assert!(n <= max, "admitted more than max");
    }
    n
}

#[tokio::test(start_paused = true)]
async fn requests_limit_admits_exactly_max_then_refuses_with_retry_after() {
    let c = counters();
    let rpm = [limit("key:k1:requests:rpm", Window::Minute, 5, 1)];
    for left in (0..5).rev() {
        let a = c.acquire(&rpm).await.unwrap();
        assert!(a.allowed);
        assert_eq!(a.states[0].remaining, left);
        assert_eq!(a.states[0].max, 5);
        assert_eq!(a.ticket.len(), 1);
    }
    let refused = c.acquire(&rpm).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.refused, Some(0));
    assert_eq!(refused.states[0].remaining, 0);
    assert_eq!(refused.states[0].reset, MINUTE);
    assert!(refused.ticket.is_empty());
    // 5 taken at the window's start: the next window admits one more once the previous
    // window's weight is down to 4, 12 s into it.
    assert_eq!(refused.retry_after, Duration::from_secs(72));

    advance(refused.retry_after - Duration::from_millis(1)).await;
    assert!(!c.acquire(&rpm).await.unwrap().allowed);
    advance(Duration::from_millis(1)).await;
    assert!(c.acquire(&rpm).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn reset_is_the_time_until_the_window_ends() {
    let c = counters();
    advance(Duration::from_secs(20)).await;
    let a = c
        .acquire(&[
            limit("m", Window::Minute, 5, 1),
            limit("h", Window::Hour, 5, 1),
        ])
        .await
        .unwrap();
    assert_eq!(a.states[0].reset, Duration::from_secs(40));
    assert_eq!(a.states[1].reset, Duration::from_secs(3580));
}

#[tokio::test(start_paused = true)]
async fn previous_window_weight_lets_in_the_sliding_estimate() {
    let c = counters();
    assert_eq!(admitted(&c, "k", 10).await, 10);
    // Halfway through the next window the previous one weighs 5 of 10.
    advance(MINUTE + MINUTE / 2).await;
    assert_eq!(admitted(&c, "k", 10).await, 5);
    // A quarter later it weighs 2.5: 2 more fit (5 + 2.5 + 2 ≤ 10, not 3).
    advance(MINUTE / 4).await;
    assert_eq!(admitted(&c, "k", 10).await, 2);
    // Two windows on, nothing counts.
    advance(2 * MINUTE).await;
    assert_eq!(admitted(&c, "k", 10).await, 10);
}

#[tokio::test(start_paused = true)]
async fn a_refusal_by_one_limit_takes_nothing_from_the_others() {
    let c = counters();
    let both = [
        limit("key:k1:requests:rpm", Window::Minute, 10, 1),
        limit("ws:w1:requests:rpm", Window::Minute, 2, 1),
    ];
    assert!(c.acquire(&both).await.unwrap().allowed);
    assert!(c.acquire(&both).await.unwrap().allowed);
    let refused = c.acquire(&both).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.refused, Some(1));
    // The first limit admitted the take, yet nothing was taken from it: 8 left, not 7.
    assert_eq!(refused.states[0].remaining, 8);
    assert_eq!(refused.states[1].remaining, 0);
    assert!(refused.retry_after > Duration::ZERO);
    let first = [limit("key:k1:requests:rpm", Window::Minute, 10, 8)];
    let a = c.acquire(&first).await.unwrap();
    assert!(a.allowed);
    assert_eq!(a.states[0].remaining, 0);
    // A key never seen before is left empty too.
    let fresh = limit("key:k2:requests:rpm", Window::Minute, 1, 1);
    assert!(!c.acquire(&[fresh, both[1]]).await.unwrap().allowed);
    assert!(c.acquire(&[fresh]).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn retry_after_covers_every_refusing_limit() {
    let c = counters();
    let day = limit("d", Window::Day, 1, 1);
    let minute = limit("m", Window::Minute, 1, 1);
    assert!(c.acquire(&[minute, day]).await.unwrap().allowed);
    let refused = c.acquire(&[minute, day]).await.unwrap();
    assert_eq!(refused.refused, Some(0));
    assert!(refused.retry_after > Duration::from_secs(86_400));
    assert!(refused.retry_after <= Duration::from_secs(2 * 86_400));
}

#[tokio::test(start_paused = true)]
async fn settlement_returns_tokens_and_never_goes_below_zero() {
    let c = counters();
    let tokens = |take| [limit("key:k1:tokens:rpm", Window::Minute, 1000, take)];
    let a = c.acquire(&tokens(800)).await.unwrap();
    assert!(a.allowed);
    assert!(!c.acquire(&tokens(300)).await.unwrap().allowed);
    // The answer used 300 of the 800 reserved.
    c.settle(&a.ticket, 0, -500).await.unwrap();
    let b = c.acquire(&tokens(700)).await.unwrap();
    assert!(b.allowed);
    assert_eq!(b.states[0].remaining, 0);
    // It used more than reserved: the excess counts.
    c.settle(&b.ticket, 0, 1).await.unwrap();
    assert_eq!(c.acquire(&tokens(0)).await.unwrap().states[0].remaining, 0);
    assert!(!c.acquire(&tokens(1)).await.unwrap().allowed);
    // Giving back far more than was taken leaves zero, not a credit.
    c.settle(&a.ticket, 0, -1_000_000).await.unwrap();
    assert!(c.acquire(&tokens(1000)).await.unwrap().allowed);
    assert!(!c.acquire(&tokens(1)).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn settlement_lands_in_the_window_of_the_reservation() {
    let c = counters();
    let tokens = |take| [limit("t", Window::Minute, 1000, take)];
    let a = c.acquire(&tokens(600)).await.unwrap();
    assert!(a.allowed);
    // Into the next window: the reservation now weighs as the previous window, in full.
    advance(MINUTE).await;
    assert_eq!(
        c.acquire(&tokens(0)).await.unwrap().states[0].remaining,
        400
    );
    let b = c.acquire(&tokens(100)).await.unwrap();
    assert!(b.allowed);
    c.settle(&a.ticket, 0, -600).await.unwrap();
    // The previous window is now empty; this window's 100 are untouched.
    assert_eq!(
        c.acquire(&tokens(0)).await.unwrap().states[0].remaining,
        900
    );
}

#[tokio::test(start_paused = true)]
async fn settling_after_the_window_expired_is_a_no_op() {
    let c = counters();
    let tokens = |take| [limit("t", Window::Minute, 1000, take)];
    let a = c.acquire(&tokens(1000)).await.unwrap();
    assert!(a.allowed);
    advance(2 * MINUTE).await;
    c.settle(&a.ticket, 0, 1000).await.unwrap();
    let b = c.acquire(&tokens(1000)).await.unwrap();
    assert!(b.allowed);
    // Neither does it touch the window that replaced it.
    c.settle(&a.ticket, 0, -1000).await.unwrap();
    assert!(!c.acquire(&tokens(1)).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn token_take_larger_than_max_is_refused_on_an_empty_window() {
    let c = counters();
    let a = c
        .acquire(&[limit("t", Window::Minute, 100, 101)])
        .await
        .unwrap();
    assert!(!a.allowed);
    assert_eq!(a.refused, Some(0));
    assert_eq!(a.states[0].remaining, 100);
    assert_eq!(a.retry_after, 2 * MINUTE);
    assert!(
        c.acquire(&[limit("t", Window::Minute, 100, 100)])
            .await
            .unwrap()
            .allowed
    );
}

#[tokio::test(start_paused = true)]
async fn no_limits_is_allowed() {
    let a = counters().acquire(&[]).await.unwrap();
    assert!(a.allowed);
    assert!(a.states.is_empty());
    assert!(a.ticket.is_empty());
    assert_eq!(a.retry_after, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn settle_ignores_empty_tickets_and_indexes_out_of_range() {
    let c = counters();
    let refused = c
        .acquire(&[limit("t", Window::Minute, 1, 2)])
        .await
        .unwrap();
    c.settle(&refused.ticket, 0, 5).await.unwrap();
    let a = c
        .acquire(&[limit("t", Window::Minute, 1, 1)])
        .await
        .unwrap();
    c.settle(&a.ticket, 3, -1).await.unwrap();
    assert!(
        !c.acquire(&[limit("t", Window::Minute, 1, 1)])
            .await
            .unwrap()
            .allowed
    );
}

#[tokio::test(start_paused = true)]
async fn spend_totals_add_seed_and_expire() {
    let c = counters();
    let ttl = Duration::from_secs(3600);
    assert_eq!(c.spend_get(&["a", "b"]).await.unwrap(), vec![None, None]);
    assert_eq!(c.spend_add("a", 1.25, ttl).await.unwrap(), 1.25);
    assert_eq!(c.spend_add("a", 0.5, ttl).await.unwrap(), 1.75);
    // Seeding leaves an existing total alone and fills a missing one.
    c.spend_seed("a", 100.0, ttl).await.unwrap();
    c.spend_seed("b", 7.5, ttl).await.unwrap();
    assert_eq!(
        c.spend_get(&["a", "b", "c"]).await.unwrap(),
        vec![Some(1.75), Some(7.5), None]
    );
    // Each add pushes the expiry out again.
    advance(Duration::from_secs(3000)).await;
    assert_eq!(c.spend_add("a", 1.0, ttl).await.unwrap(), 2.75);
    advance(Duration::from_secs(1000)).await;
    assert_eq!(
        c.spend_get(&["a", "b"]).await.unwrap(),
        vec![Some(2.75), None]
    );
    // An expired total starts again from zero, and may be seeded again.
    advance(ttl).await;
    assert_eq!(c.spend_add("a", 2.0, ttl).await.unwrap(), 2.0);
    c.spend_seed("b", 3.0, ttl).await.unwrap();
    assert_eq!(c.spend_get(&["b"]).await.unwrap(), vec![Some(3.0)]);
    assert_eq!(c.spend_add("b", f64::NAN, ttl).await.unwrap(), 3.0);
}
