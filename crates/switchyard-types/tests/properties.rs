//! Property tests for the pure parsers of `switchyard-types`: the SSE decoder, the event-boundary
//! scan used to forward whole events, and the JSON body inspection / patching.
//!
//! The fuzz targets in `fuzz/` explore the same functions without a time limit; these run in the
//! normal test suite with a fixed number of cases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;
use switchyard_types::json::{inspect, patch_object, BodyError};
use switchyard_types::sse::{complete_prefix_len, SseDecoder, SseError, SseEvent};

/// Cases per property: 256 in the normal suite (each file runs in a few seconds); set
/// `PROPTEST_CASES` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

// ---------------------------------------------------------------------------------------------
// SSE
// ---------------------------------------------------------------------------------------------

/// Bytes that look like an event stream: field names, line ends of every kind, comments,
/// multi-byte UTF-8, invalid UTF-8 and arbitrary bytes.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"data".to_vec()),
        Just(b"event: ".to_vec()),
        Just(b"id: ".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b": comment".to_vec()),
        Just(b":".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"{\"a\":1}".to_vec()),
        Just(b"[DONE]".to_vec()),
        Just(" \u{e9}\u{1F600}".as_bytes().to_vec()),
        Just(vec![0xff]),
        Just(vec![0xe2, 0x82]),
        "[a-z ]{0,8}".prop_map(String::into_bytes),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop_oneof![
        4 => prop::collection::vec(token, 0..48).prop_map(|v| v.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// Where to cut a buffer: positions, reduced modulo the length, sorted and deduplicated.
fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 0..12)
}

fn split_points(len: usize, cuts: &[usize]) -> Vec<usize> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    at.sort_unstable();
    at.dedup();
    at
}

type Decoded = (Vec<Result<SseEvent, SseError>>, Option<SseEvent>);

/// Feeds `bytes` cut at `cuts`, draining the decoder after each chunk as the gateway does, then
/// ends the stream.
fn decode(dec: &mut SseDecoder, bytes: &[u8], cuts: &[usize]) -> Decoded {
    let mut out = Vec::new();
    let mut from = 0;
    let points = split_points(bytes.len(), cuts);
    for &to in points.iter().chain(std::iter::once(&bytes.len())) {
        dec.push(&bytes[from..to]);
        from = to;
        while let Some(ev) = dec.next_event() {
            let too_long = matches!(ev, Err(SseError::LineTooLong(_)));
            out.push(ev);
            if too_long {
                // The gateway stops at this error; the decoder keeps reporting it.
                return (out, None);
            }
        }
    }
    (out, dec.finish())
}

fn decode_default(bytes: &[u8], cuts: &[usize]) -> Decoded {
    decode(&mut SseDecoder::default(), bytes, cuts)
}

