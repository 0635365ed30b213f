//! Non-stream responses, error bodies and embeddings.

use serde_json::{json, Value};
use switchyard_types::chat::FinishReason;
use switchyard_types::embeddings::EmbeddingsRequest;

use super::tests_chat::{cx, options};
use super::{Gemini, VertexGemini};
use crate::native::{NativeAdapter, TranslateError};

fn respond(body: &str, model: &str) -> Value {
    let o = options(&[]);
    let r = Gemini
        .chat_response(body.as_bytes(), &cx(model, false, &o))
        .unwrap();
    serde_json::to_value(r).unwrap()
}

fn expected(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn text_response_golden_with_cached_and_reasoning_tokens() {
    let got = respond(
        include_str!("../../fixtures/google/response_text.json"),
        "gemini-2.5-flash",
    );
    assert_eq!(
        got,
        expected(include_str!(
            "../../fixtures/google/response_text.expected.json"
        ))
    );
}

#[test]
fn parallel_function_calls_golden_with_stable_ids_and_tool_calls_finish() {
    let body = include_str!("../../fixtures/google/response_parallel_tools.json");
    let got = respond(body, "gemini-3-pro-preview");
    assert_eq!(
        got,
        expected(include_str!(
            "../../fixtures/google/response_parallel_tools.expected.json"
        ))
    );
    // Stable: the same response gives the same ids.
    assert_eq!(respond(body, "gemini-3-pro-preview"), got);
}

#[test]
fn prompt_blocked_without_candidates_is_a_content_filter_answer() {
    let got = respond(
        include_str!("../../fixtures/google/response_prompt_blocked.json"),
        "gemini-2.5-flash",
    );
    assert_eq!(
        got,
        expected(include_str!(
            "../../fixtures/google/response_prompt_blocked.expected.json"
        ))
    );
}

#[test]
fn vertex_reads_the_same_response_shape() {
    let o = options(&[("vertex_region", "us-central1"), ("vertex_project_id", "p")]);
    let body = include_str!("../../fixtures/google/response_text.json");
    let r = VertexGemini
        .chat_response(body.as_bytes(), &cx("gemini-2.5-flash", false, &o))
        .unwrap();
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        expected(include_str!(
            "../../fixtures/google/response_text.expected.json"
        ))
    );
}

#[test]
fn candidates_become_indexed_choices_with_concatenated_text() {
    let o = options(&[]);
    let body = include_str!("../../fixtures/google/response_multi_candidates.json");
    let r = Gemini
        .chat_response(body.as_bytes(), &cx("gemini-2.0-flash", false, &o))
        .unwrap();
    assert_eq!(r.id, "chatcmpl-gw-1", "no responseId: the gateway's id");
    assert_eq!(r.choices.len(), 2);
    assert_eq!(r.choices[0].index, 0);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.choices[1].index, 1);
    assert_eq!(
        r.choices[1].message.content.as_deref(),
        Some("The sky at dusk turns slowly")
    );
    assert_eq!(r.choices[1].finish_reason, Some(FinishReason::Length));
    let u = r.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (7, 20, 27)
    );
}

#[test]
fn safety_stop_is_content_filter_with_no_content() {
    let o = options(&[]);
    let body = include_str!("../../fixtures/google/response_safety.json");
    let r = Gemini
        .chat_response(body.as_bytes(), &cx("gemini-2.0-flash", false, &o))
        .unwrap();
    assert_eq!(
        r.choices[0].finish_reason,
        Some(FinishReason::ContentFilter)
    );
    assert_eq!(r.choices[0].message.content, None);
    assert_eq!(r.usage.unwrap().total_tokens, 14);
}

#[test]
fn finish_reasons_map_to_openai() {
    use super::response::finish_reason;
    assert_eq!(finish_reason("STOP", false), FinishReason::Stop);
    assert_eq!(finish_reason("STOP", true), FinishReason::ToolCalls);
    assert_eq!(finish_reason("MAX_TOKENS", true), FinishReason::Length);
    for r in [
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
    ] {
        assert_eq!(finish_reason(r, false), FinishReason::ContentFilter, "{r}");
    }
    for r in [
        "OTHER",
        "LANGUAGE",
        "MALFORMED_FUNCTION_CALL",
        "FINISH_REASON_UNSPECIFIED",
        "NEW_REASON",
    ] {
        assert_eq!(finish_reason(r, false), FinishReason::Stop, "{r}");
    }
}

