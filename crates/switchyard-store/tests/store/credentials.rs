//! Stored provider credentials ("virtual keys"), on both backends.

use serde_json::json;
use switchyard_store::{Cipher, CredentialPatch, NewCredential, Store, StoreError};

use crate::common::{contains, hex, on_both_backends, TestDb};

const API_KEY: &str = "sk-live-7f3c9a1e55d04b2c8e6a";
const AWS_SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY";

fn openai(name: &str) -> NewCredential {
    NewCredential {
        name: name.into(),
        provider: "openai".into(),
        secret: json!({"api_key": API_KEY, "aws_secret_access_key": AWS_SECRET}),
        settings: json!({"custom_host": "https://llm.internal.example/v1"}),
    }
}

async fn a_credential_secret_is_only_stored_encrypted(db: TestDb) {
    let store = db.open().await;
    let new = openai("prod-openai");
    assert!(
        !format!("{new:?}").contains(API_KEY),
        "Debug shows the secret"
    );
    let record = store.insert_credential(new).await.unwrap();
    assert!(
        record.id.starts_with("vk_") && record.id.len() == 27,
        "{}",
        record.id
    );

    let dump = db.raw_dump("credentials").await;
    assert!(
        contains(&dump, b"prod-openai"),
        "the dump should see the row"
    );
    for secret in [API_KEY, AWS_SECRET] {
        assert!(
            !contains(&dump, secret.as_bytes()),
            "secret stored in clear"
        );
        assert!(
            !contains(&dump, hex(secret.as_bytes()).as_bytes()),
            "secret stored as hex"
        );
    }
    let json = serde_json::to_string(&store.credential("prod-openai").await.unwrap()).unwrap();
    assert!(
        !json.contains(API_KEY) && !json.contains("secret"),
        "{json}"
    );
}

async fn credentials_with_secrets_round_trips(db: TestDb) {
    let store = db.open().await;
    let a = store.insert_credential(openai("a")).await.unwrap();
    let mut b = openai("b");
    b.provider = "anthropic".into();
    b.secret = json!({"api_key": "sk-ant-1"});
    let b = store.insert_credential(b).await.unwrap();

    let all = store.credentials_with_secrets().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].0.id, a.id);
    assert_eq!(
        all[0].1,
        json!({"api_key": API_KEY, "aws_secret_access_key": AWS_SECRET})
    );
    assert_eq!(
        (all[1].0.id.as_str(), all[1].0.provider.as_str()),
        (b.id.as_str(), "anthropic")
    );
    assert_eq!(all[1].1, json!({"api_key": "sk-ant-1"}));
    assert_eq!(
        all[1].0.settings,
        json!({"custom_host": "https://llm.internal.example/v1"})
    );
    let (one, secret) = store.credential_with_secret("b").await.unwrap().unwrap();
    assert_eq!((one.id, secret), (b.id, json!({"api_key": "sk-ant-1"})));
}

async fn another_cipher_cannot_decrypt_and_says_why(db: TestDb) {
    db.open()
        .await
        .insert_credential(openai("prod"))
        .await
        .unwrap();
    let other = Store::open(&db.url, Cipher::new([1; 32])).await.unwrap();

    assert_eq!(
        other.credentials().await.unwrap().len(),
        1,
        "non-secret fields stay readable"
    );
    let err = other.credentials_with_secrets().await.unwrap_err();
    let StoreError::Crypto(message) = &err else {
        panic!("expected a crypto error: {err:?}")
    };
    assert!(message.contains("could not be decrypted"), "{message}");
    assert!(
        message.contains("wrong SWITCHYARD_ENCRYPTION_KEY?"),
        "{message}"
    );
    assert!(
        message.contains("\"prod\""),
        "names the credential: {message}"
    );
    assert!(!message.contains(API_KEY) && !format!("{err:?}").contains(API_KEY));
    assert!(matches!(
        other.credential_with_secret("prod").await,
        Err(StoreError::Crypto(_))
    ));
}

