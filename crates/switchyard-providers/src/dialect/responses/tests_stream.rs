//! The Responses event stream.

use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatChunk, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::tests::tool_call_response;
use super::*;

const MODEL: &str = "claude-sonnet-4";

fn chunk(delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
    ChatChunk::single("chatcmpl-1".into(), 1, MODEL.into(), delta, finish)
}

fn text(s: &str) -> ChatChunk {
    chunk(
        Delta {
            content: Some(s.into()),
            ..Delta::default()
        },
        None,
    )
}

fn reasoning(s: &str) -> ChatChunk {
    chunk(
        Delta {
            reasoning_content: Some(s.into()),
            ..Delta::default()
        },
        None,
    )
}

fn call(index: u32, id: Option<&str>, name: Option<&str>, args: &str) -> ChatChunk {
    chunk(
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index,
                id: id.map(str::to_owned),
                kind: id.map(|_| "function".to_owned()),
                function: FunctionCallDelta {
                    thought_signature: None,
                    name: name.map(str::to_owned),
                    arguments: Some(args.into()),
                },
            }]),
            ..Delta::default()
        },
        None,
    )
}

fn role() -> ChatChunk {
    chunk(
        Delta {
            role: Some(Role::Assistant),
            content: Some(String::new()),
            ..Delta::default()
        },
        None,
    )
}

fn finish_chunk(reason: FinishReason) -> ChatChunk {
    chunk(Delta::default(), Some(reason))
}

fn usage_chunk(usage: Usage) -> ChatChunk {
    ChatChunk::new("chatcmpl-1".into(), 1, MODEL.into(), vec![], Some(usage))
}

/// The events of an SSE byte stream, checking each frame's `event:` against its `type`.
fn parse(sse: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(sse).unwrap();
    assert!(text.ends_with("\n\n"));
    text.split_terminator("\n\n")
        .map(|frame| {
            let mut lines = frame.lines();
            let event = lines.next().unwrap().strip_prefix("event: ").unwrap();
            let data = lines.next().unwrap().strip_prefix("data: ").unwrap();
            assert!(lines.next().is_none());
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"], event);
            v
        })
        .collect()
}

