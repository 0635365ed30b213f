//! Guardrails through the real server: Portkey's hooks dialect, 446/246 and `hook_results`,
//! fallback after a denial, rewrites of the request and the answer, streamed output checks
//! and webhook checks — against counting mock upstreams.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchyard_mock::{MockServer, Reply};

/// A failing input check: the request's text never matches.
fn never() -> Value {
    json!({"regexMatch": {"rule": "^this will not match$"}})
}

/// A passing input check.
fn always() -> Value {
    json!({"regexMatch": {"rule": "."}})
}

fn with(mut target: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        target[k] = v.clone();
    }
    target
}

async fn send(gw: &Gateway, body: Value, config: &Value) -> (u16, Value) {
    let resp = gw.chat_config(body, config).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_denying_input_guardrail_answers_446_without_calling_the_provider() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut hook = never();
    hook["deny"] = json!(true);
    let config = with(target(&mock), json!({"input_guardrails": [hook]}));
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 446);
    assert_eq!(mock.hits(), 0, "the provider is never called");
    assert_eq!(body["error"]["type"], "hooks_failed");
    let before = &body["hook_results"]["before_request_hooks"];
    assert_eq!(before[0]["verdict"], false);
    assert_eq!(before[0]["deny"], true);
    assert_eq!(before[0]["checks"][0]["id"], "default.regexMatch");
    assert_eq!(body["hook_results"]["after_request_hooks"], json!([]));
}

#[tokio::test]
async fn a_failing_guardrail_without_deny_answers_246_with_the_results() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(target(&mock), json!({"input_guardrails": [never()]}));
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 246);
    assert_eq!(mock.hits(), 1);
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from a");
    let hook = &body["hook_results"]["before_request_hooks"][0];
    assert_eq!(hook["verdict"], false);
    assert_eq!(hook["deny"], false);
    assert!(hook["execution_time"].is_u64());
    assert!(hook["checks"][0]["execution_time"].is_u64());
}

#[tokio::test]
async fn passing_hooks_answer_200_with_their_results_and_no_hooks_add_nothing() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"input_guardrails": [always()], "output_guardrails": [{"regexMatch": {"rule": "Hello"}}]}),
    );
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["hook_results"]["before_request_hooks"][0]["verdict"],
        true
    );
    assert_eq!(
        body["hook_results"]["after_request_hooks"][0]["verdict"],
        true
    );
    let (status, body) = send(&gw, hi("m"), &target(&mock)).await;
    assert_eq!(status, 200);
    assert!(body.get("hook_results").is_none(), "{body}");
}

#[tokio::test]
async fn a_fallback_moves_on_after_a_446_unless_its_status_codes_exclude_it() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let mut deny = never();
    deny["deny"] = json!(true);
    let guarded = with(target(&a), json!({"input_guardrails": [deny]}));
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [guarded.clone(), target(&b)]});
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from b");
    assert_eq!((a.hits(), b.hits()), (0, 1));

    let config = json!({"strategy": {"mode": "fallback", "on_status_codes": [429]},
                        "targets": [guarded, target(&b)]});
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 446, "{body}");
    assert_eq!(body["error"]["type"], "hooks_failed");
    assert_eq!(b.hits(), 1, "b is not tried");
}

#[tokio::test]
async fn a_denying_output_guardrail_fails_the_target_and_the_fallback_answers() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    // a's answer is "Hello from a": it must not mention a.
    let check = json!({"deny": true, "regexMatch": {"rule": "from a", "not": true}});
    let config = json!({"strategy": {"mode": "fallback"},
                        "output_guardrails": [check],
                        "targets": [target(&a), target(&b)]});
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from b");
    assert_eq!((a.hits(), b.hits()), (1, 1));
    assert_eq!(
        body["hook_results"]["after_request_hooks"][0]["verdict"],
        true
    );

    // Alone, the denied answer is replaced by the 446.
    let config = json!({"output_guardrails": [check], "provider": "openai",
                        "api_key": "sk", "custom_host": a.url()});
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 446);
    assert!(body.get("choices").is_none());
    assert_eq!(
        body["hook_results"]["after_request_hooks"][0]["verdict"],
        false
    );
}

