//! The schema and the migrations that build it.
//!
//! Migrations are numbered lists of statements, written once in SQL that SQLite and PostgreSQL both
//! accept, with a few spellings filled in per backend (`{seq}`, `{blob}`, `{json_object}`,
//! `{targets_json}`). Applied versions are
//! recorded in `schema_migrations`. All of a start's pending migrations run in one transaction
//! that first takes a lock, so two processes starting at once apply them exactly once: a
//! transaction-scoped advisory lock on PostgreSQL (DDL is transactional there), `BEGIN IMMEDIATE`
//! on SQLite (the database's write lock, waited for under the busy timeout).

use sqlx::AnyPool;

use crate::{db_err, Backend, StoreError};

/// `pg_advisory_xact_lock` key of the migration lock ("SYSTORE1" in ASCII).
const LOCK_KEY: i64 = 0x5359_5354_4f52_4531;

/// One schema change: its version (strictly increasing), a name, and its statements.
struct Migration {
    version: i64,
    name: &'static str,
    statements: &'static [&'static str],
}

/// Every migration, oldest first. Never edit one that has shipped: add the next.
///
/// Conventions: ids are TEXT (`key_…`, `team_…`, `vk_…`) with a `seq` column giving insertion
/// order; timestamps are BIGINT unix seconds; JSON is TEXT; money is DOUBLE PRECISION (USD).
/// `gateway_keys.team_id` has no foreign key: revoked keys keep naming a deleted team, so their
/// usage history stays attributed.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "keys, teams, credentials, spend",
        statements: &[
            "CREATE TABLE teams (
            seq {seq},
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            settings TEXT NOT NULL
        )",
            "CREATE TABLE gateway_keys (
            seq {seq},
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            hash {blob} NOT NULL UNIQUE,
            team_id TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT,
            settings TEXT NOT NULL
        )",
            "CREATE INDEX gateway_keys_team_id ON gateway_keys (team_id)",
            "CREATE TABLE credentials (
            seq {seq},
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL UNIQUE,
            provider TEXT NOT NULL,
            secret {blob} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            settings TEXT NOT NULL
        )",
            "CREATE TABLE spend (
            scope TEXT NOT NULL,
            id TEXT NOT NULL,
            period TEXT NOT NULL,
            cost_usd DOUBLE PRECISION NOT NULL,
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            requests BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (scope, id, period)
        )",
            "CREATE INDEX spend_period ON spend (period)",
            // Counters bumped in the same transaction as the writes they count.
            "CREATE TABLE store_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO store_meta (name, value) VALUES ('credentials_revision', 0)",
        ],
    },
    Migration {
        version: 2,
        name: "request log",
        statements: &[
            // One row per request; `time_ms` is unix milliseconds. Booleans are 0/1 BIGINTs and
            // `targets` is a JSON array (TEXT), as elsewhere.
            "CREATE TABLE request_log (
            seq {seq},
            trace_id TEXT NOT NULL,
            time_ms BIGINT NOT NULL,
            key_id TEXT,
            team_id TEXT,
            route TEXT,
            op TEXT NOT NULL,
            provider TEXT,
            model TEXT,
            model_sent TEXT,
            status BIGINT NOT NULL,
            error TEXT,
            latency_ms BIGINT NOT NULL,
            upstream_ms BIGINT NOT NULL,
            overhead_ms BIGINT NOT NULL,
            input_tokens BIGINT,
            output_tokens BIGINT,
            cached_tokens BIGINT,
            cost_usd DOUBLE PRECISION,
            cache_status TEXT NOT NULL,
            stream BIGINT NOT NULL,
            retries BIGINT NOT NULL,
            attempts BIGINT NOT NULL,
            client_gone BIGINT NOT NULL,
            stream_error TEXT,
            targets TEXT NOT NULL,
            request_body TEXT
        )",
            "CREATE INDEX request_log_time ON request_log (time_ms, seq)",
            "CREATE INDEX request_log_trace_id ON request_log (trace_id)",
            "CREATE INDEX request_log_key_id ON request_log (key_id, time_ms)",
        ],
    },
    Migration {
        version: 3,
        name: "responses",
        statements: &[
            // Responses the gateway answered for `/v1/responses` with `store` on, for
            // `previous_response_id` and `GET /v1/responses/{id}`. JSON is TEXT; times are unix
            // seconds.
            "CREATE TABLE responses (
            id TEXT PRIMARY KEY,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            previous_id TEXT,
            owner TEXT,
            input_items TEXT NOT NULL,
            response TEXT NOT NULL
        )",
            "CREATE INDEX responses_expires_at ON responses (expires_at)",
        ],
    },
    Migration {
        version: 4,
        name: "request log: rarely filtered fields in one JSON column, no key index",
        statements: &[
            // Every bound column costs each row's insert (binding, copying, encoding), and so
            // does every index. The columns left are the ones a filter or analytics reads; the
            // rest of a row is one JSON object, `detail` (TEXT). A key's rows are read newest
            // first through `request_log_time`, which stops at the page's limit; analytics read
            // a time window: neither needs the key index. The table is rebuilt once (rows keep
            // their order; `seq` is given again).
            "CREATE TABLE request_log_v4 (
            seq {seq},
            trace_id TEXT NOT NULL,
            time_ms BIGINT NOT NULL,
            key_id TEXT,
            team_id TEXT,
            provider TEXT,
            model TEXT,
            model_sent TEXT,
            status BIGINT NOT NULL,
            error TEXT,
            latency_ms BIGINT NOT NULL,
            input_tokens BIGINT,
            output_tokens BIGINT,
            cost_usd DOUBLE PRECISION,
            detail TEXT NOT NULL,
            request_body TEXT
        )",
            "INSERT INTO request_log_v4 (trace_id, time_ms, key_id, team_id, provider, model,
                model_sent, status, error, latency_ms, input_tokens, output_tokens, cost_usd,
                detail, request_body)
            SELECT trace_id, time_ms, key_id, team_id, provider, model, model_sent, status,
                error, latency_ms, input_tokens, output_tokens, cost_usd,
                CAST({json_object}('route', route, 'op', op, 'upstream_ms', upstream_ms,
                    'overhead_ms', overhead_ms, 'cached_tokens', cached_tokens,
                    'cache_status', cache_status, 'stream', stream <> 0, 'retries', retries,
                    'attempts', attempts, 'client_gone', client_gone <> 0,
                    'stream_error', stream_error, 'targets', {targets_json}) AS TEXT),
                request_body
            FROM request_log ORDER BY seq",
            "DROP TABLE request_log",
            "ALTER TABLE request_log_v4 RENAME TO request_log",
            "CREATE INDEX request_log_time ON request_log (time_ms, seq)",
            "CREATE INDEX request_log_trace_id ON request_log (trace_id)",
        ],
    },
];

