//! Property tests for the provider adapters: the AWS event-stream decoder, and every native
//! adapter's request builder, response and error parsers and stream translator on generated
//! input. Nothing here may panic: a provider's bytes (or a client's request) are untrusted.
//!
//! Generated provider input is built from the fixtures: their JSON documents and stream frames
//! are mutated (a subtree replaced by a value made of the keys and strings the fixtures use),
//! reordered, dropped and mixed with junk frames, so the translators' deeper states are reached
//! and not only their "not JSON" error path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use switchyard_providers::bedrock::eventstream::{
    encode_event, encode_exception, encode_message, EventStreamDecoder, EventStreamError,
    HeaderValue, OwnedFrame,
};
use switchyard_providers::native::{Frame, NativeAdapter, ProviderOptions, WireContext};
use switchyard_providers::{adapter, Native};
use switchyard_types::chat::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, JsonSchemaFormat,
    Message, NamedFunction, NamedToolChoice, ResponseFormat, Role, Stop, StreamOptions, Tool,
    ToolCall, ToolChoice,
};
use switchyard_types::sse::SseDecoder;

/// Cases per property: 256 in the normal suite (each file runs in a few seconds); set
/// `PROPTEST_CASES` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Like `proptest!`, but each property runs on a thread with a 64 MiB stack: the generators of
/// nested values recurse through large frames in unoptimised builds, and 2 MiB (the test
/// threads' default) is not always enough. The failing input is in the panic message.
macro_rules! properties {
    ($(#[test] fn $name:ident($($arg:pat in $strat:expr),+ $(,)?) $body:block)*) => {$(
        #[test]
        fn $name() {
            let thread = std::thread::Builder::new()
                .name(stringify!($name).into())
                .stack_size(64 << 20)
                .spawn(|| {
                    let config = ProptestConfig {
                        failure_persistence: None,
                        ..ProptestConfig::with_cases(cases())
                    };
                    let mut runner = proptest::test_runner::TestRunner::new(config);
                    runner
                        .run(&($($strat,)+), |($($arg,)+)| {
                            $body
                            Ok(())
                        })
                        .map_err(|e| e.to_string())
                })
                .unwrap();
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{}: {e}", stringify!($name)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    )*};
}

// ---------------------------------------------------------------------------------------------
// Fixtures and vocabulary
// ---------------------------------------------------------------------------------------------

/// One stream frame, owned.
#[derive(Debug, Clone)]
struct TestFrame {
    event: Option<String>,
    data: Vec<u8>,
    message_type: Option<String>,
}

impl TestFrame {
    fn frame(&self) -> Frame<'_> {
        Frame {
            event: self.event.as_deref(),
            data: &self.data,
            message_type: self.message_type.as_deref(),
        }
    }
}

#[derive(Debug, Default)]
struct Fixtures {
    /// Every object key and short string in the fixtures (plus a few of our own).
    keys: Vec<String>,
    strings: Vec<String>,
    /// Stream frames, by provider directory.
    frames: Vec<(String, Vec<TestFrame>)>,
    /// JSON documents (responses, errors, requests), by provider directory.
    docs: Vec<(String, Value)>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn collect_vocab(v: &Value, keys: &mut Vec<String>, strings: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                keys.push(k.clone());
                collect_vocab(v, keys, strings);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_vocab(v, keys, strings)),
        Value::String(s) if s.len() <= 40 => strings.push(s.clone()),
        _ => {}
    }
}

fn sse_frames(bytes: &[u8]) -> Vec<TestFrame> {
    let mut d = SseDecoder::default();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(Ok(ev)) = d.next_event() {
        out.push(TestFrame {
            event: ev.event,
            data: ev.data.into_bytes(),
            message_type: None,
        });
    }
    out.extend(d.finish().map(|ev| TestFrame {
        event: ev.event,
        data: ev.data.into_bytes(),
        message_type: None,
    }));
    out
}

fn aws_frames(bytes: &[u8]) -> Vec<TestFrame> {
    let mut d = EventStreamDecoder::new();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(Ok(f)) = d.next_frame() {
        let fr = f.as_frame();
        out.push(TestFrame {
            event: fr.event.map(str::to_owned),
            data: fr.data.to_vec(),
            message_type: fr.message_type.map(str::to_owned),
        });
    }
    out
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let mut f = Fixtures::default();
        let mut dirs: Vec<_> = std::fs::read_dir(fixtures_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let provider = dir.file_name().unwrap().to_string_lossy().into_owned();
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for path in files {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let bytes = std::fs::read(&path).unwrap();
                let frames = if name.ends_with(".sse") {
                    sse_frames(&bytes)
                } else if name.ends_with(".eventstream") {
                    aws_frames(&bytes)
                } else {
                    vec![]
                };
                for fr in &frames {
                    if let Ok(v) = serde_json::from_slice::<Value>(&fr.data) {
                        collect_vocab(&v, &mut f.keys, &mut f.strings);
                        f.docs.push((provider.clone(), v));
                    }
                    f.strings.extend(fr.event.clone());
                }
                if !frames.is_empty() {
                    f.frames.push((provider.clone(), frames));
                }
                if name.ends_with(".json") {
                    if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                        collect_vocab(&v, &mut f.keys, &mut f.strings);
                        f.docs.push((provider.clone(), v));
                    }
                }
                if name.ends_with(".jsonl") {
                    for line in bytes.split(|b| *b == b'\n') {
                        if let Ok(v) = serde_json::from_slice::<Value>(line) {
                            collect_vocab(&v, &mut f.keys, &mut f.strings);
                        }
                    }
                }
            }
        }
        f.keys.extend(
            [
                "index",
                "type",
                "delta",
                "id",
                "name",
                "input",
                "partial_json",
                "usage",
                "error",
            ]
            .map(String::from),
        );
        f.strings
            .extend(["", "null", "{", "\u{0}", "\u{1F600}"].map(String::from));
        f.keys.sort();
        f.keys.dedup();
        f.strings.sort();
        f.strings.dedup();
        assert!(f.frames.len() >= 4, "fixture streams not found");
        f
    })
}

