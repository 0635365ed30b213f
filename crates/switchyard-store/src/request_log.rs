//! The request log: one row per request the gateway served (who called, where it went, how it
//! ended, how long it took, tokens and cost, the targets tried), written in batches, read back
//! with filters and a cursor, summed per time bucket for analytics, and pruned by age.
//!
//! Times are BIGINT unix **milliseconds** (`time_ms`), unlike the other tables' seconds: a log
//! is read at sub-second resolution. Rows never hold headers or credentials; the request body
//! only when the gateway was told to log bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments as _, Row as _};

use crate::{db_err, Backend, LogPool, Store, StoreError};

/// One upstream try of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetTry {
    /// The target's path in the routing tree (`config.targets[1]`).
    pub target: String,
    pub provider: String,
    /// 0 for a target's first try, then 1, 2, … for its retries.
    pub retry: u32,
    /// The upstream's status, when a response head arrived.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// One request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogRow {
    /// Insertion order (assigned by the database; ignored by [`Store::insert_logs`]).
    pub id: i64,
    pub trace_id: String,
    /// When the request started, unix milliseconds.
    pub time: i64,
    pub key_id: Option<String>,
    pub team_id: Option<String>,
    /// The server file's route taken, by name.
    pub route: Option<String>,
    /// `chat`, `completions`, `embeddings`, `proxy`, …
    pub op: String,
    pub provider: Option<String>,
    /// The model the client asked for.
    pub model: Option<String>,
    /// The model sent to the provider that answered (an override, or the asked one).
    pub model_sent: Option<String>,
    pub status: u16,
    /// A low-cardinality label of the failure.
    pub error: Option<String>,
    /// From the request's start to the end of its response body.
    pub latency_ms: i64,
    /// Time spent waiting for upstream response heads.
    pub upstream_ms: i64,
    /// `latency_ms - upstream_ms`: what the gateway (and the body's transfer) added.
    pub overhead_ms: i64,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    /// `HIT`, `MISS`, `SEMANTIC HIT`, …, `DISABLED`.
    pub cache_status: String,
    pub stream: bool,
    pub retries: i64,
    pub attempts: i64,
    pub client_gone: bool,
    pub stream_error: Option<String>,
    /// Every upstream try, in order.
    pub targets: Vec<TargetTry>,
    /// The request body (when bodies are logged), possibly truncated.
    pub request_body: Option<String>,
}

impl LogRow {
    /// The row's paging cursor: `<time>_<id>`.
    pub fn cursor(&self) -> String {
        format!("{}_{}", self.time, self.id)
    }
}

/// Which statuses a filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Exactly this status.
    Exact(u16),
    /// A class: `5` is 500–599.
    Class(u8),
}

/// Which rows [`Store::logs`] returns (`None` matches anything), newest first.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub key_id: Option<String>,
    pub team_id: Option<String>,
    pub provider: Option<String>,
    /// Matches the model asked for or the model sent.
    pub model: Option<String>,
    pub status: Option<StatusFilter>,
    pub error: Option<String>,
    pub trace_id: Option<String>,
    /// `time >= since` (unix ms).
    pub since: Option<i64>,
    /// `time < until` (unix ms).
    pub until: Option<i64>,
    /// Only rows older than this `(time, id)` cursor (see [`LogRow::cursor`]).
    pub before: Option<(i64, i64)>,
    /// At most this many rows; 0 means [`LogFilter::DEFAULT_LIMIT`].
    pub limit: u32,
}

impl LogFilter {
    pub const DEFAULT_LIMIT: u32 = 100;
}

/// An analytics bucket's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Minute,
    Hour,
    Day,
}

impl Bucket {
    pub fn millis(self) -> i64 {
        match self {
            Bucket::Minute => 60_000,
            Bucket::Hour => 3_600_000,
            Bucket::Day => 86_400_000,
        }
    }
}

/// What analytics rows are grouped by, within a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Provider,
    /// The model sent, else the model asked for.
    Model,
    /// The gateway key.
    Key,
}

/// [`Store::analytics`]'s question: rows with `since <= time < until` (unix ms).
#[derive(Debug, Clone)]
pub struct AnalyticsQuery {
    pub bucket: Bucket,
    pub group_by: GroupBy,
    pub since: i64,
    pub until: i64,
}

