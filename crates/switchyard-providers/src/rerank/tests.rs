//! Fixtures follow each host's published API reference (Cohere `v2/rerank`, Voyage
//! `reranker-api`, Jina `reranker`, Together `rerank`, Fireworks `rerank-documents`).

use serde_json::{json, Value};
use switchyard_types::rerank::RerankRequest;
use switchyard_types::usage::TokenUsage;

use super::*;
use crate::native::ProviderOptions;

fn req(v: Value) -> RerankRequest {
    serde_json::from_value(v).unwrap()
}

fn sent(dialect: Dialect, r: &RerankRequest, model: &str) -> Value {
    serde_json::from_slice(&request_body(dialect, r, model, "Host").unwrap()).unwrap()
}

fn cx<'a>(options: &'a ProviderOptions) -> WireContext<'a> {
    WireContext {
        model: "m",
        stream: false,
        include_usage: false,
        response_id: "rerank-gw",
        created: 0,
        options,
        strict: true,
    }
}

#[test]
fn cohere_is_sent_the_request_as_the_client_wrote_it_with_the_model_resolved() {
    let body = json!({
        "model": "alias",
        "query": "What is the capital of the United States?",
        "documents": ["Carson City is the capital city of the American state of Nevada.",
                      {"text": "Washington, D.C. is the capital of the United States."}],
        "top_n": 3,
        "max_tokens_per_doc": 512,
        "priority": 1
    });
    let out = sent(Dialect::Cohere, &req(body.clone()), "rerank-v3.5");
    let mut expected = body;
    expected["model"] = json!("rerank-v3.5");
    assert_eq!(out, expected);
}

#[test]
fn cohere_answers_pass_as_they_are() {
    let body = json!({
        "results": [
            {"index": 3, "relevance_score": 0.999071},
            {"index": 4, "relevance_score": 0.7867867},
            {"index": 0, "relevance_score": 0.32713068}
        ],
        "id": "07734bd2-2473-4f07-94e1-0d9f0e6843cf",
        "meta": {"api_version": {"version": "2", "is_experimental": false},
                 "billed_units": {"search_units": 1}}
    });
    let r = response(Dialect::Cohere, body.to_string().as_bytes(), "unused").unwrap();
    assert_eq!(serde_json::to_value(&r).unwrap(), body);
    assert_eq!(r.token_usage(), None);
}

#[test]
fn a_request_without_a_model_is_refused_before_any_io() {
    let r = req(json!({"query": "q", "documents": ["a"]}));
    let e = request_body(Dialect::Cohere, &r, "", "Cohere").unwrap_err();
    assert!(
        matches!(e, TranslateError::InvalidRequest { ref param, .. } if param.as_deref() == Some("model"))
    );
}

#[test]
fn voyage_gets_top_k_string_documents_and_an_explicit_return_documents() {
    let r = req(json!({
        "model": "rerank-2.5",
        "query": "When is Apple's conference call scheduled?",
        "documents": ["The Mediterranean diet emphasizes fish.", {"text": "Apple's conference call is on Thursday."}],
        "top_n": 2,
        "truncation": false
    }));
    assert_eq!(
        sent(Dialect::Voyage, &r, "rerank-2.5"),
        json!({
            "model": "rerank-2.5",
            "query": "When is Apple's conference call scheduled?",
            "documents": ["The Mediterranean diet emphasizes fish.", "Apple's conference call is on Thursday."],
            "top_k": 2,
            "return_documents": false,
            "truncation": false
        })
    );
}

#[test]
fn voyage_refuses_what_it_cannot_honour_instead_of_dropping_it() {
    let param = |v: Value| match request_body(Dialect::Voyage, &req(v), "rerank-2", "Voyage") {
        Err(TranslateError::InvalidRequest { message, param }) => (message, param),
        other => panic!("{other:?}"),
    };
    let (m, p) = param(
        json!({"model": "rerank-2", "query": "q", "documents": ["a"], "max_tokens_per_doc": 9}),
    );
    assert_eq!(p.as_deref(), Some("max_tokens_per_doc"));
    assert!(m.contains("Voyage rerank does not support"), "{m}");
    let (_, p) =
        param(json!({"model": "rerank-2", "query": "q", "documents": ["a"], "rank_fields": ["t"]}));
    assert_eq!(p.as_deref(), Some("rank_fields"));
    let (m, p) = param(
        json!({"model": "rerank-2", "query": "q", "documents": ["a", {"title": "x", "text": "y"}]}),
    );
    assert_eq!(p.as_deref(), Some("documents"));
    assert!(m.contains("documents[1]"), "{m}");
}

