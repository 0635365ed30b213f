//! `POST /v1/rerank` through the server: Cohere's v2 shape, passed to Cohere as it is and
//! translated for Voyage, Jina and Together, with routing, retries, fallback, errors and usage
//! like every other endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Retry waits of a millisecond or so.
const FAST_RETRIES: &str = "server:\n  retry_base_delay: 2ms\n  retry_max_delay: 4ms\n";

/// Cohere's documented answer (`docs.cohere.com/reference/rerank`).
fn cohere_answer() -> Value {
    json!({
        "results": [
            {"index": 3, "relevance_score": 0.999071},
            {"index": 0, "relevance_score": 0.32713068}
        ],
        "id": "07734bd2-2473-4f07-94e1-0d9f0e6843cf",
        "meta": {"api_version": {"version": "2", "is_experimental": false},
                 "billed_units": {"search_units": 1}}
    })
}

fn rerank_body(model: &str) -> Value {
    json!({
        "model": model,
        "query": "What is the capital of the United States?",
        "documents": [
            "Carson City is the capital city of the American state of Nevada.",
            {"text": "Washington, D.C. is the capital of the United States."}
        ],
        "top_n": 2
    })
}

fn ok(body: Value) -> Reply {
    Reply::status(200, body)
}

/// Headers routing to `mock` as `slug`, with `host` as the custom host.
fn to(slug: &str, host: String) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", slug.to_owned()),
        ("x-portkey-custom-host", host),
        ("authorization", "Bearer sk-client".to_owned()),
    ]
}

/// Cohere's base URL has no version (`https://api.cohere.com`), nor does Together's (its
/// `/v1` is a prefix); Voyage's and Jina's end in `/v1`.
fn root(mock: &MockServer) -> String {
    format!("http://{}", mock.addr())
}

#[tokio::test]
async fn cohere_gets_the_request_as_sent_and_its_answer_passes_through() {
    let mock = MockServer::start("cohere").await;
    mock.push(ok(cohere_answer()));
    let gw = Gateway::start("").await;
    let mut body = rerank_body("rerank-v3.5");
    body["max_tokens_per_doc"] = json!(512);
    let resp = gw
        .post(
            "/v1/rerank",
            body.clone(),
            &refs(&to("cohere", root(&mock))),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "application/json");
    assert_eq!(resp.json::<Value>().await.unwrap(), cohere_answer());
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v2/rerank");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-client"));
    assert_eq!(sent.json(), body);
}

#[tokio::test]
async fn voyage_is_sent_top_k_and_string_documents_and_answers_in_cohere_shape() {
    let mock = MockServer::start("voyage").await;
    mock.push(ok(json!({
        "object": "list",
        "data": [
            {"relevance_score": 0.4375, "index": 1, "document": "Washington, D.C. is the capital of the United States."},
            {"relevance_score": 0.421875, "index": 0, "document": "Carson City is the capital city of the American state of Nevada."}
        ],
        "model": "rerank-2",
        "usage": {"total_tokens": 26}
    })));
    let gw = Gateway::start("").await;
    let mut body = rerank_body("rerank-2");
    body["return_documents"] = json!(true);
    body["truncation"] = json!(false);
    let resp = gw
        .post("/v1/rerank", body, &refs(&to("voyage", mock.url())))
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("rerank-"), "{v}");
    assert_eq!(v["results"][0]["index"], 1);
    assert_eq!(
        v["results"][0]["document"],
        json!({"text": "Washington, D.C. is the capital of the United States."})
    );
    assert_eq!(v["meta"]["billed_units"]["input_tokens"], 26);
    assert_eq!(v["usage"]["total_tokens"], 26);
    assert!(v.get("data").is_none() && v.get("object").is_none(), "{v}");
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/rerank");
    assert_eq!(
        sent.json(),
        json!({
            "model": "rerank-2",
            "query": "What is the capital of the United States?",
            "documents": [
                "Carson City is the capital city of the American state of Nevada.",
                "Washington, D.C. is the capital of the United States."
            ],
            "top_k": 2,
            "return_documents": true,
            "truncation": false
        })
    );
}

