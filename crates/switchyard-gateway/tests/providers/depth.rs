//! Reasoning and prompt caching, for the providers that have them (Anthropic, Claude on Vertex
//! AI, Gemini on Google AI and Vertex AI, Bedrock Converse): `reasoning_effort` reaches the
//! provider as its thinking setting; thinking comes back as `reasoning_content` and Portkey's
//! `content_blocks` only when `x-portkey-strict-open-ai-compliance: false`, in bodies and
//! streams; thinking signatures go back to the provider on the next tool turn; `cache_control`
//! markers become the provider's cache markers and cache reads are `cached_tokens`.

use serde_json::{json, Value};

use super::spec::{aws_event, eventstream, json_reply, sse, Family, Provider};
use super::support::{completion_choice, ClientStream};
use crate::common::{Gateway, MockServer};

const SIGNATURE: &str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk";
const THOUGHT: &str = "The user asks for a sum; 2 + 2 = 4.";

/// `POST /v1/chat/completions` to `p`, strict (Portkey's default) or not.
async fn send(
    gw: &Gateway,
    p: Provider,
    mock: &MockServer,
    body: Value,
    strict: bool,
) -> reqwest::Response {
    let mut h = p.headers(mock);
    if !strict {
        h.push(("x-portkey-strict-open-ai-compliance", "false".to_owned()));
    }
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    gw.post("/v1/chat/completions", body, &h).await
}

/// An answer with thinking in `p`'s format; its text is "4".
fn thinking_reply(p: Provider) -> switchyard_mock::Reply {
    let body = match p.family() {
        Family::Anthropic => json!({
            "id": "msg_01Thinking", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
                {"type": "text", "text": "4"}
            ],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 60}
        }),
        Family::Gemini => json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": THOUGHT, "thought": true},
                {"text": "4"}
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1,
                              "thoughtsTokenCount": 59, "totalTokenCount": 80},
            "responseId": "resp-thinking-1"
        }),
        Family::Converse => json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": THOUGHT, "signature": SIGNATURE}}},
                {"text": "4"}
            ]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 20, "outputTokens": 60, "totalTokens": 80},
            "metrics": {"latencyMs": 100}
        }),
        other => panic!("no thinking reply for {other:?}"),
    };
    json_reply(200, &body.to_string())
}

/// A streamed answer with thinking (and, where the provider has one, its signature).
fn thinking_stream(p: Provider) -> switchyard_mock::Reply {
    match p.family() {
        Family::Anthropic => sse(include_str!(
            "../../../switchyard-providers/fixtures/anthropic/stream_thinking.sse"
        )),
        Family::Gemini => {
            let frames = [
                json!({"candidates": [{"content": {"role": "model", "parts": [
                    {"text": THOUGHT, "thought": true}]}, "index": 0}],
                    "responseId": "resp-thinking-2"}),
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "4"}]},
                    "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1,
                                      "thoughtsTokenCount": 59, "totalTokenCount": 80}}),
            ];
            let text: String = frames
                .iter()
                .map(|f| format!("data: {f}\r\n\r\n"))
                .collect();
            sse(&text)
        }
        Family::Converse => {
            let mut bytes = aws_event("messageStart", json!({"role": "assistant"}));
            for delta in [
                json!({"reasoningContent": {"text": THOUGHT}}),
                json!({"reasoningContent": {"signature": SIGNATURE}}),
            ] {
                bytes.extend(aws_event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": delta}),
                ));
            }
            bytes.extend(aws_event(
                "contentBlockStop",
                json!({"contentBlockIndex": 0}),
            ));
            bytes.extend(aws_event(
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"text": "4"}}),
            ));
            bytes.extend(aws_event(
                "contentBlockStop",
                json!({"contentBlockIndex": 1}),
            ));
            bytes.extend(aws_event("messageStop", json!({"stopReason": "end_turn"})));
            bytes.extend(aws_event(
                "metadata",
                json!({"usage": {"inputTokens": 20, "outputTokens": 60, "totalTokens": 80},
                       "metrics": {"latencyMs": 100}}),
            ));
            eventstream(&bytes)
        }
        other => panic!("no thinking stream for {other:?}"),
    }
}