#[test]
fn thought_parts_are_not_answer_text_but_count_as_reasoning() {
    let o = options(&[]);
    let body = include_str!("../../fixtures/google/response_thought_parts.json");
    let r = Gemini
        .chat_response(body.as_bytes(), &cx("gemini-2.5-pro", false, &o))
        .unwrap();
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some("17 + 25 = 42")
    );
    let u = r.usage.unwrap();
    assert_eq!(u.completion_tokens, 110);
    assert_eq!(u.completion_tokens_details.unwrap().reasoning_tokens, 102);
}

#[test]
fn logprobs_result_becomes_openai_logprobs() {
    let got = respond(
        include_str!("../../fixtures/google/response_logprobs.json"),
        "gemini-2.0-flash",
    );
    assert_eq!(
        got["choices"][0]["logprobs"],
        json!({"content": [{
            "token": "Yes", "logprob": -0.0012, "bytes": [89, 101, 115],
            "top_logprobs": [
                {"token": "Yes", "logprob": -0.0012, "bytes": [89, 101, 115]},
                {"token": "No", "logprob": -6.75, "bytes": [78, 111]}
            ]
        }], "refusal": null})
    );
}

#[test]
fn error_inside_a_200_body_is_upstream() {
    let o = options(&[]);
    let body = include_str!("../../fixtures/google/error_resource_exhausted.json");
    match Gemini.chat_response(body.as_bytes(), &cx("gemini-2.0-flash", false, &o)) {
        Err(TranslateError::Upstream { status, error }) => {
            assert_eq!(status, 429);
            assert_eq!(error.error.kind, "rate_limit_error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unusable_bodies_are_invalid_responses() {
    let o = options(&[]);
    let c = cx("gemini-2.0-flash", false, &o);
    assert!(matches!(
        Gemini.chat_response(b"<html>", &c),
        Err(TranslateError::InvalidResponse(_))
    ));
    assert!(matches!(
        Gemini.chat_response(b"{}", &c),
        Err(TranslateError::InvalidResponse(_))
    ));
    assert!(matches!(
        Gemini.chat_response(br#"{"candidates": "nope"}"#, &c),
        Err(TranslateError::InvalidResponse(_))
    ));
}

fn err(status: u16, body: &str) -> Value {
    serde_json::to_value(Gemini.error_response(status, body.as_bytes())).unwrap()
}

#[test]
fn error_bodies_map_to_openai_errors_by_rpc_status() {
    assert_eq!(
        err(
            400,
            include_str!("../../fixtures/google/error_invalid_argument.json")
        ),
        json!({"error": {
            "message": "* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties: should be non-empty for OBJECT type\n",
            "type": "invalid_request_error", "param": null, "code": "INVALID_ARGUMENT"
        }})
    );
    let key = err(
        400,
        include_str!("../../fixtures/google/error_api_key_invalid.json"),
    );
    assert_eq!(key["error"]["type"], "authentication_error");
    assert_eq!(
        key["error"]["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_eq!(
        err(
            429,
            include_str!("../../fixtures/google/error_resource_exhausted.json")
        )["error"]["type"],
        "rate_limit_error"
    );
    assert_eq!(
        err(
            404,
            include_str!("../../fixtures/google/error_not_found.json")
        )["error"]["type"],
        "not_found_error"
    );
    assert_eq!(
        err(
            401,
            include_str!("../../fixtures/google/error_unauthenticated.json")
        )["error"]["type"],
        "authentication_error"
    );
}

#[test]
fn vertex_array_wrapped_error_is_read() {
    let body = include_str!("../../fixtures/google/error_vertex_permission_denied.json");
    let e = serde_json::to_value(VertexGemini.error_response(403, body.as_bytes())).unwrap();
    assert_eq!(e["error"]["type"], "permission_error");
    assert_eq!(e["error"]["code"], "PERMISSION_DENIED");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Permission 'aiplatform.endpoints.predict' denied"));
}

#[test]
fn non_json_error_bodies_fall_back_to_the_http_status() {
    let e = err(
        503,
        "upstream connect error or disconnect/reset before headers",
    );
    assert_eq!(e["error"]["type"], "api_error");
    assert_eq!(
        e["error"]["message"],
        "upstream connect error or disconnect/reset before headers"
    );
    let empty = err(504, "");
    assert_eq!(empty["error"]["type"], "timeout_error");
    assert_eq!(empty["error"]["message"], "Google API error (HTTP 504)");
    let unknown_status = err(
        500,
        r#"{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}"#,
    );
    assert_eq!(unknown_status["error"]["type"], "api_error");
}

fn embed_req(v: Value) -> EmbeddingsRequest {
    serde_json::from_value(v).unwrap()
}

#[test]
fn gemini_embeddings_use_batch_embed_contents() {
    let o = options(&[]);
    let req = embed_req(
        json!({"model": "m", "input": ["first", "second"], "dimensions": 256, "task_type": "RETRIEVAL_QUERY", "user": "u"}),
    );
    let w = Gemini
        .embeddings_request(&req, &cx("gemini-embedding-001", false, &o))
        .unwrap();
    assert_eq!(
        w.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "first"}]}, "outputDimensionality": 256, "taskType": "RETRIEVAL_QUERY"},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "second"}]}, "outputDimensionality": 256, "taskType": "RETRIEVAL_QUERY"}
        ]})
    );
}