fn docs_of(provider: &str) -> Vec<Value> {
    fixtures()
        .docs
        .iter()
        .filter(|(p, _)| p == provider)
        .map(|(_, v)| v.clone())
        .collect()
}

fn frames_of(provider: &str) -> Vec<TestFrame> {
    fixtures()
        .frames
        .iter()
        .filter(|(p, _)| p == provider)
        .flat_map(|(_, f)| f.iter().cloned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn interesting_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..4).prop_map(Value::from),
        prop::sample::select(vec![
            json!(-1),
            json!(u32::MAX),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(1e300),
            json!(-0.0),
        ]),
        any::<i64>().prop_map(Value::from),
    ]
}

/// A JSON value made of the fixtures' keys and strings.
fn vocab_value() -> BoxedStrategy<Value> {
    let f = fixtures();
    let leaf = prop_oneof![
        3 => prop::sample::select(f.strings.clone()).prop_map(Value::String),
        2 => interesting_number(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => ".{0,8}".prop_map(Value::String),
    ];
    let keys = f.keys.clone();
    leaf.prop_recursive(4, 24, 5, move |inner| {
        let keys = keys.clone();
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Replaces the subtree reached by following `path` (indexes modulo each container's size;
/// stopping early when `path` runs out or at a leaf) with `with`.
fn replace_at(v: &mut Value, path: &[usize], with: Value) {
    let Some((&step, rest)) = path.split_first() else {
        *v = with;
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(step % m.len()).unwrap().clone();
            replace_at(m.get_mut(&key).unwrap(), rest, with);
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            replace_at(&mut a[step % n], rest, with);
        }
        _ => *v = with,
    }
}

/// Removes the member or element reached by `path`.
fn remove_at(v: &mut Value, path: &[usize]) {
    let Some((&step, rest)) = path.split_first() else {
        return;
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(step % m.len()).unwrap().clone();
            if rest.is_empty() {
                m.remove(&key);
            } else {
                remove_at(m.get_mut(&key).unwrap(), rest);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            if rest.is_empty() {
                a.remove(step % n);
            } else {
                remove_at(&mut a[step % n], rest);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Remove(Vec<usize>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(any::<usize>(), 0..6);
    prop_oneof![
        3 => (path.clone(), vocab_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        1 => path.prop_map(Mutation::Remove),
    ]
}

fn apply(mut v: Value, muts: &[Mutation]) -> Value {
    for m in muts {
        match m {
            Mutation::Replace(p, with) => replace_at(&mut v, p, with.clone()),
            Mutation::Remove(p) => remove_at(&mut v, p),
        }
    }
    v
}

/// A fixture document with a few mutations, or vocabulary JSON, or arbitrary bytes.
fn provider_bytes(provider: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let docs = docs_of(provider);
    prop_oneof![
        4 => (prop::sample::select(docs), prop::collection::vec(mutation(), 0..4))
            .prop_map(|(d, m)| serde_json::to_vec(&apply(d, &m)).unwrap()),
        2 => vocab_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (prop::sample::select(docs_of(provider)), any::<usize>()).prop_map(|(d, cut)| {
            // Truncated JSON.
            let b = serde_json::to_vec(&d).unwrap();
            b[..cut % (b.len() + 1)].to_vec()
        }),
    ]
}

fn event_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => prop::sample::select(fixtures().strings.clone()).prop_map(Some),
        1 => Just(None),
        1 => ".{0,12}".prop_map(Some),
    ]
}

fn message_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("event".to_owned())),
        Just(Some("exception".to_owned())),
        Just(Some("error".to_owned())),
        ".{0,6}".prop_map(Some),
    ]
}

/// A sequence of frames: fixture frames of `provider` (mutated, in any order, repeated or
/// missing) mixed with junk frames.
fn frame_sequence(provider: &'static str) -> impl Strategy<Value = Vec<TestFrame>> {
    let frames = frames_of(provider);
    let from_fixture = (
        prop::sample::select(frames),
        prop::collection::vec(mutation(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(mut f, muts, mutate)| {
            if mutate {
                if let Ok(v) = serde_json::from_slice::<Value>(&f.data) {
                    f.data = serde_json::to_vec(&apply(v, &muts)).unwrap();
                }
            }
            f
        });
    let junk = (event_name(), provider_bytes(provider), message_type()).prop_map(
        |(event, data, message_type)| TestFrame {
            event,
            data,
            message_type,
        },
    );
    let one = prop_oneof![4 => from_fixture, 1 => junk];
    prop::collection::vec(one, 0..24)
}

/// Fixture streams in order, with at most a few frames mutated: closest to a real stream.
fn mostly_valid_stream(provider: &'static str) -> impl Strategy<Value = Vec<TestFrame>> {
    let streams: Vec<Vec<TestFrame>> = fixtures()
        .frames
        .iter()
        .filter(|(p, _)| p == provider)
        .map(|(_, f)| f.clone())
        .collect();
    (
        prop::sample::select(streams),
        prop::collection::vec((any::<usize>(), mutation()), 0..3),
        any::<usize>(),
    )
        .prop_map(|(mut frames, muts, cut)| {
            for (i, m) in muts {
                let n = frames.len();
                let f = &mut frames[i % n];
                if let Ok(v) = serde_json::from_slice::<Value>(&f.data) {
                    f.data = serde_json::to_vec(&apply(v, &[m])).unwrap();
                }
            }
            // Sometimes the stream is cut short.
            if cut % 3 == 0 {
                frames.truncate(cut % (frames.len() + 1));
            }
            frames
        })
}

// ---------------------------------------------------------------------------------------------
// Adapters
// ---------------------------------------------------------------------------------------------

/// The adapter for a model every test here knows to be served.
fn pick(native: Native, model: &str) -> &'static dyn NativeAdapter {
    match adapter(native, model) {
        Ok((a, _)) => a,
        Err(e) => panic!("{model}: {e}"),
    }
}

/// Every native adapter, with a model it serves and the fixture directory of its wire format.
fn adapters() -> Vec<(
    &'static str,
    &'static dyn NativeAdapter,
    &'static str,
    &'static str,
)> {
    vec![
        (
            "anthropic",
            pick(Native::Anthropic, "claude-sonnet-4-5"),
            "claude-sonnet-4-5",
            "anthropic",
        ),
        (
            "vertex-anthropic",
            pick(Native::VertexAi, "claude-sonnet-4-5@20250929"),
            "claude-sonnet-4-5@20250929",
            "anthropic",
        ),
        (
            "gemini",
            pick(Native::Google, "gemini-2.0-flash"),
            "gemini-2.0-flash",
            "google",
        ),
        (
            "vertex-gemini",
            pick(Native::VertexAi, "gemini-2.0-flash"),
            "gemini-2.0-flash",
            "google",
        ),
        (
            "bedrock",
            pick(Native::Bedrock, "anthropic.claude-3-haiku-20240307-v1:0"),
            "anthropic.claude-3-haiku-20240307-v1:0",
            "bedrock",
        ),
        (
            "cohere",
            pick(Native::Cohere, "command-r-plus"),
            "command-r-plus",
            "cohere",
        ),
        (
            "workers-ai",
            pick(Native::WorkersAi, "@cf/meta/llama-3.1-8b-instruct"),
            "@cf/meta/llama-3.1-8b-instruct",
            "workers-ai",
        ),
        (
            "predibase",
            pick(Native::Predibase, "llama-3-1-8b-instruct"),
            "llama-3-1-8b-instruct",
            "predibase",
        ),
        (
            "oracle",
            pick(Native::Oracle, "meta.llama-3.3-70b-instruct"),
            "meta.llama-3.3-70b-instruct",
            "oracle",
        ),
        (
            "nomic",
            pick(Native::Nomic, "nomic-embed-text-v1.5"),
            "nomic-embed-text-v1.5",
            "nomic",
        ),
        (
            "bytez",
            pick(Native::Bytez, "Qwen/Qwen3-4B"),
            "Qwen/Qwen3-4B",
            "bytez",
        ),
        (
            "triton",
            pick(Native::Triton, "mymodel"),
            "mymodel",
            "triton",
        ),
    ]
}

fn options() -> ProviderOptions {
    let mut o = ProviderOptions::new();
    o.insert("aws_region".into(), "us-east-1".into());
    o.insert("vertex_project_id".into(), "proj".into());
    o.insert("vertex_region".into(), "us-central1".into());
    o.insert("workers_ai_account_id".into(), "acct".into());
    o.insert("predibase_tenant_id".into(), "tenant".into());
    o.insert("oracle_region".into(), "us-chicago-1".into());
    o.insert(
        "oracle_compartment_id".into(),
        "ocid1.compartment.oc1..x".into(),
    );
    o
}

fn context<'a>(
    model: &'a str,
    options: &'a ProviderOptions,
    include_usage: bool,
) -> WireContext<'a> {
    WireContext {
        model,
        stream: true,
        include_usage,
        response_id: "chatcmpl-prop",
        created: 1_700_000_000,
        options,
        strict: true,
    }
}

/// Feeds every frame (also after an error, which the gateway would not: a translator must
/// survive any order of calls) and then ends the stream.
fn run_stream(
    a: &dyn NativeAdapter,
    model: &str,
    frames: &[TestFrame],
    include_usage: bool,
    stop_at_error: bool,
) {
    let options = options();
    let cx = context(model, &options, include_usage);
    let mut t = a.chat_stream(&cx);
    for f in frames {
        let r = t.on_frame(f.frame());
        if let Ok(chunks) = &r {
            for c in chunks {
                serde_json::to_vec(c).unwrap();
            }
        }
        if r.is_err() && stop_at_error {
            return;
        }
    }
    let _ = t.finish();
    let _ = t.finish();
}

macro_rules! stream_properties {
    ($($test:ident, $mostly:ident, $resp:ident => $provider:literal;)*) => {$(
        properties! {
            #[test]
            fn $test(frames in frame_sequence($provider), include_usage in any::<bool>(), stop in any::<bool>()) {
                for (_, a, model, dir) in adapters() {
                    if dir == $provider {
                        run_stream(a, model, &frames, include_usage, stop);
                    }
                }
            }

            #[test]
            fn $mostly(frames in mostly_valid_stream($provider), include_usage in any::<bool>()) {
                for (_, a, model, dir) in adapters() {
                    if dir == $provider {
                        run_stream(a, model, &frames, include_usage, true);
                    }
                }
            }

            #[test]
            fn $resp(body in provider_bytes($provider), status in prop::sample::select(vec![200u16, 400, 401, 403, 404, 413, 429, 500, 503, 529, 0, 999])) {
                let options = options();
                for (_, a, model, _) in adapters() {
                    // Every adapter gets every provider's bytes: a misconfigured custom host
                    // can send anything.
                    let cx = WireContext { stream: false, ..context(model, &options, false) };
                    if let Ok(resp) = a.chat_response(&body, &cx) {
                        serde_json::to_vec(&resp).unwrap();
                    }
                    let _ = a.embeddings_response(&body, &cx);
                    let env = a.error_response(status, &body);
                    serde_json::to_vec(&env).unwrap();
                }
            }
        }
    )*};
}

stream_properties! {
    anthropic_stream_never_panics, anthropic_mostly_valid_stream_never_panics, responses_never_panic_on_anthropic_bytes => "anthropic";
    gemini_stream_never_panics, gemini_mostly_valid_stream_never_panics, responses_never_panic_on_gemini_bytes => "google";
    bedrock_stream_never_panics, bedrock_mostly_valid_stream_never_panics, responses_never_panic_on_bedrock_bytes => "bedrock";
    cohere_stream_never_panics, cohere_mostly_valid_stream_never_panics, responses_never_panic_on_cohere_bytes => "cohere";
    workers_ai_stream_never_panics, workers_ai_mostly_valid_stream_never_panics, responses_never_panic_on_workers_ai_bytes => "workers-ai";
    predibase_stream_never_panics, predibase_mostly_valid_stream_never_panics, responses_never_panic_on_predibase_bytes => "predibase";
    oracle_stream_never_panics, oracle_mostly_valid_stream_never_panics, responses_never_panic_on_oracle_bytes => "oracle";
}

properties! {
    #[test]
    fn translators_survive_arbitrary_frames(
        frames in prop::collection::vec(
            (event_name(), prop::collection::vec(any::<u8>(), 0..48), message_type()),
            0..16,
        ),
        include_usage in any::<bool>(),
    ) {
        let frames: Vec<TestFrame> = frames
            .into_iter()
            .map(|(event, data, message_type)| TestFrame { event, data, message_type })
            .collect();
        for (_, a, model, _) in adapters() {
            run_stream(a, model, &frames, include_usage, false);
        }
    }

    #[test]
    fn responses_never_panic_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..96), status in any::<u16>()) {
        let options = options();
        for (_, a, model, _) in adapters() {
            let cx = WireContext { stream: false, ..context(model, &options, false) };
            let _ = a.chat_response(&body, &cx);
            let _ = a.embeddings_response(&body, &cx);
            let _ = a.error_response(status, &body);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// JSON Schema-like values: the keywords the Gemini converter handles, nested, with `$ref`s
/// that may or may not resolve (or recurse).
fn schema() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "string", "number", "integer", "boolean", "object", "array", "null", "STRING", "bogus"
        ])
        .prop_map(|t| json!({ "type": t })),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({})),
        Just(json!({"type": ["string", "null"]})),
        Just(json!({"enum": ["a", 1, null]})),
        Just(json!({"const": "x"})),
        Just(json!({"type": "string", "format": "date-time"})),
        prop::sample::select(vec![
            "#/$defs/a",
            "#/$defs/b",
            "#/definitions/a",
            "#",
            "#/properties/x",
            "#/nope",
            "http://x/s.json",
            ""
        ])
        .prop_map(|r| json!({ "$ref": r })),
        interesting_number(),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        let props = prop::collection::vec((prop::sample::select(vec!["x", "y", "a", "b", "$ref", "type"]), inner.clone()), 0..4)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>()));
        prop_oneof![
            (props.clone(), prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3), any::<bool>())
                .prop_map(|(p, req, addl)| json!({"type": "object", "properties": p, "required": req, "additionalProperties": addl})),
            inner.clone().prop_map(|i| json!({"type": "array", "items": i})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"type": "array", "items": v})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"anyOf": v})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"oneOf": v, "description": "d"})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"allOf": v})),
            (inner.clone(), inner.clone(), props.clone()).prop_map(|(a, b, p)| json!({"$defs": {"a": a, "b": b}, "definitions": {"a": a}, "type": "object", "properties": p})),
            props,
        ]
    })
    .boxed()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        ".{0,16}",
        Just("{\"a\":1}".to_owned()),
        Just("data:image/png;base64,iVBORw0KGgo=".to_owned()),
    ]
}