/// Asserts the provider was asked to think with the `low` effort budget.
fn assert_low_effort_thinking(p: Provider, body: &Value) {
    match p.family() {
        Family::Anthropic => {
            assert_eq!(
                body["thinking"],
                json!({"type": "enabled", "budget_tokens": 1024}),
                "{body}"
            );
            assert!(body["max_tokens"].as_u64() > Some(1024), "{body}");
        }
        Family::Gemini => assert_eq!(
            body["generationConfig"]["thinkingConfig"]["thinkingBudget"], 1024,
            "{body}"
        ),
        Family::Converse => {
            assert_eq!(
                body["additionalModelRequestFields"]["thinking"],
                json!({"type": "enabled", "budget_tokens": 1024}),
                "{body}"
            );
            assert!(
                body["inferenceConfig"]["maxTokens"].as_u64() > Some(1024),
                "{body}"
            );
        }
        other => panic!("no thinking for {other:?}"),
    }
}

pub async fn reasoning_is_returned_when_not_strict_and_dropped_when_strict(p: Provider) {
    let mock = MockServer::start(p.slug()).await;
    mock.push(thinking_reply(p));
    mock.push(thinking_reply(p));
    let gw = Gateway::start("").await;
    let sent = json!({"model": p.model(), "reasoning_effort": "low",
                      "messages": [{"role": "user", "content": "What is 2 + 2?"}]});

    let strict: Value = send(&gw, p, &mock, sent.clone(), true)
        .await
        .json()
        .await
        .unwrap();
    let message = &completion_choice(p, &strict)["message"];
    assert_eq!(message["content"], "4", "{strict}");
    assert!(message.get("reasoning_content").is_none(), "{strict}");
    assert!(message.get("content_blocks").is_none(), "{strict}");
    if p.family() == Family::Gemini {
        // Thinking is dropped from the answer but still counted.
        assert_eq!(
            strict["usage"]["completion_tokens_details"]["reasoning_tokens"],
            59
        );
    }

    let loose: Value = send(&gw, p, &mock, sent, false).await.json().await.unwrap();
    let message = &completion_choice(p, &loose)["message"];
    assert_eq!(message["content"], "4", "{loose}");
    assert_eq!(message["reasoning_content"], THOUGHT, "{loose}");
    let blocks = message["content_blocks"]
        .as_array()
        .expect("content_blocks");
    assert_eq!(blocks[0]["type"], "thinking", "{loose}");
    assert_eq!(blocks[0]["thinking"], THOUGHT, "{loose}");
    if p.family() != Family::Gemini {
        assert_eq!(blocks[0]["signature"], SIGNATURE, "{loose}");
    }
    assert_eq!(blocks[1], json!({"type": "text", "text": "4"}), "{loose}");

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_low_effort_thinking(p, &r.json());
    }
    if p.family() == Family::Gemini {
        // Thought summaries are only sent when asked for, and only asked for when returned.
        let thinking = |i: usize| reqs[i].json()["generationConfig"]["thinkingConfig"].clone();
        assert!(thinking(0).get("includeThoughts").is_none());
        assert_eq!(thinking(1)["includeThoughts"], true);
    }
}

pub async fn reasoning_stream_carries_content_blocks_when_not_strict(p: Provider) {
    let mock = MockServer::start(p.slug()).await;
    mock.push(thinking_stream(p));
    mock.push(thinking_stream(p));
    let gw = Gateway::start("").await;
    let sent = json!({"model": p.model(), "stream": true, "reasoning_effort": "low",
                      "messages": [{"role": "user", "content": "What is 2 + 2?"}]});

    let loose = ClientStream::read_from(p, send(&gw, p, &mock, sent.clone(), false).await).await;
    assert!(loose.ends_with_done(), "{}", loose.text);
    let chunks = loose.chunks();
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    let reasoning: String = deltas
        .iter()
        .filter_map(|d| d["reasoning_content"].as_str())
        .collect();
    let blocks: Vec<Value> = deltas
        .iter()
        .filter_map(|d| d["content_blocks"].as_array())
        .flatten()
        .cloned()
        .collect();
    let thinking: String = blocks
        .iter()
        .filter_map(|b| b["delta"]["thinking"].as_str())
        .collect();
    assert!(!reasoning.is_empty(), "{}", loose.text);
    assert_eq!(thinking, reasoning, "{}", loose.text);
    assert!(blocks.iter().all(|b| b["index"].is_u64()), "{}", loose.text);
    if p.family() != Family::Gemini {
        assert!(
            blocks.iter().any(|b| b["delta"]["signature"]
                .as_str()
                .is_some_and(|s| !s.is_empty())),
            "signature deltas are streamed: {}",
            loose.text
        );
    }
    let text = loose.content();
    assert!(!text.is_empty(), "{}", loose.text);

    let strict = ClientStream::read_from(p, send(&gw, p, &mock, sent, true).await).await;
    assert!(strict.ends_with_done(), "{}", strict.text);
    assert_eq!(strict.content(), text);
    assert!(
        !strict.text.contains("reasoning_content"),
        "{}",
        strict.text
    );
    assert!(!strict.text.contains("content_blocks"), "{}", strict.text);
}