async fn a_taken_credential_name_is_a_conflict(db: TestDb) {
    let store = db.open().await;
    store.insert_credential(openai("dup")).await.unwrap();
    let err = store.insert_credential(openai("dup")).await.unwrap_err();
    let StoreError::Conflict(message) = &err else {
        panic!("expected a conflict: {err:?}")
    };
    assert!(
        message.contains("dup") && !message.contains(API_KEY),
        "{message}"
    );
    assert_eq!(store.credentials().await.unwrap().len(), 1);
}

async fn credentials_are_found_by_name_or_id_and_patched_field_by_field(db: TestDb) {
    let store = db.open().await;
    let record = store.insert_credential(openai("main")).await.unwrap();
    assert_eq!(
        store.credential(&record.id).await.unwrap().unwrap().name,
        "main"
    );
    assert_eq!(
        store.credential("main").await.unwrap().unwrap().id,
        record.id
    );
    assert!(store.credential("nope").await.unwrap().is_none());

    let to_azure = CredentialPatch {
        provider: Some("azure-openai".into()),
        ..Default::default()
    };
    let got = store
        .update_credential("main", to_azure)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id.as_str(), got.provider.as_str()),
        (record.id.as_str(), "azure-openai")
    );
    assert_eq!(got.settings, record.settings);
    assert!(got.updated_at >= record.updated_at && got.created_at == record.created_at);
    let (_, secret) = store.credential_with_secret("main").await.unwrap().unwrap();
    assert_eq!(secret["api_key"], API_KEY, "an untouched secret stays");

    let rekey = CredentialPatch {
        secret: Some(json!({"api_key": "sk-new"})),
        ..Default::default()
    };
    assert!(
        !format!("{rekey:?}").contains("sk-new"),
        "Debug shows the secret"
    );
    store
        .update_credential(&record.id, rekey)
        .await
        .unwrap()
        .unwrap();
    let (got, secret) = store
        .credential_with_secret(&record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.provider.as_str(), secret),
        ("azure-openai", json!({"api_key": "sk-new"}))
    );
    assert_eq!(got.settings, record.settings);

    let missing = CredentialPatch {
        provider: Some("x".into()),
        ..Default::default()
    };
    assert!(store
        .update_credential("nope", missing)
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_credential(&record.id).await.unwrap());
    assert!(!store.delete_credential("main").await.unwrap());
    assert!(store.credentials().await.unwrap().is_empty());
}

async fn credentials_version_changes_on_every_write(db: TestDb) {
    let store = db.open().await;
    let mut seen = vec![store.credentials_version().await.unwrap()];
    assert_eq!(seen[0].1, 0);
    store.insert_credential(openai("a")).await.unwrap();
    seen.push(store.credentials_version().await.unwrap());
    // Within the same second as the insert: a timestamp alone would not move.
    let patch = CredentialPatch {
        settings: Some(json!({"limits": 1})),
        ..Default::default()
    };
    store.update_credential("a", patch).await.unwrap().unwrap();
    seen.push(store.credentials_version().await.unwrap());
    store.delete_credential("a").await.unwrap();
    seen.push(store.credentials_version().await.unwrap());
    // A no-op leaves it alone.
    assert!(!store.delete_credential("a").await.unwrap());
    seen.push(store.credentials_version().await.unwrap());

    assert_eq!(
        seen.iter().map(|v| v.1).collect::<Vec<_>>(),
        [0, 1, 1, 0, 0]
    );
    for pair in seen[..4].windows(2) {
        assert_ne!(pair[0], pair[1], "{seen:?}");
    }
    assert_eq!(seen[3], seen[4]);
    // Another store on the same database (another gateway node) sees the same marker.
    let node2 = Store::open(&db.url, crate::common::test_cipher())
        .await
        .unwrap();
    assert_eq!(node2.credentials_version().await.unwrap(), seen[4]);
}

on_both_backends!(
    a_credential_secret_is_only_stored_encrypted,
    credentials_with_secrets_round_trips,
    another_cipher_cannot_decrypt_and_says_why,
    a_taken_credential_name_is_a_conflict,
    credentials_are_found_by_name_or_id_and_patched_field_by_field,
    credentials_version_changes_on_every_write,
);