fn run(echo: Echo, chunks: &[ChatChunk]) -> Vec<Value> {
    let mut enc = encoder(echo, "resp_abc".into(), 7);
    let mut out = Vec::new();
    for c in chunks {
        enc.chunk(c, &mut out);
    }
    enc.finish(&mut out);
    // Nothing more after the end.
    let len = out.len();
    enc.chunk(&text("late"), &mut out);
    enc.finish(&mut out);
    enc.error(&ErrorEnvelope::new(ErrorKind::ApiError, "x"), &mut out);
    assert_eq!(out.len(), len);
    parse(&out)
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn openai_sequence(usage_first: bool) -> Vec<ChatChunk> {
    let mut chunks = vec![
        role(),
        text("Let me"),
        text(" check."),
        call(0, Some("toolu_1"), Some("get_weather"), ""),
        call(0, None, None, "{\"ci"),
        call(0, None, None, "ty\":\"Paris\"}"),
        call(1, Some("toolu_2"), Some("get_time"), ""),
        call(1, None, None, "{\"tz\":\"CET\"}"),
    ];
    let fin = finish_chunk(FinishReason::ToolCalls);
    let usage = usage_chunk(Usage::new(20, 10));
    if usage_first {
        chunks.extend([usage, fin]);
    } else {
        chunks.extend([fin, usage]);
    }
    chunks
}

#[test]
fn text_and_tool_calls_stream_as_openai_does() {
    let echo = request_to_chat(
        br#"{"model":"claude-sonnet-4","input":"weather?","stream":true,
             "tools":[{"type":"function","name":"get_weather"},{"type":"function","name":"get_time"}]}"#,
        &[],
    )
    .unwrap()
    .echo;
    let events = run(echo.clone(), &openai_sequence(false));
    assert_eq!(
        types(&events),
        vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    // The opening response.
    for e in &events[..2] {
        let r = &e["response"];
        assert_eq!(r["status"], "in_progress");
        assert_eq!(r["output"], json!([]));
        assert_eq!(r["id"], "resp_abc");
        assert_eq!(r["model"], MODEL);
        assert_eq!(r["tools"].as_array().unwrap().len(), 2);
    }
    // The message item.
    assert_eq!(events[2]["output_index"], 0);
    assert_eq!(
        events[2]["item"],
        json!({"id": "msg_abc", "type": "message", "role": "assistant", "status": "in_progress", "content": []})
    );
    assert_eq!(
        events[3],
        json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_abc",
            "output_index": 0, "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}})
    );
    assert_eq!(
        events[4],
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_abc",
            "output_index": 0, "content_index": 0, "delta": "Let me", "logprobs": []})
    );
    let streamed: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(events[6]["text"], streamed);
    assert_eq!(events[6]["text"], "Let me check.");
    assert_eq!(events[7]["part"]["text"], "Let me check.");
    assert_eq!(events[8]["item"]["status"], "completed");
    assert_eq!(events[8]["item"]["content"][0]["text"], "Let me check.");
    // The function calls.
    for (added, call_id, name, output_index) in [
        (9, "toolu_1", "get_weather", 1),
        (14, "toolu_2", "get_time", 2),
    ] {
        let item = &events[added]["item"];
        assert_eq!(events[added]["output_index"], output_index);
        assert_eq!(item["type"], "function_call");
        assert_eq!(item["call_id"], call_id);
        assert_eq!(item["name"], name);
        assert_eq!(item["arguments"], "");
        assert_eq!(item["status"], "in_progress");
        let item_id = item["id"].as_str().unwrap();
        let args: String = events
            .iter()
            .filter(|e| {
                e["type"] == "response.function_call_arguments.delta" && e["item_id"] == item_id
            })
            .inspect(|e| assert_eq!(e["output_index"], output_index))
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        let done = events
            .iter()
            .find(|e| {
                e["type"] == "response.function_call_arguments.done" && e["item_id"] == item_id
            })
            .unwrap();
        assert_eq!(done["arguments"], args);
        assert_eq!(done["name"], name);
        assert_eq!(done["output_index"], output_index);
        let item_done = events
            .iter()
            .find(|e| e["type"] == "response.output_item.done" && e["item"]["id"] == item_id)
            .unwrap();
        assert_eq!(item_done["item"]["arguments"], args);
        assert_eq!(item_done["item"]["status"], "completed");
    }
    assert_eq!(events[12]["arguments"], "{\"city\":\"Paris\"}");
    // The completed response is the non-streamed translation of the same answer.
    let completed = &events[18]["response"];
    let whole = response_from_chat(&tool_call_response(), &echo, "resp_abc", 7).unwrap();
    assert_eq!(completed, &whole);
    assert_eq!(completed["usage"]["total_tokens"], 30);

    // The usage chunk may come before the finish chunk.
    assert_eq!(run(echo, &openai_sequence(true)), events);
}

