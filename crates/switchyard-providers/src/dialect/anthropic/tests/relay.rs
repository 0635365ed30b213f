//! Claude's own stream passed on: Anthropic SSE and Bedrock `InvokeModelWithResponseStream`.

use base64::Engine as _;
use serde_json::{json, Value};
use switchyard_types::sse::SseDecoder;
use switchyard_types::usage::TokenUsage;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::{names, parse_sse};
use crate::dialect::anthropic::{bedrock_relay, sse_relay};
use crate::dialect::EventRelay;
use crate::native::{Frame, TranslateError};

/// A Messages stream as api.anthropic.com sends it (with prompt caching).
const STREAM: &str = "event: message_start
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":20,\"cache_read_input_tokens\":1000,\"output_tokens\":2},\"content\":[],\"stop_reason\":null}}

event: content_block_start
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}

event: ping
data: {\"type\": \"ping\"}

event: content_block_delta
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Okay, checking:\"}}

event: content_block_stop
data: {\"type\":\"content_block_stop\",\"index\":0}

event: content_block_start
data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}

event: content_block_delta
data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"Paris\\\"}\"}}

event: content_block_stop
data: {\"type\":\"content_block_stop\",\"index\":1}

event: message_delta
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}

event: message_stop
data: {\"type\":\"message_stop\"}

";

/// The SSE events of `text` as owned (event, data) pairs.
fn sse_frames(text: &str) -> Vec<(Option<String>, String)> {
    let mut decoder = SseDecoder::default();
    decoder.push(text.as_bytes());
    let mut frames = Vec::new();
    while let Some(e) = decoder.next_event() {
        let e = e.unwrap();
        frames.push((e.event, e.data));
    }
    frames
}

fn sse_frame<'a>(event: Option<&'a str>, data: &'a str) -> Frame<'a> {
    Frame {
        event,
        data: data.as_bytes(),
        message_type: None,
    }
}

/// Feeds every event of `text` to `relay`; returns the output and the commit flags.
fn run(relay: &mut dyn EventRelay, text: &str) -> (Vec<u8>, Vec<bool>) {
    let mut out = Vec::new();
    let mut flags = Vec::new();
    for (event, data) in sse_frames(text) {
        flags.push(
            relay
                .on_frame(sse_frame(event.as_deref(), &data), &mut out)
                .unwrap(),
        );
    }
    (out, flags)
}

#[test]
fn sse_is_relayed_verbatim_with_usage_and_commit_flags() {
    let mut relay = sse_relay();
    let (out, flags) = run(relay.as_mut(), STREAM);
    assert_eq!(String::from_utf8(out.clone()).unwrap(), STREAM);
    assert_eq!(
        flags,
        [false, true, false, true, true, true, true, true, true, true]
    );
    relay.finish(&mut out.clone()).unwrap();
    assert_eq!(
        relay.usage(),
        Some(TokenUsage {
            input: 1492,
            output: 89,
            total: 1581,
            cached_input: 1000,
            reasoning: 0
        })
    );
    // Nothing more after message_stop.
    let mut tail = Vec::new();
    relay.error(&ErrorEnvelope::new(ErrorKind::ApiError, "late"), &mut tail);
    assert!(tail.is_empty());
}

#[test]
fn events_without_a_name_use_the_json_type() {
    let mut relay = sse_relay();
    let mut out = Vec::new();
    let data =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#;
    assert!(relay.on_frame(sse_frame(None, data), &mut out).unwrap());
    assert!(!relay.on_frame(sse_frame(None, "  "), &mut out).unwrap());
    assert!(!relay
        .on_frame(sse_frame(None, r#"{"no_type":1}"#), &mut out)
        .unwrap());
    assert!(!relay
        .on_frame(sse_frame(Some("future_event"), "whatever"), &mut out)
        .unwrap());
    let events = String::from_utf8(out).unwrap();
    assert_eq!(
        events,
        format!(
            "event: content_block_delta\ndata: {data}\n\nevent: future_event\ndata: whatever\n\n"
        )
    );
    assert!(relay.usage().is_none());
    assert!(matches!(
        relay.on_frame(sse_frame(None, "not json"), &mut Vec::new()),
        Err(TranslateError::InvalidResponse(_))
    ));
}

#[test]
fn input_tokens_in_message_delta_replace_the_start_count() {
    let mut relay = sse_relay();
    let mut out = Vec::new();
    relay
        .on_frame(
            sse_frame(
                Some("message_start"),
                r#"{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}"#,
            ),
            &mut out,
        )
        .unwrap();
    assert_eq!(relay.usage(), Some(TokenUsage::new(10, 1)));
    relay
        .on_frame(
            sse_frame(
                Some("message_delta"),
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":12,"output_tokens":30}}"#,
            ),
            &mut out,
        )
        .unwrap();
    assert_eq!(relay.usage(), Some(TokenUsage::new(12, 30)));
}

#[test]
fn an_error_event_is_an_upstream_error() {
    let mut relay = sse_relay();
    let mut out = Vec::new();
    relay
        .on_frame(
            sse_frame(Some("message_start"), r#"{"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}"#),
            &mut out,
        )
        .unwrap();
    let before = out.len();
    let err = relay
        .on_frame(
            sse_frame(
                Some("error"),
                r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
            ),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(out.len(), before, "the error event is not written");
    let TranslateError::Upstream { status, error } = err else {
        panic!("{err:?}")
    };
    assert_eq!(status, 529);
    assert_eq!(error.error.message, "Overloaded");
    assert_eq!(error.error.code.as_deref(), Some("overloaded_error"));
    // The gateway writes the dialect's error event: the Anthropic type survives.
    relay.error(&error, &mut out);
    let events = parse_sse(&out[before..]);
    assert_eq!(
        events[0].1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let mut again = Vec::new();
    relay.error(&error, &mut again);
    assert!(again.is_empty(), "one error event");
    assert!(relay.finish(&mut Vec::new()).is_err());

    let err = sse_relay()
        .on_frame(sse_frame(Some("error"), "garbage"), &mut Vec::new())
        .unwrap_err();
    assert!(matches!(err, TranslateError::Upstream { status: 500, .. }));
    for (kind, want) in [("rate_limit_error", 429), ("invalid_request_error", 400)] {
        let data = json!({"type": "error", "error": {"type": kind, "message": "m"}}).to_string();
        let err = sse_relay()
            .on_frame(sse_frame(None, &data), &mut Vec::new())
            .unwrap_err();
        assert!(
            matches!(err, TranslateError::Upstream { status, .. } if status == want),
            "{kind}"
        );
    }
}

#[test]
fn a_stream_without_message_stop_is_incomplete() {
    let truncated = STREAM.split("event: message_delta").next().unwrap();
    let mut relay = sse_relay();
    let (mut out, _) = run(relay.as_mut(), truncated);
    assert!(matches!(
        relay.finish(&mut out),
        Err(TranslateError::InvalidResponse(_))
    ));
    // Usage read so far is still reported.
    assert_eq!(relay.usage().map(|u| u.input), Some(1492));
}

fn bedrock_chunk(event: &Value) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(event.to_string());
    json!({"bytes": b64, "p": "abcdefghij"})
        .to_string()
        .into_bytes()
}

fn bedrock_frame<'a>(event: &'a str, message_type: &'a str, data: &'a [u8]) -> Frame<'a> {
    Frame {
        event: Some(event),
        data,
        message_type: Some(message_type),
    }
}

#[test]
fn bedrock_chunks_are_decoded_and_relayed() {
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 30, "cache_read_input_tokens": 8, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 12}}),
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 38, "outputTokenCount": 12, "invocationLatency": 512, "firstByteLatency": 300}}),
    ];
    let mut relay = bedrock_relay();
    let mut out = Vec::new();
    let mut flags = Vec::new();
    for e in &events {
        let payload = bedrock_chunk(e);
        flags.push(
            relay
                .on_frame(bedrock_frame("chunk", "event", &payload), &mut out)
                .unwrap(),
        );
    }
    assert_eq!(flags, [false, true, true, true, true, true]);
    relay.finish(&mut out).unwrap();
    let parsed = parse_sse(&out);
    assert_eq!(
        names(&parsed),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for ((_, got), want) in parsed.iter().zip(&events) {
        assert_eq!(got, want);
    }
    assert_eq!(
        relay.usage(),
        Some(TokenUsage {
            input: 38,
            output: 12,
            total: 50,
            cached_input: 8,
            reasoning: 0
        })
    );
}