/// The last line of `prefix` is empty: it ends with two line ends (`\n`, `\r` or `\r\n`).
fn ends_in_blank_line(prefix: &[u8]) -> bool {
    let n = prefix.len();
    let last_end_start = if prefix.ends_with(b"\r\n") {
        n - 2
    } else if prefix.ends_with(b"\n") || prefix.ends_with(b"\r") {
        n - 1
    } else {
        return false;
    };
    last_end_start > 0 && matches!(prefix[last_end_start - 1], b'\n' | b'\r')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn sse_arbitrary_chunks_never_panic(bytes in sse_bytes(), cuts in cuts(), max_line in 0usize..64) {
        // A small line limit exercises the `LineTooLong` path at every chunk boundary.
        let _ = decode(&mut SseDecoder::new(max_line), &bytes, &cuts);
        let _ = decode_default(&bytes, &cuts);
    }

    #[test]
    fn sse_chunking_does_not_change_events(bytes in sse_bytes(), cuts in cuts()) {
        let whole = decode_default(&bytes, &[]);
        let chunked = decode_default(&bytes, &cuts);
        prop_assert_eq!(&chunked, &whole);
        // One byte at a time is the most extreme split.
        let every: Vec<usize> = (0..=bytes.len()).collect();
        prop_assert_eq!(decode_default(&bytes, &every), whole);
    }

    #[test]
    fn sse_line_limit_bounds_the_buffer(line in prop::collection::vec(b'a'..=b'z', 1..200), max_line in 1usize..64, cuts in cuts()) {
        // A line with no end is an error once it outgrows the limit, never unbounded buffering.
        let (events, _) = decode(&mut SseDecoder::new(max_line), &line, &cuts);
        if line.len() > max_line {
            prop_assert_eq!(events.last(), Some(&Err(SseError::LineTooLong(max_line))));
        } else {
            prop_assert!(events.is_empty());
        }
    }

    #[test]
    fn complete_prefix_ends_on_a_blank_line(bytes in sse_bytes()) {
        match complete_prefix_len(&bytes) {
            Some(n) => {
                prop_assert!(n <= bytes.len());
                let prefix = &bytes[..n];
                prop_assert!(ends_in_blank_line(prefix), "prefix {:?}", String::from_utf8_lossy(prefix));
                // Never between the `\r` and `\n` of one line end.
                prop_assert!(!(prefix.ends_with(b"\r") && bytes.get(n) == Some(&b'\n')));
                // The rest has no complete event, or the prefix would have included it.
                let rest = &bytes[n..];
                prop_assert!(!contains(rest, b"\n\n") && !contains(rest, b"\r\r") && !contains(rest, b"\n\r\n"));
            }
            None => {
                prop_assert!(!contains(&bytes, b"\n\n") && !contains(&bytes, b"\r\r") && !contains(&bytes, b"\n\r\n"));
            }
        }
    }

    #[test]
    fn forwarding_the_complete_prefix_keeps_events(bytes in sse_bytes()) {
        // The forwarder sends `bytes[..n]` now and the rest later: decoding the two pieces
        // separately (as a client reading whole events does) gives the events of the whole.
        if let Some(n) = complete_prefix_len(&bytes) {
            let (mut first, tail) = decode_default(&bytes[..n], &[]);
            prop_assert_eq!(tail, None);
            let (second, tail) = decode_default(&bytes[n..], &[]);
            first.extend(second);
            let whole = decode_default(&bytes, &[]);
            prop_assert_eq!((first, tail), whole);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("a\"b\\c\n\u{0}\u{1F600}".into())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{0,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A value as raw JSON text, compact or pretty (to check that member bytes are kept as sent).
fn raw_json() -> impl Strategy<Value = String> {
    (json_value(), any::<bool>()).prop_map(|(v, pretty)| {
        if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            serde_json::to_string(&v).unwrap()
        }
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("model".to_owned()),
        Just("stream".to_owned()),
        Just("messages".to_owned()),
        Just("temperature".to_owned()),
        Just("we\"ird\nkey".to_owned()),
        Just(String::new()),
        "[a-z]{1,3}",
        ".{0,6}",
    ]
}

fn ws() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", " ", "\n", "\t ", "\r\n  "])
}

/// A JSON object written member by member, with whitespace between tokens and possibly
/// duplicate keys.
#[derive(Debug, Clone)]
struct Body {
    members: Vec<(String, String)>,
    bytes: Vec<u8>,
}

fn body() -> impl Strategy<Value = Body> {
    prop::collection::vec((key(), raw_json(), ws(), ws()), 0..8).prop_map(|members| {
        let mut s = String::from("{");
        for (i, (k, v, w1, w2)) in members.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(w1);
            s.push_str(&serde_json::to_string(k).unwrap());
            s.push_str(w2);
            s.push(':');
            s.push_str(w1);
            s.push_str(v);
            s.push_str(w2);
        }
        s.push('}');
        Body {
            members: members.into_iter().map(|(k, v, _, _)| (k, v)).collect(),
            bytes: s.into_bytes(),
        }
    })
}

/// What `patch_object` must produce: each member in place (its value replaced by the last
/// override of its key, else byte for byte as sent), then each new key once, at its last
/// override, in that order.
fn expected_patch(members: &[(String, String)], overrides: &[(String, Box<RawValue>)]) -> Vec<u8> {
    let last = |k: &str| overrides.iter().rev().find(|(ok, _)| ok == k);
    let mut parts = Vec::new();
    for (k, v) in members {
        let v = last(k).map(|(_, r)| r.get()).unwrap_or(v);
        parts.push(format!("{}:{v}", serde_json::to_string(k).unwrap()));
    }
    for (i, (k, v)) in overrides.iter().enumerate() {
        let in_body = members.iter().any(|(mk, _)| mk == k);
        let later = overrides[i + 1..].iter().any(|(ok, _)| ok == k);
        if !in_body && !later {
            parts.push(format!("{}:{}", serde_json::to_string(k).unwrap(), v.get()));
        }
    }
    format!("{{{}}}", parts.join(",")).into_bytes()
}

/// The members of a JSON object in order, with duplicates (serde_json's `Value` keeps neither).
fn ordered_members(bytes: &[u8]) -> Vec<(String, Value)> {
    struct Members(Vec<(String, Value)>);
    impl<'de> serde::Deserialize<'de> for Members {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Members;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Members, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = map.next_entry::<String, Value>()? {
                        out.push((k, v));
                    }
                    Ok(Members(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Members>(bytes).unwrap().0
}

/// A request-like object: `model`, `stream`, `stream_options` of the right types (or absent or
/// null) among other members.
fn request_head() -> impl Strategy<Value = (Value, Option<String>, bool, bool)> {
    let model = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        ".{0,16}".prop_map(|s| Some(Value::String(s))),
    ];
    let stream = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<bool>().prop_map(|b| Some(Value::Bool(b))),
    ];
    let usage = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool)]
            .prop_map(|u| Some(serde_json::json!({ "include_usage": u }))),
        Just(Some(serde_json::json!({}))),
    ];
    let others = prop::collection::vec(("[a-z_]{1,10}", json_value()), 0..5);
    (model, stream, usage, others).prop_map(|(model, stream, usage, others)| {
        let mut obj = serde_json::Map::new();
        for (k, v) in others {
            if !matches!(k.as_str(), "model" | "stream" | "stream_options") {
                obj.insert(k, v);
            }
        }
        let want_model = model.as_ref().and_then(Value::as_str).map(str::to_owned);
        let want_stream = stream.as_ref().and_then(Value::as_bool).unwrap_or(false);
        let want_usage = usage
            .as_ref()
            .and_then(|u| u.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for (k, v) in [
            ("model", model),
            ("stream", stream),
            ("stream_options", usage),
        ] {
            if let Some(v) = v {
                obj.insert(k.to_owned(), v);
            }
        }
        (Value::Object(obj), want_model, want_stream, want_usage)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn inspect_and_patch_never_panic_on_bytes(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        raw_json().prop_map(String::into_bytes),
        body().prop_map(|b| b.bytes),
    ], cut in any::<usize>()) {
        let _ = inspect(&bytes);
        let v = RawValue::from_string("1".into()).unwrap();
        let _ = patch_object(&bytes, &[("model", &v)]);
        // Truncated bodies are the commonest malformed input.
        let cut = cut % (bytes.len() + 1);
        let _ = inspect(&bytes[..cut]);
        let _ = patch_object(&bytes[..cut], &[("model", &v)]);
    }

    #[test]
    fn inspect_reads_model_and_stream((obj, model, stream, usage) in request_head(), pretty in any::<bool>()) {
        let bytes = if pretty { serde_json::to_vec_pretty(&obj) } else { serde_json::to_vec(&obj) }.unwrap();
        let head = inspect(&bytes).unwrap();
        prop_assert_eq!(head.model.as_deref(), model.as_deref());
        prop_assert_eq!(head.stream, stream);
        prop_assert_eq!(head.include_usage, usage);
    }

    #[test]
    fn inspect_names_the_wrongly_typed_field(
        field in prop::sample::select(vec!["model", "stream", "stream_options"]),
        bad in json_value(),
    ) {
        let ok = match field {
            "model" => bad.is_string() || bad.is_null(),
            "stream" => bad.is_boolean() || bad.is_null(),
            _ => {
                let usage_ok = |u: &Value| u.is_boolean() || u.is_null();
                // Only an object (or null): a positional array such as `[true]` is refused.
                bad.is_null()
                    || bad.as_object().is_some_and(|o| o.get("include_usage").is_none_or(usage_ok))
            }
        };
        let bytes = serde_json::to_vec(&serde_json::json!({ field: bad })).unwrap();
        match inspect(&bytes) {
            Ok(_) => prop_assert!(ok),
            Err(BodyError::WrongType { field: f, .. }) => {
                prop_assert!(!ok);
                prop_assert_eq!(f, field);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn inspect_rejects_non_objects(v in json_value().prop_filter("not an object", |v| !v.is_object())) {
        let bytes = serde_json::to_vec(&v).unwrap();
        prop_assert_eq!(inspect(&bytes), Err(BodyError::NotAnObject));
    }

    #[test]
    fn patch_keeps_members_and_applies_overrides(
        body in body(),
        overrides in prop::collection::vec((key(), raw_json()), 0..5),
    ) {
        let overrides: Vec<(String, Box<RawValue>)> = overrides
            .into_iter()
            .map(|(k, v)| (k, RawValue::from_string(v).unwrap()))
            .collect();
        let refs: Vec<(&str, &RawValue)> = overrides.iter().map(|(k, v)| (k.as_str(), &**v)).collect();
        let out = patch_object(&body.bytes, &refs).unwrap();
        // Exactly the expected bytes: untouched members byte for byte and in order.
        prop_assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            String::from_utf8(expected_patch(&body.members, &overrides)).unwrap()
        );
        // Valid JSON, with every override applied.
        let parsed = ordered_members(&out);
        for (k, v) in &overrides {
            let last = overrides.iter().rev().find(|(ok, _)| ok == k).unwrap();
            let want: Value = serde_json::from_str(last.1.get()).unwrap();
            prop_assert!(parsed.iter().filter(|(pk, _)| pk == k).all(|(_, pv)| *pv == want));
            prop_assert!(parsed.iter().any(|(pk, _)| pk == k), "override {k:?} -> {v} missing");
        }
        // Members not overridden keep their values.
        for (k, v) in &body.members {
            if !overrides.iter().any(|(ok, _)| ok == k) {
                let want: Value = serde_json::from_str(v).unwrap();
                prop_assert!(parsed.iter().any(|(pk, pv)| pk == k && *pv == want));
            }
        }
        // And inspect still reads the patched body.
        let head = inspect(&out);
        let readable = !matches!(head, Err(BodyError::Syntax(_) | BodyError::NotAnObject));
        prop_assert!(readable, "{:?}", head);
    }
}

// ---------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------

/// Fixed finding (from the `sse_line_limit_bounds_the_buffer` property's family, checked by
/// hand): the line limit bounded one line, but nothing bounded one event. `data:` lines without the blank
/// line that ends the event are appended to the pending event for ever, so an upstream that
/// never ends its event makes the decoder (and the native stream using it, whose limit is the
/// 16 MiB default) hold an unbounded amount of memory. Here a decoder limited to 64-byte lines
/// holds 410 KB for one event. A fix would cap the pending event (e.g. at the line limit, or a
/// separate `max_event`) with an error like `LineTooLong`.
#[test]
fn sse_pending_event_is_bounded_by_the_limit() {
    let mut d = SseDecoder::new(64);
    let line = b"data: 0123456789012345678901234567890123456789\n";
    let mut refused = false;
    for _ in 0..10_000 {
        d.push(line);
        while let Some(ev) = d.next_event() {
            refused |= ev.is_err();
        }
    }
    assert!(refused, "the oversized event was reported as an error");
    let held = d.finish().map(|e| e.data.len()).unwrap_or(0);
    assert!(
        held <= 64,
        "a decoder with a 64-byte line limit held a {held}-byte event"
    );
}

// ---------------------------------------------------------------------------------------------
// Usage scanning
// ---------------------------------------------------------------------------------------------

const USAGE_ONLY: &str =
    r#"data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#;

/// The events of a stream chunk — content chunks, `usage: null` chunks, usage-only chunks,
/// comments, `[DONE]` and junk — and a line ending.
fn usage_events() -> impl Strategy<Value = (Vec<String>, &'static str)> {
    let event = prop_oneof![
        Just(r#"data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}"#.to_owned()),
        Just(USAGE_ONLY.to_owned()),
        Just(r#"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#.to_owned()),
        Just(": ping".to_owned()),
        Just("data: [DONE]".to_owned()),
        "[ -~]{0,40}".prop_map(|s| format!("data: {s}")),
    ];
    (
        prop::collection::vec(event, 0..6),
        prop::sample::select(vec!["\n", "\r\n"]),
    )
}

fn join(events: &[String], eol: &str) -> String {
    events.iter().map(|e| format!("{e}{eol}{eol}")).collect()
}

proptest! {
    #[test]
    fn usage_scanning_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), strip in any::<bool>()) {
        let _ = switchyard_types::usage::scan_body(&bytes);
        let _ = switchyard_types::usage::scan_events(&bytes, strip);
    }

    /// Usage is found wherever a usage chunk is; stripping removes exactly the usage-only events
    /// and keeps every other byte, in order.
    #[test]
    fn stripping_usage_keeps_every_other_event((events, eol) in usage_events(), strip in any::<bool>()) {
        let chunk = join(&events, eol);
        let scan = switchyard_types::usage::scan_events(chunk.as_bytes(), strip);
        let has_usage = events.iter().any(|e| e == USAGE_ONLY);
        prop_assert_eq!(scan.usage.is_some(), has_usage);
        match scan.stripped {
            Some(rest) => {
                prop_assert!(strip && has_usage);
                let kept: Vec<String> = events.into_iter().filter(|e| e != USAGE_ONLY).collect();
                prop_assert_eq!(String::from_utf8(rest).unwrap(), join(&kept, eol));
            }
            None => prop_assert!(!(strip && has_usage)),
        }
    }
}
