//! The Redis backend: counters shared by every gateway node that points at one Redis.
//!
//! - **Acquire**: one Lua script, one round trip (`redis::Script`: EVALSHA, loading the script on
//!   `NOSCRIPT`). It reads the server's `TIME`, derives each limit's window keys
//!   `{prefix}rl:{limit key}:{window index}` (current and previous), decides all limits, and only
//!   if every one admits its take increments the current windows (each expiring after two
//!   windows). Redis runs a script alone, so concurrent nodes never overshoot a limit. The
//!   script returns the server time and the counts; the estimate, `remaining`, `reset` and
//!   `retry_after` are computed here from them with the memory backend's code.
//! - **Settle**: one script adding a signed delta to the reserved window's key if it still exists,
//!   clamped at zero, keeping its expiry.
//! - **Spend**: `{prefix}spend:{key}` — `INCRBYFLOAT` + `PEXPIRE` in one `MULTI`, `MGET`, and
//!   `SET NX PX`.
//!
//! The script derives key names from the server time, so it suits a single Redis (or a primary
//! with replicas), not Redis Cluster.
//!
//! Every call, connecting included, is bounded by the timeout. The connection
//! (`ConnectionManager`, which reconnects by itself once made) is made on first use; while Redis
//! is unreachable a new attempt is made at most once a second and calls in between fail at once.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};

use crate::estimate::Estimate;
use crate::{Acquired, Limit, LimitsError, Reservation, Ticket};

/// The least time between two connection attempts while Redis is unreachable.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// KEYS[i]: limit i's base key `{prefix}rl:{limit key}`; ARGV[3i-2..3i]: its window (ms), max and
/// take. Returns `{now_ms, allowed, cur_1, prev_1, fits_1, cur_2, …}` with the counts before the
/// take. `fits` is the estimate of `estimate.rs`, in the same order of operations.
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {now, 1}
local cur_keys = {}
local allowed = true
for i = 1, #KEYS do
  local w = tonumber(ARGV[3 * i - 2])
  local max = tonumber(ARGV[3 * i - 1])
  local take = tonumber(ARGV[3 * i])
  local index = math.floor(now / w)
  local elapsed = now - index * w
  local ck = KEYS[i] .. ':' .. string.format('%d', index)
  local pk = KEYS[i] .. ':' .. string.format('%d', index - 1)
  local v = redis.call('MGET', ck, pk)
  local cur = tonumber(v[1]) or 0
  local prev = tonumber(v[2]) or 0
  local fits = 1
  if cur + prev * (w - elapsed) / w + take > max then
    fits = 0
    allowed = false
  end
  cur_keys[i] = ck
  out[3 * i] = cur
  out[3 * i + 1] = prev
  out[3 * i + 2] = fits
end
if allowed then
  for i = 1, #KEYS do
    if tonumber(ARGV[3 * i]) > 0 then
      redis.call('INCRBY', cur_keys[i], ARGV[3 * i])
      redis.call('PEXPIRE', cur_keys[i], string.format('%d', 2 * tonumber(ARGV[3 * i - 2])))
    end
  end
else
  out[2] = 0
end
return out
";

/// KEYS[1]: a window key; ARGV[1]: the signed delta. Nothing when the window is gone.
const SETTLE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n < 0 then
  redis.call('SET', KEYS[1], '0', 'KEEPTTL')
  return 0
end
return n
";

/// Counters in Redis (see the module doc). Cloning shares the connection.
#[derive(Clone)]
pub struct RedisCounters(Arc<Inner>);