fn image_url() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/jpeg;base64,",
        "data:;base64,AAAA",
        "data:image/png,notbase64",
        "data:",
        "https://example.com/cat.png",
        "gs://bucket/cat.png",
        "s3://bucket/cat.png",
        "",
        "not a url",
    ])
    .prop_map(String::from)
}

fn content_part() -> impl Strategy<Value = ContentPart> {
    prop_oneof![
        3 => text().prop_map(ContentPart::text),
        2 => (image_url(), prop::option::of(prop::sample::select(vec!["auto", "low", "high", "x"])))
            .prop_map(|(url, d)| ContentPart::image(ImageUrl { url, detail: d.map(String::from) })),
        1 => Just(ContentPart::InputAudio { input_audio: json!({"data": "AAAA", "format": "wav"}) }),
        1 => Just(ContentPart::File { file: json!({"file_data": "data:application/pdf;base64,AAAA", "filename": "a.pdf"}) }),
        1 => Just(ContentPart::Other(json!({"type": "refusal", "refusal": "no"}))),
        1 => Just(ContentPart::Other(json!({"type": "mystery"}))),
    ]
}

fn content() -> impl Strategy<Value = Option<Content>> {
    prop_oneof![
        1 => Just(None),
        3 => text().prop_map(|t| Some(Content::Text(t))),
        2 => prop::collection::vec(content_part(), 0..4).prop_map(|p| Some(Content::Parts(p))),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![
        Role::System,
        Role::Developer,
        Role::User,
        Role::Assistant,
        Role::Tool,
        Role::Function,
    ])
}

