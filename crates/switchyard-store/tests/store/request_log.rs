//! The request log, on both backends.

use switchyard_store::{
    AnalyticsQuery, Bucket, GroupBy, LogFilter, LogRow, StatusFilter, TargetTry,
};

use sqlx::Connection as _;

use crate::common::{on_both_backends, TestDb};

const T0: i64 = 1_764_633_600_000; // 2025-12-02T00:00:00Z

fn row(trace: &str, time: i64, key: &str, provider: &str, status: u16, latency: i64) -> LogRow {
    LogRow {
        trace_id: trace.into(),
        time,
        key_id: Some(key.into()),
        team_id: Some("team_t".into()),
        route: Some("m".into()),
        op: "chat".into(),
        provider: Some(provider.into()),
        model: Some("gpt-4o-mini".into()),
        model_sent: Some(format!("{provider}-model")),
        status,
        error: (status >= 400).then(|| "upstream_error".into()),
        latency_ms: latency,
        upstream_ms: latency - 1,
        overhead_ms: 1,
        input_tokens: Some(10),
        output_tokens: Some(5),
        cached_tokens: Some(0),
        cost_usd: Some(0.5),
        cache_status: "DISABLED".into(),
        stream: status == 200,
        retries: 0,
        attempts: 1,
        client_gone: false,
        stream_error: None,
        targets: vec![TargetTry {
            target: "config".into(),
            provider: provider.into(),
            retry: 0,
            status: Some(status),
            error: None,
            elapsed_ms: 3,
        }],
        request_body: None,
        ..LogRow::default()
    }
}

async fn logs_round_trip_every_field(db: TestDb) {
    let store = db.open().await;
    store.insert_logs(&[]).await.unwrap();
    let mut r = row("tr_1", T0, "key_a", "openai", 200, 40);
    r.request_body = Some("{\"model\":\"x\"}".into());
    r.stream_error = Some("stalled".into());
    r.client_gone = true;
    r.cost_usd = None;
    r.input_tokens = None;
    store.insert_logs(&[r.clone()]).await.unwrap();
    let got = store.logs(&LogFilter::default()).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].id > 0);
    assert_eq!(got[0], LogRow { id: got[0].id, ..r });
}