#[test]
fn a_voyage_answer_becomes_cohere_results_with_usage_and_meta() {
    let body = json!({
        "object": "list",
        "data": [
            {"relevance_score": 0.4375, "index": 1, "document": "Apple's conference call is on Thursday."},
            {"relevance_score": 0.421875, "index": 0}
        ],
        "model": "rerank-lite-1",
        "usage": {"total_tokens": 26}
    });
    let r = response(Dialect::Voyage, body.to_string().as_bytes(), "rerank-gw").unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({
            "id": "rerank-gw",
            "results": [
                {"index": 1, "relevance_score": 0.4375, "document": {"text": "Apple's conference call is on Thursday."}},
                {"index": 0, "relevance_score": 0.421875}
            ],
            "meta": {"billed_units": {"input_tokens": 26}},
            "usage": {"total_tokens": 26},
            "model": "rerank-lite-1"
        })
    );
    assert_eq!(r.token_usage(), Some(TokenUsage::new(26, 0)));
}

#[test]
fn jina_gets_the_cohere_request_with_return_documents_defaulting_to_cohere_s_false() {
    let r = req(json!({
        "model": "jina-reranker-v2-base-multilingual",
        "query": "Organic skincare products for sensitive skin",
        "documents": ["Organic skincare for sensitive skin with aloe vera and chamomile..."],
        "top_n": 3
    }));
    let out = sent(
        Dialect::CohereLike,
        &r,
        "jina-reranker-v2-base-multilingual",
    );
    assert_eq!(out["return_documents"], json!(false));
    assert_eq!(out["top_n"], json!(3));
    let mut asked = r.clone();
    asked.return_documents = Some(true);
    let out = sent(
        Dialect::CohereLike,
        &asked,
        "jina-reranker-v2-base-multilingual",
    );
    assert_eq!(out["return_documents"], json!(true));
}

#[test]
fn a_jina_answer_gets_an_id_and_meta_and_keeps_its_usage() {
    let body = json!({
        "model": "jina-reranker-v2-base-multilingual",
        "usage": {"total_tokens": 815},
        "results": [
            {"index": 0, "document": {"text": "Organic skincare for sensitive skin with aloe vera and chamomile..."}, "relevance_score": 0.8783142566680908},
            {"index": 2, "relevance_score": 0.76246758699417}
        ]
    });
    let r = response(
        Dialect::CohereLike,
        body.to_string().as_bytes(),
        "rerank-gw",
    )
    .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["id"], "rerank-gw");
    assert_eq!(v["results"], body["results"]);
    assert_eq!(v["usage"], json!({"total_tokens": 815}));
    assert_eq!(v["meta"], json!({"billed_units": {"input_tokens": 815}}));
    assert_eq!(v["model"], "jina-reranker-v2-base-multilingual");
    assert_eq!(r.token_usage(), Some(TokenUsage::new(815, 0)));
}

#[test]
fn a_together_answer_keeps_its_id() {
    let body = json!({
        "object": "rerank",
        "id": "9dfa1a09-5ebc-4a40-970f-586cb8f4ae47",
        "model": "salesforce/turboranker-0.8-3778-6328",
        "results": [{"index": 0, "relevance_score": 0.29980177813003117,
                     "document": {"text": "{\"title\":\"Llama\",\"text\":\"The llama is a domesticated South American camelid.\"}"}}],
        "usage": {"prompt_tokens": 2966, "completion_tokens": 0, "total_tokens": 2966}
    });
    let r = response(
        Dialect::CohereLike,
        body.to_string().as_bytes(),
        "rerank-gw",
    )
    .unwrap();
    assert_eq!(r.id, "9dfa1a09-5ebc-4a40-970f-586cb8f4ae47");
    assert_eq!(r.token_usage(), Some(TokenUsage::new(2966, 0)));
}

