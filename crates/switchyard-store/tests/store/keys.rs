//! Gateway keys and teams, on both backends.

use serde_json::json;
use switchyard_store::{generate_key, hash_key, KeyPatch, NewKey, NewTeam, StoreError, TeamPatch};

use crate::common::{contains, hex, on_both_backends, TestDb};

fn new_key(name: &str, team_id: Option<&str>) -> (String, NewKey) {
    let (text, hash) = generate_key().unwrap();
    let key = NewKey {
        name: name.into(),
        hash,
        team_id: team_id.map(str::to_owned),
        expires_at: None,
        settings: json!({"models": ["gpt-4o-mini"]}),
    };
    (text, key)
}

async fn a_key_is_found_by_its_hash_and_its_text_is_never_stored(db: TestDb) {
    let store = db.open().await;
    let (text, key) = new_key("ci-bot", None);
    let hash = key.hash.clone();
    let record = store.insert_key(key).await.unwrap();
    assert!(
        record.id.starts_with("key_") && record.id.len() == 28,
        "{}",
        record.id
    );

    let found = store.key_by_hash(&hash_key(&text)).await.unwrap().unwrap();
    assert_eq!(found.id, record.id);
    assert_eq!(found.name, "ci-bot");
    assert_eq!(found.settings, json!({"models": ["gpt-4o-mini"]}));
    assert!(found.revoked_at.is_none() && found.team_id.is_none());
    assert_eq!(store.key(&record.id).await.unwrap().unwrap().id, record.id);
    assert!(store
        .key_by_hash(&hash_key("sy-not-a-key"))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .key("key_000000000000000000000000")
        .await
        .unwrap()
        .is_none());

    let dump = db.raw_dump("gateway_keys").await;
    assert!(contains(&dump, b"ci-bot"), "the dump should see the row");
    assert!(!contains(&dump, text.as_bytes()), "key text stored");
    assert!(
        !contains(&dump, hex(text.as_bytes()).as_bytes()),
        "key text stored as hex"
    );

    let json = serde_json::to_string(&found).unwrap();
    assert!(
        !json.contains("hash") && !json.contains(&hex(&hash.0)),
        "{json}"
    );
    assert!(!format!("{found:?}").contains(&hex(&hash.0)));
}