fn tool_call() -> impl Strategy<Value = ToolCall> {
    (
        prop::sample::select(vec!["call_1", "call_2", "", "toolu_x"]),
        prop::sample::select(vec!["function", "other"]),
        prop::sample::select(vec!["get_weather", "f", "", "bad name!"]),
        prop::sample::select(vec![
            "{}",
            "{\"city\":\"Paris\"}",
            "",
            "not json",
            "[1,2]",
            "null",
            "{\"a\":",
        ]),
    )
        .prop_map(|(id, kind, name, args)| ToolCall {
            id: id.into(),
            kind: kind.into(),
            function: FunctionCall::new(name, args),
        })
}

fn message() -> impl Strategy<Value = Message> {
    (
        role(),
        content(),
        prop::option::of(prop::sample::select(vec!["alice", "", "x y"])),
        prop::option::of(prop::collection::vec(tool_call(), 0..3)),
        prop::option::of(prop::sample::select(vec![
            "call_1", "call_2", "", "unknown",
        ])),
        prop::option::of(text()),
    )
        .prop_map(
            |(role, content, name, tool_calls, tool_call_id, refusal)| Message {
                role,
                content,
                name: name.map(String::from),
                tool_calls,
                tool_call_id: tool_call_id.map(String::from),
                refusal,
                content_blocks: None,
                cache_control: None,
            },
        )
}

