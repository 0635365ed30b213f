//! The request log: every request the gateway served, one row each, in the records database
//! (`switchyard-store`: a SQLite file by default, PostgreSQL for many nodes), read back through
//! `GET /admin/logs` and summed by `GET /admin/analytics`.
//!
//! Off the hot path: the pipeline hook ([`RequestLogHook`]), on complete, builds the row (the
//! upstream tries come with the request's record) and pushes it onto a bounded queue (10 000
//! rows; 1 000 when bodies are logged) — when the queue is full the row is dropped and counted
//! (with a warning at most every 10 s), never waited for. A thread of its own (`request-log`)
//! writes the rows in batches (every second, or as soon as 1 024 are waiting; a request never
//! wakes it otherwise) and, every hour, deletes those older than `request_log.retention`. A
//! SQLite file is written through a connection of the writer's own
//! ([`switchyard_store::SqliteLogWriter`]); PostgreSQL through the store's driver.
//!
//! Never logged: headers (so no provider key, no gateway key) and response bodies. The request
//! body only with `request_log.bodies: true`, at most its first 64 KiB.
//!
//! ```yaml
//! request_log:
//!   enabled: true      # default: on when the database is open (gateway keys on)
//!   retention: 30d     # rows older than this are deleted (hourly); s, m, h or d
//!   bodies: false      # also keep each request's body (first 64 KiB)
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use switchyard_store::{LogRow, SqliteLogWriter, Store, StoreError, TargetTry};
use tokio::sync::oneshot;

use crate::config::errors::read_section;
use crate::config::GatewayConfig;
use crate::context::RequestContext;
use crate::governance::Governance;
use crate::pipeline::{EarlyAnswer, Hook, HookFuture, Phases, RequestRecord};
use crate::routing::tree::Node;

/// Rows waiting for the writer, at most…
const CHANNEL_CAPACITY: usize = 10_000;
/// …or, when bodies are logged (up to 64 KiB each), this many.
const CHANNEL_CAPACITY_WITH_BODIES: usize = 1_000;
/// The writer writes when this many rows wait…
const BATCH_ROWS: usize = 1024;
/// …or this often.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Old rows are deleted this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// A dropped row is warned about at most this often.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// The most of a request body kept.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `request_log:` section, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `enabled`, when set explicitly (otherwise: on when gateway keys are on).
    pub enabled: Option<bool>,
    pub retention: Duration,
    pub bodies: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: None,
            retention: Duration::from_secs(30 * 86_400),
            bodies: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    enabled: Option<bool>,
    retention: Option<Value>,
    bodies: Option<bool>,
}

/// Parses the raw `request_log:` section (`None`: defaults); errors name the field.
pub fn parse(raw: Option<&Value>) -> Result<Settings, String> {
    let mut s = Settings::default();
    let Some(v) = raw.filter(|v| !v.is_null()) else {
        return Ok(s);
    };
    let r: Raw = read_section(v, "request_log").map_err(|e| e.to_string())?;
    s.enabled = r.enabled;
    s.bodies = r.bodies.unwrap_or(false);
    if let Some(ret) = r.retention {
        s.retention = retention(&ret).map_err(|e| format!("request_log.retention: {e}"))?;
    }
    Ok(s)
}

/// `30d`, `12h`, `90m`, `3600s` or a number of milliseconds; at least a minute.
fn retention(v: &Value) -> Result<Duration, String> {
    let d = match v {
        Value::String(s) => match s.trim().strip_suffix('d') {
            Some(days) => days
                .trim()
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(86_400))
                .map(Duration::from_secs)
                .ok_or_else(|| format!("`{s}` is not a duration like 30d, 12h or 90m"))?,
            None => crate::config::values::parse_duration(s)
                .map_err(|_| format!("`{s}` is not a duration like 30d, 12h or 90m"))?,
        },
        Value::Number(n) => n
            .as_u64()
            .map(Duration::from_millis)
            .ok_or("a duration must be a whole number of milliseconds")?,
        _ => return Err("expected a duration like 30d".into()),
    };
    if d < Duration::from_secs(60) {
        return Err("must be at least 1m".into());
    }
    Ok(d)
}

