//! The gateway's durable records: gateway keys, teams, stored provider credentials ("virtual
//! keys") and spend, in SQLite (the zero-config default: one file) or PostgreSQL (shared by many
//! gateway nodes).
//!
//! One [`Store`] serves both backends through `sqlx`'s `AnyPool`: every statement is written once
//! in SQL both accept (`$1` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`), JSON is TEXT,
//! timestamps are BIGINT unix seconds. What the database holds is never the secret itself: gateway
//! keys only as their SHA-256 ([`hash_key`]), provider secrets only sealed with the [`Cipher`].
//!
//! Modules: `crypto` (cipher, key material), `schema` (migrations), `keys`, `teams`,
//! `credentials`, `spend`, `request_log` (one per kind of record, each adding its methods to [`Store`]).

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::AnyPool;
use sqlx::{Any, Arguments as _, Executor as _, Transaction};

mod credentials;
mod crypto;
mod keys;
mod log_writer;
mod request_log;
mod responses;
mod schema;
mod spend;
mod teams;

pub use credentials::{CredentialPatch, CredentialRecord, NewCredential};
pub use crypto::{generate_key, hash_key, Cipher, KeyHash};
pub use keys::{KeyPatch, KeyRecord, NewKey};
pub use log_writer::SqliteLogWriter;
pub use request_log::{
    AnalyticsQuery, AnalyticsRow, Bucket, GroupBy, LogFilter, LogRow, StatusFilter, TargetTry,
    INSERT_CHUNK,
};
pub use responses::StoredResponse;
pub use spend::{Spend, SpendDelta, SpendRow, UsageFilter};
pub use teams::{NewTeam, TeamPatch, TeamRecord};

/// How long a SQLite connection waits for another writer's lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
/// How long a caller waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a store operation failed. Messages never contain secrets: not key text, not provider
/// credentials, not database passwords.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    /// A record this operation refers to (such as a key's team) does not exist.
    #[error("not found")]
    NotFound,
    /// A unique name is taken, or a team still has keys.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Crypto(String),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
}

/// The gateway's records. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Cipher,
    /// PostgreSQL's request-log writer: one connection of its own driver, opened on its first
    /// batch. Binding through `AnyPool` converts every value twice (to `Any`'s values, then to
    /// the driver's), and copies every string.
    log_pool: Option<LogPool>,
    /// A SQLite file's path, for [`Store::sqlite_log_writer`].
    sqlite_path: Option<PathBuf>,
}

/// A pool of the backend's own driver (see [`Store::log_pool`]).
#[derive(Clone)]
pub(crate) enum LogPool {
    Postgres(PgPool),
}

/// Shows the backend, the pool's state and the cipher's fingerprint; never the URL (it may hold a
/// password) or the key.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .field("cipher", &self.cipher)
            .finish()
    }
}

impl Store {
    /// Opens the database and brings its schema up to date (idempotent; safe when several
    /// processes start at once).
    ///
    /// - `sqlite://path/to/file.db` (relative to the working directory), `sqlite:///abs/file.db`
    ///   or `sqlite:path`: the file and its parent directories are created when missing; WAL
    ///   journal, a 10 s busy timeout. Up to 4 connections.
    /// - `sqlite::memory:`: a private in-memory database on a single connection, gone when the
    ///   store is dropped (tests, demos).
    /// - `postgres://user[:password]@host:port/db` (or `postgresql://`), without TLS. Up to 10
    ///   connections.
    pub async fn open(url: &str, cipher: Cipher) -> Result<Store, StoreError> {
        Self::open_with(url, cipher, 0).await
    }

    /// [`Store::open`] with at most `max_connections` pooled connections (0: the default for the
    /// backend; an in-memory SQLite database always has exactly one).
    pub async fn open_with(
        url: &str,
        cipher: Cipher,
        max_connections: u32,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let target = Target::parse(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let options = match &target {
            Target::SqliteMemory => options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None),
            Target::SqliteFile(_) => options
                .max_connections(or_default(max_connections, 4))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(&*format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
                            .await?;
                        // Durable at each checkpoint, not each commit; safe with WAL.
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        Ok(())
                    })
                }),
            Target::Postgres(_) => options.max_connections(or_default(max_connections, 10)),
        };
        let backend = match target {
            Target::Postgres(_) => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        let url = target.sqlx_url()?;
        let pool = options.connect(&url).await.map_err(db_err)?;
        if let Target::SqliteFile(_) = target {
            use_wal(&pool).await?;
        }
        schema::migrate(&pool, backend).await?;
        // Connects lazily: no connection until the first batch of the request log.
        let log_pool = match &target {
            Target::SqliteMemory | Target::SqliteFile(_) => None,
            Target::Postgres(_) => {
                let opts = PgConnectOptions::from_str(&url).map_err(db_err)?;
                Some(LogPool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(opts),
                ))
            }
        };
        let sqlite_path = match target {
            Target::SqliteFile(path) => Some(path),
            _ => None,
        };
        Ok(Store {
            pool,
            backend,
            cipher,
            log_pool,
            sqlite_path,
        })
    }

    /// For a SQLite file, a writer of the request log on a connection of its own (blocking:
    /// for a thread of its own); `None` for PostgreSQL and an in-memory database, whose log is
    /// written with [`Store::write_logs`].
    pub fn sqlite_log_writer(&self) -> Result<Option<SqliteLogWriter>, StoreError> {
        self.sqlite_path
            .as_deref()
            .map(SqliteLogWriter::open)
            .transpose()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Closes the pool's connections and waits for the ones in use to come back. The store (and
    /// its clones) cannot be used afterwards.
    pub async fn close(&self) {
        if let Some(LogPool::Postgres(p)) = &self.log_pool {
            p.close().await;
        }
        self.pool.close().await;
    }

    /// A transaction meant to write. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so it waits under the busy timeout instead of failing when another writer
    /// committed after it first read.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(db_err)
    }
}