#[tokio::test]
async fn hook_objects_and_shorthand_inherit_down_targets_and_a_childs_list_wins() {
    let a = MockServer::start("a").await;
    let b = MockServer::start("b").await;
    let gw = Gateway::start("").await;
    let hooks = json!([{"id": "root-hook", "type": "guardrail", "deny": false,
                        "checks": [{"id": "default.regexMatch", "parameters": {"rule": "^nope$"}}]}]);
    let own = json!([{"id": "child-hook", "checks": [{"id": "default.regexMatch", "parameters": {"rule": "."}}]}]);
    let config = json!({"strategy": {"mode": "loadbalance"}, "before_request_hooks": hooks,
                        "targets": [with(target(&a), json!({"weight": 1, "before_request_hooks": own})),
                                    with(target(&b), json!({"weight": 0}))]});
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200, "{body}");
    let ran = &body["hook_results"]["before_request_hooks"];
    assert_eq!(ran.as_array().unwrap().len(), 1);
    assert_eq!(ran[0]["id"], "child-hook");
}

#[tokio::test]
async fn an_input_mutator_rewrites_what_the_provider_receives() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"input_mutators": [{"regexReplace": {"rule": "secret-\\d+", "redactText": "[GONE]"}}]}),
    );
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": "my code is secret-123"}]});
    let (status, out) = send(&gw, body, &config).await;
    assert_eq!(status, 200, "{out}");
    let sent = mock.requests()[0].json();
    assert_eq!(sent["messages"][0]["content"], "my code is [GONE]");
    assert_eq!(
        out["hook_results"]["before_request_hooks"][0]["transformed"],
        true
    );
}

#[tokio::test]
async fn unknown_checks_and_bad_parameters_are_400s_with_their_path() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"input_guardrails": [{"noSuchCheck": {}}]}),
    );
    let (status, body) = error_of(gw.chat_config(hi("m"), &config).await).await;
    assert_eq!(status, 400);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("default.noSuchCheck"), "{msg}");
    let config = with(
        target(&mock),
        json!({"input_guardrails": [{"regexMatch": {"rule": "("}}]}),
    );
    let (status, body) = error_of(gw.chat_config(hi("m"), &config).await).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("input_guardrails[0]"));
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn named_guardrails_of_the_server_file_are_used_by_name() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start(
        "guardrails:\n  no-hello:\n    deny: true\n    regexMatch: {rule: hello, not: true}\n",
    )
    .await;
    let config = with(target(&mock), json!({"input_guardrails": ["no-hello"]}));
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hello there"}]});
    let (status, out) = send(&gw, body, &config).await;
    assert_eq!(status, 446, "{out}");
    assert_eq!(
        out["hook_results"]["before_request_hooks"][0]["id"],
        "no-hello"
    );
    let config = with(target(&mock), json!({"input_guardrails": ["missing"]}));
    let (status, _) = error_of(gw.chat_config(hi("m"), &config).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_bad_named_guardrail_stops_the_server_file() {
    let e = switchyard_gateway::config::GatewayConfig::from_yaml(
        "guardrails:\n  broken:\n    regexMatch: {rule: \"(\"}\n",
        &|_| None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("guardrails.broken"), "{e}");
}

/// The SSE events of a streamed answer, as JSON (without `[DONE]`), and whether it ended with it.
async fn events(resp: reqwest::Response) -> (Vec<Value>, bool) {
    let text = resp.text().await.unwrap();
    let mut out = Vec::new();
    let mut done = false;
    for e in text.split("\n\n").filter(|e| !e.trim().is_empty()) {
        let data = e.trim().trim_start_matches("data: ");
        if data == "[DONE]" {
            done = true;
        } else {
            out.push(serde_json::from_str(data).unwrap());
        }
    }
    (out, done)
}

fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn a_streamed_answer_that_fails_a_denying_output_check_never_reaches_the_client() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let check = json!({"deny": true, "regexMatch": {"rule": "from a", "not": true}});
    let config = with(target(&mock), json!({"output_guardrails": [check]}));
    let resp = gw.chat_config(hi_stream("m"), &config).await;
    assert_eq!(resp.status().as_u16(), 200);
    let (evs, done) = events(resp).await;
    assert!(done);
    assert_eq!(
        streamed_text(&evs),
        "",
        "nothing of the answer went out: {evs:?}"
    );
    assert_eq!(evs.last().unwrap()["error"]["type"], "hooks_failed");

    // A passing check releases the held stream as it came.
    let check = json!({"deny": true, "regexMatch": {"rule": "from a"}});
    let config = with(target(&mock), json!({"output_guardrails": [check]}));
    let (evs, done) = events(gw.chat_config(hi_stream("m"), &config).await).await;
    assert!(done);
    assert_eq!(streamed_text(&evs), "Hello from a");
}