#[test]
fn length_ends_incomplete() {
    let events = run(
        Echo::default(),
        &[
            role(),
            text("Once upon"),
            finish_chunk(FinishReason::Length),
            usage_chunk(Usage::new(4, 2)),
        ],
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    let item_done = &events[events.len() - 2];
    assert_eq!(item_done["type"], "response.output_item.done");
    assert_eq!(item_done["item"]["status"], "incomplete");
    let whole = response_from_chat(
        &switchyard_types::chat::ChatResponse::single(
            "c".into(),
            1,
            MODEL.into(),
            switchyard_types::chat::ResponseMessage::assistant("Once upon".into(), vec![]),
            Some(FinishReason::Length),
            Some(Usage::new(4, 2)),
        ),
        &Echo::default(),
        "resp_abc",
        7,
    )
    .unwrap();
    assert_eq!(last["response"], whole);
}

#[test]
fn error_ends_the_stream_with_response_failed() {
    let mut enc = encoder(Echo::default(), "resp_abc".into(), 7);
    let mut out = Vec::new();
    enc.chunk(&role(), &mut out);
    enc.chunk(&text("Hel"), &mut out);
    let err = ErrorEnvelope::new(ErrorKind::RateLimitError, "slow down");
    enc.error(&err, &mut out);
    let len = out.len();
    enc.chunk(&text("lo"), &mut out);
    enc.finish(&mut out);
    assert_eq!(out.len(), len);
    let events = parse(&out);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.failed");
    assert_eq!(last["sequence_number"], events.len() - 1);
    assert_eq!(last["response"]["status"], "failed");
    assert_eq!(
        last["response"]["error"],
        json!({"code": "rate_limit_exceeded", "message": "slow down"})
    );
    assert_eq!(last["response"]["output"][0]["status"], "incomplete");
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "Hel");

    // Before any chunk: the stream still opens with response.created; unknown codes are
    // server_error; an allowed code is kept.
    for (envelope, code) in [
        (
            ErrorEnvelope::new(ErrorKind::TimeoutError, "late"),
            "server_error",
        ),
        (
            ErrorEnvelope::new(ErrorKind::InvalidRequestError, "bad")
                .with_code("invalid_image_url"),
            "invalid_image_url",
        ),
    ] {
        let mut enc = encoder(Echo::default(), "resp_abc".into(), 7);
        let mut out = Vec::new();
        enc.error(&envelope, &mut out);
        let events = parse(&out);
        assert_eq!(
            types(&events),
            vec![
                "response.created",
                "response.in_progress",
                "response.failed"
            ]
        );
        assert_eq!(events[2]["response"]["error"]["code"], code);
    }
}

#[test]
fn empty_stream_still_completes() {
    let echo = request_to_chat(br#"{"model":"m","input":"x"}"#, &[])
        .unwrap()
        .echo;
    let mut enc = encoder(echo, "resp_abc".into(), 7);
    let mut out = Vec::new();
    enc.finish(&mut out);
    let events = parse(&out);
    assert_eq!(
        types(&events),
        vec![
            "response.created",
            "response.in_progress",
            "response.completed"
        ]
    );
    assert_eq!(events[2]["response"]["output"], json!([]));
    assert_eq!(events[2]["response"]["model"], "m");
    assert_eq!(events[2]["response"]["usage"], Value::Null);
}

#[test]
fn calls_reusing_an_index_with_new_ids_are_separate_items_and_text_after_calls_is_a_new_message() {
    let events = run(
        Echo::default(),
        &[
            call(0, Some("a"), Some("f"), "{}"),
            call(0, Some("b"), Some("g"), "{\"x\":1}"),
            text("done"),
            finish_chunk(FinishReason::Stop),
        ],
    );
    let completed = &events.last().unwrap()["response"];
    let out = completed["output"].as_array().unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["id"], "fc_abc_0");
    assert_eq!(out[0]["call_id"], "a");
    assert_eq!(out[1]["id"], "fc_abc_1");
    assert_eq!(out[1]["arguments"], "{\"x\":1}");
    assert_eq!(out[2]["id"], "msg_abc");
    assert_eq!(out[2]["content"][0]["text"], "done");
    // Each item is closed before the next opens.
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .unwrap()
                .starts_with("response.output_item")
        })
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["output_index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("response.output_item.added", 0),
            ("response.output_item.done", 0),
            ("response.output_item.added", 1),
            ("response.output_item.done", 1),
            ("response.output_item.added", 2),
            ("response.output_item.done", 2),
        ]
    );
}

#[test]
fn a_call_without_an_id_gets_one() {
    let events = run(
        Echo::default(),
        &[
            call(0, None, Some("f"), "{}"),
            finish_chunk(FinishReason::ToolCalls),
        ],
    );
    let item = &events[2]["item"];
    assert_eq!(item["call_id"], "call_abc_0");
}

