//! Criterion benches of the hot checks on a 2 kB prompt:
//! `cargo bench -p switchyard-guardrails --bench checks`.
//!
//! The target: `regexMatch` + `pii` + `wordCount` together well under 50 µs per request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Map, Value};
use switchyard_guardrails::{
    CheckContext, CheckOutcome, HookEvent, PreparedCheck, Registry, RequestType,
};

/// About 2 kB of ordinary prose (no PII: the common case) ending in a question.
fn prompt() -> String {
    let paragraph = "Our team is planning the quarterly roadmap review for the platform group. \
        Please draft a short agenda that covers reliability work, the migration of the billing \
        service to the new queue, hiring for two open roles, and a retrospective on the last \
        incident. Keep each item to one or two sentences and suggest an owner for every topic. ";
    let mut text = String::new();
    while text.len() < 1950 {
        text.push_str(paragraph);
    }
    text.push_str("What should come first?");
    text
}

fn request(text: &str) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text}
        ]
    })
}

fn prepare(registry: &Registry, id: &str, params: Value) -> Arc<dyn PreparedCheck> {
    registry.get(id).unwrap().prepare(&params).unwrap()
}

/// Polls a built-in (synchronous) check's future once.
fn run(check: &dyn PreparedCheck, cx: &CheckContext<'_>) -> CheckOutcome {
    let mut fut = check.run(cx);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r.unwrap(),
        Poll::Pending => panic!("a built-in check did not complete synchronously"),
    }
}

fn checks(c: &mut Criterion) {
    let registry = Registry::builtin();
    let regex_match = prepare(
        &registry,
        "regexMatch",
        json!({"rule": r"\b(?:password|secret|api[_ ]key)\b", "not": true}),
    );
    let pii = prepare(&registry, "pii", json!({}));
    let pii_redact = prepare(&registry, "pii", json!({"action": "redact"}));
    let word_count = prepare(
        &registry,
        "wordCount",
        json!({"minWords": 1, "maxWords": 1000}),
    );
    let injection = prepare(&registry, "promptInjection", json!({}));

    let text = prompt();
    assert!((1900..2200).contains(&text.len()));
    let clean = request(&text);
    let with_pii = request(&format!(
        "{text} Contact jane.doe@example.com or +1 415 555 0100; card 4111 1111 1111 1111."
    ));
    let metadata = Map::new();
    let cx = |request| CheckContext {
        event: HookEvent::BeforeRequest,
        request_type: RequestType::ChatComplete,
        request,
        response: None,
        provider: "openai",
        metadata: &metadata,
        headers: None,
    };
    let clean_cx = cx(&clean);
    let pii_cx = cx(&with_pii);
    assert!(run(&*regex_match, &clean_cx).verdict);
    assert!(run(&*pii, &clean_cx).verdict);
    assert!(!run(&*pii, &pii_cx).verdict);
    assert!(run(&*pii_redact, &pii_cx).transformed.is_some());

    let mut g = c.benchmark_group("checks_2kB");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("regexMatch", |b| {
        b.iter(|| run(&*regex_match, black_box(&clean_cx)))
    });
    g.bench_function("pii_clean", |b| b.iter(|| run(&*pii, black_box(&clean_cx))));
    g.bench_function("pii_block_found", |b| {
        b.iter(|| run(&*pii, black_box(&pii_cx)))
    });
    g.bench_function("pii_redact_found", |b| {
        b.iter(|| run(&*pii_redact, black_box(&pii_cx)))
    });
    g.bench_function("wordCount", |b| {
        b.iter(|| run(&*word_count, black_box(&clean_cx)))
    });
    g.bench_function("promptInjection", |b| {
        b.iter(|| run(&*injection, black_box(&clean_cx)))
    });
    g.bench_function("regexMatch+pii+wordCount", |b| {
        b.iter(|| {
            let cx = black_box(&clean_cx);
            (
                run(&*regex_match, cx),
                run(&*pii, cx),
                run(&*word_count, cx),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, checks);
criterion_main!(benches);
