//! Bytez adapter tests. Fixtures live in `fixtures/bytez/`.

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
        response_id: "chatcmpl-test",
        created: 1_700_000_000,
        options: no_options(),
        strict: true,
    }
}

fn req(v: Value) -> ChatRequest {
    serde_json::from_value(v).unwrap()
}

fn wire(v: Value) -> Result<(String, Value), TranslateError> {
    let w = Bytez.chat_request(&req(v), &cx("Qwen/Qwen3-4B"))?;
    assert!(w.headers.is_empty());
    Ok((w.path, serde_json::from_slice(&w.body).unwrap()))
}

fn param_of(e: TranslateError) -> Option<String> {
    match e {
        TranslateError::InvalidRequest { param, .. } => param,
        other => panic!("not a 400: {other:?}"),
    }
}

#[test]
fn base_url_is_the_bytez_api() {
    assert_eq!(
        Bytez.base_url(no_options()).unwrap(),
        "https://api.bytez.com"
    );
}

#[test]
fn chat_goes_to_the_models_path_with_portkeys_defaults() {
    let (path, body) = wire(json!({
        "model": "Qwen/Qwen3-4B",
        "messages": [
            {"role": "developer", "content": "You are a friendly chatbot"},
            {"role": "assistant", "content": "Hello, I'm a friendly bot"},
            {"role": "user", "content": [{"type": "text", "text": "Hello bot,"},
                                         {"type": "text", "text": "what is the capital of England?"}]}
        ]
    }))
    .unwrap();
    assert_eq!(path, "/models/v2/Qwen/Qwen3-4B");
    assert_eq!(
        body,
        json!({
            "messages": [
                {"role": "system", "content": "You are a friendly chatbot"},
                {"role": "assistant", "content": "Hello, I'm a friendly bot"},
                {"role": "user", "content": "Hello bot,\nwhat is the capital of England?"}
            ],
            "stream": false,
            "params": {"max_new_tokens": 100, "temperature": 1.0, "top_p": 1.0}
        })
    );
}

#[test]
fn sampling_parameters_go_in_params_held_to_portkeys_ranges_and_client_params_are_kept() {
    let (_, body) = wire(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 64,
        "max_tokens": 10,
        "temperature": 2.5,
        "top_p": 0.9,
        "params": {"min_length": 10, "top_p": 0.1},
        "seed": 3,
        "user": "u-1",
        "stream_options": {"include_usage": true}
    }))
    .unwrap();
    assert_eq!(
        body["params"],
        json!({"min_length": 10, "max_new_tokens": 64, "temperature": 2.0, "top_p": 0.9})
    );
    for gone in ["seed", "user", "stream_options", "model", "max_tokens"] {
        assert!(body.get(gone).is_none(), "{gone}: {body}");
    }
}

#[test]
fn what_bytez_cannot_honour_is_refused_naming_the_parameter() {
    let tool = json!([{"type": "function", "function": {"name": "f", "parameters": {}}}]);
    for (extra, param) in [
        (json!({"stream": true}), "stream"),
        (json!({"n": 2}), "n"),
        (json!({"tools": tool}), "tools"),
        (
            json!({"response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (json!({"stop": "\n"}), "stop"),
        (json!({"presence_penalty": 0.5}), "presence_penalty"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"params": "fast"}), "params"),
        (
            json!({"messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "42", "tool_call_id": "c1"}]}),
            "messages[0].role",
        ),
        (json!({"messages": []}), "messages"),
    ] {
        let mut r = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        let e = wire(r).unwrap_err();
        assert_eq!(param_of(e).as_deref(), Some(param), "{extra}");
    }
}

#[test]
fn model_ids_that_would_change_the_path_are_refused() {
    let r = req(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    for bad in ["", "a/../b", "a//b", "a?b", "a b", "/a"] {
        let c = WireContext {
            model: bad,
            ..cx("m")
        };
        let e = Bytez.chat_request(&r, &c).unwrap_err();
        assert_eq!(param_of(e).as_deref(), Some("model"), "{bad:?}");
    }
}

#[test]
fn the_documented_answer_becomes_a_chat_completion() {
    let body = include_bytes!("../../fixtures/bytez/chat_response.json");
    let resp = Bytez.chat_response(body, &cx("Qwen/Qwen3-4B")).unwrap();
    let v = serde_json::to_value(&resp).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["id"], "chatcmpl-test");
    assert_eq!(v["model"], "Qwen/Qwen3-4B");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["message"]["content"], "Aaaaaaaargh matey");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(v.get("usage").is_none(), "Bytez reports no token counts");
    // A bare string output (text models) and text blocks are read too.
    let resp = Bytez
        .chat_response(br#"{"error": null, "output": "plain"}"#, &cx("m"))
        .unwrap();
    assert_eq!(resp.choices[0].message.content.as_deref(), Some("plain"));
    let resp = Bytez
        .chat_response(
            br#"{"error": null, "output": {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}"#,
            &cx("m"),
        )
        .unwrap();
    assert_eq!(resp.choices[0].message.content.as_deref(), Some("ab"));
}

#[test]
fn an_error_in_a_2xx_body_is_upstreams_and_a_body_without_output_is_invalid() {
    match Bytez
        .chat_response(
            br#"{"error": "model is loading", "output": null}"#,
            &cx("m"),
        )
        .unwrap_err()
    {
        TranslateError::Upstream { status, error } => {
            assert_eq!(status, 500);
            assert_eq!(error.error.message, "model is loading");
        }
        other => panic!("{other:?}"),
    }
    let e = Bytez
        .chat_response(br#"{"error": null}"#, &cx("m"))
        .unwrap_err();
    assert!(matches!(e, TranslateError::InvalidResponse(_)), "{e:?}");
}

#[test]
fn error_bodies_keep_their_message_and_the_type_follows_the_status() {
    let body = include_bytes!("../../fixtures/bytez/error.json");
    let env = Bytez.error_response(401, body);
    assert_eq!(env.error.message, "Unauthorized: invalid API key");
    assert_eq!(env.error.kind, "authentication_error");
    let env = Bytez.error_response(502, b"");
    assert_eq!(env.error.message, "Bytez returned HTTP 502");
    assert_eq!(env.error.kind, "api_error");
}
