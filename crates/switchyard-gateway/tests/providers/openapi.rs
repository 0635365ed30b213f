//! What the client gets, checked against OpenAI's published OpenAPI spec: the response schemas
//! of the `openai/openai-openapi` repository, extracted into `tests/fixtures/openai-openapi/`
//! by `scripts/openapi-extract.py` (the README there names the upstream commit).
//!
//! Only what the gateway writes is checked: translated bodies, chunks and embeddings, and every
//! error envelope. What an OpenAI-compatible upstream answers passes through byte for byte and
//! is that upstream's business, so it is not.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::types::JsonType;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

use super::spec::{Family, Provider};

const SCHEMAS: &str = include_str!("../fixtures/openai-openapi/schemas.json");

/// The OpenAI response schemas the gateway's output must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A `chat.completion` body (`CreateChatCompletionResponse`).
    Completion,
    /// One `chat.completion.chunk` event's data (`CreateChatCompletionStreamResponse`).
    Chunk,
    /// An embeddings body (`CreateEmbeddingResponse`).
    Embeddings,
    /// An error body, or an SSE `error` event's data (`ErrorResponse`).
    Error,
}

impl Shape {
    const ALL: [Shape; 4] = [
        Shape::Completion,
        Shape::Chunk,
        Shape::Embeddings,
        Shape::Error,
    ];

    /// The schema's name in the spec.
    pub fn schema(self) -> &'static str {
        match self {
            Shape::Completion => "CreateChatCompletionResponse",
            Shape::Chunk => "CreateChatCompletionStreamResponse",
            Shape::Embeddings => "CreateEmbeddingResponse",
            Shape::Error => "ErrorResponse",
        }
    }
}

/// One compiled validator per shape, in `Shape::ALL` order.
static VALIDATORS: LazyLock<Vec<Validator>> = LazyLock::new(|| {
    let doc: Value = serde_json::from_str(SCHEMAS).expect("schemas.json is JSON");
    Shape::ALL
        .iter()
        .map(|shape| {
            let root = json!({
                "$schema": doc["$schema"],
                "$ref": format!("#/$defs/{}", shape.schema()),
                "$defs": doc["$defs"],
            });
            jsonschema::draft202012::new(&root)
                .unwrap_or_else(|e| panic!("{} does not compile: {e}", shape.schema()))
        })
        .collect()
});

tokio::task_local! {
    /// The battery case running, set by `provider_tests!` for failure messages.
    pub static CASE: &'static str;
}

/// The case to name in a failure: the battery's, else the test thread's name.
fn case_name() -> String {
    CASE.try_with(|c| (*c).to_owned()).unwrap_or_else(|_| {
        std::thread::current()
            .name()
            .unwrap_or("(unknown test)")
            .to_owned()
    })
}

/// The schema violations of `value` as `shape`, one line each: instance path, message, and the
/// schema keyword that failed.
pub fn violations(shape: Shape, value: &Value) -> Vec<String> {
    let index = Shape::ALL.iter().position(|s| *s == shape).unwrap_or(0);
    let mut out = Vec::new();
    for e in VALIDATORS[index].iter_errors(value) {
        describe(&e, &mut out);
    }
    out
}

/// Adds `e` to `out`. An `anyOf`/`oneOf` the value failed in one branch only, apart from a
/// `null` alternative (how the spec writes optional values), is explained by that branch's
/// errors rather than by "not valid under any of the schemas".
fn describe(e: &ValidationError<'_>, out: &mut Vec<String>) {
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        e.kind()
    {
        let real: Vec<_> = context.iter().filter(|b| !is_null_branch(b)).collect();
        if let [only] = real.as_slice() {
            for sub in only.iter() {
                describe(sub, out);
            }
            return;
        }
    }
    let at = e.instance_path().to_string();
    let at = if at.is_empty() { "/".to_owned() } else { at };
    out.push(format!("at {at}: {e} (schema {})", e.evaluation_path()));
}

/// Whether a branch's errors are just "is not of type null".
fn is_null_branch(errors: &[ValidationError<'_>]) -> bool {
    matches!(errors, [e] if matches!(
        e.kind(),
        ValidationErrorKind::Type { kind: TypeKind::Single(JsonType::Null) }
    ))
}

/// Whether the gateway writes `shape` for `p`, as opposed to passing an OpenAI-compatible
/// upstream's bytes through. Errors are always the gateway's: it builds every error envelope.
pub fn written_by_gateway(p: Provider, shape: Shape) -> bool {
    shape == Shape::Error || p.family() != Family::OpenAi
}

/// Asserts `value` matches `shape` in OpenAI's spec when the gateway wrote it for `p`; a failure
/// names the provider, the case, the schema and every failing path.
pub fn assert_conforms(p: Provider, shape: Shape, value: &Value) {
    if !written_by_gateway(p, shape) {
        return;
    }
    let found = violations(shape, value);
    assert!(
        found.is_empty(),
        "provider {} ({p:?}), case {}: not a valid OpenAI {}:\n  {}\nin {value}",
        p.slug(),
        case_name(),
        shape.schema(),
        found.join("\n  "),
    );
}

#[test]
fn the_validators_catch_what_openai_requires() {
    let message = json!({"role": "assistant", "content": "hi", "refusal": null});
    let completion = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": null}]});
    assert_eq!(
        violations(Shape::Completion, &completion),
        Vec::<String>::new()
    );

    let mut no_refusal = completion.clone();
    no_refusal["choices"][0]["message"]
        .as_object_mut()
        .unwrap()
        .remove("refusal");
    let found = violations(Shape::Completion, &no_refusal);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("at /choices/0/message: \"refusal\" is a required property"),
        "{found:?}"
    );

    let mut logprobs = completion.clone();
    logprobs["choices"][0]["logprobs"] = json!({"content": []});
    let found = violations(Shape::Completion, &logprobs);
    assert!(
        found
            .iter()
            .any(|v| v.contains("\"refusal\" is a required property")),
        "{found:?}"
    );

    // `nullable: true` in the spec became `null` allowed; other values are still checked.
    let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": null}], "usage": null});
    assert_eq!(violations(Shape::Chunk, &chunk), Vec::<String>::new());
    let mut bad = chunk.clone();
    bad["choices"][0]["finish_reason"] = json!("end_turn");
    let found = violations(Shape::Chunk, &bad);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("at /choices/0/finish_reason")),
        "{found:?}"
    );

    let error = json!({"error": {"message": "m", "type": "t", "param": null, "code": null}});
    assert_eq!(violations(Shape::Error, &error), Vec::<String>::new());
    let found = violations(
        Shape::Error,
        &json!({"error": {"message": "m", "type": "t"}}),
    );
    assert_eq!(found.len(), 2, "param and code are required: {found:?}");

    let embeddings = json!({"object": "list", "model": "m",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]});
    let found = violations(Shape::Embeddings, &embeddings);
    assert!(
        found[0].contains("\"usage\" is a required property"),
        "{found:?}"
    );
}
