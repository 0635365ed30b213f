//! The request log: every request the gateway served, one row each, in the records database
//! (`switchyard-store`: a SQLite file by default, PostgreSQL for many nodes), read back through
//! `GET /admin/logs` and summed by `GET /admin/analytics`.
//!
//! Off the hot path: the pipeline hook ([`RequestLogHook`]), on complete, builds the row (the
//! upstream tries come with the request's record) and pushes it into a bounded channel (10 000
//! rows; 1 000 when bodies are logged) — when the channel is full the row is dropped and counted
//! (with a warning at most every 10 s), never waited for. One background task writes the rows in batches (every second, or as soon as 500
//! are waiting) and, every hour, deletes those older than `request_log.retention`.
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
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use switchyard_store::{LogRow, Store, TargetTry};
use tokio::sync::{mpsc, oneshot};

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
const BATCH_ROWS: usize = 500;
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
    let capacity = if settings.bodies {
        CHANNEL_CAPACITY_WITH_BODIES
    } else {
        CHANNEL_CAPACITY
    };
    let (tx, rx) = mpsc::channel(capacity);
    let (flush_tx, flush_rx) = mpsc::channel(4);
    tokio::spawn(writer(store, rx, flush_rx, settings.retention));
    Ok(Some(Arc::new(RequestLogHook {
        tx,
        flush: flush_tx,
        governance: governance.clone(),
        bodies: settings.bodies,
        dropped: AtomicU64::new(0),
        last_warn: AtomicU64::new(0),
        born: Instant::now(),
    })))
}

/// Writes batches until every sender is gone; prunes old rows every hour. A flush request
/// (shutdown) writes every row sent before it, then answers.
async fn writer(
    store: Store,
    mut rx: mpsc::Receiver<LogRow>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    retention: Duration,
) {
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch: Vec<LogRow> = Vec::with_capacity(BATCH_ROWS);
    loop {
        tokio::select! {
            row = rx.recv() => match row {
                Some(row) => {
                    batch.push(row);
                    if batch.len() >= BATCH_ROWS {
                        write(&store, &mut batch).await;
                    }
                }
                None => {
                    write(&store, &mut batch).await;
                    break;
                }
            },
            _ = flush.tick() => write(&store, &mut batch).await,
            Some(done) = flushes.recv() => {
                while let Ok(row) = rx.try_recv() {
                    batch.push(row);
                }
                write(&store, &mut batch).await;
                let _ = done.send(());
            }
            _ = prune.tick() => {
                let cutoff = now_ms().saturating_sub(millis(retention));
                match store.prune_logs(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "request log: deleted rows past retention"),
                    Err(e) => tracing::warn!(error = %e, "request log: old rows could not be deleted"),
                }
            }
        }
    }
}

async fn write(store: &Store, batch: &mut Vec<LogRow>) {
    if batch.is_empty() {
        return;
    }
    // The rows are handed over (their strings go to the driver as they are).
    let rows = std::mem::replace(batch, Vec::with_capacity(BATCH_ROWS));
    let n = rows.len();
    if let Err(e) = store.write_logs(rows).await {
        tracing::warn!(error = %e, rows = n, "request log: a batch could not be written and was dropped");
    }
}

/// The request body kept for the log (in the request's scratch).
#[derive(Clone)]
struct LoggedBody(Bytes);

/// The pipeline hook.
pub struct RequestLogHook {
    tx: mpsc::Sender<LogRow>,
    /// Asks the writer to write what it holds now (at shutdown).
    flush: mpsc::Sender<oneshot::Sender<()>>,
    governance: Arc<Governance>,
    bodies: bool,
    /// Rows dropped because the writer fell behind.
    dropped: AtomicU64,
    /// When the last warning about dropped rows went out (ms since `born`, +1; 0: never).
    last_warn: AtomicU64,
    born: Instant,
}

impl RequestLogHook {
    /// Rows dropped so far because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn row(&self, r: &RequestRecord) -> LogRow {
        let request_body = if self.bodies {
            r.extensions
                .get::<LoggedBody>()
                .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        } else {
            None
        };
        row(r, self.governance.cost(r), request_body)
    }

    fn dropped_one(&self) {
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
        Box::pin(async move {
            let (done, written) = oneshot::channel();
            if self.flush.send(done).await.is_ok() {
                let _ = written.await;
            }
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
            let body = req.body.slice(..req.body.len().min(MAX_BODY_BYTES));
            req.with_scratch(|x| x.insert(LoggedBody(body)));
        }
        Box::pin(std::future::ready(None))
    }

    fn on_complete(&self, record: &RequestRecord) {
        let row = self.row(record);
        match self.tx.try_send(row) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.dropped_one(),
            // The writer is gone (the server is shutting down).
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// The log row of a request (`id` is the database's to give): shared by the request log and
/// the live feed, so both show the same fields the same way.
pub fn row(r: &RequestRecord, cost_usd: Option<f64>, request_body: Option<String>) -> LogRow {
    let start = SystemTime::now()
        .checked_sub(r.started.elapsed())
        .unwrap_or(UNIX_EPOCH);
    let usage = r.usage;
    let tok = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    LogRow {
        id: 0,
        trace_id: r.trace_id.to_string(),
        time: start.duration_since(UNIX_EPOCH).map_or(0, millis),
        key_id: r.key_id.as_deref().map(str::to_owned),
        team_id: r.team_id.as_deref().map(str::to_owned),
        route: r.route_name.as_deref().map(str::to_owned),
        op: r.op.to_owned(),
        provider: r.provider.as_ref().map(|p| p.slug.clone()),
        model: r.model.clone(),
        model_sent: r.model_sent().map(|m| m.into_owned()),
        status: r.status.as_u16(),
        error: r.error.map(str::to_owned),
        latency_ms: millis(r.duration),
        upstream_ms: millis(r.upstream_wait),
        overhead_ms: millis(r.duration.saturating_sub(r.upstream_wait)),
        input_tokens: usage.map(|u| tok(u.input)),
        output_tokens: usage.map(|u| tok(u.output)),
        cached_tokens: usage.map(|u| tok(u.cached_input)),
        cost_usd,
        cache_status: r.cache_status.to_owned(),
        stream: r.stream,
        retries: i64::from(r.retries),
        attempts: i64::from(r.attempts),
        client_gone: r.client_gone,
        stream_error: r.stream_error.clone(),
        targets: r
            .tries
            .iter()
            .map(|t| TargetTry {
                target: t.target.to_string(),
                provider: t.provider().to_owned(),
                retry: t.retry,
                status: t.status.map(|s| s.as_u16()),
                error: t.error.map(str::to_owned),
                elapsed_ms: millis_u64(t.elapsed),
            })
            .collect(),
        request_body,
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

    #[tokio::test]
    async fn a_full_channel_drops_and_counts_rows_and_a_row_carries_its_tries() {
        let config = GatewayConfig::from_yaml("", &|_| None).unwrap();
        let governance = Governance::start(&config).await.unwrap();
        let (tx, mut rx) = mpsc::channel(1);
        let (flush, _) = mpsc::channel(1);
        let hook = RequestLogHook {
            tx,
            flush,
            governance,
            bodies: false,
            dropped: AtomicU64::new(0),
            last_warn: AtomicU64::new(0),
            born: Instant::now(),
        };
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
        for _ in 0..3 {
            hook.on_complete(&record);
        }
        assert_eq!(hook.dropped(), 2);
        let row = rx.recv().await.unwrap();
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
    }
}
