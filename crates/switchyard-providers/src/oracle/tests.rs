//! OCI Generative AI adapter tests. Fixtures live in `fixtures/oracle/`, shaped as OCI's
//! Generative AI inference API (version 20231130) documents `ChatResult`, its SSE events and
//! its error bodies.

use serde_json::{json, Value};
use switchyard_types::chat::ChatRequest;

use super::*;
use crate::native::{ProviderOptions, WireContext};

const MODEL: &str = "meta.llama-3.3-70b-instruct";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaaexample";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../fixtures/oracle/", $name))
    };
}

fn options(extra: &[(&str, &str)]) -> ProviderOptions {
    let mut o: ProviderOptions = [
        ("oracle_region".to_owned(), "us-chicago-1".to_owned()),
        ("oracle_compartment_id".to_owned(), COMPARTMENT.to_owned()),
    ]
    .into();
    for (k, v) in extra {
        o.insert((*k).to_owned(), (*v).to_owned());
    }
    o
}

fn cx<'a>(options: &'a ProviderOptions, stream: bool, include_usage: bool) -> WireContext<'a> {
    WireContext {
        model: MODEL,
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

fn wire(v: Value, o: &ProviderOptions, stream: bool) -> Result<WireRequest, TranslateError> {
    Oracle.chat_request(&chat_req(v), &cx(o, stream, false))
}

fn body(v: Value) -> Value {
    let o = options(&[]);
    serde_json::from_slice(&wire(v, &o, false).unwrap().body).unwrap()
}

fn param_of_error(v: Value, o: &ProviderOptions) -> Option<String> {
    match wire(v, o, false) {
        Err(TranslateError::InvalidRequest { param, .. }) => param,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn run_sse(sse: &str, include_usage: bool) -> (Vec<Value>, Result<(), TranslateError>) {
    let o = options(&[]);
    crate::test_sse::run_sse(Oracle.chat_stream(&cx(&o, true, include_usage)), sse)
}

#[test]
fn base_url_names_the_region_and_refuses_what_is_not_a_dns_label() {
    assert_eq!(
        Oracle.base_url(&options(&[])).unwrap(),
        "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com"
    );
    for bad in ["us-chicago-1.evil.com", "us/chicago", "-us", "a b", ""] {
        let o: ProviderOptions = [("oracle_region".to_owned(), bad.to_owned())].into();
        match Oracle.base_url(&o) {
            Err(TranslateError::InvalidRequest { param, .. }) => {
                assert_eq!(param.as_deref(), Some("oracle_region"), "{bad}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn chat_goes_to_the_versioned_actions_chat_path() {
    let req = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        wire(req.clone(), &options(&[]), false).unwrap().path,
        "/20231130/actions/chat"
    );
    let o = options(&[("oracle_api_version", "20240101")]);
    assert_eq!(
        wire(req.clone(), &o, false).unwrap().path,
        "/20240101/actions/chat"
    );
    let o = options(&[("oracle_api_version", "../x")]);
    assert_eq!(
        param_of_error(req, &o).as_deref(),
        Some("oracle_api_version")
    );
}

#[test]
fn simple_chat_becomes_chat_details_with_a_generic_request() {
    let b = body(json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": "What is the capital of France?"}
        ],
        "max_tokens": 200, "temperature": 0.5, "top_p": 0.9, "seed": 7, "n": 2,
        "frequency_penalty": 0.1, "presence_penalty": 0.2, "stop": "END", "top_k": 40
    }));
    assert_eq!(
        b,
        json!({
            "compartmentId": COMPARTMENT,
            "servingMode": {"servingType": "ON_DEMAND", "modelId": MODEL},
            "chatRequest": {
                "apiFormat": "GENERIC",
                "messages": [
                    {"role": "SYSTEM", "content": [{"type": "TEXT", "text": "Be brief."}]},
                    {"role": "SYSTEM", "content": [{"type": "TEXT", "text": "Answer in English."}]},
                    {"role": "USER", "content": [{"type": "TEXT", "text": "What is the capital of France?"}]}
                ],
                "maxTokens": 200, "temperature": 0.5, "topP": 0.9, "seed": 7, "numGenerations": 2,
                "frequencyPenalty": 0.1, "presencePenalty": 0.2, "stop": ["END"], "topK": 40
            }
        })
    );
}

#[test]
fn streaming_asks_for_sse_and_usage() {
    let o = options(&[]);
    let w = wire(
        json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        &o,
        true,
    )
    .unwrap();
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(b["chatRequest"]["isStream"], true);
    assert_eq!(
        b["chatRequest"]["streamOptions"],
        json!({"isIncludeUsage": true})
    );
}

#[test]
fn dedicated_serving_mode_names_the_endpoint() {
    let o = options(&[("oracle_serving_mode", "DEDICATED")]);
    let w = wire(
        json!({"model": "ocid1.generativeaiendpoint.oc1.us-chicago-1.abc", "messages": [{"role": "user", "content": "hi"}]}),
        &o,
        false,
    )
    .unwrap();
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    // The model id in the context is what the endpoint OCID would be.
    assert_eq!(
        b["servingMode"],
        json!({"servingType": "DEDICATED", "endpointId": MODEL})
    );
    let o = options(&[("oracle_serving_mode", "SPOT")]);
    assert_eq!(
        param_of_error(json!({"model": MODEL, "messages": []}), &o).as_deref(),
        Some("oracle_serving_mode")
    );
}

#[test]
fn missing_compartment_and_cohere_models_are_refused_before_io() {
    let o: ProviderOptions = [("oracle_region".to_owned(), "us-chicago-1".to_owned())].into();
    let req = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        param_of_error(req.clone(), &o).as_deref(),
        Some("oracle_compartment_id")
    );
    let o = options(&[]);
    let cohere = WireContext {
        model: "cohere.command-r-plus-08-2024",
        ..cx(&o, false, false)
    };
    match Oracle.chat_request(&chat_req(req), &cohere) {
        Err(TranslateError::InvalidRequest { param, message }) => {
            assert_eq!(param.as_deref(), Some("model"));
            assert!(message.contains("COHERE"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tools_tool_calls_and_results_use_ocis_function_shapes() {
    let b = body(json!({
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
        ],
        "tools": [{"type": "function", "function": {
            "name": "get_weather", "description": "Weather by city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false
    }));
    let r = &b["chatRequest"];
    assert_eq!(
        r["messages"][1],
        json!({"role": "ASSISTANT", "toolCalls": [{"id": "call_1", "type": "FUNCTION",
               "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]})
    );
    assert_eq!(
        r["messages"][2],
        json!({"role": "TOOL", "toolCallId": "call_1", "content": [{"type": "TEXT", "text": "18C"}]})
    );
    assert_eq!(
        r["tools"],
        json!([{"type": "FUNCTION", "name": "get_weather", "description": "Weather by city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}])
    );
    assert_eq!(
        r["toolChoice"],
        json!({"type": "FUNCTION", "name": "get_weather"})
    );
    assert_eq!(r["isParallelToolCalls"], false);
    let b = body(json!({"model": MODEL, "messages": [], "tool_choice": "required"}));
    assert_eq!(b["chatRequest"]["toolChoice"], json!({"type": "REQUIRED"}));
}

#[test]
fn images_and_json_schema_map_and_other_parts_are_refused() {
    let b = body(json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
        ]}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "answer", "schema": {"type": "object"}, "strict": true}}
    }));
    let r = &b["chatRequest"];
    assert_eq!(
        r["messages"][0]["content"][1],
        json!({"type": "IMAGE", "imageUrl": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "LOW"}})
    );
    assert_eq!(
        r["responseFormat"],
        json!({"type": "JSON_SCHEMA", "jsonSchema": {"name": "answer", "schema": {"type": "object"}, "isStrict": true}})
    );
    let audio = json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]});
    assert_eq!(
        param_of_error(audio, &options(&[])).as_deref(),
        Some("messages[0].content[0]")
    );
    let tool = json!({"model": MODEL, "messages": [],
        "tools": [{"type": "web_search", "function": {"name": "x"}}]});
    assert_eq!(
        param_of_error(tool, &options(&[])).as_deref(),
        Some("tools[0].type")
    );
}

#[test]
fn documented_chat_result_becomes_a_chat_completion() {
    let o = options(&[]);
    let r = Oracle
        .chat_response(
            fixture!("chat_response.json").as_bytes(),
            &cx(&o, false, false),
        )
        .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["id"], "chatcmpl-test");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], MODEL);
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "The capital of France is Paris."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 42, "completion_tokens": 8, "total_tokens": 50})
    );
}