/// Brings the schema up to date; safe to run from several processes at once.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
    .map_err(db_err)?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    let current: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;

    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > latest {
        tracing::warn!(
            current,
            latest,
            "the database schema is newer than this build knows; using it as it is"
        );
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        for statement in m.statements {
            sqlx::query(&spell(statement, backend))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::Database(format!(
                        "migration {} ({}) failed: {e}",
                        m.version, m.name
                    ))
                })?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(crate::now())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied store migration"
        );
    }
    tx.commit().await.map_err(db_err)
}

/// Fills in the per-backend spellings of a statement.
fn spell(statement: &str, backend: Backend) -> String {
    let (seq, blob, json_object, targets_json) = match backend {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY",
            "BLOB",
            "json_object",
            "json(targets)",
        ),
        Backend::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BYTEA",
            "json_build_object",
            "CAST(targets AS JSON)",
        ),
    };
    statement
        .replace("{seq}", seq)
        .replace("{blob}", blob)
        .replace("{json_object}", json_object)
        .replace("{targets_json}", targets_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_versions_increase_and_every_placeholder_is_filled() {
        let mut last = 0;
        for m in MIGRATIONS {
            assert!(m.version > last);
            last = m.version;
            for s in m.statements {
                for backend in [Backend::Sqlite, Backend::Postgres] {
                    assert!(!spell(s, backend).contains('{'), "{s}");
                }
            }
        }
    }
}