pub async fn thinking_signature_round_trips_in_a_tool_turn(p: Provider) {
    let (reply, _, _) = p.text_reply(p.slug());
    let mock = MockServer::start(p.slug()).await;
    mock.push(reply);
    let gw = Gateway::start("").await;
    // The assistant turn as a non-strict answer returned it: content_blocks with the thinking
    // block (Anthropic, Bedrock), or the function call's `thought_signature` (Gemini).
    let (blocks, signature) = match p.family() {
        Family::Gemini => (
            json!([{"type": "thinking", "thinking": THOUGHT}]),
            json!(SIGNATURE),
        ),
        _ => (
            json!([{"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}]),
            Value::Null,
        ),
    };
    let sent = json!({
        "model": p.model(), "max_tokens": 50,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "content_blocks": blocks,
             "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}",
                                          "thought_signature": signature}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    });
    let resp = send(&gw, p, &mock, sent, false).await;
    assert_eq!(resp.status(), 200);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let body = reqs[0].json();
    match p.family() {
        Family::Anthropic => assert_eq!(
            body["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
            ]),
            "{body}"
        ),
        Family::Converse => assert_eq!(
            body["messages"][1]["content"],
            json!([
                {"reasoningContent": {"reasoningText": {"text": THOUGHT, "signature": SIGNATURE}}},
                {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}
            ]),
            "{body}"
        ),
        Family::Gemini => {
            let turn = &body["contents"][1];
            assert_eq!(turn["role"], "model", "{body}");
            let call = turn["parts"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p.get("functionCall").is_some()))
                .expect("functionCall part");
            assert_eq!(call["thoughtSignature"], SIGNATURE, "{body}");
        }
        other => panic!("no thinking for {other:?}"),
    }
}

pub async fn cache_control_reaches_the_provider_and_cached_tokens_are_reported(p: Provider) {
    let (reply, _, _) = p.text_reply(p.slug());
    let mock = MockServer::start(p.slug()).await;
    mock.push(reply);
    let gw = Gateway::start("").await;
    let eph = json!({"type": "ephemeral"});
    let sent = json!({
        "model": p.model(), "max_tokens": 50,
        "messages": [
            {"role": "system", "content": "You are terse.", "cache_control": eph},
            {"role": "user", "content": [
                {"type": "text", "text": "A long document.", "cache_control": eph},
                {"type": "text", "text": "Summarise it."}
            ]}
        ],
        "tools": [{"type": "function", "cache_control": eph, "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    });
    let resp = send(&gw, p, &mock, sent, true).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    completion_choice(p, &v);
    // Every fixture's text answer reads from the prompt cache.
    let cached = v["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap_or(0);
    assert!(cached > 0, "cache reads are cached_tokens: {v}");
    assert!(
        v["usage"]["prompt_tokens"].as_u64() >= Some(cached),
        "prompt_tokens include cache reads: {v}"
    );

    let reqs = mock.requests();
    let body = reqs[0].json();
    match p.family() {
        Family::Anthropic => {
            assert_eq!(body["system"][0]["cache_control"], eph, "{body}");
            let parts = &body["messages"][0]["content"];
            assert_eq!(parts[0]["cache_control"], eph, "{body}");
            assert!(parts[1].get("cache_control").is_none(), "{body}");
            assert_eq!(body["tools"][0]["cache_control"], eph, "{body}");
        }
        Family::Converse => {
            let point = json!({"cachePoint": {"type": "default"}});
            assert_eq!(
                body["system"],
                json!([{"text": "You are terse."}, point]),
                "{body}"
            );
            assert_eq!(
                body["messages"][0]["content"],
                json!([{"text": "A long document."}, point, {"text": "Summarise it."}]),
                "{body}"
            );
            assert_eq!(body["toolConfig"]["tools"][1], point, "{body}");
        }
        // Gemini caches implicitly (and explicitly through `cachedContents`), with no per-part
        // markers: `cache_control` is accepted and not forwarded; cache hits are still reported.
        Family::Gemini => assert!(!body.to_string().contains("cache"), "{body}"),
        other => panic!("no prompt caching for {other:?}"),
    }
}