/// One (bucket, group) of analytics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyticsRow {
    /// The bucket's start, unix ms (UTC).
    pub time: i64,
    /// The provider, model or key id (`None`: requests without one).
    pub group: Option<String>,
    pub requests: i64,
    /// Requests with a status of 400 or more, or an error label.
    pub errors: i64,
    /// Latency percentiles (nearest rank) of the bucket's requests.
    pub p50_ms: i64,
    pub p95_ms: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

/// The columns a row is written with, in the order `insert_logs` binds them.
macro_rules! inserted_columns {
    () => {
        "trace_id, time_ms, key_id, team_id, provider, model, model_sent, status, error, \
         latency_ms, input_tokens, output_tokens, cost_usd, detail, request_body"
    };
}

/// The columns a row is read with: the database's `seq`, then the written ones.
const COLUMNS: &str = concat!("seq, ", inserted_columns!());

/// Columns an inserted row binds (a test checks it against the list): the ones filters and
/// analytics read, then `detail` (the rest of the row, see [`write_detail`]) and the body.
pub(crate) const INSERT_COLUMNS: usize = 15;
/// Rows per `INSERT` statement, at most (15 × 64 parameters: under SQLite's and PostgreSQL's
/// limits).
pub const INSERT_CHUNK: usize = 64;
/// The statement sizes used: powers of two up to [`INSERT_CHUNK`] (a batch of 28 rows is
/// written as 16 + 8 + 4), so there are only seven statement texts per backend, each prepared
/// once and then found in the connection's statement cache — a text of its own per batch size
/// would be parsed again for every batch.
pub(crate) const SIZES: usize = INSERT_CHUNK.trailing_zeros() as usize + 1;

/// How many rows the next statement of a batch with `left` rows still to write takes.
pub(crate) fn chunk_len(left: usize) -> usize {
    if left >= INSERT_CHUNK {
        INSERT_CHUNK
    } else {
        // The largest power of two not above `left` (`left` ≥ 1).
        1 << (usize::BITS - 1 - left.max(1).leading_zeros())
    }
}

/// `INSERT INTO request_log (…) VALUES (…), (…)` for `rows` rows (a power of two up to
/// [`INSERT_CHUNK`]): PostgreSQL's placeholders are `$1`, `$2`, …; SQLite's are plain `?`
/// (binding by name costs SQLite a scan of every name per parameter: quadratic in a statement
/// this size). Each text is built once.
pub(crate) fn insert_sql(backend: Backend, rows: usize) -> &'static str {
    static TEXTS: [[std::sync::OnceLock<String>; SIZES]; 2] =
        [const { [const { std::sync::OnceLock::new() }; SIZES] }; 2];
    let build = || {
        use std::fmt::Write as _;
        let mut sql = String::from(concat!(
            "INSERT INTO request_log (",
            inserted_columns!(),
            ") VALUES "
        ));
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for col in 0..INSERT_COLUMNS {
                sql.push_str(if col == 0 { "" } else { ", " });
                match backend {
                    Backend::Postgres => {
                        let _ = write!(sql, "${}", row * INSERT_COLUMNS + col + 1);
                    }
                    Backend::Sqlite => sql.push('?'),
                }
            }
            sql.push(')');
        }
        sql
    };
    let b = usize::from(backend == Backend::Postgres);
    TEXTS[b][size_index(rows)].get_or_init(build).as_str()
}

/// Which of the [`SIZES`] statement texts a statement of `rows` rows is.
pub(crate) fn size_index(rows: usize) -> usize {
    (rows.trailing_zeros() as usize).min(SIZES - 1)
}

/// Binds `rows` (an owned iterator of [`LogRow`]s) in multi-row `INSERT`s of
/// [`chunk_len`] rows each, executed on `$tx`. A macro rather than a generic function: the same
/// binding code for `Any`, SQLite's and PostgreSQL's own drivers. The rows' strings are moved
/// into the arguments (SQLite's driver keeps them as they are; PostgreSQL's encodes them).
macro_rules! insert_rows {
    ($tx:expr, $backend:expr, $rows:expr) => {{
        let mut rows = $rows.into_iter();
        let mut left = rows.len();
        while left > 0 {
            let n = chunk_len(left);
            left -= n;
            let mut q = sqlx::query(insert_sql($backend, n));
            for r in rows.by_ref().take(n) {
                let mut detail = String::new();
                write_detail(&mut detail, &r);
                // Moved, not copied: only `stored_model_sent`'s rule is read here.
                let model_sent = if stored_model_sent(&r).is_some() {
                    r.model_sent
                } else {
                    None
                };
                q = q
                    .bind(r.trace_id)
                    .bind(r.time)
                    .bind(r.key_id)
                    .bind(r.team_id)
                    .bind(r.provider)
                    .bind(r.model)
                    .bind(model_sent)
                    .bind(i64::from(r.status))
                    .bind(r.error)
                    .bind(r.latency_ms)
                    .bind(r.input_tokens)
                    .bind(r.output_tokens)
                    .bind(r.cost_usd)
                    .bind(detail)
                    .bind(r.request_body);
            }
            q.execute(&mut *$tx).await.map_err(db_err)?;
        }
    }};
}

