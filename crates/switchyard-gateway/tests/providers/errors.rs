//! Cases run for every provider besides chat: embeddings, provider errors (status, shape, the
//! documented mapping, retries), errors inside a stream (fallback before the first chunk, an SSE
//! error event after it), and routing by a Gateway Config target instead of headers.

use serde_json::{json, Value};

use super::openapi::{assert_conforms, Shape};
use super::spec::{ErrorCase, Provider};
use super::support::{chat, completion_choice, only_request, post, setup, ClientStream};
use crate::common::{error_of, header, Gateway, MockServer};

pub async fn embeddings_translate_or_are_refused_before_io(p: Provider) {
    let Some(case) = p.embeddings() else {
        let (gw, mock) = setup(p, switchyard_mock::Reply::Default).await;
        let body = json!({"model": p.model(), "input": "hello"});
        let resp = post(&gw, p, &mock, "/v1/embeddings", body).await;
        let (status, body) = error_of(resp).await;
        assert_conforms(p, Shape::Error, &body);
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("embeddings"),
            "{body}"
        );
        assert_eq!(mock.hits(), 0, "refused before any upstream call");
        return;
    };
    let (gw, mock) = setup(p, case.reply).await;
    let body = json!({"model": case.model, "input": case.input});
    let resp = post(&gw, p, &mock, "/v1/embeddings", body).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_conforms(p, Shape::Embeddings, &v);
    assert_eq!(v["object"], "list", "{v}");
    assert_eq!(v["model"], case.model, "{v}");
    let data = v["data"].as_array().expect("data");
    assert_eq!(data.len(), case.vectors.len(), "{v}");
    for (i, (d, want)) in data.iter().zip(&case.vectors).enumerate() {
        assert_eq!(d["object"], "embedding");
        assert_eq!(d["index"], i);
        let got: Vec<f64> = d["embedding"]
            .as_array()
            .expect("embedding")
            .iter()
            .map(|x| x.as_f64().expect("float"))
            .collect();
        assert_eq!(got.len(), want.len(), "{d}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
    }
    assert_eq!(v["usage"]["prompt_tokens"], case.prompt_tokens, "{v}");

    let (got, body) = only_request(&mock);
    assert_eq!(got.path, case.path);
    p.assert_auth(&got);
    assert_eq!(body, case.body);
}

async fn send_error(p: Provider, case: &ErrorCase) -> (u16, Value) {
    let (gw, mock) = setup(p, case.reply.clone()).await;
    let resp = chat(&gw, p, &mock, crate::common::hi(p.model())).await;
    assert_eq!(mock.hits(), 1, "no retries unless configured");
    let (status, body) = error_of(resp).await;
    assert_conforms(p, Shape::Error, &body);
    (status, body)
}

fn assert_keeps_status_and_message(case: &ErrorCase, status: u16, body: &Value) {
    assert_eq!(status, case.status, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(case.message),
        "`{}` in {body}",
        case.message
    );
}

pub async fn auth_failure_keeps_the_provider_status_in_openai_shape(p: Provider) {
    let case = p.auth_error();
    let (status, body) = send_error(p, &case).await;
    assert_keeps_status_and_message(&case, status, &body);
}

pub async fn provider_error_keeps_its_status_in_openai_shape(p: Provider) {
    let case = p.provider_error();
    let (status, body) = send_error(p, &case).await;
    assert_keeps_status_and_message(&case, status, &body);
}

