//! Predibase adapter tests. Fixtures live in `fixtures/predibase/`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

const MODEL: &str = "llama-3-1-8b-instruct:pb-adapter/2";

fn options(tenant: Option<&str>) -> ProviderOptions {
    tenant
        .map(|t| (TENANT_OPTION.to_owned(), t.to_owned()))
        .into_iter()
        .collect::<BTreeMap<_, _>>()
}

fn cx<'a>(
    model: &'a str,
    stream: bool,
    include_usage: bool,
    options: &'a ProviderOptions,
) -> WireContext<'a> {
    WireContext {
        model,
        stream,
        include_usage,
        response_id: "chatcmpl-test",
        created: 1_700_000_000,
        options,
        strict: true,
    }
}

fn chat_req(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

fn run_sse(sse: &str, include_usage: bool) -> (Vec<Value>, Result<(), TranslateError>) {
    let opts = options(Some("tenant1"));
    crate::test_sse::run_sse(
        Predibase.chat_stream(&cx(MODEL, true, include_usage, &opts)),
        sse,
    )
}

#[test]
fn the_url_names_tenant_and_base_model_and_the_body_the_adapter() {
    let opts = options(Some("tenant1"));
    let w = Predibase
        .chat_request(
            &chat_req(json!({"model": MODEL, "messages": [
                {"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                "max_tokens": 20, "temperature": 0.1, "stream_options": {"include_usage": true},
                "top_k": 5})),
            &cx(MODEL, true, true, &opts),
        )
        .unwrap();
    assert_eq!(
        w.path,
        "/tenant1/deployments/v2/llms/llama-3-1-8b-instruct/v1/chat/completions"
    );
    assert!(w.headers.is_empty());
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        json!({"model": "pb-adapter/2", "stream": true, "max_tokens": 20, "temperature": 0.1,
               "top_k": 5, "messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi"}]})
    );
    assert_eq!(
        Predibase.base_url(&opts).unwrap(),
        "https://serving.app.predibase.com"
    );
}

#[test]
fn without_the_option_the_user_names_the_tenant_as_in_portkey() {
    let none = options(None);
    let req = chat_req(json!({"model": "m", "messages": [], "user": "acme"}));
    let w = Predibase
        .chat_request(&req, &cx("mistral-7b", false, false, &none))
        .unwrap();
    assert_eq!(
        w.path,
        "/acme/deployments/v2/llms/mistral-7b/v1/chat/completions"
    );
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(b["model"], "", "no adapter: the base model itself");
    assert!(b.get("user").is_none(), "the tenant is not sent on");
    // The option wins over `user`, which then stays out of the body too.
    let opts = options(Some("tenant1"));
    let w = Predibase
        .chat_request(&req, &cx("mistral-7b", false, false, &opts))
        .unwrap();
    assert!(w.path.starts_with("/tenant1/"));
}

#[test]
fn missing_or_unsafe_tenants_and_models_are_refused() {
    let none = options(None);
    let req = chat_req(json!({"model": "m", "messages": []}));
    match Predibase.chat_request(&req, &cx("m", false, false, &none)) {
        Err(TranslateError::InvalidRequest { param, .. }) => {
            assert_eq!(param.as_deref(), Some(TENANT_OPTION))
        }
        other => panic!("{other:?}"),
    }
    let bad = options(Some("a/b"));
    assert!(Predibase
        .chat_request(&req, &cx("m", false, false, &bad))
        .is_err());
    let opts = options(Some("t"));
    for model in ["", "a/b", "..", ":adapter/1", "x y"] {
        assert!(
            Predibase
                .chat_request(&req, &cx(model, false, false, &opts))
                .is_err(),
            "{model:?}"
        );
    }
}

#[test]
fn response_is_openai_shaped_with_the_requested_model() {
    let opts = options(Some("t"));
    let r = Predibase
        .chat_response(
            include_bytes!("../../fixtures/predibase/chat_response.json"),
            &cx(MODEL, false, false, &opts),
        )
        .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], MODEL);
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "The capital of France is Paris."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 19, "completion_tokens": 8, "total_tokens": 27})
    );
    assert!(Predibase
        .chat_response(
            br#"{"id":"x","object":"o","created":1,"model":"m","choices":[]}"#,
            &cx(MODEL, false, false, &opts)
        )
        .is_err());
}

#[test]
fn stream_keeps_one_id_the_role_once_and_moves_usage_to_the_end() {
    let (chunks, end) = run_sse(
        include_str!("../../fixtures/predibase/stream_text.sse"),
        true,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 4, "three deltas and the usage chunk");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[1]["choices"][0]["delta"].get("role").is_none());
    assert!(chunks
        .iter()
        .all(|c| c["model"] == MODEL && c["id"] == "null"));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "The capital of France is Paris.");
    assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
    assert!(chunks[2].get("usage").is_none());
    assert_eq!(chunks[3]["choices"], json!([]));
    assert_eq!(chunks[3]["usage"]["total_tokens"], 27);
    let (chunks, end) = run_sse(
        include_str!("../../fixtures/predibase/stream_text.sse"),
        false,
    );
    end.unwrap();
    assert_eq!(chunks.len(), 3);
}

#[test]
fn stream_error_frames_and_missing_done_are_errors() {
    let (_, end) = run_sse("data: {\"error\":\"Request failed during generation: out of memory\",\"error_type\":\"generation\"}\n\n", true);
    match end {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 500);
            assert!(error.error.message.contains("out of memory"));
            assert_eq!(error.error.code.as_deref(), Some("generation"));
        }
        other => panic!("{other:?}"),
    }
    let (chunks, end) = run_sse(
        "data: {\"id\":\"a\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut\"},\"finish_reason\":null}]}\n\n",
        true,
    );
    assert_eq!(chunks.len(), 1);
    assert!(matches!(end, Err(TranslateError::InvalidResponse(m)) if m.contains("[DONE]")));
}

#[test]
fn error_bodies_keep_message_type_by_status_and_code() {
    let e = Predibase.error_response(
        401,
        include_bytes!("../../fixtures/predibase/error_auth.json"),
    );
    assert_eq!(e.error.kind, "authentication_error");
    assert_eq!(e.error.message, "Invalid or missing API token");
    assert_eq!(e.error.code.as_deref(), Some("401"));
    let e = Predibase.error_response(429, br#"{"error":"Rate limit exceeded"}"#);
    assert_eq!(e.error.kind, "rate_limit_error");
    assert_eq!(e.error.message, "Rate limit exceeded");
    let e = Predibase.error_response(502, b"");
    assert_eq!(e.error.message, "Predibase returned HTTP 502");
}
