//! Opening stores: URL forms, migrations (repeated and racing), on both backends where it applies.

use serde_json::json;
use switchyard_store::{Backend, NewTeam, Store, StoreError};

use crate::common::{on_both_backends, test_cipher, unique, Kind, TestDb};

async fn stores_opening_a_fresh_database_at_once_all_succeed(db: TestDb) {
    let opens = (0..4).map(|_| Store::open(&db.url, test_cipher()));
    let stores = futures_util::future::join_all(opens).await;
    for store in &stores {
        assert!(store.is_ok(), "{store:?}");
    }
    // Each migration once: 1 (keys, teams, credentials, spend), 2 (request log), 3 (responses).
    assert_eq!(db.scalar("SELECT COUNT(*) FROM schema_migrations").await, 4);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM store_meta").await, 1);
}

async fn reopening_keeps_records_and_runs_no_migration_twice(db: TestDb) {
    let store = db.open().await;
    let want = match db.kind {
        Kind::Sqlite => Backend::Sqlite,
        Kind::Postgres => Backend::Postgres,
    };
    assert_eq!(store.backend(), want);
    store.ping().await.unwrap();
    let team = store
        .insert_team(NewTeam {
            name: "kept".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    store.close().await;

    let again = db.open().await;
    assert_eq!(again.team(&team.id).await.unwrap().unwrap().name, "kept");
    // Each migration once: 1 (keys, teams, credentials, spend), 2 (request log), 3 (responses).
    assert_eq!(db.scalar("SELECT COUNT(*) FROM schema_migrations").await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_opening_a_fresh_postgres_database_at_once_all_succeed() {
    let db = TestDb::new_pg_database().await;
    let outcome = tokio::spawn(stores_opening_a_fresh_database_at_once_all_succeed(
        db.clone(),
    ))
    .await;
    db.cleanup().await;
    outcome.unwrap();
}

on_both_backends!(
    stores_opening_a_fresh_database_at_once_all_succeed,
    reopening_keeps_records_and_runs_no_migration_twice,
);

#[tokio::test]
async fn an_in_memory_sqlite_store_works_and_is_private() {
    let store = Store::open("sqlite::memory:", test_cipher()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store
        .insert_team(NewTeam {
            name: "m".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    // Concurrent use of its single connection queues instead of failing.
    let lists = (0..8).map(|_| store.teams());
    for teams in futures_util::future::join_all(lists).await {
        assert_eq!(teams.unwrap().len(), 1);
    }
    let other = Store::open("sqlite::memory:", test_cipher()).await.unwrap();
    assert!(other.teams().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_sqlite_file_is_created_with_its_directories_and_uses_wal() {
    let dir = std::env::temp_dir().join(unique("switchyard_store_t_"));
    // Characters that mean something in a URL are taken literally in the path.
    let file = dir.join("a b#1%20").join("data.db");
    let store = Store::open(&format!("sqlite://{}", file.display()), test_cipher())
        .await
        .unwrap();
    store.ping().await.unwrap();
    assert!(file.is_file(), "{} missing", file.display());
    let also = Store::open(&format!("sqlite:{}", file.display()), test_cipher())
        .await
        .unwrap();
    also.insert_team(NewTeam {
        name: "x".into(),
        settings: json!({}),
    })
    .await
    .unwrap();
    assert_eq!(
        store.teams().await.unwrap().len(),
        1,
        "both URL forms open the same file"
    );

    let mode: String = {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&file);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(mode, "wal");
    store.close().await;
    also.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_unsupported_url_is_rejected_without_echoing_it() {
    for url in [
        "mysql://root:hunter2@db/x",
        "hunter2",
        "sqlite://",
        "sqlite://x.db?mode=ro",
    ] {
        match Store::open(url, test_cipher()).await {
            Err(StoreError::InvalidUrl(m)) => {
                assert!(m.contains("sqlite://") && !m.contains("hunter2"), "{m}")
            }
            other => panic!("{url}: expected InvalidUrl, got {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn a_refused_postgres_login_is_a_database_error_without_the_password() {
    let server = crate::common::admin_url()
        .split_once('@')
        .unwrap()
        .1
        .to_owned();
    let url = format!("postgres://no_such_role:hunter2@{server}");
    let err = Store::open(&url, test_cipher()).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
