//! Nomic adapter tests. Fixtures live in `fixtures/nomic/`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn no_options() -> &'static ProviderOptions {
    static EMPTY: std::sync::OnceLock<ProviderOptions> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

fn cx(model: &'static str) -> WireContext<'static> {
    WireContext {
        model,
        stream: false,
        include_usage: false,
        response_id: "emb-test",
        created: 1_700_000_000,
        options: no_options(),
        strict: true,
    }
}

fn wire_body(req: Value, model: &'static str) -> Result<Value, TranslateError> {
    let req: EmbeddingsRequest = serde_json::from_value(req).unwrap();
    let w = Nomic.embeddings_request(&req, &cx(model))?;
    assert_eq!(w.path, "/v1/embedding/text");
    assert!(w.headers.is_empty());
    Ok(serde_json::from_slice(&w.body).unwrap())
}

#[test]
fn base_url_is_the_atlas_api() {
    assert_eq!(
        Nomic.base_url(no_options()).unwrap(),
        "https://api-atlas.nomic.ai"
    );
}

#[test]
fn embeddings_send_texts_model_and_dimensionality() {
    let b = wire_body(
        json!({"model": "x", "input": ["hello", "goodbye"], "dimensions": 256, "encoding_format": "float"}),
        "nomic-embed-text-v1.5",
    )
    .unwrap();
    assert_eq!(
        b,
        json!({"model": "nomic-embed-text-v1.5", "texts": ["hello", "goodbye"], "dimensionality": 256})
    );
    let b = wire_body(json!({"model": "", "input": "one"}), "").unwrap();
    assert_eq!(b, json!({"model": "nomic-embed-text-v1", "texts": ["one"]}));
}

#[test]
fn task_type_comes_from_task_type_or_input_type() {
    let b = wire_body(
        json!({"model": "x", "input": "q", "input_type": "search_query"}),
        "m",
    )
    .unwrap();
    assert_eq!(b["task_type"], "search_query");
    let b = wire_body(
        json!({"model": "x", "input": "q", "input_type": "document"}),
        "m",
    )
    .unwrap();
    assert_eq!(b["task_type"], "search_document");
    let b = wire_body(
        json!({"model": "x", "input": "q", "task_type": "clustering", "input_type": "search_query"}),
        "m",
    )
    .unwrap();
    assert_eq!(b["task_type"], "clustering");
    match wire_body(
        json!({"model": "x", "input": "q", "input_type": "retrieval"}),
        "m",
    ) {
        Err(TranslateError::InvalidRequest { param, .. }) => {
            assert_eq!(param.as_deref(), Some("input_type"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_inputs_empty_inputs_and_chat_are_refused() {
    assert!(wire_body(json!({"model": "x", "input": [[1, 2]]}), "m").is_err());
    assert!(wire_body(json!({"model": "x", "input": []}), "m").is_err());
    let chat: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": []})).unwrap();
    assert!(matches!(
        Nomic.chat_request(&chat, &cx("m")),
        Err(TranslateError::InvalidRequest { .. })
    ));
    let mut s = Nomic.chat_stream(&cx("m"));
    assert!(s.finish().is_err());
}

#[test]
fn embeddings_response_reads_vectors_and_prompt_tokens() {
    let r = Nomic
        .embeddings_response(
            include_bytes!("../../fixtures/nomic/embed_response.json"),
            &cx("nomic-embed-text-v1.5"),
        )
        .unwrap();
    assert_eq!(r.model, "nomic-embed-text-v1.5");
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert_eq!(
        r.data[0].embedding,
        vec![0.008918762f32, 0.06036377, -0.17004395, -0.031341553]
    );
    assert_eq!((r.usage.prompt_tokens, r.usage.total_tokens), (4, 4));
    assert!(matches!(
        Nomic.embeddings_response(br#"{"embeddings":[["a"]]}"#, &cx("m")),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn error_details_become_openai_errors() {
    let e = Nomic.error_response(
        422,
        include_bytes!("../../fixtures/nomic/error_validation.json"),
    );
    assert_eq!(e.error.kind, "invalid_request_error");
    assert!(
        e.error
            .message
            .starts_with("body.task_type: Input should be"),
        "{}",
        e.error.message
    );
    let e = Nomic.error_response(401, include_bytes!("../../fixtures/nomic/error_auth.json"));
    assert_eq!(e.error.kind, "authentication_error");
    assert_eq!(e.error.message, "Could not validate credentials");
    let e = Nomic.error_response(503, b"");
    assert_eq!(e.error.message, "Nomic returned HTTP 503");
}
