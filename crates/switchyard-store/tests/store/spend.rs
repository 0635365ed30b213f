//! Spend rows, on both backends.

use switchyard_store::{Spend, SpendDelta, UsageFilter};

use crate::common::{on_both_backends, TestDb};

fn delta(scope: &str, id: &str, period: &str, cost_usd: f64, tokens: i64) -> SpendDelta {
    SpendDelta {
        scope: scope.into(),
        id: id.into(),
        period: period.into(),
        cost_usd,
        input_tokens: tokens,
        output_tokens: tokens * 2,
        requests: 1,
    }
}

async fn add_spend_increments_rows_and_sums_repeats_in_one_batch(db: TestDb) {
    let store = db.open().await;
    assert!(store.spend("key", "key_a", "all").await.unwrap().is_none());
    store.add_spend(&[]).await.unwrap();

    store
        .add_spend(&[
            delta("key", "key_a", "all", 0.5, 10),
            delta("team", "team_t", "all", 0.5, 10),
            delta("key", "key_a", "all", 0.25, 5),
        ])
        .await
        .unwrap();
    store
        .add_spend(&[delta("key", "key_a", "all", 1.0, 100)])
        .await
        .unwrap();

    let want = Spend {
        cost_usd: 1.75,
        input_tokens: 115,
        output_tokens: 230,
        requests: 3,
    };
    assert_eq!(
        store.spend("key", "key_a", "all").await.unwrap(),
        Some(want)
    );
    let team = store.spend("team", "team_t", "all").await.unwrap().unwrap();
    assert_eq!((team.cost_usd, team.requests), (0.5, 1));
    assert!(store
        .spend("key", "key_a", "2026-12")
        .await
        .unwrap()
        .is_none());
}

async fn concurrent_add_spend_from_two_stores_sums_exactly(db: TestDb) {
    let (one, two) = (db.open().await, db.open().await);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            // Half the tasks list the rows in the other order: no deadlock either way.
            let mut rows = vec![
                delta("key", "key_a", "2026-12-02", 0.125, 3),
                delta("team", "team_t", "2026-12-02", 0.125, 3),
                delta("key", "key_a", "all", 0.125, 3),
            ];
            if i % 4 < 2 {
                rows.reverse();
            }
            store.add_spend(&rows).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for (scope, id, period) in [
        ("key", "key_a", "2026-12-02"),
        ("team", "team_t", "2026-12-02"),
        ("key", "key_a", "all"),
    ] {
        let got = one.spend(scope, id, period).await.unwrap().unwrap();
        assert_eq!(
            got,
            Spend {
                cost_usd: 12.5,
                input_tokens: 300,
                output_tokens: 600,
                requests: 100
            },
            "{scope} {id} {period}"
        );
    }
}

async fn usage_filters_rows_and_lists_newest_period_first(db: TestDb) {
    let store = db.open().await;
    store
        .add_spend(&[
            delta("key", "key_a", "2026-12-01", 1.0, 1),
            delta("key", "key_a", "2026-12-02", 2.0, 1),
            delta("key", "key_b", "2026-12-02", 3.0, 1),
            delta("team", "team_t", "2026-12-02", 5.0, 1),
            delta("key", "key_a", "2026-11-30", 4.0, 1),
        ])
        .await
        .unwrap();
    let rows = |f: UsageFilter| {
        let store = store.clone();
        async move {
            store
                .usage(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|r| format!("{} {} {}", r.scope, r.id, r.period))
                .collect::<Vec<_>>()
        }
    };

    let key_a = UsageFilter {
        scope: Some("key".into()),
        id: Some("key_a".into()),
        ..Default::default()
    };
    assert_eq!(
        rows(key_a).await,
        [
            "key key_a 2026-12-02",
            "key key_a 2026-12-01",
            "key key_a 2026-11-30"
        ]
    );
    let day = UsageFilter {
        period: Some("2026-12-02".into()),
        ..Default::default()
    };
    assert_eq!(
        rows(day).await,
        [
            "key key_a 2026-12-02",
            "key key_b 2026-12-02",
            "team team_t 2026-12-02"
        ]
    );
    let teams = UsageFilter {
        scope: Some("team".into()),
        ..Default::default()
    };
    assert_eq!(rows(teams).await, ["team team_t 2026-12-02"]);
    let two = UsageFilter {
        limit: 2,
        ..Default::default()
    };
    assert_eq!(
        rows(two).await,
        ["key key_a 2026-12-02", "key key_b 2026-12-02"]
    );
    let none = UsageFilter {
        id: Some("key_zzz".into()),
        ..Default::default()
    };
    assert!(rows(none).await.is_empty());

    let all = store.usage(&UsageFilter::default()).await.unwrap();
    assert_eq!(all.len(), 5);
    let json = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(json["cost_usd"], 2.0, "spend is flattened: {json}");
    assert!(json["updated_at"].as_i64().unwrap() > 1_700_000_000);
}

on_both_backends!(
    add_spend_increments_rows_and_sums_repeats_in_one_batch,
    concurrent_add_spend_from_two_stores_sums_exactly,
    usage_filters_rows_and_lists_newest_period_first,
);