struct Inner {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    conn: Mutex<Option<ConnectionManager>>,
    /// Held while connecting; the time of the last attempt.
    connecting: tokio::sync::Mutex<Option<std::time::Instant>>,
    acquire: Script,
    settle: Script,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("prefix", &self.0.prefix)
            .field("timeout", &self.0.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisCounters {
    /// Counters under `prefix`, every call bounded by `timeout`; nothing is connected yet.
    pub fn new(client: redis::Client, prefix: String, timeout: Duration) -> RedisCounters {
        RedisCounters(Arc::new(Inner {
            client,
            prefix,
            timeout,
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(None),
            acquire: Script::new(ACQUIRE),
            settle: Script::new(SETTLE),
        }))
    }

    /// The prefix of every key.
    pub fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// The bound on every call.
    pub fn timeout(&self) -> Duration {
        self.0.timeout
    }

    fn current(&self) -> Option<ConnectionManager> {
        self.0
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The connection, made now if there is none (at most once a second).
    async fn connection(&self) -> Result<ConnectionManager, LimitsError> {
        if let Some(c) = self.current() {
            return Ok(c);
        }
        let mut last = self.0.connecting.lock().await;
        if let Some(c) = self.current() {
            return Ok(c);
        }
        if last.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
            return Err(LimitsError::Unavailable(
                "not connected (the last attempt failed under a second ago)".to_owned(),
            ));
        }
        *last = Some(std::time::Instant::now());
        // No retries within an attempt: a refused connection fails now, not after a backoff;
        // once connected, the manager reconnects by itself when a call finds the link broken.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(self.0.timeout)
            .set_response_timeout(self.0.timeout);
        match ConnectionManager::new_with_config(self.0.client.clone(), config).await {
            Ok(c) => {
                *self.0.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                tracing::debug!(error = %e, "limits: cannot connect to redis");
                Err(LimitsError::Unavailable(format!("cannot connect: {e}")))
            }
        }
    }

    /// Runs `call` on the connection, the whole of it (connecting included) bounded by the
    /// timeout.
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, LimitsError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let work = async {
            let conn = self.connection().await?;
            call(conn)
                .await
                .map_err(|e| LimitsError::Unavailable(e.to_string()))
        };
        match tokio::time::timeout(self.0.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(LimitsError::Unavailable(format!(
                "no answer within {:?}",
                self.0.timeout
            ))),
        }
    }

    /// [`crate::Counters::acquire`].
    pub async fn acquire(&self, limits: &[Limit<'_>]) -> Result<Acquired, LimitsError> {
        if limits.is_empty() {
            return Ok(Acquired::nothing());
        }
        let bases: Vec<String> = limits
            .iter()
            .map(|l| format!("{}rl:{}", self.0.prefix, l.key))
            .collect();
        let mut invocation = self.0.acquire.prepare_invoke();
        for (l, base) in limits.iter().zip(&bases) {
            invocation
                .key(base.as_str())
                .arg(l.window.millis())
                .arg(l.max)
                .arg(l.take);
        }
        let reply: Vec<i64> = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        decide(limits, bases, &reply)
            .ok_or_else(|| LimitsError::Unavailable(format!("unexpected reply {reply:?}")))
    }

    /// [`crate::Counters::settle`].
    pub async fn settle(
        &self,
        ticket: &Ticket,
        index: usize,
        delta: i64,
    ) -> Result<(), LimitsError> {
        let Some(r) = ticket.reservations.get(index) else {
            return Ok(());
        };
        if !ticket.redis || delta == 0 {
            return Ok(());
        }
        let mut invocation = self.0.settle.prepare_invoke();
        invocation.key(&*r.key).arg(delta);
        let _: i64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(())
    }

    fn spend_key(&self, key: &str) -> String {
        format!("{}spend:{key}", self.0.prefix)
    }

    /// [`crate::Counters::spend_add`].
    pub async fn spend_add(
        &self,
        key: &str,
        amount: f64,
        ttl: Duration,
    ) -> Result<f64, LimitsError> {
        let amount = if amount.is_finite() { amount } else { 0.0 };
        let key = self.spend_key(key);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("INCRBYFLOAT")
            .arg(&key)
            .arg(amount)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl_ms(ttl))
            .ignore();
        let (total,): (f64,) = self
            .run(|mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        Ok(total)
    }

    /// [`crate::Counters::spend_get`].
    pub async fn spend_get(&self, keys: &[&str]) -> Result<Vec<Option<f64>>, LimitsError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.spend_key(k));
        }
        self.run(|mut c| async move { cmd.query_async(&mut c).await })
            .await
    }

    /// [`crate::Counters::spend_seed`].
    pub async fn spend_seed(
        &self,
        key: &str,
        value: f64,
        ttl: Duration,
    ) -> Result<(), LimitsError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.spend_key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(ttl));
        let _: redis::Value = self
            .run(|mut c| async move { cmd.query_async(&mut c).await })
            .await?;
        Ok(())
    }
}

/// The outcome of the acquire script's `reply` (`None` when it isn't shaped as expected).
fn decide(limits: &[Limit<'_>], bases: Vec<String>, reply: &[i64]) -> Option<Acquired> {
    if reply.len() != 2 + 3 * limits.len() {
        return None;
    }
    let now = u64::try_from(reply[0]).ok()?;
    let allowed = reply[1] == 1;
    let mut states = Vec::with_capacity(limits.len());
    let mut refused = None;
    let mut retry_ms = 0;
    let mut reservations = Vec::with_capacity(if allowed { limits.len() } else { 0 });
    for (i, ((l, base), counts)) in limits
        .iter()
        .zip(bases)
        .zip(reply[2..].chunks_exact(3))
        .enumerate()
    {
        let w = l.window.millis();
        let index = now / w;
        let est = Estimate {
            cur: u64::try_from(counts[0]).unwrap_or(0),
            prev: u64::try_from(counts[1]).unwrap_or(0),
            elapsed_ms: now - index * w,
            window_ms: w,
        };
        let mut state = est.state(l.max);
        if allowed {
            state.remaining = state.remaining.saturating_sub(l.take);
            let mut key = base;
            key.push(':');
            key.push_str(&index.to_string());
            reservations.push(Reservation {
                key: Arc::from(key),
                window: l.window,
                index,
            });
        } else if counts[2] == 0 {
            refused.get_or_insert(i);
            retry_ms = retry_ms.max(est.retry_after_ms(l.max, l.take));
        }
        states.push(state);
    }
    Some(Acquired {
        allowed,
        states,
        refused,
        retry_after: Duration::from_millis(retry_ms),
        ticket: Ticket {
            redis: true,
            reservations,
        },
    })
}

/// A TTL for `PX`/`PEXPIRE`: whole ms, at least 1, at most a century (Redis refuses expiry
/// times past its clock's range).
fn ttl_ms(ttl: Duration) -> u64 {
    const CENTURY_MS: u64 = 100 * 365 * 86_400_000;
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, CENTURY_MS)
}
