//! Fault injection: a seeded storm of requests through fallback configs whose first target
//! fails in every way an upstream can (refused connections, resets before the head and mid-body,
//! 5xx, 429 with retry-after, hangs, stalls, malformed JSON, truncated and garbled SSE) and
//! whose second target is healthy; leak checks afterwards (file descriptors, RSS, upstream work
//! left running); cancellation of upstream work when the client goes away; and what a malformed
//! 200 body becomes.
//!
//! The tests of this file run one at a time (`SERIAL`): the leak checks count the whole
//! process's file descriptors and memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use switchyard_mock::{content_chunk, role_chunk};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests per storm.
const STORM_REQUESTS: usize = 2000;
/// Requests in flight at once.
const STORM_CONCURRENCY: usize = 64;
/// The per-attempt timeout of a first target that hangs or stalls.
const REQUEST_TIMEOUT_MS: u64 = 200;
/// The per-attempt timeout of every other target: long enough that no healthy answer times out
/// on a loaded machine, short enough that a hang would still end before the client deadline.
const SLACK_TIMEOUT_MS: u64 = 3000;
/// No storm request may take longer than this, end to end.
const CLIENT_DEADLINE: Duration = Duration::from_secs(10);
/// Open file descriptors allowed above the pre-storm baseline once the storm is over and idle
/// connections had time to close (a runtime's epoll/eventfd pair, a straggling socket).
const FD_MARGIN: usize = 8;
/// RSS growth allowed from the end of storm 1 to the end of storm 2, after a warm-up storm.
/// The warm-up and storm 1 take the allocator to its working-set peak (the growth of storm
/// after storm flattens: 9, then 4, 1, 2, 1 MiB); a leak of one 4 KiB page per request would
/// add ~8 MiB over storm 2's 2000 requests, a leaked connection (buffers, task) per request far
/// more. Measured: 3–4 MiB — allocator noise, and the circuit breaker remembering storm 2's
/// ~1,800 new failing target identities (its map has a cap of its own).
const RSS_GROWTH_BOUND_KIB: u64 = 8 * 1024;
/// How long cancellations and closing idle connections may take before a test fails.
const SETTLE: Duration = Duration::from_secs(5);

/// The server config of the storm: fast retries, and idle upstream connections closed quickly
/// so the file-descriptor count settles soon after the storm.
const STORM_SERVER: &str =
    "server:\n  retry_base_delay: 2ms\n  retry_max_delay: 4ms\n  pool_idle_timeout: 100ms\n";

/// A small deterministic generator (SplitMix64), so a failing storm can be replayed exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What the first target of a storm request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// No fault: the first target answers.
    Healthy,
    /// Nothing listens on its port.
    Refused,
    /// The connection closes before a response head.
    ResetBeforeHeaders,
    /// 503 with an OpenAI error body.
    ServerError,
    /// 429 with `retry-after-ms: 10` (honoured once) and `retry-after: 1`.
    RateLimited,
    /// The same 429, in a fallback group whose `on_status_codes` leave 429 out: the client gets
    /// the 429.
    RateLimitedNoFallback,
    /// Never answers (cut by the 200 ms request timeout).
    HangBeforeHeaders,
    /// Non-streaming: a 200 whose body stops half-way (`{"id": "x", "choices": [`): falls back.
    /// Streaming: a complete event whose data is that text, then `[DONE]`: passed through.
    MalformedJson,
    /// Both targets refuse connections.
    AllTargetsDown,
    /// Non-streaming: a 200 head and part of the body, then the connection is reset.
    ResetMidBody,
    /// Non-streaming: a 200 head and part of the body, then 30 s of silence.
    StallMidBody,
    /// Streaming: a role-only chunk, then the connection is reset (before the commit point).
    CutBeforeContent,
    /// Streaming: a role-only chunk and a content chunk, then the connection is reset.
    CutAfterContent,
    /// Streaming: a role-only chunk and a content chunk, then silence.
    StallAfterContent,
    /// Streaming: a role-only chunk, then half an event and a clean close.
    TruncatedEvent,
    /// Streaming: a role-only chunk, a content chunk, half an event, then a reset.
    TruncatedAfterContent,
}

use Fault::*;

