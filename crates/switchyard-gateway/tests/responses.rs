//! `POST /v1/responses` and its reads through the server: passed on to OpenAI, translated
//! through chat completions for every other provider, with the conversation state
//! (`previous_response_id`, `store`, `GET`/`DELETE /v1/responses/{id}`) kept by the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

/// A gateway whose records (stored responses) go to a SQLite file of its own.
async fn gateway(tag: &str) -> Gateway {
    let dir = temp_dir(tag);
    Gateway::start(&format!(
        "database:\n  url: sqlite://{}\n  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        dir.join("records.db").display()
    ))
    .await
}

/// Routing to `mock` as Groq: an OpenAI-compatible provider without a Responses API.
fn groq(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", "groq".to_owned()),
        ("x-portkey-custom-host", mock.url()),
        ("authorization", "Bearer gsk-client".to_owned()),
    ]
}

async fn create(gw: &Gateway, body: Value, h: &[(&'static str, String)]) -> reqwest::Response {
    gw.post("/v1/responses", body, &refs(h)).await
}

async fn get(gw: &Gateway, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(gw.url(path))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn openai_gets_the_request_as_sent_and_its_answer_comes_back() {
    let mock = MockServer::start("openai").await;
    let answer = json!({"id": "resp_openai", "object": "response", "status": "completed", "output": [],
                        "usage": {"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}});
    mock.push(Reply::Json {
        status: 200,
        body: answer.to_string(),
        headers: vec![],
    });
    let gw = gateway("responses-openai").await;
    let body = json!({"model": "gpt-4.1-mini", "input": "hi", "previous_response_id": "resp_at_openai",
                      "tools": [{"type": "web_search"}]});
    let resp = create(&gw, body.clone(), &via(&mock)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), answer);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(
        sent.json(),
        body,
        "OpenAI's own features and state pass on untouched"
    );
}

#[tokio::test]
async fn another_provider_answers_with_a_response_object() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-groq").await;
    let body = json!({"model": "llama-3.3-70b", "instructions": "be brief", "input": "hi",
                      "max_output_tokens": 64, "metadata": {"ticket": "42"}});
    let resp = create(&gw, body, &groq(&mock)).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "response");
    assert!(v["id"].as_str().unwrap().starts_with("resp_"), "{v}");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["output"][0]["type"], "message");
    assert_eq!(v["output"][0]["content"][0]["text"], "Hello from groq");
    assert_eq!(v["usage"]["input_tokens"], 5);
    assert_eq!(v["usage"]["output_tokens"], 3);
    assert_eq!(v["instructions"], "be brief");
    assert_eq!(v["metadata"]["ticket"], "42");
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    let chat = sent.json();
    assert_eq!(
        chat["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(
        chat["messages"][1],
        json!({"role": "user", "content": "hi"})
    );
    assert_eq!(chat["max_tokens"], 64);
    assert!(chat.get("metadata").is_none());
}

#[tokio::test]
async fn previous_response_id_continues_the_stored_conversation() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-chain").await;
    let h = groq(&mock);
    let first: Value = create(&gw, json!({"model": "m", "input": "first question"}), &h)
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    let second: Value = create(
        &gw,
        json!({"model": "m", "input": "second question", "previous_response_id": id}),
        &h,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second["previous_response_id"], json!(id));
    let messages = mock.requests()[1].json()["messages"].clone();
    assert_eq!(
        messages,
        json!([
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "Hello from groq"},
            {"role": "user", "content": "second question"},
        ])
    );
    // A third turn sees both earlier ones.
    let second_id = second["id"].as_str().unwrap().to_owned();
    create(
        &gw,
        json!({"model": "m", "input": "third", "previous_response_id": second_id}),
        &h,
    )
    .await;
    assert_eq!(
        mock.requests()[2].json()["messages"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn a_stored_response_is_read_listed_and_deleted() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-read").await;
    let created: Value = create(&gw, json!({"model": "m", "input": "hi"}), &groq(&mock))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let read = get(&gw, &format!("/v1/responses/{id}")).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.json::<Value>().await.unwrap(), created);
    let items: Value = get(&gw, &format!("/v1/responses/{id}/input_items"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["role"], "user");
    assert_eq!(items["data"][0]["content"][0]["text"], "hi");
    let deleted: Value = reqwest::Client::new()
        .delete(gw.url(&format!("/v1/responses/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], true);
    let gone = get(&gw, &format!("/v1/responses/{id}")).await;
    assert_eq!(gone.status(), 404);
    let (status, e) = error_of(gone).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["param"], "response_id");
}

#[tokio::test]
async fn store_false_keeps_nothing_and_an_unknown_previous_id_is_a_400() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-nostore").await;
    let h = groq(&mock);
    let created: Value = create(
        &gw,
        json!({"model": "m", "input": "hi", "store": false}),
        &h,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(created["store"], false);
    let id = created["id"].as_str().unwrap();
    assert_eq!(get(&gw, &format!("/v1/responses/{id}")).await.status(), 404);
    let resp = create(
        &gw,
        json!({"model": "m", "input": "again", "previous_response_id": id}),
        &h,
    )
    .await;
    let (status, e) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "previous_response_id");
    assert_eq!(mock.requests().len(), 1, "the second request was not sent");
}

#[tokio::test]
async fn a_stream_from_another_provider_is_the_responses_event_stream_and_is_stored() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-stream").await;
    let h = groq(&mock);
    let text = create(
        &gw,
        json!({"model": "m", "input": "hi", "stream": true}),
        &h,
    )
    .await
    .text()
    .await
    .unwrap();
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"response.created"), "{text}");
    assert_eq!(types.last(), Some(&"response.completed"), "{text}");
    assert!(types.contains(&"response.output_text.delta"), "{text}");
    let delta: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(delta, "Hello from groq");
    let done = events.last().unwrap();
    assert_eq!(done["response"]["usage"]["output_tokens"], 3);
    let id = done["response"]["id"].as_str().unwrap();
    let stored: Value = get(&gw, &format!("/v1/responses/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["status"], "completed");
    assert_eq!(stored["output"][0]["content"][0]["text"], "Hello from groq");
}

#[tokio::test]
async fn an_openai_only_tool_on_another_provider_is_refused_before_sending() {
    let mock = MockServer::start("groq").await;
    let gw = gateway("responses-tools").await;
    let body = json!({"model": "m", "input": "hi", "tools": [{"type": "web_search"}]});
    let (status, e) = error_of(create(&gw, body, &groq(&mock)).await).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "tools");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_response_deleted_right_after_it_was_made_stays_deleted_on_every_node() {
    let mock = MockServer::start("groq").await;
    let dir = temp_dir("responses-delete-race");
    let yaml = format!(
        "database:\n  url: sqlite://{}\n  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        dir.join("records.db").display()
    );
    let (a, b) = (Gateway::start(&yaml).await, Gateway::start(&yaml).await);
    for _ in 0..5 {
        let created: Value = create(&a, json!({"model": "m", "input": "hi"}), &groq(&mock))
            .await
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap();
        // Deleted at once: the answer's database write may still be on its way.
        let deleted: Value = reqwest::Client::new()
            .delete(a.url(&format!("/v1/responses/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(deleted["deleted"], true, "{deleted}");
        // That write, whenever it lands, does not bring the response back on any node.
        for _ in 0..10 {
            assert_eq!(get(&a, &format!("/v1/responses/{id}")).await.status(), 404);
            assert_eq!(get(&b, &format!("/v1/responses/{id}")).await.status(), 404);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