#[tokio::test]
async fn jina_answers_get_an_id_and_meta_and_return_documents_defaults_to_false() {
    let mock = MockServer::start("jina").await;
    mock.push(ok(json!({
        "model": "jina-reranker-v2-base-multilingual",
        "usage": {"total_tokens": 815},
        "results": [{"index": 1, "relevance_score": 0.8783142566680908}]
    })));
    let gw = Gateway::start("").await;
    let resp = gw
        .post(
            "/v1/rerank",
            rerank_body("jina-reranker-v2-base-multilingual"),
            &refs(&to("jina", mock.url())),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert!(v["id"].as_str().unwrap().starts_with("rerank-"), "{v}");
    assert_eq!(
        v["results"],
        json!([{"index": 1, "relevance_score": 0.8783142566680908}])
    );
    assert_eq!(v["meta"]["billed_units"]["input_tokens"], 815);
    assert_eq!(v["usage"]["total_tokens"], 815);
    let sent = mock.requests()[0].json();
    assert_eq!(mock.requests()[0].path, "/v1/rerank");
    assert_eq!(sent["return_documents"], false);
    assert_eq!(sent["top_n"], 2);
    assert_eq!(
        sent["documents"][1],
        json!({"text": "Washington, D.C. is the capital of the United States."})
    );
}

#[tokio::test]
async fn together_is_reached_under_its_v1_prefix_and_keeps_its_id() {
    let mock = MockServer::start("together").await;
    mock.push(ok(json!({
        "object": "rerank",
        "id": "9dfa1a09-5ebc-4a40-970f-586cb8f4ae47",
        "model": "Salesforce/Llama-Rank-V1",
        "results": [{"index": 1, "relevance_score": 0.29980177813003117}],
        "usage": {"prompt_tokens": 2966, "completion_tokens": 0, "total_tokens": 2966}
    })));
    let gw = Gateway::start("").await;
    let resp = gw
        .post(
            "/v1/rerank",
            rerank_body("Salesforce/Llama-Rank-V1"),
            &refs(&to("together-ai", root(&mock))),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["id"], "9dfa1a09-5ebc-4a40-970f-586cb8f4ae47");
    assert_eq!(mock.requests()[0].path, "/v1/rerank");
}

#[tokio::test]
async fn a_provider_without_rerank_is_refused_before_any_io() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let (status, e) = error_of(
        gw.post("/v1/rerank", rerank_body("m"), &refs(&via(&mock)))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        e["error"]["message"],
        "provider `openai` does not support rerank"
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_fallback_moves_past_a_provider_without_rerank_and_a_failing_host() {
    let openai = MockServer::start("openai").await;
    let cohere = MockServer::start("cohere").await;
    cohere.push(Reply::status(503, json!({"message": "overloaded"})));
    let voyage = MockServer::start("voyage").await;
    voyage.push(ok(json!({
        "object": "list", "data": [{"relevance_score": 0.5, "index": 1}],
        "model": "rerank-2", "usage": {"total_tokens": 9}
    })));
    let gw = Gateway::start("").await;
    let config = json!({
        "strategy": {"mode": "fallback"},
        "targets": [
            target(&openai),
            {"provider": "cohere", "api_key": "co-key", "custom_host": root(&cohere)},
            {"provider": "voyage", "api_key": "pa-key", "custom_host": voyage.url(),
             "override_params": {"model": "rerank-2"}}
        ]
    });
    let resp = gw
        .post(
            "/v1/rerank",
            rerank_body("rerank-v3.5"),
            &[("x-portkey-config", &config.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[2]"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["results"], json!([{"index": 1, "relevance_score": 0.5}]));
    assert!(openai.requests().is_empty(), "openai was never called");
    assert_eq!(cohere.requests().len(), 1);
    let sent = &voyage.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer pa-key"));
    assert_eq!(sent.json()["model"], "rerank-2");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let mock = MockServer::start("cohere").await;
    mock.push(Reply::status(
        429,
        json!({"message": "You are using a Trial key"}),
    ));
    mock.push(Reply::status(500, json!({"message": "internal"})));
    mock.push(ok(cohere_answer()));
    let gw = Gateway::start(FAST_RETRIES).await;
    let config = json!({"provider": "cohere", "api_key": "co-key", "custom_host": root(&mock),
                        "retry": {"attempts": 3}});
    let resp = gw
        .post(
            "/v1/rerank",
            rerank_body("rerank-v3.5"),
            &[("x-portkey-config", &config.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "2");
    assert_eq!(resp.json::<Value>().await.unwrap(), cohere_answer());
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
}

#[tokio::test]
async fn an_upstream_error_keeps_its_status_and_message() {
    let mock = MockServer::start("voyage").await;
    mock.push(Reply::status(
        400,
        json!({"detail": "Value for 'top_k' must be positive."}),
    ));
    let gw = Gateway::start("").await;
    let (status, e) = error_of(
        gw.post(
            "/v1/rerank",
            rerank_body("rerank-2"),
            &refs(&to("voyage", mock.url())),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["message"], "Value for 'top_k' must be positive.");
}

#[tokio::test]
async fn a_malformed_request_is_an_openai_style_400_before_any_io() {
    let mock = MockServer::start("cohere").await;
    let gw = Gateway::start("").await;
    let h = to("cohere", root(&mock));
    let (status, e) = error_of(gw.post_raw("/v1/rerank", "{\"query\": ", &refs(&h)).await).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["type"], "invalid_request_error");
    let (status, e) = error_of(
        gw.post(
            "/v1/rerank",
            json!({"model": "rerank-v3.5", "documents": ["a"]}),
            &refs(&h),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `query`"),
        "{e}"
    );
    let (status, e) = error_of(
        gw.post(
            "/v1/rerank",
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a"], "top_n": -1}),
            &refs(&h),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "top_n");
    // A parameter Voyage has no equivalent for is refused, not dropped.
    let (status, e) = error_of(
        gw.post(
            "/v1/rerank",
            json!({"model": "rerank-2", "query": "q", "documents": ["a"], "max_tokens_per_doc": 9}),
            &refs(&to("voyage", mock.url())),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "max_tokens_per_doc");
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn upstream_garbage_is_a_clear_502() {
    let mock = MockServer::start("voyage").await;
    mock.push(Reply::Json {
        status: 200,
        body: "<html>gateway timeout</html>".into(),
        headers: vec![],
    });
    mock.push(ok(json!({"object": "list", "data": "nope"})));
    let gw = Gateway::start("").await;
    let h = to("voyage", mock.url());
    for _ in 0..2 {
        let (status, e) = error_of(
            gw.post("/v1/rerank", rerank_body("rerank-2"), &refs(&h))
                .await,
        )
        .await;
        assert_eq!(status, 502);
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains("not a rerank answer"), "{msg}");
    }
}

#[tokio::test]
async fn rerank_tokens_reach_the_metrics() {
    let mock = MockServer::start("voyage").await;
    mock.push(ok(json!({
        "object": "list", "data": [{"relevance_score": 0.5, "index": 0}],
        "model": "rerank-2", "usage": {"total_tokens": 26}
    })));
    let gw = Gateway::start("").await;
    let resp = gw
        .post(
            "/v1/rerank",
            rerank_body("rerank-2"),
            &refs(&to("voyage", mock.url())),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await;
    let series = r#"gen_ai_client_token_usage_sum{operation="rerank",provider="voyage",model="rerank-2",token_type="input"}"#;
    let mut text = String::new();
    for _ in 0..100 {
        text = gw
            .http
            .get(gw.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.lines().any(|l| l.starts_with(series)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let line = text
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("{series} missing:\n{text}"));
    let tokens: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(tokens, 26.0, "{line}");
}

#[tokio::test]
async fn the_legacy_proxy_path_still_reaches_a_hosts_own_rerank_route() {
    let mock = MockServer::start("openai").await;
    let gw = Gateway::start("").await;
    let body = json!({"model": "m", "query": "q", "documents": ["a"]});
    let resp = gw
        .post("/v1/proxy/rerank", body.clone(), &refs(&via(&mock)))
        .await;
    assert_eq!(resp.status(), 200);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/rerank");
    assert_eq!(sent.json(), body);
}