#[test]
fn fireworks_keeps_top_n_and_its_string_documents_come_back_as_text_objects() {
    let r = req(json!({
        "model": "accounts/fireworks/models/qwen3-reranker-8b",
        "query": "What is machine learning?",
        "documents": ["Machine learning is a subset of AI.", "The weather is sunny today."],
        "top_n": 2,
        "return_documents": true,
        "task": "Given a web search query, retrieve relevant passages that answer the query"
    }));
    let out = sent(
        Dialect::Fireworks,
        &r,
        "accounts/fireworks/models/qwen3-reranker-8b",
    );
    assert_eq!(out["top_n"], json!(2));
    assert!(out.get("top_k").is_none());
    assert_eq!(out["return_documents"], json!(true));
    assert_eq!(
        out["task"],
        json!("Given a web search query, retrieve relevant passages that answer the query")
    );
    let body = json!({
        "object": "list",
        "model": "accounts/fireworks/models/qwen3-reranker-8b",
        "data": [{"index": 0, "relevance_score": 0.5, "document": "Machine learning is a subset of AI."}],
        "usage": {"prompt_tokens": 123, "total_tokens": 123}
    });
    let r = response(Dialect::Fireworks, body.to_string().as_bytes(), "rerank-gw").unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v["results"],
        json!([{"index": 0, "relevance_score": 0.5, "document": {"text": "Machine learning is a subset of AI."}}])
    );
    assert_eq!(r.token_usage(), Some(TokenUsage::new(123, 0)));
}

#[test]
fn garbage_or_an_error_object_in_a_2xx_is_not_an_answer() {
    for d in [
        Dialect::Cohere,
        Dialect::CohereLike,
        Dialect::Voyage,
        Dialect::Fireworks,
    ] {
        assert!(matches!(
            response(d, b"<html>oops</html>", "x"),
            Err(TranslateError::InvalidResponse(_))
        ));
        assert!(matches!(
            response(d, br#"{"results": "nope", "data": 3}"#, "x"),
            Err(TranslateError::InvalidResponse(_))
        ));
        assert!(matches!(
            response(d, br#"{"error": {"message": "overloaded"}}"#, "x"),
            Err(TranslateError::Upstream { status: 502, .. })
        ));
    }
}

#[test]
fn host_errors_keep_their_message() {
    let e = error_response(400, br#"{"detail": "Value for 'top_k' must be positive."}"#);
    assert_eq!(e.error.message, "Value for 'top_k' must be positive.");
    assert_eq!(e.error.kind, "invalid_request_error");
    let e = error_response(
        422,
        br#"{"detail": [{"loc": ["body", "query"], "msg": "field required"}]}"#,
    );
    assert_eq!(e.error.message, "field required");
    let e = error_response(429, br#"{"message": "You are using a Trial key"}"#);
    assert_eq!(e.error.message, "You are using a Trial key");
    let e = error_response(503, b"");
    assert_eq!(e.error.message, "upstream returned HTTP 503");
}

#[test]
fn only_hosts_with_a_documented_rerank_api_have_an_adapter() {
    assert_eq!(host("voyage").map(|h| h.dialect), Some(Dialect::Voyage));
    assert_eq!(host("jina").map(|h| h.dialect), Some(Dialect::CohereLike));
    assert_eq!(
        host("together-ai").map(|h| h.dialect),
        Some(Dialect::CohereLike)
    );
    assert_eq!(
        host("fireworks-ai").map(|h| h.dialect),
        Some(Dialect::Fireworks)
    );
    assert!(host("openai").is_none());
    for slug in ["voyage", "jina", "together-ai", "fireworks-ai"] {
        let spec = crate::lookup(slug).unwrap();
        assert!(spec.supports(crate::Endpoint::Rerank), "{slug}");
    }
    for spec in crate::CATALOG {
        if spec.supports(crate::Endpoint::Rerank) && spec.slug != "cohere" {
            assert!(host(spec.slug).is_some(), "{}", spec.slug);
        }
    }
}

#[test]
fn the_adapters_go_through_the_native_seam() {
    let opts = ProviderOptions::new();
    let r = req(json!({"model": "m", "query": "q", "documents": ["a"], "top_n": 1}));
    let wire = VOYAGE.rerank_request(&r, &cx(&opts)).unwrap();
    assert_eq!(wire.path, "/rerank");
    let out: Value = serde_json::from_slice(&wire.body).unwrap();
    assert_eq!(out["top_k"], json!(1));
    let wire = crate::cohere::Cohere
        .rerank_request(&r, &cx(&opts))
        .unwrap();
    assert_eq!(wire.path, "/v2/rerank");
    let answer = br#"{"id": "c", "results": [{"index": 0, "relevance_score": 0.9}], "meta": {}}"#;
    let resp = crate::cohere::Cohere
        .rerank_response(answer, &cx(&opts))
        .unwrap();
    assert_eq!(resp.id, "c");
    assert!(crate::anthropic::Anthropic
        .rerank_request(&r, &cx(&opts))
        .is_err());
}