fn tool() -> impl Strategy<Value = Tool> {
    (
        prop::sample::select(vec!["function", "web_search", ""]),
        prop::sample::select(vec!["get_weather", "f", "", "bad name!"]),
        prop::option::of(text()),
        prop::option::of(schema()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(kind, name, description, parameters, strict)| Tool {
            kind: kind.into(),
            function: FunctionDef {
                name: name.into(),
                description,
                parameters,
                strict,
            },
            cache_control: None,
        })
}

fn tool_choice() -> impl Strategy<Value = ToolChoice> {
    prop_oneof![
        prop::sample::select(vec!["none", "auto", "required", "any", ""])
            .prop_map(|m| ToolChoice::Mode(m.into())),
        prop::sample::select(vec!["get_weather", "missing", ""]).prop_map(|n| ToolChoice::Named(
            NamedToolChoice {
                kind: "function".into(),
                function: NamedFunction { name: n.into() },
            }
        )),
    ]
}

fn response_format() -> impl Strategy<Value = ResponseFormat> {
    prop_oneof![
        Just(ResponseFormat::Text),
        Just(ResponseFormat::JsonObject),
        (
            prop::sample::select(vec!["answer", "", "a b"]),
            prop::option::of(schema()),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(name, schema, strict)| ResponseFormat::JsonSchema {
                json_schema: JsonSchemaFormat {
                    name: name.into(),
                    description: None,
                    schema,
                    strict
                },
            }),
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        Just(2.0),
        Just(-1.0),
        Just(1e308),
        -5.0f64..5.0
    ]
}

fn extra() -> impl Strategy<Value = Map<String, Value>> {
    let entries = prop::collection::vec(
        prop_oneof![
            Just((
                "thinking".to_owned(),
                json!({"type": "enabled", "budget_tokens": 1024})
            )),
            Just(("thinking".to_owned(), json!("yes"))),
            (prop::sample::select(vec!["low", "medium", "high", "none", "x"]))
                .prop_map(|e| ("reasoning_effort".to_owned(), json!(e))),
            interesting_number().prop_map(|n| ("top_k".to_owned(), n)),
            any::<bool>().prop_map(|b| ("logprobs".to_owned(), json!(b))),
            interesting_number().prop_map(|n| ("top_logprobs".to_owned(), n)),
            Just(("logit_bias".to_owned(), json!({"1": 2}))),
            Just((
                "safety_settings".to_owned(),
                json!([{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}])
            )),
            Just(("safety_settings".to_owned(), json!("none"))),
            Just(("metadata".to_owned(), json!({"user_id": "u"}))),
            Just(("modalities".to_owned(), json!(["text", "audio"]))),
            (".{0,8}", vocab_value()),
        ],
        0..4,
    );
    entries.prop_map(|e| e.into_iter().collect())
}

fn chat_request() -> impl Strategy<Value = ChatRequest> {
    let sampling = (
        prop::option::of(number()),
        prop::option::of(number()),
        prop::option::of(any::<u32>()),
        prop::option::of(prop_oneof![Just(0u32), Just(1), Just(64000), any::<u32>()]),
        prop::option::of(prop_oneof![
            text().prop_map(Stop::One),
            prop::collection::vec(text(), 0..6).prop_map(Stop::Many)
        ]),
        prop::option::of(any::<i64>()),
        prop::option::of(prop_oneof![Just(0u32), Just(1), Just(2), any::<u32>()]),
        prop::option::of(number()),
        prop::option::of(number()),
    );
    let shape = (
        prop::sample::select(vec![
            "claude-sonnet-4-5",
            "gemini-2.0-flash",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "amazon.titan-text-express-v1",
            "command-r-plus",
            "",
            "a/b?c",
        ]),
        prop::collection::vec(message(), 0..6),
        prop::option::of(any::<bool>()),
        prop::option::of(
            prop::option::of(any::<bool>())
                .prop_map(|include_usage| StreamOptions { include_usage }),
        ),
        prop::option::of(prop::collection::vec(tool(), 0..3)),
        prop::option::of(tool_choice()),
        prop::option::of(any::<bool>()),
        prop::option::of(response_format()),
        prop::option::of(text()),
        extra(),
    );
    (sampling, shape).prop_map(
        |(
            (
                temperature,
                top_p,
                max_tokens,
                max_completion_tokens,
                stop,
                seed,
                n,
                presence_penalty,
                frequency_penalty,
            ),
            (
                model,
                messages,
                stream,
                stream_options,
                tools,
                tool_choice,
                parallel_tool_calls,
                response_format,
                user,
                extra,
            ),
        )| ChatRequest {
            model: model.into(),
            messages,
            temperature,
            top_p,
            max_tokens,
            max_completion_tokens,
            stop,
            seed,
            n,
            stream,
            stream_options,
            tools,
            tool_choice,
            parallel_tool_calls,
            response_format,
            presence_penalty,
            frequency_penalty,
            user,
            extra,
        },
    )
}

properties! {
    #[test]
    fn chat_request_is_ok_or_err(req in chat_request()) {
        let options = options();
        for (name, a, model, _) in adapters() {
            for m in [model, req.model.as_str()] {
                let cx = WireContext { stream: req.is_stream(), include_usage: req.include_usage(), ..context(m, &options, false) };
                if let Ok(wire) = a.chat_request(&req, &cx) {
                    prop_assert!(wire.path.starts_with('/'), "{name}: path {:?}", wire.path);
                    prop_assert!(serde_json::from_slice::<Value>(&wire.body).is_ok(), "{name}: body is not JSON");
                }
            }
        }
    }

    #[test]
    fn chat_request_from_json_is_ok_or_err(body in prop_oneof![
        (prop::sample::select(docs_of("anthropic").into_iter().chain(docs_of("bedrock")).chain(docs_of("cohere")).chain(docs_of("google")).filter(|d| d.get("messages").is_some()).collect::<Vec<_>>()),
         prop::collection::vec(mutation(), 0..4))
            .prop_map(|(d, m)| apply(d, &m)),
    ]) {
        // Requests as a client could send them: the fixtures' OpenAI requests, mutated, as far
        // as the typed structs accept them.
        let Ok(req) = serde_json::from_value::<ChatRequest>(body) else { return Ok(()) };
        let options = options();
        for (_, a, model, _) in adapters() {
            let cx = context(model, &options, false);
            let _ = a.chat_request(&req, &cx);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AWS event stream
// ---------------------------------------------------------------------------------------------

fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        any::<bool>().prop_map(HeaderValue::Bool),
        any::<i8>().prop_map(HeaderValue::Byte),
        any::<i16>().prop_map(HeaderValue::Int16),
        any::<i32>().prop_map(HeaderValue::Int32),
        any::<i64>().prop_map(HeaderValue::Int64),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(HeaderValue::Bytes),
        ".{0,16}".prop_map(HeaderValue::String),
        any::<i64>().prop_map(HeaderValue::Timestamp),
        any::<[u8; 16]>().prop_map(HeaderValue::Uuid),
    ]
}

/// One valid message: through `encode_event`, `encode_exception` or `encode_message` with
/// arbitrary headers.
fn valid_message() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        ("[a-zA-Z]{1,20}", payload.clone()).prop_map(|(e, p)| encode_event(&e, &p).unwrap()),
        ("[a-zA-Z]{1,20}", payload.clone()).prop_map(|(e, p)| encode_exception(&e, &p).unwrap()),
        (
            prop::collection::vec(("[:a-z-]{1,12}", header_value()), 0..5),
            payload
        )
            .prop_map(|(h, p)| {
                let h: Vec<(&str, HeaderValue)> =
                    h.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
                encode_message(&h, &p).unwrap()
            }),
    ]
}

