//! Semantic caching through the real server: an embedding route on one mock upstream (whose
//! bag-of-words vectors make texts with the same words similar), the chat target on another,
//! both counting calls.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchyard_mock::BAG_OF_WORDS;

/// The server file: an `embed` route on `emb`, semantic settings `extra` (indented under
/// `cache.semantic`), and `more` top-level YAML.
fn server_yaml(emb: &MockServer, extra: &str, more: &str) -> String {
    format!(
        "routes:\n  embed:\n    provider: openai\n    api_key: sk-embed\n    custom_host: {}\n    override_params:\n      model: {BAG_OF_WORDS}\ncache:\n  semantic:\n    route: embed\n{extra}{more}",
        emb.url()
    )
}

/// An OpenAI target on `mock` with a semantic cache.
fn semantic(mock: &MockServer, key: &str) -> Value {
    json!({"provider": "openai", "api_key": key, "custom_host": mock.url(),
           "cache": {"mode": "semantic", "max_age": 3600}})
}

fn question(text: &str) -> Value {
    json!({"model": "m", "messages": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": text}]})
}

/// Two counting mocks (embeddings, chat), a gateway with the `embed` route, and a client
/// config with a semantic cache on the chat mock.
struct Setup {
    emb: MockServer,
    chat: MockServer,
    gw: Gateway,
    config: Value,
    /// Upstream calls made by polling for a hit (see [`Answer::misses`]).
    misses: usize,
}

const FRANCE: &str = "What is the capital of France?";

impl Setup {
    async fn new(extra: &str, more: &str) -> Setup {
        let emb = MockServer::start("emb").await;
        let chat = MockServer::start("chat").await;
        let gw = Gateway::start(&server_yaml(&emb, extra, more)).await;
        let config = semantic(&chat, "sk-a");
        Setup {
            emb,
            chat,
            gw,
            config,
            misses: 0,
        }
    }

    /// Asks [`FRANCE`] and waits until its vector is stored; the first answer.
    async fn with_france_stored(more: &str) -> (Setup, Answer) {
        let mut s = Setup::new("", more).await;
        let first = ask(&s.gw, question(FRANCE), &s.config, &[]).await;
        let hit = ask_until_hit(&s.gw, question("what is the capital of france"), &s.config).await;
        s.misses = hit.misses;
        (s, first)
    }
}

struct Answer {
    status: String,
    similarity: String,
    body: Value,
    /// Misses [`ask_until_hit`] got before this answer: each reached the upstream (the vector
    /// it polls for is stored after the answer that stored it went out).
    misses: usize,
}

async fn ask(gw: &Gateway, body: Value, config: &Value, extra: &[(&str, &str)]) -> Answer {
    // The admin key: read only where a test turns gateway keys on (to reach the admin API).
    let mut headers = vec![
        ("x-portkey-config", config.to_string()),
        ("x-portkey-api-key", "admin-key-0123456789".to_owned()),
    ];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = gw.chat(body, &refs).await;
    assert_eq!(resp.status(), 200);
    Answer {
        status: header(&resp, "x-portkey-cache-status"),
        similarity: header(&resp, "x-switchyard-cache-similarity"),
        body: resp.json().await.unwrap(),
        misses: 0,
    }
}

/// Asks until the answer is a hit (storing does not hold up the response it stores), or
/// gives the last miss after a while.
async fn ask_until_hit(gw: &Gateway, body: Value, config: &Value) -> Answer {
    let mut last = None;
    for misses in 0..100 {
        let mut a = ask(gw, body.clone(), config, &[("cache-control", "no-store")]).await;
        a.misses = misses;
        if a.status.ends_with("HIT") {
            return a;
        }
        last = Some(a);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last.unwrap()
}

#[tokio::test]
async fn a_request_that_means_the_same_is_a_semantic_hit_that_never_reaches_the_upstream() {
    let s = Setup::new("", "").await;
    let (gw, config, chat, emb) = (&s.gw, &s.config, &s.chat, &s.emb);
    let first = ask(gw, question(FRANCE), config, &[]).await;
    assert_eq!(first.status, "SEMANTIC MISS");
    let hit = ask_until_hit(gw, question("what is the capital of france"), config).await;
    assert_eq!(hit.status, "SEMANTIC HIT");
    let similarity: f32 = hit.similarity.parse().unwrap();
    assert!((0.95..=1.0001).contains(&similarity), "{similarity}");
    assert_eq!(
        hit.body, first.body,
        "the stored answer, id and usage included"
    );
    assert_eq!(chat.hits(), 1 + hit.misses);

    let other = ask(gw, question("How tall is Mount Everest?"), config, &[]).await;
    assert_eq!(other.status, "SEMANTIC MISS", "another question");
    assert_eq!(chat.hits(), 2 + hit.misses);

    // The exact same request is an exact hit: no embedding is asked for.
    let embeddings = emb.hits();
    let exact = ask_until_hit(gw, question(FRANCE), config).await;
    assert_eq!(
        (exact.status.as_str(), exact.similarity.as_str()),
        ("HIT", "")
    );
    assert_eq!(emb.hits(), embeddings);
    let embedded = emb.requests().last().unwrap().json();
    assert_eq!(embedded["model"], BAG_OF_WORDS);
    assert_eq!(
        embedded["input"], "How tall is Mount Everest?",
        "the system prompt is not compared"
    );
}

#[tokio::test]
async fn the_threshold_decides_how_close_is_close_enough() {
    let (emb, chat) = (
        MockServer::start("emb").await,
        MockServer::start("chat").await,
    );
    // Six shared words of seven: a cosine similarity of about 0.93.
    let strict = Gateway::start(&server_yaml(&emb, "", "")).await;
    let loose = Gateway::start(&server_yaml(&emb, "    threshold: 0.9\n", "")).await;
    let config = semantic(&chat, "sk-a");
    for gw in [&strict, &loose] {
        ask(gw, question("what is the capital of France"), &config, &[]).await;
    }
    let near = question("what is the capital of France please");
    let a = ask_until_hit(&loose, near.clone(), &config).await;
    assert_eq!(a.status, "SEMANTIC HIT");
    assert!(a.similarity.parse::<f32>().unwrap() < 0.95);
    let s = ask(&strict, near, &config, &[]).await;
    assert_eq!(s.status, "SEMANTIC MISS", "under the default 0.95");
}

#[tokio::test]
async fn only_the_text_is_compared_everything_else_must_match_exactly() {
    let (s, _) = Setup::with_france_stored("").await;
    let same_words = "What is the capital of France";
    let mut warmer = question(same_words);
    warmer["temperature"] = json!(1.5);
    let mut other_system = question(same_words);
    other_system["messages"][0]["content"] = json!("Answer in French.");
    let mut other_model = question(same_words);
    other_model["model"] = json!("m2");
    let ns = [("x-portkey-cache-namespace", "ns")];
    for (what, body, config, extra) in [
        ("another parameter", warmer, s.config.clone(), &[][..]),
        ("another system prompt", other_system, s.config.clone(), &[]),
        ("another model", other_model, s.config.clone(), &[]),
        (
            "another tenant",
            question(same_words),
            semantic(&s.chat, "sk-b"),
            &[],
        ),
        (
            "another namespace",
            question(same_words),
            s.config.clone(),
            &ns,
        ),
    ] {
        let a = ask(&s.gw, body, &config, extra).await;
        assert_eq!(a.status, "SEMANTIC MISS", "{what}");
    }
}

#[tokio::test]
async fn long_conversations_and_images_are_matched_exactly_only() {
    let s = Setup::new("", "").await;
    let m = json!({"role": "user", "content": "hello"});
    let long = json!({"model": "m", "messages": [m, m, m, m, m]});
    let image = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}]}]});
    for body in [long, image] {
        let a = ask(&s.gw, body.clone(), &s.config, &[]).await;
        assert_eq!(a.status, "MISS");
        let again = ask_until_hit(&s.gw, body, &s.config).await;
        assert_eq!(again.status, "HIT", "exact matching still applies");
    }
    assert_eq!(s.emb.hits(), 0, "nothing was embedded");
}