async fn logs_filter_and_page_newest_first(db: TestDb) {
    let store = db.open().await;
    let mut rows = Vec::new();
    for i in 0..10 {
        let (key, provider, status) = match i % 3 {
            0 => ("key_a", "openai", 200),
            1 => ("key_b", "groq", 503),
            _ => ("key_a", "groq", 429),
        };
        // Two rows share each millisecond: the cursor must split ties by id.
        rows.push(row(
            &format!("tr_{i}"),
            T0 + i / 2,
            key,
            provider,
            status,
            10 + i,
        ));
    }
    store.insert_logs(&rows).await.unwrap();

    let all = store.logs(&LogFilter::default()).await.unwrap();
    let traces: Vec<&str> = all.iter().map(|r| r.trace_id.as_str()).collect();
    assert_eq!(traces[0], "tr_9");
    assert_eq!(traces[9], "tr_0");

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .logs(&LogFilter {
                before,
                limit: 3,
                ..LogFilter::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|r| (r.time, r.id));
        seen.extend(page.into_iter().map(|r| r.trace_id));
    }
    assert_eq!(seen, traces);

    let count = |f: LogFilter| {
        let store = store.clone();
        async move { store.logs(&f).await.unwrap().len() }
    };
    assert_eq!(
        count(LogFilter {
            key_id: Some("key_b".into()),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(LogFilter {
            provider: Some("groq".into()),
            ..Default::default()
        })
        .await,
        6
    );
    assert_eq!(
        count(LogFilter {
            status: Some(StatusFilter::Class(4)),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(LogFilter {
            status: Some(StatusFilter::Exact(503)),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(LogFilter {
            status: Some(StatusFilter::Class(2)),
            ..Default::default()
        })
        .await,
        4
    );
    assert_eq!(
        count(LogFilter {
            model: Some("groq-model".into()),
            ..Default::default()
        })
        .await,
        6
    );
    assert_eq!(
        count(LogFilter {
            model: Some("gpt-4o-mini".into()),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(LogFilter {
            error: Some("upstream_error".into()),
            ..Default::default()
        })
        .await,
        6
    );
    assert_eq!(
        count(LogFilter {
            trace_id: Some("tr_4".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(LogFilter {
            team_id: Some("nope".into()),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(LogFilter {
            since: Some(T0 + 2),
            until: Some(T0 + 4),
            ..Default::default()
        })
        .await,
        4
    );
}

async fn analytics_sums_per_bucket_and_group(db: TestDb) {
    let store = db.open().await;
    let minute = 60_000;
    let mut rows = Vec::new();
    for i in 0..20 {
        rows.push(row(&format!("a{i}"), T0 + i, "key_a", "openai", 200, i + 1));
    }
    rows.push(row("b0", T0 + 5, "key_b", "groq", 500, 100));
    rows.push(row("c0", T0 + minute + 5, "key_a", "openai", 200, 7));
    // Outside the window.
    rows.push(row("d0", T0 - 1, "key_a", "openai", 200, 7));
    store.insert_logs(&rows).await.unwrap();

    let q = |bucket, group_by| AnalyticsQuery {
        bucket,
        group_by,
        since: T0,
        until: T0 + 3_600_000,
    };
    let by_provider = store
        .analytics(&q(Bucket::Minute, GroupBy::Provider))
        .await
        .unwrap();
    assert_eq!(by_provider.len(), 3, "{by_provider:?}");
    let first = &by_provider[0];
    assert_eq!((first.time, first.group.as_deref()), (T0, Some("groq")));
    assert_eq!((first.requests, first.errors, first.p50_ms), (1, 1, 100));
    let openai = &by_provider[1];
    assert_eq!((openai.time, openai.group.as_deref()), (T0, Some("openai")));
    assert_eq!((openai.requests, openai.errors), (20, 0));
    assert_eq!((openai.p50_ms, openai.p95_ms), (10, 19));
    assert_eq!((openai.input_tokens, openai.output_tokens), (200, 100));
    assert!((openai.cost_usd - 10.0).abs() < 1e-9);
    assert_eq!(by_provider[2].time, T0 + minute);

    let hourly = store
        .analytics(&q(Bucket::Hour, GroupBy::Key))
        .await
        .unwrap();
    let groups: Vec<(Option<&str>, i64)> = hourly
        .iter()
        .map(|r| (r.group.as_deref(), r.requests))
        .collect();
    assert_eq!(groups, [(Some("key_a"), 21), (Some("key_b"), 1)]);
    let by_model = store
        .analytics(&q(Bucket::Day, GroupBy::Model))
        .await
        .unwrap();
    assert_eq!(by_model.len(), 2);
    assert_eq!(by_model[1].group.as_deref(), Some("openai-model"));
}

async fn prune_deletes_only_older_rows(db: TestDb) {
    let store = db.open().await;
    store
        .insert_logs(&[
            row("old", T0 - 1, "key_a", "openai", 200, 1),
            row("new", T0, "key_a", "openai", 200, 1),
        ])
        .await
        .unwrap();
    assert_eq!(store.prune_logs(T0).await.unwrap(), 1);
    let left = store.logs(&LogFilter::default()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].trace_id, "new");
    assert_eq!(store.prune_logs(T0).await.unwrap(), 0);
}

async fn a_batch_larger_than_one_statement_keeps_every_row_in_order(db: TestDb) {
    let store = db.open().await;
    let n = switchyard_store::INSERT_CHUNK * 2 + 7;
    let rows: Vec<LogRow> = (0..n)
        .map(|i| {
            let i = i64::try_from(i).unwrap();
            row(&format!("b_{i}"), T0 + i, "key_a", "openai", 200, i)
        })
        .collect();
    store.insert_logs(&rows).await.unwrap();
    let got = store
        .logs(&LogFilter {
            limit: 1000,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(got.len(), n);
    for (i, r) in got.iter().rev().enumerate() {
        assert_eq!(r.trace_id, format!("b_{i}"));
        assert_eq!(r.latency_ms, i64::try_from(i).unwrap());
        assert_eq!(r.targets.len(), 1);
    }
}

/// The gateway writes a SQLite file's log with the store's own writer (a connection of its
/// own, on a blocking thread) and PostgreSQL's with `write_logs`; either way every field, the
/// tries' JSON with characters that need escaping included, reads back as written.
async fn each_backends_log_writer_keeps_every_field(db: TestDb) {
    let store = db.open().await;
    let mut r = row("tr_\"quoted\"\n", T0, "key_a", "open\\ai", 502, 40);
    r.targets = vec![
        TargetTry {
            target: "config.targets[0]".into(),
            provider: "open\\ai".into(),
            retry: 0,
            status: None,
            error: Some("tab\tnewline\n\u{1}ctl \u{e9}\"".into()),
            elapsed_ms: u64::MAX,
        },
        TargetTry {
            target: "config.targets[1]".into(),
            provider: "groq".into(),
            retry: 2,
            status: Some(200),
            error: None,
            elapsed_ms: 0,
        },
    ];
    r.request_body = Some("{\"a\":1}".into());
    // The model sent is the one asked for (most rows): its column stays NULL.
    let mut same = row("tr_same", T0 + 1, "key_a", "openai", 200, 2);
    same.model_sent = same.model.clone();
    let old = row("old", T0 - 1, "key_a", "openai", 200, 1);
    match store.sqlite_log_writer().unwrap() {
        Some(mut w) => {
            assert_eq!(db.kind, crate::common::Kind::Sqlite);
            let rows = vec![r.clone(), same.clone(), old];
            let pruned = tokio::task::spawn_blocking(move || {
                w.write(&rows).unwrap();
                w.write(&[]).unwrap();
                w.prune(T0).unwrap()
            })
            .await
            .unwrap();
            assert_eq!(pruned, 1);
        }
        None => {
            assert_eq!(db.kind, crate::common::Kind::Postgres);
            store
                .write_logs(vec![r.clone(), same.clone(), old])
                .await
                .unwrap();
            assert_eq!(store.prune_logs(T0).await.unwrap(), 1);
        }
    }
    let got = store.logs(&LogFilter::default()).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        LogRow {
            id: got[0].id,
            ..same
        }
    );
    assert_eq!(got[1], LogRow { id: got[1].id, ..r });
    let null_model_sent = db
        .scalar("SELECT COUNT(*) FROM request_log WHERE model_sent IS NULL")
        .await;
    assert_eq!(null_model_sent, 1, "stored once, as `model`");
    let by_model = store
        .logs(&LogFilter {
            model: Some("gpt-4o-mini".into()),
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_model.len(), 2, "the model filter finds both");
}

/// A batch is written whole or not at all: a row refused part way through a batch's second
/// statement (by a unique index the test adds, whose conflict SQLite's writer answers by rolling
/// the transaction back itself) leaves none of the batch's rows, and the writer goes on with
/// the next batch.
async fn a_batch_refused_part_way_leaves_none_of_its_rows(db: TestDb) {
    let store = db.open().await;
    db.execute("CREATE UNIQUE INDEX one_row_per_trace ON request_log (trace_id)")
        .await;
    let n = switchyard_store::INSERT_CHUNK + 10;
    let mut rows: Vec<LogRow> = (0..n)
        .map(|i| {
            let i = i64::try_from(i).unwrap();
            row(&format!("b_{i}"), T0 + i, "key_a", "openai", 200, i)
        })
        .collect();
    // The first statement holds `b_0`; the second repeats it.
    rows[switchyard_store::INSERT_CHUNK + 3].trace_id = "b_0".into();
    let next = vec![row("next", T0, "key_a", "openai", 200, 1)];
    match store.sqlite_log_writer().unwrap() {
        Some(mut w) => {
            tokio::task::spawn_blocking(move || {
                assert!(w.write(&rows).is_err(), "the batch is refused");
                w.write(&next).unwrap();
            })
            .await
            .unwrap();
        }
        None => {
            assert!(
                store.write_logs(rows).await.is_err(),
                "the batch is refused"
            );
            store.write_logs(next).await.unwrap();
        }
    }
    let got = store.logs(&LogFilter::default()).await.unwrap();
    let ids: Vec<&str> = got.iter().map(|r| r.trace_id.as_str()).collect();
    assert_eq!(ids, ["next"]);
}

/// A database whose log was written before migration 4 (every field a column of its own)
/// keeps every row and every field once the store has moved the rarely filtered ones into the
/// `detail` column; new rows are written beside them.
async fn rows_from_before_the_detail_column_read_back_whole(db: TestDb) {
    sqlx::any::install_default_drivers();
    let url = match &db.file {
        Some(file) => {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            format!("{}?mode=rwc", db.url)
        }
        None => db.url.clone(),
    };
    let seq = match db.kind {
        crate::common::Kind::Sqlite => "INTEGER PRIMARY KEY",
        crate::common::Kind::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    for sql in [
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         applied_at BIGINT NOT NULL)"
            .to_owned(),
        "INSERT INTO schema_migrations VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)".to_owned(),
        format!(
            "CREATE TABLE request_log (seq {seq}, trace_id TEXT NOT NULL, time_ms BIGINT NOT NULL, \
             key_id TEXT, team_id TEXT, route TEXT, op TEXT NOT NULL, provider TEXT, model TEXT, \
             model_sent TEXT, status BIGINT NOT NULL, error TEXT, latency_ms BIGINT NOT NULL, \
             upstream_ms BIGINT NOT NULL, overhead_ms BIGINT NOT NULL, input_tokens BIGINT, \
             output_tokens BIGINT, cached_tokens BIGINT, cost_usd DOUBLE PRECISION, \
             cache_status TEXT NOT NULL, stream BIGINT NOT NULL, retries BIGINT NOT NULL, \
             attempts BIGINT NOT NULL, client_gone BIGINT NOT NULL, stream_error TEXT, \
             targets TEXT NOT NULL, request_body TEXT)"
        ),
        "CREATE INDEX request_log_time ON request_log (time_ms, seq)".to_owned(),
        "CREATE INDEX request_log_trace_id ON request_log (trace_id)".to_owned(),
        "CREATE INDEX request_log_key_id ON request_log (key_id, time_ms)".to_owned(),
        format!(
            "INSERT INTO request_log (trace_id, time_ms, key_id, team_id, route, op, provider, \
             model, model_sent, status, error, latency_ms, upstream_ms, overhead_ms, \
             input_tokens, output_tokens, cached_tokens, cost_usd, cache_status, stream, \
             retries, attempts, client_gone, stream_error, targets, request_body) VALUES \
             ('tr_old', {T0}, 'key_a', 'team_t', 'r1', 'chat', 'openai', 'gpt-4o', \
              'gpt-4o-mini', 502, 'upstream_error', 40, 30, 10, 12, 3, 1, 0.25, 'MISS', 1, 2, \
              3, 1, 'stalled', \
              '[{{\"target\":\"config.targets[0]\",\"provider\":\"openai\",\"retry\":1,\
              \"status\":502,\"error\":\"upstream_error\",\"elapsed_ms\":7}}]', '{{}}'), \
             ('tr_bare', {}, NULL, NULL, NULL, 'embeddings', NULL, NULL, NULL, 400, NULL, 1, 0, \
              1, NULL, NULL, NULL, NULL, 'DISABLED', 0, 0, 0, 0, NULL, '[]', NULL)",
            T0 + 1
        ),
    ] {
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    let store = db.open().await;
    store
        .insert_logs(&[row("tr_new", T0 + 2, "key_a", "groq", 200, 5)])
        .await
        .unwrap();
    let got = store.logs(&LogFilter::default()).await.unwrap();
    let traces: Vec<&str> = got.iter().map(|r| r.trace_id.as_str()).collect();
    assert_eq!(traces, ["tr_new", "tr_bare", "tr_old"]);
    let old = &got[2];
    assert_eq!(
        *old,
        LogRow {
            id: old.id,
            trace_id: "tr_old".into(),
            time: T0,
            key_id: Some("key_a".into()),
            team_id: Some("team_t".into()),
            route: Some("r1".into()),
            op: "chat".into(),
            provider: Some("openai".into()),
            model: Some("gpt-4o".into()),
            model_sent: Some("gpt-4o-mini".into()),
            status: 502,
            error: Some("upstream_error".into()),
            latency_ms: 40,
            upstream_ms: 30,
            overhead_ms: 10,
            input_tokens: Some(12),
            output_tokens: Some(3),
            cached_tokens: Some(1),
            cost_usd: Some(0.25),
            cache_status: "MISS".into(),
            stream: true,
            retries: 2,
            attempts: 3,
            client_gone: true,
            stream_error: Some("stalled".into()),
            targets: vec![TargetTry {
                target: "config.targets[0]".into(),
                provider: "openai".into(),
                retry: 1,
                status: Some(502),
                error: Some("upstream_error".into()),
                elapsed_ms: 7,
            }],
            request_body: Some("{}".into()),
        }
    );
    let bare = &got[1];
    assert_eq!(
        (
            bare.op.as_str(),
            bare.stream,
            bare.client_gone,
            bare.route.as_deref()
        ),
        ("embeddings", false, false, None)
    );
    assert!(bare.targets.is_empty() && bare.cached_tokens.is_none());
    let by_key = store
        .logs(&LogFilter {
            key_id: Some("key_a".into()),
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_key.len(), 2, "the key filter works without its index");
}

on_both_backends!(
    rows_from_before_the_detail_column_read_back_whole,
    each_backends_log_writer_keeps_every_field,
    a_batch_refused_part_way_leaves_none_of_its_rows,
    a_batch_larger_than_one_statement_keeps_every_row_in_order,
    logs_round_trip_every_field,
    logs_filter_and_page_newest_first,
    analytics_sums_per_bucket_and_group,
    prune_deletes_only_older_rows,
);