const COMMON_FAULTS: &[Fault] = &[
    Healthy,
    Refused,
    ResetBeforeHeaders,
    ServerError,
    RateLimited,
    RateLimitedNoFallback,
    HangBeforeHeaders,
    MalformedJson,
    AllTargetsDown,
];
const PLAIN_ONLY: &[Fault] = &[ResetMidBody, StallMidBody];
const STREAM_ONLY: &[Fault] = &[
    CutBeforeContent,
    CutAfterContent,
    StallAfterContent,
    TruncatedEvent,
    TruncatedAfterContent,
];

const MALFORMED: &str = r#"{"id": "x", "choices": ["#;
const HALF_EVENT: &str =
    r#"data: {"id":"chatcmpl-mock","choices":[{"index":0,"delta":{"content":"Hel"#;

/// What the client must get for a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200 from `config.targets[0]`, the healthy first target.
    Primary,
    /// 200 from `config.targets[1]`, the fallback.
    Fallback,
    /// An OpenAI error with this status.
    Error(u16),
    /// Streaming: the garbled event forwarded as it was sent, then `[DONE]` (events of an
    /// OpenAI-compatible stream are not validated one by one).
    PassedThrough,
    /// Streaming: 200 from `config.targets[0]`, the content sent before the break, then a final
    /// `event: error` with an OpenAI error object.
    StreamError,
}

fn expect(fault: Fault, stream: bool) -> Expect {
    match fault {
        Healthy => Expect::Primary,
        RateLimitedNoFallback => Expect::Error(429),
        AllTargetsDown => Expect::Error(502),
        // A non-streaming 2xx body that is not JSON fails the attempt.
        MalformedJson if stream => Expect::PassedThrough,
        CutAfterContent | StallAfterContent | TruncatedAfterContent => Expect::StreamError,
        _ => Expect::Fallback,
    }
}

/// The first target's mock reply for a fault; `None` for a refused connection.
fn reply(fault: Fault, stream: bool) -> Option<Reply> {
    let partial_content = || vec![role_chunk(), content_chunk(" partial")];
    let sse = |events: Vec<String>, end: StreamEnd| Reply::Sse {
        events,
        gap: Duration::ZERO,
        end,
    };
    Some(match fault {
        Healthy => Reply::Default,
        Refused | AllTargetsDown => return None,
        ResetBeforeHeaders => Reply::Reset,
        ServerError => Reply::error(503, "overloaded"),
        RateLimited | RateLimitedNoFallback => Reply::error(429, "slow down")
            .with_header("retry-after-ms", "10")
            .with_header("retry-after", "1"),
        HangBeforeHeaders => Reply::Hang,
        MalformedJson if stream => Reply::garbled_sse(),
        MalformedJson => Reply::malformed_json(),
        ResetMidBody => Reply::CutBody {
            status: 200,
            partial: r#"{"id":"chatcmpl-"#.into(),
        },
        StallMidBody => Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            chunks: vec![
                r#"{"id":"chatcmpl-mock","#.into(),
                r#""object":"chat.completion"}"#.into(),
            ],
            gap: Duration::from_secs(30),
        },
        CutBeforeContent => sse(vec![role_chunk()], StreamEnd::Cut),
        CutAfterContent => sse(partial_content(), StreamEnd::Cut),
        StallAfterContent => sse(partial_content(), StreamEnd::Stall),
        TruncatedEvent => Reply::TruncatedSse {
            events: vec![role_chunk()],
            partial: HALF_EVENT.into(),
            end: StreamEnd::Close,
        },
        TruncatedAfterContent => Reply::TruncatedSse {
            events: partial_content(),
            partial: HALF_EVENT.into(),
            end: StreamEnd::Cut,
        },
    })
}

