//! Chat cases run for every provider: plain chat, system prompt, streaming, tools, images, JSON
//! mode. Each sends an OpenAI request through the real server to a mock speaking the provider's
//! wire format, then checks what the upstream received and what the client got back.

use serde_json::{json, Value};

use super::spec::{Family, Provider};
use super::support::{assert_calls, chat, completion_choice, only_request, setup, ClientStream};
use crate::common::header;

const QUESTION: &str = "What is the capital of France?";

/// A tiny PNG, as a client would inline it.
pub const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn weather_tool() -> Value {
    json!({"type": "function", "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }})
}

/// Asserts `body` is `p`'s translation of one user turn holding `text`, capped at 50 tokens.
fn assert_single_user_turn(p: Provider, body: &Value, text: &str) {
    match p.family() {
        Family::Anthropic => {
            assert_eq!(
                body["messages"],
                json!([{"role": "user", "content": [{"type": "text", "text": text}]}])
            );
            assert_eq!(body["max_tokens"], 50);
            if p == Provider::VertexClaude {
                assert_eq!(body["anthropic_version"], "vertex-2023-10-16", "{body}");
                assert!(
                    body.get("model").is_none(),
                    "Vertex names the model in the path: {body}"
                );
            } else {
                assert_eq!(body["model"], p.model());
            }
        }
        Family::Gemini => {
            assert_eq!(
                body["contents"],
                json!([{"role": "user", "parts": [{"text": text}]}])
            );
            assert_eq!(body["generationConfig"]["maxOutputTokens"], 50);
            assert!(body.get("model").is_none(), "{body}");
        }
        Family::Converse => {
            assert_eq!(
                body["messages"],
                json!([{"role": "user", "content": [{"text": text}]}])
            );
            assert_eq!(body["inferenceConfig"], json!({"maxTokens": 50}));
            assert!(
                body.get("model").is_none(),
                "Bedrock names the model in the path: {body}"
            );
        }
        Family::Cohere => {
            assert_eq!(body["model"], p.model());
            assert_eq!(body["messages"], json!([{"role": "user", "content": text}]));
            assert_eq!(body["max_tokens"], 50);
        }
        Family::WorkersAi => {
            assert_eq!(body["messages"], json!([{"role": "user", "content": text}]));
            assert_eq!(body["max_tokens"], 50);
            assert!(
                body.get("model").is_none(),
                "Workers AI names the model in the path: {body}"
            );
        }
        Family::Nomic => unreachable!("nomic serves embeddings only"),
        Family::Predibase => {
            assert_eq!(body["messages"], json!([{"role": "user", "content": text}]));
            assert_eq!(body["max_tokens"], 50);
            assert_eq!(body["model"], "pb-adapter/2", "the adapter id: {body}");
            assert!(body.get("user").is_none(), "{body}");
        }
        Family::Oracle => {
            assert_eq!(
                body["servingMode"],
                json!({"servingType": "ON_DEMAND", "modelId": p.model()})
            );
            assert_eq!(
                body["compartmentId"],
                super::spec::ORACLE_COMPARTMENT,
                "{body}"
            );
            let r = &body["chatRequest"];
            assert_eq!(r["apiFormat"], "GENERIC");
            assert_eq!(
                r["messages"],
                json!([{"role": "USER", "content": [{"type": "TEXT", "text": text}]}])
            );
            assert_eq!(r["maxTokens"], 50);
        }
        Family::OpenAi => {
            assert_eq!(body["messages"], json!([{"role": "user", "content": text}]));
            assert_eq!(body["max_tokens"], 50);
        }
    }
}

pub async fn simple_chat_is_translated_both_ways(p: Provider) {
    let (reply, content, usage) = p.text_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let sent = json!({"model": p.model(), "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 50});
    let resp = chat(&gw, p, &mock, sent.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "application/json");
    assert_eq!(header(&resp, "x-portkey-provider"), p.slug());
    let v: serde_json::Value = resp.json().await.unwrap();
    let choice = completion_choice(p, &v);
    assert_eq!(choice["message"]["content"], content.as_str());
    assert_eq!(choice["finish_reason"], "stop");
    assert!(
        choice["message"]
            .get("tool_calls")
            .is_none_or(Value::is_null),
        "{v}"
    );
    usage.assert_in(&v["usage"]);

    let (got, body) = only_request(&mock);
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, p.chat_path(false));
    assert_eq!(got.header("content-type"), Some("application/json"));
    p.assert_auth(&got);
    if p.family() == Family::OpenAi {
        assert_eq!(body, sent, "Azure gets the OpenAI body as sent");
    }
    assert_single_user_turn(p, &body, QUESTION);
}

pub async fn system_prompt_lands_where_the_provider_expects_it(p: Provider) {
    let (reply, _, _) = p.text_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let sent = json!({"model": p.model(), "max_tokens": 50, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": QUESTION}]});
    let resp = chat(&gw, p, &mock, sent).await;
    assert_eq!(resp.status(), 200);
    let (_, body) = only_request(&mock);
    match p.family() {
        Family::Anthropic => assert_eq!(
            body["system"],
            json!([{"type": "text", "text": "You are terse."}])
        ),
        Family::Gemini => assert_eq!(
            body["systemInstruction"],
            json!({"parts": [{"text": "You are terse."}]})
        ),
        Family::Converse => assert_eq!(body["system"], json!([{"text": "You are terse."}])),
        Family::Cohere => {
            assert_eq!(
                body["messages"][0],
                json!({"role": "system", "content": "You are terse."})
            );
            assert_eq!(
                body["messages"][1],
                json!({"role": "user", "content": QUESTION})
            );
            return;
        }
        Family::WorkersAi => {
            assert_eq!(
                body["messages"],
                json!([{"role": "system", "content": "You are terse."},
                       {"role": "user", "content": QUESTION}])
            );
            return;
        }
        Family::Oracle => {
            assert_eq!(
                body["chatRequest"]["messages"],
                json!([{"role": "SYSTEM", "content": [{"type": "TEXT", "text": "You are terse."}]},
                       {"role": "USER", "content": [{"type": "TEXT", "text": QUESTION}]}])
            );
            return;
        }
        Family::Nomic => unreachable!("nomic serves embeddings only"),
        Family::OpenAi | Family::Predibase => {
            assert_eq!(
                body["messages"][0],
                json!({"role": "system", "content": "You are terse."})
            );
            return;
        }
    }
    // Providers with a separate system field keep it out of the turns.
    assert_single_user_turn(p, &body, QUESTION);
}

pub async fn streaming_yields_openai_chunks_usage_and_done(p: Provider) {
    let (reply, content, usage) = p.stream_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let sent = json!({"model": p.model(), "messages": [{"role": "user", "content": QUESTION}],
                      "max_tokens": 50, "stream": true, "stream_options": {"include_usage": true}});
    let s = ClientStream::read_from(p, chat(&gw, p, &mock, sent).await).await;
    assert!(s.ends_with_done(), "{}", s.text);
    assert!(s.final_error().is_none(), "{}", s.text);
    let chunks = s.chunks();
    assert_eq!(
        chunks[0]["choices"][0]["delta"]["role"], "assistant",
        "{}",
        s.text
    );
    let ids: Vec<&Value> = chunks.iter().map(|c| &c["id"]).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0] && id.is_string()),
        "one id per stream: {ids:?}"
    );
    for c in &chunks {
        assert_eq!(c["model"], p.model(), "{c}");
    }
    assert_eq!(s.content(), content);
    assert_eq!(s.finish_reasons(), ["stop"], "{}", s.text);
    let usage_chunks = s.usage_chunks();
    assert_eq!(usage_chunks.len(), 1, "{}", s.text);
    assert_eq!(
        &usage_chunks[0],
        chunks.last().unwrap(),
        "usage comes last, before [DONE]"
    );
    assert_eq!(usage_chunks[0]["choices"], json!([]));
    usage.assert_in(&usage_chunks[0]["usage"]);

    let (got, body) = only_request(&mock);
    assert_eq!(got.path, p.chat_path(true));
    p.assert_auth(&got);
    assert_single_user_turn(p, &body, QUESTION);
    match p.family() {
        Family::Anthropic
        | Family::Cohere
        | Family::OpenAi
        | Family::WorkersAi
        | Family::Predibase => {
            assert_eq!(body["stream"], true, "{body}")
        }
        Family::Oracle => {
            assert_eq!(body["chatRequest"]["isStream"], true, "{body}");
            assert_eq!(
                body["chatRequest"]["streamOptions"],
                json!({"isIncludeUsage": true})
            );
        }
        Family::Nomic => unreachable!("nomic serves embeddings only"),
        Family::Gemini | Family::Converse => assert!(body.get("stream").is_none(), "{body}"),
    }
    let accept = match p.family() {
        Family::Converse => "application/vnd.amazon.eventstream",
        _ => "text/event-stream",
    };
    assert_eq!(got.header("accept"), Some(accept));
}

pub async fn streaming_without_include_usage_sends_no_usage_chunk(p: Provider) {
    let (reply, content, _) = p.stream_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let sent = json!({"model": p.model(), "messages": [{"role": "user", "content": QUESTION}], "stream": true});
    let s = ClientStream::read_from(p, chat(&gw, p, &mock, sent).await).await;
    assert!(s.ends_with_done(), "{}", s.text);
    assert_eq!(s.content(), content);
    assert!(s.usage_chunks().is_empty(), "{}", s.text);
}

/// A conversation that already went through one tool call, with the tools still offered.
fn tool_round_trip_request(p: Provider) -> Value {
    json!({"model": p.model(), "messages": [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":21}"}
    ], "tools": [weather_tool()], "tool_choice": "auto"})
}

fn assert_tool_round_trip_translated(p: Provider, body: &Value, sent: &Value) {
    let params =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let desc = "Current weather for a city";
    match p.family() {
        Family::Anthropic => {
            assert_eq!(
                body["tools"],
                json!([{"name": "get_weather", "description": desc, "input_schema": params}])
            );
            assert_eq!(body["tool_choice"], json!({"type": "auto"}));
            assert_eq!(
                body["messages"][1],
                json!({"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]})
            );
            assert_eq!(
                body["messages"][2],
                json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temp_c\":21}"}]})
            );
        }
        Family::Gemini => {
            assert_eq!(
                body["tools"],
                json!([{"functionDeclarations": [{"name": "get_weather", "description": desc,
                "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}])
            );
            assert_eq!(
                body["toolConfig"],
                json!({"functionCallingConfig": {"mode": "AUTO"}})
            );
            assert_eq!(
                body["contents"][1],
                json!({"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]})
            );
            assert_eq!(
                body["contents"][2],
                json!({"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}}]})
            );
        }
        Family::Converse => {
            assert_eq!(
                body["toolConfig"],
                json!({"tools": [{"toolSpec": {"name": "get_weather",
                "description": desc, "inputSchema": {"json": params}}}], "toolChoice": {"auto": {}}})
            );
            assert_eq!(
                body["messages"][1],
                json!({"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}]})
            );
            assert_eq!(
                body["messages"][2],
                json!({"role": "user", "content": [
                {"toolResult": {"toolUseId": "call_1", "content": [{"text": "{\"temp_c\":21}"}]}}]})
            );
        }
        Family::Cohere => {
            assert_eq!(
                body["tools"],
                json!([{"type": "function", "function": {"name": "get_weather",
                "description": desc, "parameters": params}}])
            );
            assert!(
                body.get("tool_choice").is_none(),
                "auto is Cohere's default: {body}"
            );
            assert_eq!(
                body["messages"][1],
                json!({"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
            );
            assert_eq!(
                body["messages"][2],
                json!({"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":21}"})
            );
        }
        Family::WorkersAi => {
            assert_eq!(
                body["tools"],
                json!([{"type": "function", "function": {"name": "get_weather",
                "description": desc, "parameters": params}}])
            );
            assert!(body.get("tool_choice").is_none(), "{body}");
            assert_eq!(
                body["messages"][1],
                json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
            );
            assert_eq!(
                body["messages"][2],
                json!({"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":21}"})
            );
        }
        Family::Oracle => {
            let r = &body["chatRequest"];
            assert_eq!(
                r["tools"],
                json!([{"type": "FUNCTION", "name": "get_weather", "description": desc,
                        "parameters": params}])
            );
            assert_eq!(r["toolChoice"], json!({"type": "AUTO"}));
            assert_eq!(
                r["messages"][1],
                json!({"role": "ASSISTANT", "toolCalls": [{"id": "call_1", "type": "FUNCTION",
                       "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]})
            );
            assert_eq!(
                r["messages"][2],
                json!({"role": "TOOL", "toolCallId": "call_1",
                       "content": [{"type": "TEXT", "text": "{\"temp_c\":21}"}]})
            );
        }
        Family::Nomic => unreachable!("nomic serves embeddings only"),
        Family::Predibase => {
            let mut want = sent.clone();
            want["model"] = json!("pb-adapter/2");
            want["stream"] = json!(false);
            assert_eq!(body, &want);
        }
        Family::OpenAi => assert_eq!(body, sent),
    }
    let turns = match p.family() {
        Family::Gemini => &body["contents"],
        Family::Oracle => &body["chatRequest"]["messages"],
        _ => &body["messages"],
    };
    assert_eq!(turns.as_array().map(Vec::len), Some(3), "{body}");
}

pub async fn tool_definitions_calls_and_results_round_trip(p: Provider) {
    let (reply, content, calls) = p.tool_reply();
    let (gw, mock) = setup(p, reply).await;
    let sent = tool_round_trip_request(p);
    let resp = chat(&gw, p, &mock, sent.clone()).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    let choice = completion_choice(p, &v);
    assert_eq!(choice["finish_reason"], "tool_calls", "{v}");
    assert_eq!(choice["message"]["content"].as_str(), content, "{v}");
    assert_calls(&choice["message"]["tool_calls"], &calls);

    let (got, body) = only_request(&mock);
    assert_eq!(got.path, p.chat_path(false));
    assert_tool_round_trip_translated(p, &body, &sent);
}

pub async fn streamed_tool_calls_arrive_as_openai_deltas(p: Provider) {
    let (reply, content, calls) = p.stream_tool_reply();
    let (gw, mock) = setup(p, reply).await;
    let mut sent = tool_round_trip_request(p);
    sent["stream"] = json!(true);
    let s = ClientStream::read_from(p, chat(&gw, p, &mock, sent).await).await;
    assert!(s.ends_with_done(), "{}", s.text);
    assert_eq!(s.chunks()[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(s.content(), content.unwrap_or(""));
    assert_eq!(s.finish_reasons(), ["tool_calls"], "{}", s.text);
    assert_calls(&s.tool_calls(), &calls);
    let (got, _) = only_request(&mock);
    assert_eq!(got.path, p.chat_path(true));
}

pub async fn image_data_url_becomes_the_provider_image_part(p: Provider) {
    let (reply, _, _) = p.text_reply(p.slug());
    let (gw, mock) = setup(p, reply).await;
    let url = format!("data:image/png;base64,{PNG_B64}");
    let sent = json!({"model": p.model(), "max_tokens": 50, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}]});
    let resp = chat(&gw, p, &mock, sent.clone()).await;
    assert_eq!(resp.status(), 200);
    let (_, body) = only_request(&mock);
    let text = "What is in this image?";
    let expected = match p.family() {
        Family::Anthropic => json!([{"role": "user", "content": [{"type": "text", "text": text},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}}]}]),
        Family::Gemini => json!([{"role": "user", "parts": [{"text": text},
            {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}]}]),
        Family::Converse => json!([{"role": "user", "content": [{"text": text},
            {"image": {"format": "png", "source": {"bytes": PNG_B64}}}]}]),
        Family::Cohere => json!([{"role": "user", "content": [{"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}]),
        Family::WorkersAi | Family::Nomic => unreachable!("text-only provider"),
        Family::Predibase => sent["messages"].clone(),
        Family::OpenAi => sent["messages"].clone(),
        Family::Oracle => json!([{"role": "USER", "content": [{"type": "TEXT", "text": text},
            {"type": "IMAGE", "imageUrl": {"url": url, "detail": "LOW"}}]}]),
    };
    let turns = match p.family() {
        Family::Gemini => &body["contents"],
        Family::Oracle => &body["chatRequest"]["messages"],
        _ => &body["messages"],
    };
    assert_eq!(turns, &expected);
}

pub async fn json_schema_mode_returns_the_json_as_content(p: Provider) {
    let (reply, expected) = p.json_reply();
    let (gw, mock) = setup(p, reply).await;
    let schema = json!({"type": "object", "properties": {"capital": {"type": "string"}}, "required": ["capital"]});
    let sent = json!({"model": p.model(), "messages": [{"role": "user", "content": QUESTION}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "capital_answer", "schema": schema}}});
    let resp = chat(&gw, p, &mock, sent.clone()).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    let choice = completion_choice(p, &v);
    assert_eq!(choice["finish_reason"], "stop", "{v}");
    assert!(
        choice["message"]
            .get("tool_calls")
            .is_none_or(Value::is_null),
        "{v}"
    );
    let content: Value =
        serde_json::from_str(choice["message"]["content"].as_str().expect("content"))
            .expect("content is JSON");
    assert_eq!(content, expected);

    let (_, body) = only_request(&mock);
    match p.family() {
        Family::Anthropic => {
            let tools = body["tools"].as_array().expect("tools");
            assert_eq!(tools.len(), 1, "{body}");
            assert_eq!(tools[0]["name"], "switchyard_json_response");
            assert_eq!(tools[0]["input_schema"], schema);
            assert_eq!(
                body["tool_choice"],
                json!({"type": "tool", "name": "switchyard_json_response"})
            );
        }
        Family::Gemini => {
            assert_eq!(
                body["generationConfig"]["responseMimeType"],
                "application/json"
            );
            assert_eq!(
                body["generationConfig"]["responseSchema"],
                json!({"type": "OBJECT",
                "properties": {"capital": {"type": "STRING"}}, "required": ["capital"]})
            );
        }
        Family::Converse => {
            let spec = &body["toolConfig"]["tools"][0]["toolSpec"];
            assert_eq!(spec["name"], "switchyard_json_response");
            assert_eq!(spec["inputSchema"]["json"], schema);
            assert_eq!(
                body["toolConfig"]["toolChoice"],
                json!({"tool": {"name": "switchyard_json_response"}})
            );
        }
        Family::Cohere => {
            assert_eq!(
                body["response_format"],
                json!({"type": "json_object", "json_schema": schema})
            );
        }
        // Workers AI's `json_schema` is the bare schema.
        Family::WorkersAi => assert_eq!(
            body["response_format"],
            json!({"type": "json_schema", "json_schema": schema})
        ),
        Family::Oracle => assert_eq!(
            body["chatRequest"]["responseFormat"],
            json!({"type": "JSON_SCHEMA", "jsonSchema": {"name": "capital_answer", "schema": schema}})
        ),
        Family::Nomic => unreachable!("nomic serves embeddings only"),
        Family::Predibase => {
            let mut want = sent.clone();
            want["model"] = json!("pb-adapter/2");
            want["stream"] = json!(false);
            assert_eq!(body, want);
        }
        Family::OpenAi => assert_eq!(body, sent),
    }
}