type AwsDecoded = (
    Vec<Result<OwnedFrame, EventStreamError>>,
    Result<(), EventStreamError>,
);

fn aws_decode(bytes: &[u8], cuts: &[usize]) -> AwsDecoded {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    at.dedup();
    let mut dec = EventStreamDecoder::new();
    let mut out = Vec::new();
    let mut from = 0;
    for &to in at.iter().chain(std::iter::once(&bytes.len())) {
        dec.push(&bytes[from..to]);
        from = to;
        while let Some(f) = dec.next_frame() {
            out.push(f);
        }
    }
    assert!(dec.next_frame().is_none());
    (out, dec.finish())
}

fn aws_decode_whole(bytes: &[u8]) -> AwsDecoded {
    aws_decode(bytes, &[])
}

properties! {
    #[test]
    fn eventstream_arbitrary_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            // A valid prelude (so the decoder reads on) followed by junk.
            (any::<u32>(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..128)).prop_map(|(t, h, rest)| {
                let mut b = Vec::new();
                b.extend_from_slice(&(t % 512).to_be_bytes());
                b.extend_from_slice(&(h % 256).to_be_bytes());
                let crc = switchyard_providers::bedrock::eventstream::crc32(&b);
                b.extend_from_slice(&crc.to_be_bytes());
                b.extend(rest);
                b
            }),
        ],
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (frames, end) = aws_decode(&bytes, &cuts);
        let failed = frames.iter().any(Result::is_err);
        if failed {
            prop_assert!(frames.last().unwrap().is_err(), "frames after an error");
            prop_assert_eq!(&end, &Err(EventStreamError::Failed));
        }
        // Chunking never changes the outcome.
        prop_assert_eq!(aws_decode_whole(&bytes), (frames, end));
    }

    #[test]
    fn eventstream_valid_frames_round_trip(messages in prop::collection::vec(valid_message(), 1..6), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let bytes = messages.concat();
        let (frames, end) = aws_decode(&bytes, &cuts);
        prop_assert_eq!(end, Ok(()));
        prop_assert_eq!(frames.len(), messages.len());
        for (f, m) in frames.iter().zip(&messages) {
            let f = f.as_ref().unwrap();
            let headers: Vec<(&str, HeaderValue)> = f.headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
            prop_assert_eq!(&encode_message(&headers, &f.payload).unwrap(), m);
        }
        // Byte by byte.
        let every: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(aws_decode(&bytes, &every), aws_decode_whole(&bytes));
    }

    #[test]
    fn eventstream_flipped_byte_is_an_error(
        messages in prop::collection::vec(valid_message(), 1..4),
        which in any::<usize>(),
        at in any::<usize>(),
        mask in 1u8..=255,
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let which = which % messages.len();
        let start: usize = messages[..which].iter().map(Vec::len).sum();
        let at = start + at % messages[which].len();
        let mut bytes = messages.concat();
        bytes[at] ^= mask;
        let (frames, end) = aws_decode(&bytes, &cuts);
        // CRC-32 catches every error burst of up to 32 bits: the frames before the damaged one
        // decode, the damaged one is an error, nothing follows.
        prop_assert_eq!(frames.len(), which + 1);
        prop_assert!(frames[..which].iter().all(Result::is_ok));
        prop_assert!(frames[which].is_err(), "{:?}", frames[which]);
        prop_assert_eq!(end, Err(EventStreamError::Failed));
    }
}