/// Where a URL points.
enum Target {
    SqliteMemory,
    SqliteFile(PathBuf),
    Postgres(String),
}

impl Target {
    fn parse(url: &str) -> Result<Target, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            let scheme = url.split_once(':').map_or("none", |(s, _)| s);
            return Err(StoreError::InvalidUrl(format!(
                "expected sqlite://path/to/file.db, sqlite::memory: or \
                 postgres://user@host:port/db (scheme: {scheme})"
            )));
        };
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path == ":memory:" {
            return Ok(Target::SqliteMemory);
        }
        if path.is_empty() || path.contains('?') {
            return Err(StoreError::InvalidUrl(
                "expected sqlite://path/to/file.db (a file path, without query parameters)".into(),
            ));
        }
        let path = std::path::absolute(path)
            .map_err(|e| StoreError::InvalidUrl(format!("bad SQLite path {path}: {e}")))?;
        Ok(Target::SqliteFile(path))
    }

    /// The URL handed to sqlx; creates a SQLite file's parent directories first.
    fn sqlx_url(&self) -> Result<String, StoreError> {
        match self {
            Target::SqliteMemory => Ok("sqlite::memory:".into()),
            Target::Postgres(url) => Ok(url.clone()),
            Target::SqliteFile(path) => {
                create_parent(path)?;
                let text = path.to_str().ok_or_else(|| {
                    StoreError::InvalidUrl(format!("SQLite path {} is not UTF-8", path.display()))
                })?;
                // sqlx percent-decodes the path; escape what would otherwise be read as syntax.
                let escaped = text
                    .replace('%', "%25")
                    .replace('?', "%3F")
                    .replace('#', "%23");
                Ok(format!("sqlite://{escaped}?mode=rwc"))
            }
        }
    }
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Database(format!("cannot create directory {}: {e}", parent.display()))
            })
        }
        _ => Ok(()),
    }
}

/// Switches a SQLite file to write-ahead logging (readers never block the writer). The mode is
/// stored in the file, so this only changes something on its first open; switching needs a lock
/// the busy timeout does not wait for, so a concurrent first open retries for a while.
async fn use_wal(pool: &AnyPool) -> Result<(), StoreError> {
    let mut last = String::new();
    for _ in 0..100 {
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(pool)
            .await
        {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => last = format!("journal mode stayed {mode}"),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(StoreError::Database(format!(
        "cannot switch SQLite to WAL: {last}"
    )))
}

fn or_default(n: u32, default: u32) -> u32 {
    if n == 0 {
        default
    } else {
        n
    }
}

/// Now, in unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A unique-constraint violation becomes [`StoreError::Conflict`] with `what`; anything else is a
/// database error.
pub(crate) fn conflict_or_db(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what()),
        _ => db_err(e),
    }
}

pub(crate) fn json_text(v: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode JSON: {e}")))
}

pub(crate) fn json_value(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Database(format!("a stored JSON column is not JSON: {e}")))
}

/// The `SET` list of an `UPDATE … WHERE id = $1` with only the patched columns; `$1` is the id.
pub(crate) struct Sets {
    assignments: Vec<String>,
    args: AnyArguments<'static>,
}

impl Sets {
    pub(crate) fn new(id: &str) -> Result<Sets, StoreError> {
        let mut args = AnyArguments::default();
        args.add(id.to_owned())
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Sets {
            assignments: Vec::new(),
            args,
        })
    }

    pub(crate) fn set<T>(&mut self, column: &str, value: T) -> Result<(), StoreError>
    where
        T: sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any> + 'static,
    {
        self.args
            .add(value)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        self.assignments
            .push(format!("{column} = ${}", self.args.len()));
        Ok(())
    }

    /// The assignments and arguments, or `None` when nothing is set.
    pub(crate) fn finish(self) -> Option<(String, AnyArguments<'static>)> {
        (!self.assignments.is_empty()).then(|| (self.assignments.join(", "), self.args))
    }
}