/// The adapter's documented mapping of the provider's error body: the provider's message alone,
/// the OpenAI `type` for the error, and the provider's error code. Every mismatch is reported.
pub async fn error_bodies_get_the_documented_openai_type_and_code(p: Provider) {
    let mut wrong = Vec::new();
    for case in [p.auth_error(), p.provider_error()] {
        let (status, body) = send_error(p, &case).await;
        assert_eq!(status, case.status, "{body}");
        let err = &body["error"];
        let message = err["message"].as_str().unwrap();
        let kind_ok = case.kind.is_none_or(|k| err["type"] == k);
        let code_ok = case.code.is_none_or(|c| err["code"] == c);
        if !kind_ok || !code_ok || !message.starts_with(case.message) {
            wrong.push(format!(
                "HTTP {}: want type {:?}, code {:?}, message starting `{}`; got {body}",
                case.status, case.kind, case.code, case.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A fallback config: `p` on `first`, then an OpenAI target on `second`.
fn fallback_config(p: Provider, first: &MockServer, second: &MockServer) -> String {
    json!({"strategy": {"mode": "fallback"}, "targets": [p.target(first), crate::common::target(second)]})
        .to_string()
}

/// Streams `reply` from `p` in a fallback config whose second target is an OpenAI mock, and
/// asserts the client got the second target's whole answer.
async fn assert_stream_falls_back(p: Provider, reply: switchyard_mock::Reply) {
    let first = MockServer::start(p.slug()).await;
    first.push(reply);
    let second = MockServer::start("backup").await;
    let gw = Gateway::start("").await;
    let config = fallback_config(p, &first, &second);
    let body = json!({"model": p.model(), "messages": [{"role": "user", "content": "hi"}], "stream": true});
    let resp = gw.chat(body, &[("x-portkey-config", &config)]).await;
    let used = header(&resp, "x-portkey-last-used-option-index");
    // The backup's OpenAI chunks, passed through as they came.
    let s = ClientStream::read(resp).await;
    assert_eq!(used, "config.targets[1]", "{}", s.text);
    assert!(s.ends_with_done(), "{}", s.text);
    assert!(s.final_error().is_none(), "{}", s.text);
    assert_eq!(s.content(), "Hello from backup");
    assert_eq!(s.chunks().len(), 5, "only the backup's chunks: {}", s.text);
    assert_eq!(first.hits(), 1);
    assert_eq!(second.hits(), 1);
}

pub async fn stream_error_before_content_falls_back_to_the_next_target(p: Provider) {
    assert_stream_falls_back(p, p.error_first_stream()).await;
}

pub async fn stream_error_after_a_role_only_chunk_still_falls_back(p: Provider) {
    assert_stream_falls_back(p, p.error_after_start_stream()).await;
}

pub async fn stream_error_after_content_ends_with_an_sse_error_event(p: Provider) {
    let (reply, before, message) = p.error_mid_stream();
    let first = MockServer::start(p.slug()).await;
    first.push(reply);
    let second = MockServer::start("backup").await;
    let gw = Gateway::start("").await;
    let config = fallback_config(p, &first, &second);
    let body = json!({"model": p.model(), "messages": [{"role": "user", "content": "hi"}], "stream": true});
    let resp = gw.chat(body, &[("x-portkey-config", &config)]).await;
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[0]"
    );
    let s = ClientStream::read_from(p, resp).await;
    assert_eq!(s.content(), before, "{}", s.text);
    assert!(!s.text.contains("[DONE]"), "{}", s.text);
    let err = s
        .final_error()
        .unwrap_or_else(|| panic!("ends with event: error: {}", s.text));
    assert!(err["message"].as_str().unwrap().contains(message), "{err}");
    assert!(err["type"].is_string(), "{err}");
    assert_eq!(second.hits(), 0, "no fallback once content was sent");
}

pub async fn config_target_fields_route_like_the_headers(p: Provider) {
    let (reply, content, _) = p.text_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let config =
        json!({"targets": [p.target(&mock)], "strategy": {"mode": "fallback"}}).to_string();
    let resp = gw
        .chat(
            crate::common::hi(p.model()),
            &[("x-portkey-config", &config)],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[0]"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        completion_choice(p, &v)["message"]["content"],
        content.as_str()
    );
    let (got, _) = only_request(&mock);
    assert_eq!(got.path, p.chat_path(false));
    p.assert_auth(&got);
}

pub async fn retry_replays_the_translated_request_after_a_provider_error(p: Provider) {
    let case = p.provider_error();
    let (reply, content, _) = p.text_reply(p.slug());
    let mock = MockServer::start(p.slug()).await;
    mock.push(case.reply);
    mock.push(reply);
    let gw = Gateway::start("server:\n  retry_base_delay: 2ms\n  retry_max_delay: 4ms\n").await;
    let mut target = p.target(&mock);
    target["retry"] = json!({"attempts": 2, "on_status_codes": [case.status]});
    let config = target.to_string();
    let resp = gw
        .chat(
            crate::common::hi(p.model()),
            &[("x-portkey-config", &config)],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-portkey-retry-attempt-count"), "1");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        completion_choice(p, &v)["message"]["content"],
        content.as_str()
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.path, p.chat_path(false));
        p.assert_auth(r);
    }
    assert_eq!(
        reqs[0].body, reqs[1].body,
        "the same translated body is replayed"
    );
}