/// The `model_sent` column of a row: `NULL` when it is the model asked for (most rows), one
/// text fewer to bind and store; read back as `model` (a row names a model sent whenever it
/// names one asked for). `COALESCE(model_sent, model)` is the model that was sent.
pub(crate) fn stored_model_sent(r: &LogRow) -> Option<&str> {
    if r.model_sent == r.model {
        None
    } else {
        r.model_sent.as_deref()
    }
}

/// Appends a row's `detail` column: the fields no filter reads, as one JSON object
/// ([`Detail`] reads it back), written directly (`serde_json` took about twice as long, with
/// allocations).
pub(crate) fn write_detail(out: &mut String, r: &LogRow) {
    // Fields at their default (`null`, `false`) are left out: `Detail` reads a missing field
    // as its default, and each is bytes fewer to bind, copy, store and write ahead, on every
    // row (81 of a typical row's 297 bytes).
    let mut n = itoa::Buffer::new();
    out.push_str("{\"op\":");
    json_str(out, &r.op);
    if let Some(route) = r.route.as_deref() {
        out.push_str(",\"route\":");
        json_str(out, route);
    }
    out.push_str(",\"upstream_ms\":");
    out.push_str(n.format(r.upstream_ms));
    out.push_str(",\"overhead_ms\":");
    out.push_str(n.format(r.overhead_ms));
    if let Some(t) = r.cached_tokens {
        out.push_str(",\"cached_tokens\":");
        out.push_str(n.format(t));
    }
    out.push_str(",\"cache_status\":");
    json_str(out, &r.cache_status);
    if r.stream {
        out.push_str(",\"stream\":true");
    }
    out.push_str(",\"retries\":");
    out.push_str(n.format(r.retries));
    out.push_str(",\"attempts\":");
    out.push_str(n.format(r.attempts));
    if r.client_gone {
        out.push_str(",\"client_gone\":true");
    }
    if let Some(e) = r.stream_error.as_deref() {
        out.push_str(",\"stream_error\":");
        json_str(out, e);
    }
    out.push_str(",\"targets\":[");
    for (i, t) in r.targets.iter().enumerate() {
        out.push_str(if i == 0 {
            "{\"target\":"
        } else {
            ",{\"target\":"
        });
        json_str(out, &t.target);
        out.push_str(",\"provider\":");
        json_str(out, &t.provider);
        out.push_str(",\"retry\":");
        out.push_str(n.format(t.retry));
        if let Some(s) = t.status {
            out.push_str(",\"status\":");
            out.push_str(n.format(s));
        }
        if let Some(e) = t.error.as_deref() {
            out.push_str(",\"error\":");
            json_str(out, e);
        }
        out.push_str(",\"elapsed_ms\":");
        out.push_str(n.format(t.elapsed_ms));
        out.push('}');
    }
    out.push_str("]}");
}

/// A row's `detail` column, read back. Lenient: a missing field takes its default, and the
/// flags may be 0/1 (rows moved by migration 4 on SQLite, which has no JSON booleans).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Detail {
    route: Option<String>,
    op: String,
    upstream_ms: i64,
    overhead_ms: i64,
    cached_tokens: Option<i64>,
    cache_status: String,
    #[serde(deserialize_with = "flag")]
    stream: bool,
    retries: i64,
    attempts: i64,
    #[serde(deserialize_with = "flag")]
    client_gone: bool,
    stream_error: Option<String>,
    targets: Vec<TargetTry>,
}

/// `true`/`false`, or a number (non-zero is true).
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(n) => n != 0,
    })
}

/// Appends `s` as a JSON string.
fn json_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    let mut rest = s;
    // Scanned as bytes: every character that needs escaping is ASCII, so a byte position
    // found here is a character boundary (a char-by-char scan decodes UTF-8 for nothing).
    while let Some(at) = rest
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < b' ')
    {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or(' ');
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
    out.push('"');
}

