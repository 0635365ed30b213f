//! Triton adapter tests. Fixtures (`fixtures/triton/`) are the examples of NVIDIA's Generate
//! Extension document.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn no_options() -> &'static ProviderOptions {
    static EMPTY: std::sync::OnceLock<ProviderOptions> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

fn cx(model: &'static str) -> WireContext<'static> {
    WireContext {
        model,
        stream: false,
        include_usage: false,
        response_id: "cmpl-test",
        created: 1_700_000_000,
        options: no_options(),
        strict: true,
    }
}

fn wire(req: Value) -> Result<Value, TranslateError> {
    let req: CompletionsRequest = serde_json::from_value(req).unwrap();
    let w = Triton.completions_request(&req, &cx("mymodel"))?;
    assert_eq!(w.path, "/generate");
    assert!(w.headers.is_empty());
    Ok(serde_json::from_slice(&w.body).unwrap())
}

fn param_of(e: TranslateError) -> Option<String> {
    match e {
        TranslateError::InvalidRequest { param, .. } => param,
        other => panic!("not a 400: {other:?}"),
    }
}

#[test]
fn there_is_no_default_host_so_a_custom_host_is_required() {
    let e = Triton.base_url(no_options()).unwrap_err();
    assert_eq!(param_of(e).as_deref(), Some("custom_host"));
}

#[test]
fn a_bare_prompt_gets_portkeys_defaults() {
    let body = wire(json!({"model": "mymodel", "prompt": "client input"})).unwrap();
    assert_eq!(
        body,
        json!({
            "text_input": "client input",
            "max_tokens": 100,
            "temperature": 0.7,
            "top_p": 0.7,
            "top_k": 50
        })
    );
}

#[test]
fn openai_parameters_map_to_tritons_names_and_extras_are_copied() {
    let body = wire(json!({
        "model": "mymodel",
        "prompt": ["one prompt"],
        "max_tokens": 20,
        "temperature": 0,
        "top_p": 0.9,
        "top_k": 10,
        "stop": "\n\n",
        "bad_words": ["darn"],
        "repetition_penalty": 1.1,
        "parameters": {"stream": false},
        "user": "u-1",
        "seed": 7,
        "n": 1,
        "echo": false,
        "presence_penalty": 0
    }))
    .unwrap();
    assert_eq!(body["text_input"], "one prompt");
    assert_eq!(body["max_tokens"], 20);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["top_k"], 10);
    assert_eq!(body["stop_words"], json!(["\n\n"]));
    assert_eq!(body["bad_words"], json!(["darn"]));
    assert_eq!(body["repetition_penalty"], 1.1);
    assert_eq!(body["parameters"], json!({"stream": false}));
    for gone in [
        "model",
        "prompt",
        "stop",
        "user",
        "seed",
        "n",
        "echo",
        "presence_penalty",
    ] {
        assert!(body.get(gone).is_none(), "{gone}: {body}");
    }
}

#[test]
fn temperature_is_held_to_zero_through_one_as_portkey_does() {
    let body = wire(json!({"model": "m", "prompt": "x", "temperature": 1.8})).unwrap();
    assert_eq!(body["temperature"], 1.0);
}

#[test]
fn what_triton_cannot_honour_is_refused_naming_the_parameter() {
    for (extra, param) in [
        (json!({"n": 2}), "n"),
        (json!({"stream": true}), "stream"),
        (json!({"prompt": ["a", "b"]}), "prompt"),
        (json!({"prompt": [1, 2, 3]}), "prompt"),
        (json!({"echo": true}), "echo"),
        (json!({"logprobs": 0}), "logprobs"),
        (json!({"best_of": 3}), "best_of"),
        (json!({"suffix": "end"}), "suffix"),
        (json!({"logit_bias": {"50256": -100}}), "logit_bias"),
        (json!({"frequency_penalty": 0.5}), "frequency_penalty"),
        (json!({"presence_penalty": 1}), "presence_penalty"),
        (json!({"top_k": "ten"}), "top_k"),
    ] {
        let mut req = json!({"model": "m", "prompt": "x"});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let e = wire(req).unwrap_err();
        assert_eq!(param_of(e).as_deref(), Some(param), "{extra}");
    }
}

#[test]
fn the_documented_answer_becomes_a_text_completion() {
    let body = include_bytes!("../../fixtures/triton/generate_response.json");
    let resp = Triton.completions_response(body, &cx("label")).unwrap();
    let v = serde_json::to_value(&resp).unwrap();
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["id"], "cmpl-test");
    assert_eq!(v["created"], 1_700_000_000);
    assert_eq!(
        v["model"], "mymodel",
        "Triton's model_name, as Portkey reports"
    );
    assert_eq!(v["choices"][0]["text"], "model output");
    assert_eq!(v["choices"][0]["index"], 0);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v["choices"][0]["logprobs"].is_null());
    assert!(v.get("usage").is_none(), "Triton reports no token counts");
}

#[test]
fn an_answer_without_text_output_is_invalid_and_an_error_member_is_upstreams() {
    let e = Triton
        .completions_response(br#"{"model_name": "m"}"#, &cx("m"))
        .unwrap_err();
    assert!(matches!(e, TranslateError::InvalidResponse(_)), "{e:?}");
    let e = Triton
        .completions_response(br#"{"error": "boom"}"#, &cx("m"))
        .unwrap_err();
    match e {
        TranslateError::Upstream { status, error } => {
            assert_eq!(status, 500);
            assert_eq!(error.error.message, "boom");
        }
        other => panic!("{other:?}"),
    }
    assert!(Triton.completions_response(b"not json", &cx("m")).is_err());
}

#[test]
fn the_documented_error_keeps_its_message_and_the_type_follows_the_status() {
    let body = include_bytes!("../../fixtures/triton/error.json");
    let env = Triton.error_response(400, body);
    assert_eq!(env.error.message, "error message");
    assert_eq!(env.error.kind, "invalid_request_error");
    let env = Triton.error_response(503, b"");
    assert_eq!(env.error.message, "Triton returned HTTP 503");
    assert_eq!(env.error.kind, "api_error");
    let env = Triton.error_response(404, b"Not Found");
    assert_eq!(env.error.message, "Not Found");
}

#[test]
fn chat_is_refused() {
    let req: ChatRequest = serde_json::from_value(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    let e = Triton.chat_request(&req, &cx("m")).unwrap_err();
    assert_eq!(param_of(e).as_deref(), Some("model"));
}