/// A mock that does not record requests.
async fn quiet_mock(name: &str) -> MockServer {
    MockServer::start_with(switchyard_mock::MockOptions {
        name: name.into(),
        record: false,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The upstreams of a storm: the healthy fallback, and one mock per fault and mode.
struct Upstreams {
    healthy: MockServer,
    dead: String,
    faulty: BTreeMap<(Fault, bool), MockServer>,
}

impl Upstreams {
    async fn start() -> Upstreams {
        // Not recording: a recording mock keeps every request, which would read as a leak.
        let healthy = quiet_mock("healthy").await;
        let dead = format!("http://127.0.0.1:{}/v1", dead_port().await);
        let mut faulty = BTreeMap::new();
        for stream in [false, true] {
            let own = if stream { STREAM_ONLY } else { PLAIN_ONLY };
            for &fault in COMMON_FAULTS.iter().chain(own) {
                if let Some(r) = reply(fault, stream) {
                    let mock = quiet_mock(if fault == Healthy {
                        "primary"
                    } else {
                        "faulty"
                    })
                    .await;
                    mock.set_default(r);
                    faulty.insert((fault, stream), mock);
                }
            }
        }
        Upstreams {
            healthy,
            dead,
            faulty,
        }
    }

    /// The `x-portkey-config` of request `i`. Its failing targets carry a key of their own
    /// (`sk-storm-<seed>-<i>`): a circuit breaker keys targets by identity, credential included, so it
    /// sees one failure per identity and never ejects a faulty target — every request meets its
    /// fault.
    fn config(&self, seed: u64, i: usize, fault: Fault, stream: bool) -> String {
        let first_url = match self.faulty.get(&(fault, stream)) {
            Some(mock) => mock.url(),
            None => self.dead.clone(),
        };
        let (second_url, second_key) = if fault == AllTargetsDown {
            (self.dead.clone(), format!("sk-storm-{seed:x}-{i}"))
        } else {
            (self.healthy.url(), "sk-healthy".to_owned())
        };
        let mut strategy = json!({"mode": "fallback"});
        if fault == RateLimitedNoFallback {
            strategy["on_status_codes"] = json!([408, 500, 502, 503, 504]);
        }
        // The short timeout is what cuts hangs and stalls; answers that must arrive get a long
        // one, so a busy machine cannot turn them into timeouts.
        let first_timeout = match fault {
            HangBeforeHeaders | StallMidBody | StallAfterContent => REQUEST_TIMEOUT_MS,
            _ => SLACK_TIMEOUT_MS,
        };
        json!({
            "strategy": strategy,
            "targets": [
                {"provider": "openai", "api_key": format!("sk-storm-{seed:x}-{i}"), "custom_host": first_url,
                 "request_timeout": first_timeout,
                 "retry": {"attempts": 1, "use_retry_after_header": true}},
                {"provider": "openai", "api_key": second_key, "custom_host": second_url,
                 "request_timeout": SLACK_TIMEOUT_MS}
            ]
        })
        .to_string()
    }

    fn mocks(&self) -> impl Iterator<Item = &MockServer> {
        std::iter::once(&self.healthy).chain(self.faulty.values())
    }

    /// Handlers and streamed bodies the mocks are still working on.
    fn upstream_work_open(&self) -> (usize, usize) {
        self.mocks()
            .map(|m| (m.handlers_open(), m.streams_open()))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// The storm's request plan: seeded, so every run sends the same faults in the same order.
fn plan(seed: u64) -> Vec<(Fault, bool)> {
    let mut rng = Rng(seed);
    (0..STORM_REQUESTS)
        .map(|_| {
            let stream = rng.below(2) == 1;
            let own = if stream { STREAM_ONLY } else { PLAIN_ONLY };
            let i = rng.below(COMMON_FAULTS.len() + own.len());
            let fault = COMMON_FAULTS
                .get(i)
                .copied()
                .unwrap_or_else(|| own[i - COMMON_FAULTS.len()]);
            (fault, stream)
        })
        .collect()
}

/// What the client got.
struct Got {
    status: u16,
    index: String,
    retry_after: String,
    /// `x-switchyard-skipped-targets`: targets passed over because their circuit was open.
    skipped: String,
    body: String,
}

/// Sends one storm request and reads the whole answer, within [`CLIENT_DEADLINE`].
async fn send(
    http: &reqwest::Client,
    url: &str,
    config: &str,
    stream: bool,
) -> Result<Got, String> {
    let body = if stream { hi_stream("m") } else { hi("m") };
    let run = async {
        let resp = http
            .post(url)
            .header("x-portkey-config", config)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status().as_u16();
        let index = header(&resp, "x-portkey-last-used-option-index");
        let retry_after = header(&resp, "retry-after");
        let skipped = header(&resp, "x-switchyard-skipped-targets");
        let body = resp
            .text()
            .await
            .map_err(|e| format!("reading the body failed: {e}"))?;
        Ok(Got {
            status,
            index,
            retry_after,
            skipped,
            body,
        })
    };
    tokio::time::timeout(CLIENT_DEADLINE, run)
        .await
        .map_err(|_| format!("no answer within {CLIENT_DEADLINE:?}"))?
}

/// Whether `v` is an OpenAI error envelope: `{"error": {"message", "type", "param", "code"}}`.
fn is_openai_error(v: &Value) -> bool {
    let e = &v["error"];
    e["message"].is_string()
        && e["type"].is_string()
        && e.get("param").is_some()
        && e.get("code").is_some()
}

/// The events of an SSE body: (event name, data).
fn sse_events(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = Some(n.trim().to_owned());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d));
                }
            }
            (name, data.join("\n"))
        })
        .collect()
}