// ---------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------

/// `n` definitions, each with two properties referring to the next: `2^n` inlined copies of the
/// last one once every `$ref` is expanded.
fn ref_ladder(n: usize) -> Value {
    let mut defs = Map::new();
    for i in 0..n {
        let next = if i + 1 < n {
            json!({"$ref": format!("#/$defs/d{}", i + 1)})
        } else {
            json!({"type": "string"})
        };
        defs.insert(
            format!("d{i}"),
            json!({"type": "object", "properties": {"a": next, "b": next}}),
        );
    }
    json!({"type": "object", "$defs": defs, "properties": {"root": {"$ref": "#/$defs/d0"}}})
}

fn ladder_request(n: usize) -> ChatRequest {
    ChatRequest {
        model: "gemini-2.0-flash".into(),
        messages: vec![Message::text(Role::User, "hi")],
        tools: Some(vec![Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: "f".into(),
                description: None,
                parameters: Some(ref_ladder(n)),
                strict: None,
            },
            cache_control: None,
        }]),
        ..ChatRequest::default()
    }
}

/// Finding (property `chat_request_is_ok_or_err`'s schema generator, confirmed by hand): the
/// Gemini JSON Schema converter (`google/schema.rs`) inlines every `$ref` at each use. Cycles are
/// refused and nesting is capped at 64, but shared references are not: a ladder of `n`
/// definitions, each using the next twice, expands to `2^n` copies. Measured (debug build):
/// n=12: 1.3 KB request -> 242 KB Gemini body in 0.4 s; n=16: 1.7 KB -> 3.9 MB in 6 s;
/// n=18: 1.8 KB -> 15 MB in 15 s; the depth cap allows n of about 30 (~2^30 copies), so one
/// small client request to a Gemini or Vertex AI Gemini route can exhaust the gateway's CPU and
/// memory. The same converter serves `response_format.json_schema`. A fix would bound the
/// total expanded size (or the number of `$ref` expansions), answering 400 past it.
#[test]
fn gemini_schema_ref_expansion_is_bounded() {
    let options = options();
    let req = ladder_request(12);
    let input = serde_json::to_vec(&req).unwrap().len();
    for (native, model) in [
        (Native::Google, "gemini-2.0-flash"),
        (Native::VertexAi, "gemini-2.0-flash"),
    ] {
        let out = pick(native, model).chat_request(&req, &context(model, &options, false));
        if let Ok(wire) = out {
            assert!(
                wire.body.len() <= 64 * input,
                "a {input}-byte request became a {}-byte Gemini request",
                wire.body.len()
            );
        }
    }
}
