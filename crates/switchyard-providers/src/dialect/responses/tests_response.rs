//! Response translation.

use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatResponse, CompletionTokensDetails, FinishReason, PromptTokensDetails, ResponseMessage,
    Usage,
};

use super::tests::tool_call_response;
use super::*;
use crate::native::TranslateError;

fn translate(body: Value) -> Translated {
    request_to_chat(body.to_string().as_bytes(), &[]).unwrap()
}

#[test]
fn text_response() {
    let echo = translate(
        json!({"model": "claude", "input": "hi", "instructions": "be nice",
        "temperature": 0.5, "metadata": {"a": "b"}}),
    )
    .echo;
    let mut usage = Usage::new(11, 7);
    usage.prompt_tokens_details = Some(PromptTokensDetails { cached_tokens: 3 });
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: 2,
    });
    let chat = ChatResponse::single(
        "chatcmpl-9".into(),
        5,
        "claude-sonnet-4-20250514".into(),
        ResponseMessage::assistant("Hello!".into(), vec![]),
        Some(FinishReason::Stop),
        Some(usage),
    );
    let r = response_from_chat(&chat, &echo, "resp_123", 1_700_000_000).unwrap();
    assert_eq!(r["id"], "resp_123");
    assert_eq!(r["object"], "response");
    assert_eq!(r["created_at"], 1_700_000_000_u64);
    assert_eq!(r["status"], "completed");
    assert_eq!(r["model"], "claude-sonnet-4-20250514");
    assert_eq!(r["error"], Value::Null);
    assert_eq!(r["incomplete_details"], Value::Null);
    assert_eq!(
        r["output"],
        json!([{"id": "msg_123", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}]}])
    );
    assert_eq!(
        r["usage"],
        json!({"input_tokens": 11, "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 0},
            "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 18})
    );
    assert_eq!(r["instructions"], "be nice");
    assert_eq!(r["temperature"], 0.5);
    assert_eq!(r["metadata"], json!({"a": "b"}));
    assert_eq!(r["tool_choice"], "auto");
    assert_eq!(r["tools"], json!([]));
    assert_eq!(r["parallel_tool_calls"], true);
    assert!(r.get("output_text").is_none());
}

#[test]
fn tool_call_response_items() {
    let r = response_from_chat(&tool_call_response(), &Echo::default(), "resp_abc", 7).unwrap();
    let out = r["output"].as_array().unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["id"], "msg_abc");
    assert_eq!(
        out[1],
        json!({"id": "fc_abc_0", "type": "function_call", "call_id": "toolu_1", "name": "get_weather",
            "arguments": "{\"city\":\"Paris\"}", "status": "completed"})
    );
    assert_eq!(out[2]["id"], "fc_abc_1");
    assert_eq!(out[2]["call_id"], "toolu_2");
    assert_eq!(r["status"], "completed");
    // An Echo without fields still gives the required members.
    assert_eq!(r["tools"], json!([]));
    assert_eq!(r["tool_choice"], "auto");
    assert_eq!(r["model"], "claude-sonnet-4");

    // Tool calls only: no message item.
    let mut chat = tool_call_response();
    chat.choices[0].message.content = None;
    let r = response_from_chat(&chat, &Echo::default(), "resp_abc", 7).unwrap();
    assert_eq!(r["output"][0]["type"], "function_call");
    assert_eq!(r["output"][0]["id"], "fc_abc_0");
}

#[test]
fn length_and_content_filter_are_incomplete() {
    for (finish, reason) in [
        (FinishReason::Length, "max_output_tokens"),
        (FinishReason::ContentFilter, "content_filter"),
    ] {
        let chat = ChatResponse::single(
            "c".into(),
            1,
            "m".into(),
            ResponseMessage::assistant("Once upon a".into(), vec![]),
            Some(finish),
            Some(Usage::new(5, 3)),
        );
        let r = response_from_chat(&chat, &Echo::default(), "resp_x", 1).unwrap();
        assert_eq!(r["status"], "incomplete");
        assert_eq!(r["incomplete_details"], json!({"reason": reason}));
        assert_eq!(r["output"][0]["status"], "incomplete");
        assert_eq!(r["usage"]["total_tokens"], 8);
    }
    let mut chat = tool_call_response();
    chat.choices.clear();
    assert!(matches!(
        response_from_chat(&chat, &Echo::default(), "resp_x", 1),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn reasoning_is_a_leading_reasoning_item_and_is_dropped_as_history() {
    let mut message = ResponseMessage::assistant("It is 4.".into(), vec![]);
    message.reasoning_content = Some("2 + 2 = 4".into());
    let chat = ChatResponse::single(
        "c".into(),
        1,
        "deepseek-reasoner".into(),
        message,
        Some(FinishReason::Stop),
        Some(Usage::new(5, 3)),
    );
    let r = response_from_chat(&chat, &Echo::default(), "resp_x", 1).unwrap();
    assert_eq!(
        r["output"],
        json!([
            {"id": "rs_x", "type": "reasoning", "status": "completed",
                "summary": [{"type": "summary_text", "text": "2 + 2 = 4"}]},
            {"id": "msg_x", "type": "message", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "It is 4.", "annotations": [], "logprobs": []}]}
        ])
    );
    // The next turn sends the answer's text, not its reasoning.
    let t = request_to_chat(
        json!({"model": "m", "input": "and 3 + 3?"})
            .to_string()
            .as_bytes(),
        &output_items(&r),
    )
    .unwrap();
    let chat_messages = serde_json::to_value(&t.chat.messages).unwrap();
    assert_eq!(
        chat_messages,
        json!([
            {"role": "assistant", "content": "It is 4."},
            {"role": "user", "content": "and 3 + 3?"}
        ])
    );

    // Reasoning alone, cut short: the reasoning item is the incomplete one. Empty reasoning is
    // no item.
    let mut only = ResponseMessage::assistant(String::new(), vec![]);
    only.reasoning_content = Some("Let me think".into());
    let chat = ChatResponse::single(
        "c".into(),
        1,
        "m".into(),
        only,
        Some(FinishReason::Length),
        None,
    );
    let r = response_from_chat(&chat, &Echo::default(), "resp_x", 1).unwrap();
    assert_eq!(r["output"].as_array().unwrap().len(), 1);
    assert_eq!(r["output"][0]["type"], "reasoning");
    assert_eq!(r["output"][0]["status"], "incomplete");
    let mut empty = ResponseMessage::assistant("x".into(), vec![]);
    empty.reasoning_content = Some(String::new());
    let chat = ChatResponse::single("c".into(), 1, "m".into(), empty, None, None);
    let r = response_from_chat(&chat, &Echo::default(), "resp_x", 1).unwrap();
    assert_eq!(r["output"][0]["type"], "message");
}

#[test]
fn new_ids_differ_by_seed() {
    let a = new_id(1);
    let b = new_id(2);
    assert_ne!(a, b);
    assert!(a.starts_with("resp_"));
    assert_eq!(a.len(), 5 + 48);
    assert_eq!(a, new_id(1));
}