impl Store {
    /// Writes `rows`, all in one transaction, in multi-row `INSERT`s of at most
    /// [`INSERT_CHUNK`] rows (a statement per row costs a round trip to the database, or to
    /// SQLite's worker thread, each).
    pub async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        self.write_logs(rows.to_vec()).await
    }

    /// [`Store::insert_logs`], taking the rows: their strings are handed to the driver instead
    /// of copied. PostgreSQL's are written through a connection of its own driver (not the
    /// `Any` pool's). The gateway writes a SQLite file's log with [`Store::sqlite_log_writer`]
    /// instead.
    pub async fn write_logs(&self, rows: Vec<LogRow>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        match &self.log_pool {
            Some(LogPool::Postgres(pool)) => {
                let mut tx = pool.begin().await.map_err(db_err)?;
                insert_rows!(tx, Backend::Postgres, rows);
                tx.commit().await.map_err(db_err)
            }
            None => {
                let mut tx = self.write_tx().await?;
                insert_rows!(tx, self.backend, rows);
                tx.commit().await.map_err(db_err)
            }
        }
    }

    /// Rows matching the filter, newest first (by time, then insertion order).
    pub async fn logs(&self, f: &LogFilter) -> Result<Vec<LogRow>, StoreError> {
        let mut w = Where::default();
        for (column, value) in [
            ("key_id", &f.key_id),
            ("team_id", &f.team_id),
            ("provider", &f.provider),
            ("error", &f.error),
            ("trace_id", &f.trace_id),
        ] {
            if let Some(v) = value {
                let n = w.arg(v.clone())?;
                w.cond(format!("{column} = ${n}"));
            }
        }
        if let Some(m) = &f.model {
            let n = w.arg(m.clone())?;
            w.cond(format!("(model = ${n} OR model_sent = ${n})"));
        }
        match f.status {
            Some(StatusFilter::Exact(s)) => {
                let n = w.arg(i64::from(s))?;
                w.cond(format!("status = ${n}"));
            }
            Some(StatusFilter::Class(c)) => {
                let lo = w.arg(i64::from(c) * 100)?;
                let hi = w.arg(i64::from(c) * 100 + 100)?;
                w.cond(format!("status >= ${lo} AND status < ${hi}"));
            }
            None => {}
        }
        w.range(f.since, f.until)?;
        if let Some((t, id)) = f.before {
            let a = w.arg(t)?;
            let b = w.arg(id)?;
            w.cond(format!(
                "(time_ms < ${a} OR (time_ms = ${a} AND seq < ${b}))"
            ));
        }
        let limit = if f.limit == 0 {
            LogFilter::DEFAULT_LIMIT
        } else {
            f.limit
        };
        let n = w.arg(i64::from(limit))?;
        let sql = format!(
            "SELECT {COLUMNS} FROM request_log {} ORDER BY time_ms DESC, seq DESC LIMIT ${n}",
            w.clause()
        );
        let rows = sqlx::query_with(&sql, w.args)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(log_row).collect()
    }

    /// Requests, errors, latency percentiles, tokens and cost per time bucket and group, oldest
    /// bucket first, then by group. Reads the window's rows (a few columns each) and sums them
    /// here, so the percentiles are exact and the SQL the same on both backends.
    pub async fn analytics(&self, q: &AnalyticsQuery) -> Result<Vec<AnalyticsRow>, StoreError> {
        let mut w = Where::default();
        w.range(Some(q.since), Some(q.until))?;
        let group = match q.group_by {
            GroupBy::Provider => "provider",
            GroupBy::Model => "COALESCE(model_sent, model)",
            GroupBy::Key => "key_id",
        };
        let sql = format!(
            "SELECT time_ms, {group} AS grp, status, error, latency_ms, input_tokens,
                    output_tokens, cost_usd
             FROM request_log {}",
            w.clause()
        );
        let rows = sqlx::query_with(&sql, w.args)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        #[derive(Default)]
        struct Acc {
            requests: i64,
            errors: i64,
            latencies: Vec<i64>,
            input_tokens: i64,
            output_tokens: i64,
            cost_usd: f64,
        }
        let width = q.bucket.millis();
        let mut acc: BTreeMap<(i64, Option<String>), Acc> = BTreeMap::new();
        for row in &rows {
            let time: i64 = row.try_get("time_ms").map_err(db_err)?;
            let grp: Option<String> = row.try_get("grp").map_err(db_err)?;
            let status: i64 = row.try_get("status").map_err(db_err)?;
            let error: Option<String> = row.try_get("error").map_err(db_err)?;
            let a = acc
                .entry((time.div_euclid(width) * width, grp))
                .or_default();
            a.requests += 1;
            if status >= 400 || error.is_some() {
                a.errors += 1;
            }
            a.latencies.push(row.try_get("latency_ms").map_err(db_err)?);
            let input: Option<i64> = row.try_get("input_tokens").map_err(db_err)?;
            let output: Option<i64> = row.try_get("output_tokens").map_err(db_err)?;
            let cost: Option<f64> = row.try_get("cost_usd").map_err(db_err)?;
            a.input_tokens = a.input_tokens.saturating_add(input.unwrap_or(0));
            a.output_tokens = a.output_tokens.saturating_add(output.unwrap_or(0));
            a.cost_usd += cost.unwrap_or(0.0);
        }
        Ok(acc
            .into_iter()
            .map(|((time, group), mut a)| {
                a.latencies.sort_unstable();
                AnalyticsRow {
                    time,
                    group,
                    requests: a.requests,
                    errors: a.errors,
                    p50_ms: percentile(&a.latencies, 50),
                    p95_ms: percentile(&a.latencies, 95),
                    input_tokens: a.input_tokens,
                    output_tokens: a.output_tokens,
                    cost_usd: a.cost_usd,
                }
            })
            .collect())
    }

    /// Deletes the rows older than `older_than` (unix ms); how many.
    pub async fn prune_logs(&self, older_than: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM request_log WHERE time_ms < $1")
            .bind(older_than)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The nearest-rank `p`th percentile of sorted values (0 when empty).
fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// A `WHERE` clause under construction.
#[derive(Default)]
struct Where {
    conditions: Vec<String>,
    args: AnyArguments<'static>,
}

impl Where {
    /// Adds an argument; its placeholder number.
    fn arg<T>(&mut self, v: T) -> Result<usize, StoreError>
    where
        T: sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any> + 'static,
    {
        self.args
            .add(v)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(self.args.len())
    }

    fn cond(&mut self, c: String) {
        self.conditions.push(c);
    }

    fn range(&mut self, since: Option<i64>, until: Option<i64>) -> Result<(), StoreError> {
        if let Some(s) = since {
            let n = self.arg(s)?;
            self.cond(format!("time_ms >= ${n}"));
        }
        if let Some(u) = until {
            let n = self.arg(u)?;
            self.cond(format!("time_ms < ${n}"));
        }
        Ok(())
    }

    fn clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }
}