#[test]
fn gemini_embeddings_response_becomes_an_openai_list() {
    let o = options(&[]);
    let body = include_str!("../../fixtures/google/batch_embed_response.json");
    let r = Gemini
        .embeddings_response(body.as_bytes(), &cx("gemini-embedding-001", false, &o))
        .unwrap();
    let v = serde_json::to_value(r).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "gemini-embedding-001");
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["data"][1]["object"], "embedding");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["usage"], json!({"prompt_tokens": 0, "total_tokens": 0}));
    let first = v["data"][0]["embedding"].as_array().unwrap();
    assert_eq!(first.len(), 4);
    assert!((first[0].as_f64().unwrap() - 0.013168523).abs() < 1e-6);
}

#[test]
fn vertex_embeddings_use_predict_and_sum_token_counts() {
    let o = options(&[
        ("vertex_region", "us-central1"),
        ("vertex_project_id", "acme"),
    ]);
    let c = cx("text-embedding-005", false, &o);
    let w = VertexGemini
        .embeddings_request(
            &embed_req(json!({"model": "m", "input": ["a", "b"], "dimensions": 128})),
            &c,
        )
        .unwrap();
    assert_eq!(
        w.path,
        "/v1/projects/acme/locations/us-central1/publishers/google/models/text-embedding-005:predict"
    );
    let body: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        body,
        json!({"instances": [{"content": "a"}, {"content": "b"}], "parameters": {"outputDimensionality": 128}})
    );
    let single = VertexGemini
        .embeddings_request(
            &embed_req(json!({"model": "m", "input": "q", "task_type": "RETRIEVAL_QUERY"})),
            &c,
        )
        .unwrap();
    let body: Value = serde_json::from_slice(&single.body).unwrap();
    assert_eq!(
        body,
        json!({"instances": [{"content": "q", "task_type": "RETRIEVAL_QUERY"}]})
    );

    let resp = include_str!("../../fixtures/google/vertex_predict_response.json");
    let r = VertexGemini
        .embeddings_response(resp.as_bytes(), &c)
        .unwrap();
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.usage.prompt_tokens, 10);
    assert_eq!(r.usage.total_tokens, 10);
    assert!((r.data[1].embedding[0] - (-0.0104323)).abs() < 1e-6);
}

#[test]
fn token_inputs_and_empty_inputs_are_rejected() {
    let o = options(&[]);
    let c = cx("gemini-embedding-001", false, &o);
    for input in [json!([1, 2, 3]), json!([])] {
        match Gemini.embeddings_request(&embed_req(json!({"model": "m", "input": input})), &c) {
            Err(TranslateError::InvalidRequest { param, .. }) => {
                assert_eq!(param.as_deref(), Some("input"))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn embeddings_error_bodies_and_empty_answers() {
    let o = options(&[]);
    let c = cx("gemini-embedding-001", false, &o);
    let body = include_str!("../../fixtures/google/error_invalid_argument.json");
    assert!(matches!(
        Gemini.embeddings_response(body.as_bytes(), &c),
        Err(TranslateError::Upstream { status: 400, .. })
    ));
    assert!(matches!(
        Gemini.embeddings_response(br#"{"embeddings": []}"#, &c),
        Err(TranslateError::InvalidResponse(_))
    ));
    assert!(matches!(
        VertexGemini.embeddings_response(br#"{"predictions": []}"#, &c),
        Err(TranslateError::InvalidResponse(_))
    ));
}