#[tokio::test]
async fn a_failing_embedding_route_leaves_the_request_served_and_exact_caching_on() {
    let s = Setup::new("", "").await;
    s.emb.push(Reply::error(500, "embedding backend down"));
    let a = ask(&s.gw, question(FRANCE), &s.config, &[]).await;
    assert_eq!(a.status, "MISS");
    assert_eq!(a.body["object"], "chat.completion");
    let slow = Gateway::start(&server_yaml(&s.emb, "    timeout: 100ms\n", "")).await;
    s.emb.push(Reply::Hang);
    let a = tokio::time::timeout(
        Duration::from_secs(5),
        ask(&slow, question("Why is the sky blue?"), &s.config, &[]),
    )
    .await
    .expect("the embedding wait is bounded");
    assert_eq!(a.status, "MISS");
}

#[tokio::test]
async fn a_fallback_embeds_the_request_once() {
    let s = Setup::new("", "").await;
    let bad = MockServer::start("bad").await;
    bad.push(Reply::error(500, "down"));
    let config = json!({"strategy": {"mode": "fallback"}, "cache": {"mode": "semantic"},
        "targets": [
            {"provider": "openai", "api_key": "sk-a", "custom_host": bad.url()},
            {"provider": "openai", "api_key": "sk-a", "custom_host": s.chat.url()}]});
    let a = ask(&s.gw, question(FRANCE), &config, &[]).await;
    assert_eq!(a.status, "SEMANTIC MISS");
    assert_eq!((bad.hits(), s.chat.hits()), (1, 1));
    assert_eq!(s.emb.hits(), 1, "both targets looked up with one embedding");
}