fn log_row(row: &AnyRow) -> Result<LogRow, StoreError> {
    let get_i64 = |c: &str| row.try_get::<i64, _>(c).map_err(db_err);
    let detail: String = row.try_get("detail").map_err(db_err)?;
    let d: Detail = serde_json::from_str(&detail).map_err(|e| {
        StoreError::Database(format!("a stored log row's detail is not valid: {e}"))
    })?;
    let model: Option<String> = row.try_get("model").map_err(db_err)?;
    Ok(LogRow {
        id: get_i64("seq")?,
        trace_id: row.try_get("trace_id").map_err(db_err)?,
        time: get_i64("time_ms")?,
        key_id: row.try_get("key_id").map_err(db_err)?,
        team_id: row.try_get("team_id").map_err(db_err)?,
        route: d.route,
        op: d.op,
        provider: row.try_get("provider").map_err(db_err)?,
        model: row.try_get("model").map_err(db_err)?,
        // Stored only when it differs from `model` (see [`stored_model_sent`]).
        model_sent: row
            .try_get::<Option<String>, _>("model_sent")
            .map_err(db_err)?
            .or_else(|| model.clone()),
        status: u16::try_from(get_i64("status")?).unwrap_or(0),
        error: row.try_get("error").map_err(db_err)?,
        latency_ms: get_i64("latency_ms")?,
        upstream_ms: d.upstream_ms,
        overhead_ms: d.overhead_ms,
        input_tokens: row.try_get("input_tokens").map_err(db_err)?,
        output_tokens: row.try_get("output_tokens").map_err(db_err)?,
        cached_tokens: d.cached_tokens,
        cost_usd: row.try_get("cost_usd").map_err(db_err)?,
        cache_status: d.cache_status,
        stream: d.stream,
        retries: d.retries,
        attempts: d.attempts,
        client_gone: d.client_gone,
        stream_error: d.stream_error,
        targets: d.targets,
        request_body: row.try_get("request_body").map_err(db_err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_power_of_two_statements_of_at_most_a_chunk() {
        for n in 1..=300usize {
            let (mut left, mut sizes) = (n, Vec::new());
            while left > 0 {
                let k = chunk_len(left);
                assert!(
                    k.is_power_of_two() && k <= INSERT_CHUNK && k <= left,
                    "{n}: {k}"
                );
                sizes.push(k);
                left -= k;
            }
            assert!(sizes.len() < n / INSERT_CHUNK + SIZES, "{n}: {sizes:?}");
        }
        assert_eq!(chunk_len(28), 16);
    }

    #[test]
    fn the_bound_column_count_matches_the_column_list() {
        assert_eq!(inserted_columns!().split(',').count(), INSERT_COLUMNS);
    }

    #[test]
    fn each_statement_text_has_its_rows_placeholders() {
        for rows in [1, 2, 4, 32, INSERT_CHUNK] {
            let sqlite = insert_sql(Backend::Sqlite, rows);
            assert_eq!(sqlite.matches('?').count(), rows * INSERT_COLUMNS);
            let pg = insert_sql(Backend::Postgres, rows);
            let last = format!("${})", rows * INSERT_COLUMNS);
            assert!(pg.ends_with(&last), "{pg}");
            assert!(
                std::ptr::eq(pg, insert_sql(Backend::Postgres, rows)),
                "built once"
            );
        }
    }

    #[test]
    fn the_detail_column_escapes_what_json_needs_and_reads_back_the_same() {
        let nasty = "q\"b\\n\nr\rt\tc\u{1}d\u{7f} é 🚀 end";
        let row = LogRow {
            op: "chat".into(),
            route: Some(nasty.into()),
            cache_status: "MISS".into(),
            stream_error: Some("\u{0}".into()),
            targets: vec![TargetTry {
                target: nasty.into(),
                provider: "openai".into(),
                retry: 1,
                status: Some(502),
                error: Some("upstream_5xx".into()),
                elapsed_ms: 3,
            }],
            ..LogRow::default()
        };
        let mut out = String::new();
        write_detail(&mut out, &row);
        assert!(out.contains(r#"q\"b\\n\nr\rt\tc\u0001d"#), "{out}");
        let back: Detail = serde_json::from_str(&out).unwrap();
        assert_eq!(back.route.as_deref(), Some(nasty));
        assert_eq!(back.stream_error.as_deref(), Some("\u{0}"));
        assert_eq!(back.targets, row.targets);
    }

    #[test]
    fn the_detail_column_leaves_out_defaults_and_reads_them_back() {
        let row = LogRow {
            op: "chat".into(),
            cache_status: "DISABLED".into(),
            attempts: 1,
            targets: vec![TargetTry {
                target: "config".into(),
                provider: "openai".into(),
                ..TargetTry::default()
            }],
            ..LogRow::default()
        };
        let mut out = String::new();
        write_detail(&mut out, &row);
        for absent in [
            "\"route\"",
            "\"cached_tokens\"",
            "\"stream\"",
            "\"client_gone\"",
            "\"stream_error\"",
            "\"status\"",
            "\"error\"",
            "null",
        ] {
            assert!(!out.contains(absent), "{absent} in {out}");
        }
        let back: Detail = serde_json::from_str(&out).unwrap();
        assert_eq!(back.route, None);
        assert_eq!(back.cached_tokens, None);
        assert!(!back.stream && !back.client_gone);
        assert_eq!(back.stream_error, None);
        assert_eq!((back.attempts, back.retries), (1, 0));
        assert_eq!(back.targets, row.targets);

        // Set, each is written and read back.
        let set = LogRow {
            route: Some("r".into()),
            cached_tokens: Some(0),
            stream: true,
            client_gone: true,
            stream_error: Some("cut".into()),
            ..row
        };
        out.clear();
        write_detail(&mut out, &set);
        let back: Detail = serde_json::from_str(&out).unwrap();
        assert_eq!(back.route.as_deref(), Some("r"));
        assert_eq!(back.cached_tokens, Some(0), "zero is not left out");
        assert!(back.stream && back.client_gone);
        assert_eq!(back.stream_error.as_deref(), Some("cut"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 50), 0);
        assert_eq!(percentile(&[7], 95), 7);
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!((percentile(&v, 50), percentile(&v, 95)), (50, 95));
        assert_eq!(percentile(&[1, 2, 3], 50), 2);
    }
}