/// Checks the section at start-up and, when the log is on, starts its writer: the hook to
/// register, or `None` when the log is off. Reuses governance's database when it is open
/// (gateway keys on); opens it when `enabled: true` asks for the log without keys.
pub async fn start(
    config: &GatewayConfig,
    governance: &Arc<Governance>,
) -> Result<Option<Arc<dyn Hook>>, String> {
    let settings = parse(config.telemetry.request_log.raw.as_ref())?;
    let enabled = settings
        .enabled
        .unwrap_or(config.governance.admin_key.is_some());
    if !enabled {
        return Ok(None);
    }
    let store = match governance.store() {
        Some(s) => s.clone(),
        None => crate::governance::open_store(config).await?,
    };
    let sink = match store.sqlite_log_writer() {
        Ok(Some(w)) => Sink::Sqlite(w),
        Ok(None) => Sink::Store(store.clone(), tokio::runtime::Handle::current()),
        Err(e) => return Err(format!("request log: {e}")),
    };
    let capacity = if settings.bodies {
        CHANNEL_CAPACITY_WITH_BODIES
    } else {
        CHANNEL_CAPACITY
    };
    let queue = Arc::new(Queue::new(capacity));
    let thread_queue = queue.clone();
    let rows = Rows {
        governance: governance.clone(),
        bodies: settings.bodies,
    };
    std::thread::Builder::new()
        .name("request-log".into())
        .spawn(move || writer(&thread_queue, &rows, sink, settings.retention))
        .map_err(|e| format!("request log: cannot start its writer thread: {e}"))?;
    Ok(Some(Arc::new(RequestLogHook::new(queue, settings.bodies))))
}

/// Requests waiting for the writer thread, as their shared records. A request only pushes its
/// record under the lock: the writer is woken once a batch is full (or a flush is asked for),
/// otherwise it wakes on its own every [`FLUSH_EVERY`] — never once per row. The rows are built
/// on the writer's thread, not the request's.
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    /// Rows that may wait; beyond it a row is dropped (and counted).
    capacity: usize,
}

struct QueueState {
    rows: Vec<Arc<RequestRecord>>,
    /// Flushes asked for (at shutdown): answered once every row queued before is written.
    flushes: Vec<oneshot::Sender<()>>,
    /// No more rows will come (the hook is gone), or the writer has stopped.
    closed: bool,
}

impl Queue {
    fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                rows: Vec::with_capacity(BATCH_ROWS),
                flushes: Vec::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the writer writes: a SQLite file through a connection of its own, or the store's
/// pool (PostgreSQL, an in-memory SQLite database) through the runtime.
enum Sink {
    Sqlite(SqliteLogWriter),
    Store(Store, tokio::runtime::Handle),
}

impl Sink {
    /// Writes the first `n` of `rows`.
    fn write(&mut self, rows: &mut Vec<LogRow>, n: usize) -> Result<(), StoreError> {
        let n = n.min(rows.len());
        match self {
            Sink::Sqlite(w) => w.write(&rows[..n]),
            // The rows are handed over (their strings go to the driver as they are).
            Sink::Store(store, rt) => {
                rows.truncate(n);
                rt.block_on(store.write_logs(std::mem::take(rows)))
            }
        }
    }

    fn prune(&mut self, older_than: i64) -> Result<u64, StoreError> {
        match self {
            Sink::Sqlite(w) => w.prune(older_than),
            Sink::Store(store, rt) => rt.block_on(store.prune_logs(older_than)),
        }
    }
}

/// Marks the queue closed when the writer stops, however it stops, and drops the flushes
/// waiting on it (their waiters then stop waiting).
struct Stopped<'a>(&'a Queue);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.closed = true;
        st.flushes.clear();
        st.rows = Vec::new();
    }
}