#[tokio::test]
async fn without_strict_compliance_hook_results_frame_a_stream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"strict_open_ai_compliance": false, "input_guardrails": [never()],
               "output_guardrails": [{"regexMatch": {"rule": "Hello"}}]}),
    );
    let resp = gw.chat_config(hi_stream("m"), &config).await;
    assert_eq!(
        resp.status().as_u16(),
        246,
        "a failed input check flags the stream"
    );
    let (evs, done) = events(resp).await;
    assert!(done);
    assert_eq!(
        evs[0]["hook_results"]["before_request_hooks"][0]["verdict"],
        false
    );
    let last = evs.last().unwrap();
    assert_eq!(
        last["hook_results"]["after_request_hooks"][0]["verdict"],
        true
    );
    assert_eq!(streamed_text(&evs), "Hello from a");

    // Strict (the default): no extra frames.
    let config = with(target(&mock), json!({"input_guardrails": [never()]}));
    let (evs, _) = events(gw.chat_config(hi_stream("m"), &config).await).await;
    assert!(
        evs.iter().all(|e| e.get("hook_results").is_none()),
        "{evs:?}"
    );
}

#[tokio::test]
async fn an_output_mutator_rewrites_a_held_stream() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"output_mutators": [{"regexReplace": {"rule": "from", "redactText": "FROM"}}]}),
    );
    let (evs, done) = events(gw.chat_config(hi_stream("m"), &config).await).await;
    assert!(done);
    assert_eq!(streamed_text(&evs), "Hello FROM a");
}

/// A webhook that answers every call with `reply`.
async fn webhook(reply: Reply) -> MockServer {
    let hook = MockServer::start("hook").await;
    hook.set_default(reply);
    hook
}

#[tokio::test]
async fn a_webhook_check_gives_the_verdict_and_sees_the_request() {
    let mock = MockServer::start("a").await;
    let hook = webhook(Reply::status(
        200,
        json!({"verdict": false, "data": {"why": "policy"}}),
    ))
    .await;
    let gw = Gateway::start("").await;
    let check = json!({"deny": true, "webhook": {"webhookURL": format!("{}/check", hook.url()),
                                                  "headers": {"x-hook-token": "t0k"}}});
    let config = with(target(&mock), json!({"input_guardrails": [check]}));
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 446, "{body}");
    assert_eq!(mock.hits(), 0);
    let check = &body["hook_results"]["before_request_hooks"][0]["checks"][0];
    assert_eq!(check["data"]["responseData"]["why"], "policy");
    let seen = &hook.requests()[0];
    assert_eq!(seen.header("x-hook-token"), Some("t0k"));
    let payload = seen.json();
    assert_eq!(payload["eventType"], "beforeRequestHook");
    assert_eq!(payload["requestType"], "chatComplete");
    assert_eq!(payload["request"]["json"]["messages"][0]["content"], "hi");
    assert_eq!(payload["request"]["text"], "hi");
}

#[tokio::test]
async fn a_webhook_that_fails_errors_the_check_which_passes_unless_fail_on_error() {
    let mock = MockServer::start("a").await;
    let hook = webhook(Reply::error(500, "down")).await;
    let gw = Gateway::start("").await;
    let url = format!("{}/check", hook.url());
    let config = with(
        target(&mock),
        json!({"input_guardrails": [{"deny": true, "webhook": {"webhookURL": url}}]}),
    );
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200, "{body}");
    let check = &body["hook_results"]["before_request_hooks"][0]["checks"][0];
    assert_eq!(check["verdict"], false);
    assert!(check["error"]["message"].as_str().unwrap().contains("500"));

    let config = with(
        target(&mock),
        json!({"input_guardrails": [{"deny": true, "webhook": {"webhookURL": url, "failOnError": true}}]}),
    );
    let (status, _) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 446);
}

