//! Real databases for the tests: a fresh SQLite file under the temp dir, or on the real PostgreSQL
//! a fresh schema `switchyard_t_…` in the `test` database (the connection URL sets its
//! `search_path`; much cheaper than a database per test) or, where a test needs it, a whole fresh
//! database. Each is removed afterwards, even when the test fails. `on_both_backends!` runs one
//! test body against SQLite and PostgreSQL.

use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::FutureExt as _;
use sqlx::{Connection as _, Executor as _, Row as _};
use switchyard_store::{Cipher, Store};

/// The PostgreSQL the suite runs against (trust auth); `SWITCHYARD_TEST_POSTGRES_URL` overrides.
pub fn admin_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One test's own database.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    /// SQLite: the file.
    pub file: Option<PathBuf>,
    cleanup: Cleanup,
}

#[derive(Debug, Clone)]
enum Cleanup {
    /// The directory holding the SQLite file.
    Dir(PathBuf),
    Schema(String),
    Database(String),
}

/// A name no other test process or test uses at the same time.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn test_cipher() -> Cipher {
    Cipher::new([0x5a; 32])
}

impl TestDb {
    pub async fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(unique("switchyard_store_t_"));
                // Not created here: opening the store creates the parent directories.
                let file = dir.join("nested").join("store.db");
                TestDb {
                    kind,
                    url: format!("sqlite://{}", file.display()),
                    file: Some(file),
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Kind::Postgres => {
                let name = unique("switchyard_t_");
                admin(&format!("CREATE SCHEMA {name}")).await;
                let base = admin_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    kind,
                    url: format!("{base}{sep}options=-c%20search_path%3D{name}"),
                    file: None,
                    cleanup: Cleanup::Schema(name),
                }
            }
        }
    }

    /// A whole fresh PostgreSQL database, for what a schema cannot show.
    pub async fn new_pg_database() -> TestDb {
        let name = unique("switchyard_t_");
        admin(&format!("CREATE DATABASE {name}")).await;
        let base = admin_url();
        let (server, _) = base.rsplit_once('/').unwrap();
        TestDb {
            kind: Kind::Postgres,
            url: format!("{server}/{name}"),
            file: None,
            cleanup: Cleanup::Database(name),
        }
    }

    /// The store with the suite's cipher.
    pub async fn open(&self) -> Store {
        Store::open(&self.url, test_cipher()).await.unwrap()
    }

    /// Everything the database holds for `table`, as bytes: the SQLite file and its write-ahead
    /// log (raw pages), or on PostgreSQL every row's text form (BYTEA shown as hex).
    pub async fn raw_dump(&self, table: &str) -> Vec<u8> {
        match self.kind {
            Kind::Sqlite => {
                let file = self.file.as_ref().unwrap();
                let mut bytes = std::fs::read(file).unwrap();
                let wal = PathBuf::from(format!("{}-wal", file.display()));
                bytes.extend(std::fs::read(wal).unwrap_or_default());
                bytes
            }
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query(&format!("SELECT CAST(t AS TEXT) AS row FROM {table} t"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                rows.iter()
                    .flat_map(|r| r.get::<String, _>("row").into_bytes())
                    .collect()
            }
        }
    }

    /// Runs a query returning one BIGINT through a plain connection.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        n
    }

    /// Runs one statement through a plain connection.
    pub async fn execute(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }

    pub async fn cleanup(&self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema(name) => admin(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await,
            Cleanup::Database(name) => {
                admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await
            }
        }
    }
}

/// Runs one statement on the `test` database.
async fn admin(sql: &str) {
    let mut conn = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    conn.execute(sql).await.unwrap();
    conn.close().await.unwrap();
}

/// Runs `test` on a fresh database of `kind` and removes the database afterwards, pass or fail.
pub async fn run<F, Fut>(kind: Kind, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDb::new(kind).await;
    let outcome = AssertUnwindSafe(test(db.clone())).catch_unwind().await;
    db.cleanup().await;
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

/// `bytes` contains `needle` somewhere.
pub fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Declares each listed `async fn name(db: TestDb)` as two tests, `sqlite::name` and
/// `postgres::name`, each on its own fresh database.
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::common::run(crate::common::Kind::Sqlite, super::$test).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    crate::common::run(crate::common::Kind::Postgres, super::$test).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_backends;