#[test]
fn reasoning_streams_as_a_reasoning_item_before_the_message() {
    let chunks = [
        role(),
        reasoning("The user "),
        reasoning("greets me."),
        text("Hello!"),
        finish_chunk(FinishReason::Stop),
        usage_chunk(Usage::new(10, 8)),
    ];
    let events = run(Echo::default(), &chunks);
    // Everything but the created / in_progress / completed responses, exactly.
    let rs = json!({"id": "rs_abc", "type": "reasoning", "status": "completed",
        "summary": [{"type": "summary_text", "text": "The user greets me."}]});
    let msg = json!({"id": "msg_abc", "type": "message", "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}]});
    let want = [
        json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
            "item": {"id": "rs_abc", "type": "reasoning", "status": "in_progress", "summary": []}}),
        json!({"type": "response.reasoning_summary_part.added", "sequence_number": 3,
            "item_id": "rs_abc", "output_index": 0, "summary_index": 0,
            "part": {"type": "summary_text", "text": ""}}),
        json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 4,
            "item_id": "rs_abc", "output_index": 0, "summary_index": 0, "delta": "The user "}),
        json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 5,
            "item_id": "rs_abc", "output_index": 0, "summary_index": 0, "delta": "greets me."}),
        json!({"type": "response.reasoning_summary_text.done", "sequence_number": 6,
            "item_id": "rs_abc", "output_index": 0, "summary_index": 0,
            "text": "The user greets me."}),
        json!({"type": "response.reasoning_summary_part.done", "sequence_number": 7,
            "item_id": "rs_abc", "output_index": 0, "summary_index": 0,
            "part": {"type": "summary_text", "text": "The user greets me."}}),
        json!({"type": "response.output_item.done", "sequence_number": 8, "output_index": 0,
            "item": rs}),
        json!({"type": "response.output_item.added", "sequence_number": 9, "output_index": 1,
            "item": {"id": "msg_abc", "type": "message", "role": "assistant",
                "status": "in_progress", "content": []}}),
        json!({"type": "response.content_part.added", "sequence_number": 10,
            "item_id": "msg_abc", "output_index": 1, "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}}),
        json!({"type": "response.output_text.delta", "sequence_number": 11,
            "item_id": "msg_abc", "output_index": 1, "content_index": 0, "delta": "Hello!",
            "logprobs": []}),
        json!({"type": "response.output_text.done", "sequence_number": 12,
            "item_id": "msg_abc", "output_index": 1, "content_index": 0, "text": "Hello!",
            "logprobs": []}),
        json!({"type": "response.content_part.done", "sequence_number": 13,
            "item_id": "msg_abc", "output_index": 1, "content_index": 0,
            "part": {"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 14, "output_index": 1,
            "item": msg}),
    ];
    assert_eq!(types(&events).len(), want.len() + 3);
    assert_eq!(events[0]["type"], "response.created");
    assert_eq!(events[1]["type"], "response.in_progress");
    assert_eq!(&events[2..events.len() - 1], &want[..]);
    let done = events.last().unwrap();
    assert_eq!(done["type"], "response.completed");
    assert_eq!(done["response"]["output"], json!([rs, msg]));
    assert_eq!(done["response"]["usage"]["output_tokens"], 8);
}

#[test]
fn reasoning_after_text_is_a_new_reasoning_item_and_a_cut_is_marked() {
    let chunks = [
        reasoning("a"),
        text("b"),
        reasoning("c"),
        finish_chunk(FinishReason::Length),
    ];
    let events = run(Echo::default(), &chunks);
    let added: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "response.output_item.added")
        .map(|e| (e["output_index"].clone(), e["item"]["id"].clone()))
        .collect();
    assert_eq!(
        added,
        [
            (json!(0), json!("rs_abc")),
            (json!(1), json!("msg_abc")),
            (json!(2), json!("rs_abc_1")),
        ]
    );
    let part_done: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "response.reasoning_summary_part.done")
        .map(|e| e.get("status").cloned())
        .collect();
    assert_eq!(part_done, [None, Some(json!("incomplete"))]);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    let statuses: Vec<_> = last["response"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| (it["type"].clone(), it["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!("reasoning"), json!("completed")),
            (json!("message"), json!("completed")),
            (json!("reasoning"), json!("incomplete")),
        ]
    );
}