#[tokio::test]
async fn a_streamed_request_gets_a_semantic_hit_replayed_as_a_stream() {
    let (s, _) = Setup::with_france_stored("").await;
    let mut body = question("WHAT is the capital of France!");
    body["stream"] = json!(true);
    let resp = s.gw.chat_config(body, &s.config).await;
    assert_eq!(header(&resp, "x-portkey-cache-status"), "SEMANTIC HIT");
    assert_eq!(header(&resp, "content-type"), "text/event-stream");
    let text = resp.text().await.unwrap();
    assert!(text.contains("Hello from chat"));
    assert!(text.ends_with("data: [DONE]\n\n"));
    assert_eq!(s.chat.hits(), 1 + s.misses);
}

#[tokio::test]
async fn completions_compare_their_prompt() {
    let s = Setup::new("", "").await;
    let config = s.config.to_string();
    let mut statuses = Vec::new();
    // A semantic hit stores nothing under its own request: the third is the first again.
    for prompt in ["Say hello to Ada", "say hello to ada", "Say hello to Ada"] {
        let resp =
            s.gw.post(
                "/v1/completions",
                json!({"model": "m", "prompt": prompt}),
                &[("x-portkey-config", &config)],
            )
            .await;
        statuses.push(header(&resp, "x-portkey-cache-status"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses, ["SEMANTIC MISS", "SEMANTIC HIT", "HIT"]);
    assert_eq!(s.chat.hits(), 1);
}

#[tokio::test]
async fn clearing_the_cache_drops_the_vectors_too() {
    let (s, _) = Setup::with_france_stored("auth:\n  admin_key: admin-key-0123456789\n").await;
    let resp =
        s.gw.http
            .delete(s.gw.url("/admin/cache"))
            .bearer_auth("admin-key-0123456789")
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 200);
    let a = ask(
        &s.gw,
        question("what is the capital of france"),
        &s.config,
        &[],
    )
    .await;
    assert_eq!(a.status, "SEMANTIC MISS");
}

#[tokio::test]
async fn semantic_mode_without_an_embedding_route_is_a_config_error() {
    let chat = MockServer::start("chat").await;
    let gw = Gateway::start("").await;
    let (status, body) = error_of(gw.chat_config(hi("m"), &semantic(&chat, "sk-a")).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "config.cache.mode");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cache.semantic.route"));
}

/// A Redis prefix of its own per test, so runs never see each other's entries.
fn redis_yaml() -> String {
    format!(
        "redis:\n  url: redis://127.0.0.1:6379\n  prefix: \"switchyard-test-{}:\"\n",
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::test]
async fn two_gateways_share_semantic_entries_through_redis() {
    let (emb, chat) = (
        MockServer::start("emb").await,
        MockServer::start("chat").await,
    );
    let yaml = server_yaml(&emb, "  backend: redis\n", &redis_yaml());
    let one = Gateway::start(&yaml).await;
    let two = Gateway::start(&yaml).await;
    let config = semantic(&chat, "sk-a");
    let first = ask(&one, question(FRANCE), &config, &[]).await;
    assert_eq!(first.status, "SEMANTIC MISS");
    let hit = ask_until_hit(&two, question("what is the capital of france"), &config).await;
    assert_eq!(
        hit.status, "SEMANTIC HIT",
        "the other instance's vector and answer"
    );
    assert_eq!(hit.body, first.body);
    assert_eq!(chat.hits(), 1 + hit.misses);
    // A gateway started later reads the vectors stored before it came up.
    let three = Gateway::start(&yaml).await;
    let late = ask_until_hit(&three, question("What is the capital of France??"), &config).await;
    assert_eq!(late.status, "SEMANTIC HIT");
    assert_eq!(late.body, first.body);
    assert_eq!(chat.hits(), 1 + hit.misses + late.misses);
}