#[test]
fn bedrock_exceptions_and_bad_chunks() {
    for (name, status) in [
        ("throttlingException", 429),
        ("modelStreamErrorException", 500),
        ("validationException", 400),
        ("internalServerException", 500),
        ("serviceUnavailableException", 503),
    ] {
        let payload = json!({"message": format!("{name} happened")}).to_string();
        let err = bedrock_relay()
            .on_frame(
                bedrock_frame(name, "exception", payload.as_bytes()),
                &mut Vec::new(),
            )
            .unwrap_err();
        let TranslateError::Upstream { status: s, error } = err else {
            panic!("{err:?}")
        };
        assert_eq!(s, status, "{name}");
        assert!(error.error.message.contains("happened"), "{name}");
    }
    // An Anthropic error event inside a chunk.
    let payload = bedrock_chunk(
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    assert!(matches!(
        bedrock_relay().on_frame(bedrock_frame("chunk", "event", &payload), &mut Vec::new()),
        Err(TranslateError::Upstream { status: 529, .. })
    ));
    for bad in [
        &b"not json"[..],
        br#"{"nobytes":1}"#,
        br#"{"bytes":"!!!not base64"}"#,
        br#"{"bytes":"bm90IGpzb24="}"#,
    ] {
        assert!(
            matches!(
                bedrock_relay().on_frame(bedrock_frame("chunk", "event", bad), &mut Vec::new()),
                Err(TranslateError::InvalidResponse(_))
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Other events carry no content.
    let mut out = Vec::new();
    let mut relay = bedrock_relay();
    assert!(!relay
        .on_frame(bedrock_frame("initial-response", "event", b"{}"), &mut out)
        .unwrap());
    assert!(out.is_empty());
    assert!(relay.finish(&mut out).is_err());
}