#[test]
fn tool_calls_in_a_chat_result_become_openai_tool_calls() {
    let o = options(&[]);
    let r = Oracle
        .chat_response(
            fixture!("chat_tool_calls.json").as_bytes(),
            &cx(&o, false, false),
        )
        .unwrap();
    let v = serde_json::to_value(&r).unwrap();
    let m = &v["choices"][0]["message"];
    assert_eq!(m["content"], Value::Null);
    assert_eq!(
        m["tool_calls"][1],
        json!({"id": "chatcmpl-tool-9c4b7a13", "type": "function",
               "function": {"name": "get_weather", "arguments": "{\"city\": \"Tokyo\"}"}})
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn several_generations_keep_their_indexes_and_a_non_generic_body_is_a_502() {
    let body = json!({"modelId": MODEL, "chatResponse": {"apiFormat": "GENERIC", "choices": [
        {"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "a"}]}, "finishReason": "stop"},
        {"index": 1, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "b"}]}, "finishReason": "length"}
    ]}});
    let o = options(&[]);
    let r = Oracle
        .chat_response(body.to_string().as_bytes(), &cx(&o, false, false))
        .unwrap();
    assert_eq!(r.choices.len(), 2);
    assert_eq!(r.choices[1].index, 1);
    assert_eq!(r.choices[1].message.content.as_deref(), Some("b"));
    let cohere = json!({"chatResponse": {"apiFormat": "COHERE", "text": "hi"}});
    assert!(matches!(
        Oracle.chat_response(cohere.to_string().as_bytes(), &cx(&o, false, false)),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn documented_stream_yields_text_chunks_finish_and_usage() {
    let (chunks, end) = run_sse(fixture!("stream_text.sse"), true);
    end.unwrap();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "The capital of France is Paris.");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let finish: Vec<&Value> = chunks
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null())
        .collect();
    assert_eq!(finish.len(), 1);
    assert_eq!(finish[0]["choices"][0]["finish_reason"], "stop");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 18, "completion_tokens": 7, "total_tokens": 25})
    );
    let (chunks, end) = run_sse(fixture!("stream_text.sse"), false);
    end.unwrap();
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn streamed_tool_calls_become_indexed_deltas() {
    let (chunks, end) = run_sse(fixture!("stream_tool_calls.sse"), false);
    end.unwrap();
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(deltas.len(), 4);
    assert_eq!(deltas[0]["index"], 0);
    assert_eq!(deltas[0]["id"], "chatcmpl-tool-a1");
    assert_eq!(deltas[0]["function"]["name"], "get_weather");
    assert_eq!(deltas[1]["index"], 0);
    assert!(deltas[1].get("id").is_none());
    let args: String = deltas[..3]
        .iter()
        .filter_map(|d| d["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"city\": \"Paris\"}");
    assert_eq!(deltas[3]["index"], 1);
    assert_eq!(deltas[3]["function"]["name"], "get_time");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn stream_without_finish_reason_is_an_error_and_error_events_are_upstream_errors() {
    let (_, end) = run_sse(
        "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"Hi\"}]}}\n\n",
        false,
    );
    assert!(matches!(end, Err(TranslateError::InvalidResponse(_))));
    let (_, end) = run_sse(
        "data: {\"code\":\"InternalServerError\",\"message\":\"model failed\"}\n\n",
        false,
    );
    match end {
        Err(TranslateError::Upstream { error, .. }) => {
            assert_eq!(error.error.message, "model failed");
            assert_eq!(error.error.code.as_deref(), Some("InternalServerError"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn documented_error_bodies_keep_ocis_code_and_message() {
    let e = Oracle.error_response(401, fixture!("error_auth.json").as_bytes());
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["error"]["code"], "NotAuthenticated");
    assert_eq!(v["error"]["type"], "authentication_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The required information to complete authentication"));
    let e = Oracle.error_response(429, fixture!("error_rate_limit.json").as_bytes());
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["error"]["code"], "TooManyRequests");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    let e = Oracle.error_response(502, b"<html>bad gateway</html>");
    assert_eq!(e.error.message, "<html>bad gateway</html>");
}
