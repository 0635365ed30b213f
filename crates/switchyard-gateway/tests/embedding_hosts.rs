//! Embedding hosts that speak OpenAI's API with members of their own (Voyage, Jina): what the
//! upstream receives after the gateway renames them, and that a request they cannot take is
//! refused before any I/O.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::json;

use common::{error_of, Gateway, MockServer, Reply};

#[tokio::test]
async fn voyage_embeddings_get_output_dimension_and_voyage_input_types() {
    let mock = MockServer::start("voyage").await;
    mock.push(Reply::Default);
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v1", mock.addr());
    let h = [
        ("x-portkey-provider", "voyage"),
        ("authorization", "Bearer pa-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let sent = json!({"model": "voyage-3.5", "input": ["hello"], "dimensions": 256,
                      "encoding_format": "float", "input_type": "search_query"});
    let resp = gw.post("/v1/embeddings", sent, &h).await;
    assert_eq!(resp.status(), 200);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/embeddings");
    assert_eq!(
        reqs[0].json(),
        json!({"model": "voyage-3.5", "input": ["hello"], "output_dimension": 256, "input_type": "query"})
    );
}

#[tokio::test]
async fn jina_embeddings_get_a_task_and_an_unmappable_input_type_is_refused_before_io() {
    let mock = MockServer::start("jina").await;
    mock.push(Reply::Default);
    let gw = Gateway::start("").await;
    let host = format!("http://{}/v1", mock.addr());
    let h = [
        ("x-portkey-provider", "jina"),
        ("authorization", "Bearer jina-key"),
        ("x-portkey-custom-host", host.as_str()),
    ];
    let sent =
        json!({"model": "jina-embeddings-v3", "input": "hello", "input_type": "search_document"});
    let resp = gw.post("/v1/embeddings", sent, &h).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.requests()[0].json()["task"], "retrieval.passage");
    let bad = json!({"model": "jina-embeddings-v3", "input": "hello", "input_type": "poetry"});
    let (status, body) = error_of(gw.post("/v1/embeddings", bad, &h).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "input_type", "{body}");
    assert_eq!(mock.hits(), 1);
}