/// How the writer makes a request's row (on its own thread).
struct Rows {
    governance: Arc<Governance>,
    bodies: bool,
}

impl Rows {
    /// Writes `r`'s row over `out`.
    fn fill(&self, out: &mut LogRow, r: &RequestRecord) {
        fill_row(out, r, self.governance.cost(r));
        if self.bodies {
            out.request_body = r
                .extensions
                .get::<LoggedBody>()
                .map(|b| String::from_utf8_lossy(&b.0).into_owned());
        }
    }
}

/// The writer thread: writes a batch when one is full, every [`FLUSH_EVERY`] otherwise, and
/// when a flush is asked for; deletes rows past `retention` at start and every
/// [`PRUNE_EVERY`]. Returns once the queue is closed and emptied.
fn writer(queue: &Queue, rows_of: &Rows, mut sink: Sink, retention: Duration) {
    let _stopped = Stopped(queue);
    let mut spare: Vec<Arc<RequestRecord>> = Vec::with_capacity(BATCH_ROWS);
    let mut rows: Vec<LogRow> = Vec::with_capacity(BATCH_ROWS);
    let mut next_prune = Instant::now();
    loop {
        let (mut records, flushes, closed) = {
            let mut st = queue.lock();
            let deadline = Instant::now() + FLUSH_EVERY;
            while st.rows.len() < BATCH_ROWS && st.flushes.is_empty() && !st.closed {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                st = queue
                    .ready
                    .wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let records = std::mem::replace(&mut st.rows, std::mem::take(&mut spare));
            (records, std::mem::take(&mut st.flushes), st.closed)
        };
        if !records.is_empty() {
            // The rows of the last batch are written over (their buffers reused); a record
            // is dropped as soon as its row is made.
            let n = records.len();
            rows.resize_with(rows.len().max(n), LogRow::default);
            for (out, r) in rows.iter_mut().zip(records.drain(..)) {
                rows_of.fill(out, &r);
            }
            if let Err(e) = sink.write(&mut rows, n) {
                tracing::warn!(error = %e, rows = n, "request log: a batch could not be written and was dropped");
            }
            // A logged body (up to 64 KiB) is not kept until its row is written over.
            for r in rows.iter_mut().take(n) {
                r.request_body = None;
            }
        }
        spare = records;
        for done in flushes {
            let _ = done.send(());
        }
        if Instant::now() >= next_prune {
            next_prune = Instant::now() + PRUNE_EVERY;
            let cutoff = now_ms().saturating_sub(millis(retention));
            match sink.prune(cutoff) {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "request log: deleted rows past retention"),
                Err(e) => tracing::warn!(error = %e, "request log: old rows could not be deleted"),
            }
        }
        if closed && queue.lock().rows.is_empty() {
            return;
        }
    }
}

/// Rows dropped since start by every request log of this process (for `/metrics`).
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Rows dropped so far by every request log of this process (the writer was behind, or had
/// stopped).
pub fn dropped_rows() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// The request body kept for the log (in the request's scratch).
#[derive(Clone)]
struct LoggedBody(Bytes);

/// The pipeline hook.
pub struct RequestLogHook {
    queue: Arc<Queue>,
    bodies: bool,
    /// Rows dropped because the writer fell behind.
    dropped: AtomicU64,
    /// When the last warning about dropped rows went out (ms since `born`, +1; 0: never).
    last_warn: AtomicU64,
    born: Instant,
}

/// The writer writes what is left, then stops.
impl Drop for RequestLogHook {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.ready.notify_one();
    }
}

impl RequestLogHook {
    fn new(queue: Arc<Queue>, bodies: bool) -> RequestLogHook {
        RequestLogHook {
            queue,
            bodies,
            dropped: AtomicU64::new(0),
            last_warn: AtomicU64::new(0),
            born: Instant::now(),
        }
    }