/// The concatenated `delta.content` of a stream's JSON chunks.
fn streamed_content(events: &[(Option<String>, String)]) -> String {
    events
        .iter()
        .filter(|(name, _)| name.is_none())
        .filter_map(|(_, data)| serde_json::from_str::<Value>(data).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Checks one answer against what its fault must produce; `Err` says what was wrong.
fn check(fault: Fault, stream: bool, got: &Got) -> Result<(), String> {
    let mut want = expect(fault, stream);
    if fault == StallAfterContent && got.index == "config.targets[1]" {
        // The mock sends its content at once, then stalls until the 200 ms timeout cuts it. On
        // a loaded machine the content itself can miss that window: the stall then comes before
        // the commit point, and falling back is right too.
        want = Expect::Fallback;
    }
    let fail = |why: &str| {
        let body: String = got.body.chars().take(400).collect();
        Err(format!(
            "{why} (status {}, index `{}`, body {body:?})",
            got.status, got.index
        ))
    };
    if !got.skipped.is_empty() {
        return fail(&format!("no target may be skipped, `{}` was", got.skipped));
    }
    if let Expect::Error(status) = want {
        let Ok(v) = serde_json::from_str::<Value>(&got.body) else {
            return fail("error body is not JSON");
        };
        if got.status != status || !is_openai_error(&v) {
            return fail(&format!("want an OpenAI error with status {status}"));
        }
        if fault == RateLimitedNoFallback
            && (v["error"]["message"] != "slow down" || got.retry_after != "1")
        {
            return fail("the 429 should pass the upstream's message and retry-after through");
        }
        if fault == AllTargetsDown
            && !v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("All 2 targets failed")
        {
            return fail("the error should list every target's reason");
        }
        return Ok(());
    }
    if got.status != 200 {
        return fail("want a 200");
    }
    let (index, who) = match want {
        Expect::Fallback => ("config.targets[1]", "healthy"),
        _ => ("config.targets[0]", "primary"),
    };
    if got.index != index {
        return fail(&format!("want the answer of {index}"));
    }
    if !stream {
        let Ok(v) = serde_json::from_str::<Value>(&got.body) else {
            return fail("a 200 body is not JSON");
        };
        return if v["choices"][0]["message"]["content"] == format!("Hello from {who}") {
            Ok(())
        } else {
            fail(&format!("want the answer of `{who}`"))
        };
    }
    if !got.body.ends_with("\n\n") {
        return fail("the stream does not end on an event boundary");
    }
    let events = sse_events(&got.body);
    let Some((last_name, last_data)) = events.last() else {
        return fail("an empty stream");
    };
    let ends_done = last_name.is_none() && last_data == "[DONE]";
    let ends_error = last_name.as_deref() == Some("error")
        && serde_json::from_str::<Value>(last_data).is_ok_and(|v| is_openai_error(&v));
    if !ends_done && !ends_error {
        return fail(
            "a stream must end with `data: [DONE]` or an `event: error` with an OpenAI error",
        );
    }
    let content = streamed_content(&events);
    match want {
        Expect::Primary | Expect::Fallback
            if ends_done && content == format!("Hello from {who}") =>
        {
            Ok(())
        }
        Expect::PassedThrough if ends_done && events.iter().any(|(_, d)| d == MALFORMED) => Ok(()),
        Expect::StreamError if ends_error && content == " partial" => Ok(()),
        _ => fail(&format!("want {want:?}")),
    }
}

/// Open file descriptors of this process (Linux; `None` elsewhere).
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

/// Resident set size in KiB (Linux; `None` elsewhere).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Polls `cond` until it holds or [`SETTLE`] has passed; returns whether it held.
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + SETTLE;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs one storm and checks every answer; returns the time it took.
async fn storm(gw: &Gateway, up: &Upstreams, seed: u64) -> Duration {
    let plan = plan(seed);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(STORM_CONCURRENCY)
        .build()
        .unwrap();
    let url: Arc<str> = gw.url("/v1/chat/completions").into();
    let permits = Arc::new(Semaphore::new(STORM_CONCURRENCY));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, &(fault, stream)) in plan.iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (http, url) = (http.clone(), url.clone());
        let config = up.config(seed, i, fault, stream);
        tasks.spawn(async move {
            let got = send(&http, &url, &config, stream).await;
            drop(permit);
            let verdict = got.and_then(|g| check(fault, stream, &g));
            verdict.map_err(|e| format!("request {i} ({fault:?}, stream: {stream}): {e}"))
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.unwrap() {
            failures.push(e);
        }
    }
    let took = started.elapsed();
    let mut per_fault: BTreeMap<(Fault, bool), usize> = BTreeMap::new();
    for key in &plan {
        *per_fault.entry(*key).or_default() += 1;
    }
    eprintln!("storm (seed {seed}): {STORM_REQUESTS} requests in {took:?}, {} failed; per fault: {per_fault:?}", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {STORM_REQUESTS} storm requests went wrong; the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    drop(http);
    took
}

/// After a storm: no upstream handler or stream is still running (the gateway dropped every
/// hung or stalled upstream request), and the file descriptors are back near `baseline`.
async fn settle(up: &Upstreams, baseline: Option<usize>) -> Option<usize> {
    assert!(
        eventually(|| up.upstream_work_open() == (0, 0)).await,
        "upstream work still open after the storm (handlers, streams): {:?}",
        up.upstream_work_open()
    );
    let baseline = baseline?;
    // Idle pooled connections close within `pool_idle_timeout` (100 ms) plus the pool's sweep:
    // wait for the exact baseline (it comes back within ~200 ms here), then allow the margin.
    eventually(|| open_fds().is_some_and(|n| n <= baseline)).await;
    let now = open_fds()?;
    assert!(
        now <= baseline + FD_MARGIN,
        "file descriptors did not return near the baseline: {baseline} before, {now} after"
    );
    Some(now)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_storm_ends_every_request_cleanly_and_leaks_nothing() {
    let _serial = SERIAL.lock().await;
    let up = Upstreams::start().await;
    let gw = Gateway::start(STORM_SERVER).await;
    // Let the listeners and the runtime settle before counting.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fds_before = open_fds();
    // A first storm warms the allocator's arenas and the gateway's caches up (their growth
    // flattens out: it is not what a leak looks like); the two that follow are compared.
    storm(&gw, &up, 0x5717_c4ac).await;
    settle(&up, fds_before).await;
    let rss_before = rss_kib();

    let took1 = storm(&gw, &up, 0x5717_c4ad).await;
    let fds1 = settle(&up, fds_before).await;
    let rss1 = rss_kib();

    let took2 = storm(&gw, &up, 0x5717_c4ae).await;
    let fds2 = settle(&up, fds_before).await;
    let rss2 = rss_kib();

    eprintln!(
        "storm 1: {took1:?}, storm 2: {took2:?}; fds: {fds_before:?} before, {fds1:?} after storm 1, {fds2:?} after storm 2; \
         RSS KiB: {rss_before:?} before, {rss1:?} after storm 1, {rss2:?} after storm 2"
    );
    if let (Some(r1), Some(r2)) = (rss1, rss2) {
        assert!(
            r2 <= r1 + RSS_GROWTH_BOUND_KIB,
            "RSS grew by {} KiB from storm 1 to storm 2 (bound {RSS_GROWTH_BOUND_KIB} KiB)",
            r2.saturating_sub(r1)
        );
    }
    // Every hung upstream request was abandoned by the gateway, not left waiting.
    for stream in [false, true] {
        let hang = &up.faulty[&(HangBeforeHeaders, stream)];
        assert_eq!(hang.handlers_cancelled(), hang.hits(), "stream: {stream}");
    }
}

/// A long stream through the gateway; the client reads the first event and goes away.
#[tokio::test]
async fn a_client_dropping_a_stream_cancels_the_upstream_stream() {
    let _serial = SERIAL.lock().await;
    let mock = MockServer::start("long").await;
    // 400 events 25 ms apart: ten seconds, far longer than the test waits.
    mock.push(Reply::long_stream(400, Duration::from_millis(25)));
    let gw = Gateway::start("").await;
    let resp = gw.chat(hi_stream("m"), &refs(&via(&mock))).await;
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    // The opening chunk, then the first content event.
    let mut seen = String::new();
    while !seen.contains("tick 0") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("the first events arrive")
            .unwrap()
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!((mock.streams_started(), mock.streams_cancelled()), (1, 0));
    drop(body);
    assert!(
        eventually(|| mock.streams_cancelled() == 1).await,
        "the upstream stream was still being read {SETTLE:?} after the client went away"
    );
    assert_eq!(mock.streams_open(), 0);
}

/// A client gives up on a request whose upstream has not answered yet (slow non-streaming
/// answer, a stream that never sends its head, a stream that sent only its role-only opening).
#[tokio::test]
async fn a_client_giving_up_cancels_the_upstream_request() {
    let _serial = SERIAL.lock().await;
    let cases = [
        (
            "non-streaming, 30 s delay",
            false,
            Reply::Delay(Duration::from_secs(30), Box::new(Reply::Default)),
        ),
        ("streaming, hangs before the head", true, Reply::Hang),
        (
            "streaming, stalls after the role-only chunk",
            true,
            Reply::Sse {
                events: vec![role_chunk()],
                gap: Duration::ZERO,
                end: StreamEnd::Stall,
            },
        ),
    ];
    let gw = Gateway::start("").await;
    for (what, stream, reply) in cases {
        let mock = MockServer::start("slow").await;
        let stalls_in_body = matches!(reply, Reply::Sse { .. });
        mock.set_default(reply);
        let http = reqwest::Client::new();
        let url = gw.url("/v1/chat/completions");
        let routing = via(&mock);
        let mut rb = http
            .post(url)
            .json(&if stream { hi_stream("m") } else { hi("m") });
        for (k, v) in &routing {
            rb = rb.header(*k, v);
        }
        // The client waits for the whole answer (head and body), then gives up on it.
        let client = tokio::spawn(async move {
            if let Ok(resp) = rb.send().await {
                let _ = resp.bytes().await;
            }
        });
        let working = || {
            if stalls_in_body {
                mock.streams_open() == 1
            } else {
                mock.handlers_open() == 1
            }
        };
        assert!(
            eventually(working).await,
            "{what}: the upstream never got the request"
        );
        client.abort();
        assert!(client.await.unwrap_err().is_cancelled());
        let cancelled = || {
            if stalls_in_body {
                mock.streams_cancelled() == 1 && mock.streams_open() == 0
            } else {
                mock.handlers_cancelled() == 1 && mock.handlers_open() == 0
            }
        };
        assert!(
            eventually(cancelled).await,
            "{what}: the upstream request was still open {SETTLE:?} after the client went away \
             (handlers open {}, streams open {})",
            mock.handlers_open(),
            mock.streams_open()
        );
        assert_eq!(mock.hits(), 1, "{what}: not retried after the client left");
    }
}

fn fallback_config(first: &MockServer, second: &MockServer) -> String {
    json!({"strategy": {"mode": "fallback"}, "targets": [target(first), target(second)]})
        .to_string()
}

#[tokio::test]
async fn a_malformed_200_body_falls_back() {
    let _serial = SERIAL.lock().await;
    let bad = MockServer::start("bad").await;
    bad.push(Reply::malformed_json());
    let good = MockServer::start("good").await;
    let gw = Gateway::start("").await;
    let config = fallback_config(&bad, &good);
    let resp = gw.chat(hi("m"), &[("x-portkey-config", &config)]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[1]"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from good");
}

/// The harness itself: `Reply::Reset` closes the connection before any byte of a response.
#[tokio::test]
async fn the_mock_reset_sends_no_response_head() {
    let _serial = SERIAL.lock().await;
    let mock = MockServer::start("reset").await;
    mock.set_default(Reply::Reset);
    let mut conn = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    conn.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut got))
        .await
        .expect("the mock closes the connection");
    // A clean close or a reset: either way, not one byte of a response.
    assert!(
        got.is_empty(),
        "{read:?}: {}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(mock.hits(), 1);
}