#[tokio::test]
async fn a_webhook_can_rewrite_the_request() {
    let mock = MockServer::start("a").await;
    let rewritten = json!({"model": "m", "messages": [{"role": "user", "content": "rewritten"}]});
    let hook = webhook(Reply::status(
        200,
        json!({"verdict": true, "transformedData": {"request": {"json": rewritten}}}),
    ))
    .await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"input_mutators": [{"webhook": {"webhookURL": hook.url()}}]}),
    );
    let (status, _) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200);
    assert_eq!(
        mock.requests()[0].json()["messages"][0]["content"],
        "rewritten"
    );
}

#[tokio::test]
async fn async_hooks_never_delay_the_answer_and_still_run() {
    let mock = MockServer::start("a").await;
    // The webhook answers after a long while; the request does not wait for it.
    let hook = webhook(Reply::Delay(
        Duration::from_secs(3600),
        Box::new(Reply::status(200, json!({"verdict": false}))),
    ))
    .await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"input_guardrails": [{"async": true, "deny": true,
               "webhook": {"webhookURL": hook.url(), "timeout": 60000}}]}),
    );
    let (status, body) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("hook_results").is_none(),
        "an async hook is not reported in the answer"
    );
    for _ in 0..200 {
        if hook.hits() > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the async hook never ran");
}

#[tokio::test]
async fn a_cached_answer_is_stored_without_hook_results_and_checked_again_on_a_hit() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"cache": {"mode": "simple"}, "output_guardrails": [{"regexMatch": {"rule": "Hello"}}]}),
    );
    let (status, first) = send(&gw, hi("m"), &config).await;
    assert_eq!(status, 200);
    assert_eq!(
        first["hook_results"]["after_request_hooks"][0]["verdict"],
        true
    );
    // The answer is stored after it went out: ask until it is a hit.
    for _ in 0..200 {
        let resp = gw.chat_config(hi("m"), &config).await;
        if header(&resp, "x-portkey-cache-status") == "HIT" {
            let body: Value = resp.json().await.unwrap();
            let after = body["hook_results"]["after_request_hooks"]
                .as_array()
                .unwrap();
            assert_eq!(
                after.len(),
                1,
                "the hit's own results, not the stored ones too"
            );
            assert_eq!(after[0]["verdict"], true);
            assert_eq!(mock.hits(), 1);
            // A hit that fails an output check is denied like an upstream answer.
            let denying = with(
                target(&mock),
                json!({"cache": {"mode": "simple"},
                       "output_guardrails": [{"deny": true, "regexMatch": {"rule": "Hello", "not": true}}]}),
            );
            let (status, _) = send(&gw, hi("m"), &denying).await;
            assert_eq!(status, 446);
            // So is a hit replayed as a stream: its output checks see the assembled answer.
            let resp = gw.chat_config(hi_stream("m"), &denying).await;
            assert_eq!(resp.status().as_u16(), 446);
            let resp = gw.chat_config(hi_stream("m"), &config).await;
            assert_eq!(header(&resp, "x-portkey-cache-status"), "HIT");
            let (evs, done) = events(resp).await;
            assert!(done);
            assert_eq!(streamed_text(&evs), "Hello from a");
            assert_eq!(mock.hits(), 1);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the answer was never cached");
}

#[tokio::test]
async fn a_flowing_stream_with_output_checks_keeps_every_event_and_ends_with_done() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let config = with(
        target(&mock),
        json!({"strict_open_ai_compliance": false, "output_guardrails": [{"regexMatch": {"rule": "Hello"}}]}),
    );
    let mut body = hi_stream("m");
    body["stream_options"] = json!({"include_usage": true});
    let (evs, done) = events(gw.chat_config(body, &config).await).await;
    assert!(done);
    assert_eq!(streamed_text(&evs), "Hello from a");
    assert!(
        evs.iter().any(|e| e["usage"]["total_tokens"].is_u64()),
        "the usage chunk is kept: {evs:?}"
    );
    let last = evs.last().unwrap();
    assert_eq!(
        last["hook_results"]["after_request_hooks"][0]["verdict"],
        true
    );
}

#[tokio::test]
async fn pass_through_requests_are_not_checked() {
    let mock = MockServer::start("a").await;
    let gw = Gateway::start("").await;
    let mut deny = never();
    deny["deny"] = json!(true);
    let config = with(
        target(&mock),
        json!({"strict_open_ai_compliance": false, "input_guardrails": [deny]}),
    );
    let resp = gw
        .http
        .get(gw.url("/v1/models"))
        .header("x-portkey-config", config.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("hook_results").is_none(), "{body}");
    assert_eq!(mock.hits(), 1);
}