    /// Rows dropped so far because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues a request for the writer; drops it (and counts it) when the queue is full or the
    /// writer has stopped.
    fn push(&self, row: Arc<RequestRecord>) {
        let mut st = self.queue.lock();
        if st.closed || st.rows.len() >= self.queue.capacity {
            drop(st);
            self.dropped_one();
            return;
        }
        st.rows.push(row);
        let full = st.rows.len() == BATCH_ROWS;
        drop(st);
        if full {
            self.queue.ready.notify_one();
        }
    }

    fn dropped_one(&self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now = u64::try_from(self.born.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_warn.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= millis_u64(WARN_EVERY);
        if due
            && self
                .last_warn
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                dropped_total = n,
                "request log: the writer is behind; rows are being dropped"
            );
        }
    }
}

impl Hook for RequestLogHook {
    fn name(&self) -> &'static str {
        "request_log"
    }

    fn shutdown(&self) -> HookFuture<'_, ()> {
        let (done, written) = oneshot::channel();
        {
            let mut st = self.queue.lock();
            // A stopped writer answers nothing: `done` is dropped here, and the wait ends.
            if !st.closed {
                st.flushes.push(done);
            }
        }
        self.queue.ready.notify_one();
        Box::pin(async move {
            let _ = written.await;
        })
    }

    fn phases(&self) -> Phases {
        Phases {
            on_request: self.bodies,
            on_complete: true,
            ..Phases::default()
        }
    }

    fn on_request<'a>(
        &'a self,
        req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        if self.bodies {
            // A copy, not a slice: the record waits for the writer, and a slice would keep the
            // whole body (of any size) alive with it.
            let body = Bytes::copy_from_slice(req.body.get(..MAX_BODY_BYTES).unwrap_or(&req.body));
            req.with_scratch(|x| x.insert(LoggedBody(body)));
        }
        Box::pin(std::future::ready(None))
    }

    fn on_complete_shared(&self, record: &Arc<RequestRecord>) {
        self.push(record.clone());
    }
}

/// The log row of a request (`id` is the database's to give): shared by the request log and
/// the live feed, so both show the same fields the same way.
pub fn row(r: &RequestRecord, cost_usd: Option<f64>, request_body: Option<String>) -> LogRow {
    let mut out = LogRow::default();
    fill_row(&mut out, r, cost_usd);
    out.request_body = request_body;
    out
}

/// [`row`] written over `out` (all but `request_body`), reusing its strings' buffers: the
/// writer keeps its batch's rows from one batch to the next, so a warm writer builds a row
/// without allocating.
pub fn fill_row(out: &mut LogRow, r: &RequestRecord, cost_usd: Option<f64>) {
    let start = SystemTime::now()
        .checked_sub(r.started.elapsed())
        .unwrap_or(UNIX_EPOCH);
    let usage = r.usage;
    let tok = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    out.id = 0;
    set(&mut out.trace_id, &r.trace_id);
    out.time = start.duration_since(UNIX_EPOCH).map_or(0, millis);
    set_opt(&mut out.key_id, r.key_id.as_deref());
    set_opt(&mut out.team_id, r.team_id.as_deref());
    set_opt(&mut out.route, r.route_name.as_deref());
    set(&mut out.op, r.op);
    set_opt(
        &mut out.provider,
        r.provider.as_ref().map(|p| p.slug.as_str()),
    );
    set_opt(&mut out.model, r.model.as_deref());
    set_opt(&mut out.model_sent, r.model_sent().as_deref());
    out.status = r.status.as_u16();
    set_opt(&mut out.error, r.error);
    out.latency_ms = millis(r.duration);
    out.upstream_ms = millis(r.upstream_wait);
    out.overhead_ms = millis(r.duration.saturating_sub(r.upstream_wait));
    out.input_tokens = usage.map(|u| tok(u.input));
    out.output_tokens = usage.map(|u| tok(u.output));
    out.cached_tokens = usage.map(|u| tok(u.cached_input));
    out.cost_usd = cost_usd;
    set(&mut out.cache_status, r.cache_status);
    out.stream = r.stream;
    out.retries = i64::from(r.retries);
    out.attempts = i64::from(r.attempts);
    out.client_gone = r.client_gone;
    set_opt(&mut out.stream_error, r.stream_error.as_deref());
    out.targets.resize_with(r.tries.len(), TargetTry::default);
    for (o, t) in out.targets.iter_mut().zip(&r.tries) {
        set(&mut o.target, &t.target);
        set(&mut o.provider, t.provider());
        o.retry = t.retry;
        o.status = t.status.map(|s| s.as_u16());
        set_opt(&mut o.error, t.error);
        o.elapsed_ms = millis_u64(t.elapsed);
    }
    out.request_body = None;
}