async fn the_same_key_hash_twice_is_a_conflict(db: TestDb) {
    let store = db.open().await;
    let (_, key) = new_key("a", None);
    let again = NewKey {
        name: "b".into(),
        hash: key.hash.clone(),
        ..new_key("b", None).1
    };
    store.insert_key(key).await.unwrap();
    assert!(matches!(
        store.insert_key(again).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn revoking_a_key_keeps_its_row_and_first_revocation_time(db: TestDb) {
    let store = db.open().await;
    let (text, key) = new_key("old", None);
    let record = store.insert_key(key).await.unwrap();

    assert!(store.revoke_key(&record.id).await.unwrap());
    let revoked = store.key_by_hash(&hash_key(&text)).await.unwrap().unwrap();
    let at = revoked.revoked_at.unwrap();
    assert!(at >= record.created_at);
    assert_eq!(store.keys(None).await.unwrap().len(), 1);

    assert!(store.revoke_key(&record.id).await.unwrap());
    assert_eq!(
        store.key(&record.id).await.unwrap().unwrap().revoked_at,
        Some(at)
    );
    assert!(!store.revoke_key("key_missing").await.unwrap());
}

async fn update_key_changes_only_the_given_fields(db: TestDb) {
    let store = db.open().await;
    let team = store
        .insert_team(NewTeam {
            name: "ml".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let (_, mut key) = new_key("first", Some(&team.id));
    key.expires_at = Some(4_000_000_000);
    let record = store.insert_key(key).await.unwrap();

    let renamed = KeyPatch {
        name: Some("second".into()),
        ..KeyPatch::default()
    };
    let got = store
        .update_key(&record.id, renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, "second");
    assert_eq!(got.team_id.as_deref(), Some(team.id.as_str()));
    assert_eq!(got.expires_at, Some(4_000_000_000));
    assert_eq!(got.settings, record.settings);
    assert_eq!(got.created_at, record.created_at);

    let cleared = KeyPatch {
        team_id: Some(None),
        expires_at: Some(None),
        settings: Some(json!({"rate_limits": {"rpm": 60}})),
        ..KeyPatch::default()
    };
    let got = store
        .update_key(&record.id, cleared)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.name.as_str(), got.team_id, got.expires_at),
        ("second", None, None)
    );
    assert_eq!(got.settings, json!({"rate_limits": {"rpm": 60}}));
    assert_eq!(
        store.key(&record.id).await.unwrap().unwrap().settings,
        got.settings
    );

    let unchanged = store
        .update_key(&record.id, KeyPatch::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.name, "second");
    let missing = KeyPatch {
        name: Some("x".into()),
        ..KeyPatch::default()
    };
    assert!(store
        .update_key("key_missing", missing)
        .await
        .unwrap()
        .is_none());
}

async fn a_key_can_only_name_an_existing_team(db: TestDb) {
    let store = db.open().await;
    let (_, key) = new_key("k", Some("team_nope"));
    assert!(matches!(
        store.insert_key(key).await,
        Err(StoreError::NotFound)
    ));
    let record = store.insert_key(new_key("k", None).1).await.unwrap();
    let patch = KeyPatch {
        team_id: Some(Some("team_nope".into())),
        ..KeyPatch::default()
    };
    assert!(matches!(
        store.update_key(&record.id, patch).await,
        Err(StoreError::NotFound)
    ));
}

async fn keys_are_listed_oldest_first_and_by_team(db: TestDb) {
    let store = db.open().await;
    let team = store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (name, team_id) in [
        ("a", Some(&team.id)),
        ("b", None),
        ("c", Some(&team.id)),
        ("d", None),
    ] {
        ids.push(
            store
                .insert_key(new_key(name, team_id.map(|s| s.as_str())).1)
                .await
                .unwrap()
                .id,
        );
    }
    let all: Vec<_> = store
        .keys(None)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(all, ids);
    let names: Vec<_> = store
        .keys(Some(&team.id))
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["a", "c"]);
    assert!(store.keys(Some("team_other")).await.unwrap().is_empty());
}

async fn teams_round_trip_and_updates_patch_only_the_given_fields(db: TestDb) {
    let store = db.open().await;
    let a = store
        .insert_team(NewTeam {
            name: "research".into(),
            settings: json!({"budget": 10}),
        })
        .await
        .unwrap();
    let b = store
        .insert_team(NewTeam {
            name: "ops".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    assert!(a.id.starts_with("team_") && a.id.len() == 29, "{}", a.id);
    assert_eq!(
        store.team(&a.id).await.unwrap().unwrap().settings,
        json!({"budget": 10})
    );
    let names: Vec<_> = store
        .teams()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["research", "ops"]);

    let renamed = TeamPatch {
        name: Some("science".into()),
        settings: None,
    };
    let got = store.update_team(&a.id, renamed).await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), &got.settings),
        ("science", &json!({"budget": 10}))
    );
    let resettled = TeamPatch {
        name: None,
        settings: Some(json!({"budget": 20})),
    };
    let got = store.update_team(&a.id, resettled).await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), &got.settings),
        ("science", &json!({"budget": 20}))
    );
    assert_eq!(store.team(&b.id).await.unwrap().unwrap().name, "ops");
    assert!(store
        .update_team("team_missing", TeamPatch::default())
        .await
        .unwrap()
        .is_none());
    assert!(store.team("team_missing").await.unwrap().is_none());
}

async fn a_team_with_unrevoked_keys_cannot_be_deleted(db: TestDb) {
    let store = db.open().await;
    let team = store
        .insert_team(NewTeam {
            name: "t".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let key = store
        .insert_key(new_key("k", Some(&team.id)).1)
        .await
        .unwrap();

    match store.delete_team(&team.id).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("keys"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(store.team(&team.id).await.unwrap().is_some());

    store.revoke_key(&key.id).await.unwrap();
    assert!(store.delete_team(&team.id).await.unwrap());
    assert!(store.team(&team.id).await.unwrap().is_none());
    assert!(!store.delete_team(&team.id).await.unwrap());
    // The revoked key's history still names its team.
    assert_eq!(
        store.key(&key.id).await.unwrap().unwrap().team_id,
        Some(team.id)
    );
}

on_both_backends!(
    a_key_is_found_by_its_hash_and_its_text_is_never_stored,
    the_same_key_hash_twice_is_a_conflict,
    revoking_a_key_keeps_its_row_and_first_revocation_time,
    update_key_changes_only_the_given_fields,
    a_key_can_only_name_an_existing_team,
    keys_are_listed_oldest_first_and_by_team,
    teams_round_trip_and_updates_patch_only_the_given_fields,
    a_team_with_unrevoked_keys_cannot_be_deleted,
);
