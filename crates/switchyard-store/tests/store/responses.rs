//! Stored Responses-API responses, on both backends.

use switchyard_store::StoredResponse;

use crate::common::{on_both_backends, TestDb};

fn row(id: &str, previous: Option<&str>, expires_at: i64) -> StoredResponse {
    StoredResponse {
        id: id.into(),
        created_at: 100,
        expires_at,
        previous_id: previous.map(str::to_owned),
        owner: Some("key_a".into()),
        input_items:
            r#"[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]"#
                .into(),
        response: format!(r#"{{"id":"{id}","object":"response","output":[]}}"#),
    }
}

async fn a_response_is_read_back_until_it_expires_then_purged(db: TestDb) {
    let store = db.open().await;
    let first = row("resp_1", None, 1_000);
    let second = row("resp_2", Some("resp_1"), 2_000);
    store.put_response(&first).await.unwrap();
    store.put_response(&second).await.unwrap();
    assert_eq!(
        store.response("resp_2", 500).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        store
            .response("resp_2", 500)
            .await
            .unwrap()
            .unwrap()
            .previous_id
            .as_deref(),
        Some("resp_1")
    );
    assert_eq!(
        store.response("resp_1", 1_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.response("resp_none", 0).await.unwrap(), None);
    assert_eq!(store.purge_responses(1_500).await.unwrap(), 1);
    assert_eq!(store.response("resp_2", 1_500).await.unwrap(), Some(second));
}

async fn storing_again_replaces_and_delete_says_whether_it_found_one(db: TestDb) {
    let store = db.open().await;
    let mut r = row("resp_x", None, 1_000);
    store.put_response(&r).await.unwrap();
    r.response = r#"{"id":"resp_x","object":"response","status":"completed"}"#.into();
    r.expires_at = 5_000;
    store.put_response(&r).await.unwrap();
    assert_eq!(store.response("resp_x", 2_000).await.unwrap(), Some(r));
    assert!(store.delete_response("resp_x").await.unwrap());
    assert!(!store.delete_response("resp_x").await.unwrap());
    assert_eq!(store.response("resp_x", 0).await.unwrap(), None);
}

on_both_backends!(
    a_response_is_read_back_until_it_expires_then_purged,
    storing_again_replaces_and_delete_says_whether_it_found_one,
);