/// `out = v`, in `out`'s buffer.
fn set(out: &mut String, v: &str) {
    out.clear();
    out.push_str(v);
}

/// `out = v`, in `out`'s buffer when it has one.
fn set_opt(out: &mut Option<String>, v: Option<&str>) {
    match (out.as_mut(), v) {
        (Some(o), Some(v)) => set(o, v),
        (None, Some(v)) => *out = Some(v.to_owned()),
        (_, None) => *out = None,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn millis_u64(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_section_parses_with_defaults_and_named_errors() {
        assert_eq!(parse(None).unwrap(), Settings::default());
        let s = parse(Some(
            &json!({"enabled": true, "retention": "7d", "bodies": true}),
        ))
        .unwrap();
        assert_eq!(
            s,
            Settings {
                enabled: Some(true),
                retention: Duration::from_secs(7 * 86_400),
                bodies: true
            }
        );
        assert_eq!(
            parse(Some(&json!({"retention": "12h"}))).unwrap().retention,
            Duration::from_secs(12 * 3600)
        );
        for (v, field) in [
            (json!({"retention": "soon"}), "request_log.retention"),
            (json!({"retention": "10s"}), "request_log.retention"),
            (json!({"bodies": "yes"}), "request_log.bodies"),
            (json!({"enabled": 1}), "request_log.enabled"),
            (json!({"body": true}), "request_log"),
            (json!([1]), "request_log"),
        ] {
            let e = parse(Some(&v)).unwrap_err();
            assert!(e.starts_with(field), "{v}: {e}");
        }
    }

    #[test]
    fn the_documented_section_parses() {
        let doc = include_str!("../../../../docs/configuration.md");
        let start = doc.find("```yaml\nserver:").unwrap_or(0) + "```yaml\n".len();
        let len = doc[start..].find("```").unwrap_or(0);
        let file: Value = serde_yaml_ng::from_str(&doc[start..start + len]).unwrap_or_default();
        let s = parse(file.get("request_log")).unwrap_or_default();
        assert_eq!(
            s.enabled,
            Some(true),
            "configuration.md shows a request_log section"
        );
        assert_eq!(
            s,
            Settings {
                enabled: Some(true),
                ..Settings::default()
            },
            "defaults shown"
        );
    }

    /// A writer that has stopped (its thread ended, or panicked) neither holds rows nor keeps a
    /// shutdown waiting.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopped_writer_drops_rows_and_lets_shutdown_finish() {
        let config = GatewayConfig::from_yaml("", &|_| None).unwrap();
        let governance = Governance::start(&config).await.unwrap();
        let store = Store::open("sqlite::memory:", switchyard_store::Cipher::new([7; 32]))
            .await
            .unwrap();
        let queue = Arc::new(Queue::new(10));
        let hook = RequestLogHook::new(queue.clone(), false);
        let record = Arc::new(RequestRecord::new(Arc::from("tr_stop"), Instant::now()));
        hook.on_complete_shared(&record);
        // The writer takes the row (flushed by the shutdown), then stops.
        let writer_queue = queue.clone();
        let sink = Sink::Store(store.clone(), tokio::runtime::Handle::current());
        let rows = Rows {
            governance,
            bodies: false,
        };
        let thread = std::thread::spawn(move || {
            writer(&writer_queue, &rows, sink, Duration::from_secs(86_400))
        });
        hook.shutdown().await;
        let logged = store.logs(&Default::default()).await.unwrap();
        assert_eq!(logged.len(), 1, "the flush wrote the queued row");
        assert_eq!(logged[0].trace_id, "tr_stop");
        queue.lock().closed = true;
        queue.ready.notify_one();
        tokio::task::spawn_blocking(move || thread.join().unwrap())
            .await
            .unwrap();
        hook.on_complete_shared(&record);
        assert_eq!(hook.dropped(), 1, "no writer: the row is dropped");
        tokio::time::timeout(Duration::from_secs(5), hook.shutdown())
            .await
            .expect("a shutdown with no writer does not wait");
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_rows_and_a_row_carries_its_tries() {
        let config = GatewayConfig::from_yaml("", &|_| None).unwrap();
        let governance = Governance::start(&config).await.unwrap();
        let queue = Arc::new(Queue::new(1));
        let hook = RequestLogHook::new(queue.clone(), false);
        let mut record = RequestRecord::new(Arc::from("tr"), Instant::now());
        record.model = Some("gpt-4o".into());
        record.duration = Duration::from_millis(30);
        record.upstream_wait = Duration::from_millis(12);
        record.tries.push(crate::pipeline::record::TryRecord {
            target: Arc::from("config.targets[0]"),
            leaf: crate::pipeline::record::test_leaf(
                r#"{"provider": "openai", "api_key": "sk-x", "override_params": {"model": "gpt-4o-mini"}}"#,
            ),
            retry: 0,
            status: Some(http::StatusCode::BAD_GATEWAY),
            error: Some("upstream_error"),
            started: Instant::now(),
            elapsed: Duration::from_millis(12),
        });
        let before = dropped_rows();
        let record = Arc::new(record);
        for _ in 0..3 {
            hook.on_complete_shared(&record);
        }
        assert_eq!(hook.dropped(), 2);
        assert!(dropped_rows() >= before + 2, "counted for /metrics too");
        let queued = queue.lock().rows.pop().unwrap();
        let mut row = LogRow::default();
        Rows {
            governance,
            bodies: false,
        }
        .fill(&mut row, &queued);
        assert_eq!(
            (row.latency_ms, row.upstream_ms, row.overhead_ms),
            (30, 12, 18)
        );
        assert_eq!(row.targets.len(), 1);
        assert_eq!(row.targets[0].status, Some(502));
        assert_eq!(row.targets[0].provider, "openai");
        assert_eq!(row.targets[0].elapsed_ms, 12);
        assert_eq!(
            row.model_sent.as_deref(),
            Some("gpt-4o-mini"),
            "a failed request names the model its last try sent"
        );
        assert_eq!(row.cost_usd, None);

        // The writer writes the next batch's rows over these: nothing of the last one stays.
        let mut other = RequestRecord::new(Arc::from("tr-2"), Instant::now());
        other.key_id = None;
        other.stream_error = Some("cut".into());
        // (`time` is read from the clock each time: it may tick between two reads.)
        let same = |a: &LogRow, b: LogRow| {
            assert_eq!(
                LogRow {
                    time: b.time,
                    ..a.clone()
                },
                b
            )
        };
        fill_row(&mut row, &other, Some(0.5));
        same(&row, super::row(&other, Some(0.5), None));
        assert!(row.targets.is_empty() && row.model.is_none());
        row.key_id = Some("stale".into());
        fill_row(&mut row, &record, None);
        same(&row, super::row(&record, None, None));
    }
}
