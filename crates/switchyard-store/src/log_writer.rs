//! The request log's writer for a SQLite file: a connection of its own, used from one blocking
//! thread (the gateway's log writer), that binds rows straight into prepared multi-row
//! `INSERT`s.
//!
//! Why not the store's `sqlx` pool: each statement there is a message to `sqlx`'s worker thread
//! and back, and every value is first built into `sqlx`'s argument list, then bound again on
//! that thread. Here a batch is one transaction on the calling thread, and the statements (the
//! same seven texts as [`crate::Store::write_logs`]') are prepared once and cached.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, ToSql, TransactionBehavior};

use crate::request_log::{
    chunk_len, insert_sql, size_index, stored_model_sent, write_detail, SIZES,
};
use crate::{Backend, LogRow, StoreError, SQLITE_BUSY_TIMEOUT_MS};

/// Writes request-log rows to a SQLite file. Blocking: use it from a thread of its own.
pub struct SqliteLogWriter {
    conn: Connection,
    /// The `detail` column of the row being bound (reused).
    detail: String,
}

impl std::fmt::Debug for SqliteLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLogWriter").finish_non_exhaustive()
    }
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteLogWriter {
    /// Opens the (already migrated, WAL-mode) database file.
    pub(crate) fn open(path: &Path) -> Result<SqliteLogWriter, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_err)?;
        conn.busy_timeout(Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS)))
            .map_err(sqlite_err)?;
        // Durable at each checkpoint, not each commit; safe with WAL (as the store's pool).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite_err)?;
        Ok(SqliteLogWriter {
            conn,
            detail: String::new(),
        })
    }

    /// Writes `rows` in one transaction (which takes the write lock up front, waiting under the
    /// busy timeout for another writer), in multi-row `INSERT`s of up to [`crate::INSERT_CHUNK`] rows:
    /// one statement per row pays SQLite's per-statement work (opening a cursor per index,
    /// resetting and unbinding) once per row; a 64-row statement about once per 64.
    ///
    /// The batch is written whole or not at all: when a statement fails, the transaction is
    /// rolled back (see [`insert_or_rollback_sql`]).
    pub fn write(&mut self, rows: &[LogRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite_err)?;
        let mut rest = rows;
        // The statement of the last chunk's size, kept while the next chunk has the same size:
        // a statement handed back to the cache has all its parameters cleared.
        let mut kept: Option<(usize, rusqlite::CachedStatement<'_>)> = None;
        while !rest.is_empty() {
            let n = chunk_len(rest.len()).min(rest.len());
            let (chunk, after) = rest.split_at(n);
            rest = after;
            let insert = match &mut kept {
                Some((size, stmt)) if *size == n => stmt,
                _ => {
                    kept = None;
                    let stmt = tx
                        .prepare_cached(insert_or_rollback_sql(n))
                        .map_err(sqlite_err)?;
                    &mut kept.insert((n, stmt)).1
                }
            };
            let mut at = 0;
            for r in chunk {
                self.detail.clear();
                write_detail(&mut self.detail, r);
                bind_row(insert, &mut at, r, &self.detail).map_err(sqlite_err)?;
            }
            insert.raw_execute().map_err(sqlite_err)?;
        }
        drop(kept);
        tx.commit().map_err(sqlite_err)
    }

    /// Deletes the rows older than `older_than` (unix ms); how many.
    pub fn prune(&mut self, older_than: i64) -> Result<u64, StoreError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM request_log WHERE time_ms < ?1",
                params![older_than],
            )
            .map_err(sqlite_err)?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

/// The store's SQLite `INSERT` of `rows` rows as `INSERT OR ROLLBACK`. A multi-row statement
/// that may fail part way (the default conflict rule, `ABORT`) makes SQLite keep a statement
/// journal, a copy of each page the statement changes, to undo that statement alone. A batch is
/// dropped whole when any of its statements fails, so undoing the transaction is what is wanted
/// anyway, and no statement journal is kept. (Only here: the store's `sqlx` connections keep
/// their own account of the open transaction, which SQLite ending it by itself would upset.)
fn insert_or_rollback_sql(rows: usize) -> &'static str {
    static TEXTS: [std::sync::OnceLock<String>; SIZES] =
        [const { std::sync::OnceLock::new() }; SIZES];
    TEXTS[size_index(rows)].get_or_init(|| {
        insert_sql(Backend::Sqlite, rows).replacen("INSERT INTO", "INSERT OR ROLLBACK INTO", 1)
    })
}

/// Binds one row's columns (in `inserted_columns!`'s order) from parameter `*at + 1` on.
fn bind_row(
    stmt: &mut rusqlite::CachedStatement<'_>,
    at: &mut usize,
    r: &LogRow,
    detail: &str,
) -> rusqlite::Result<()> {
    let mut bind = |v: &dyn ToSql| {
        *at += 1;
        stmt.raw_bind_parameter(*at, v)
    };
    bind(&r.trace_id)?;
    bind(&r.time)?;
    bind(&r.key_id)?;
    bind(&r.team_id)?;
    bind(&r.provider)?;
    bind(&r.model)?;
    bind(&stored_model_sent(r))?;
    bind(&r.status)?;
    bind(&r.error)?;
    bind(&r.latency_ms)?;
    bind(&r.input_tokens)?;
    bind(&r.output_tokens)?;
    bind(&r.cost_usd)?;
    bind(&detail)?;
    bind(&r.request_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_log::INSERT_COLUMNS;

    #[test]
    fn the_writers_statements_roll_the_batch_back_and_keep_their_placeholders() {
        for rows in [1, 2, 8, crate::INSERT_CHUNK] {
            let sql = insert_or_rollback_sql(rows);
            assert!(
                sql.starts_with("INSERT OR ROLLBACK INTO request_log ("),
                "{sql}"
            );
            assert_eq!(sql.matches('?').count(), rows * INSERT_COLUMNS);
            assert!(
                std::ptr::eq(sql, insert_or_rollback_sql(rows)),
                "built once"
            );
        }
    }
}
