//! `switchyard-mock`: a standalone mock upstream for benchmarks and SDK tests.
//!
//! Usage: `switchyard-mock [--port N] [--latency-ms N] [--name NAME] [--threads N] [--fast]
//! [--stream-gap-ms N] [--stream-events N] [--fail-every N]`. Once bound it prints one line on
//! stdout, `listening on http://127.0.0.1:PORT`, with the actual port: `--port` defaults to 0, a
//! free port picked by the OS, so callers read the line instead of choosing a port (and racing
//! for it). Nothing else is written to stdout.
//!
//! `--fast` serves precomputed answers from a bare hyper HTTP/1.1 server (no routing, no JSON
//! parsing), so in benchmarks the mock is never the bottleneck: a request whose body contains
//! `"stream":true` gets an SSE stream (by default 6 `chat.completion.chunk` events then
//! `[DONE]`; `--stream-events N` makes it N chunks then `[DONE]`, and `--stream-gap-ms N` waits
//! that long before every event after the first), an Anthropic-style path (`/v1/messages`) gets
//! an Anthropic answer, anything else an OpenAI chat completion. `--fail-every N` answers every
//! N-th request with a 503 OpenAI error instead (for soak runs with a mix of failures). A stream
//! costs the mock little beyond its connection: a shared reference to the precomputed events,
//! an index and a timer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use switchyard_mock::{chat_chunks, MockOptions, MockServer};

fn arg(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = arg(&args, "--port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let latency = arg(&args, "--latency-ms")
        .and_then(|p| p.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or_default();
    let gap = arg(&args, "--stream-gap-ms")
        .and_then(|p| p.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or_default();
    let name = arg(&args, "--name").unwrap_or_else(|| "mock".into());
    let threads: usize = arg(&args, "--threads")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let fast = args.iter().any(|a| a == "--fast");
    let fail_every: usize = arg(&args, "--fail-every")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let stream_events: usize = arg(&args, "--stream-events")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if fast {
            let opts = FastOptions {
                latency,
                gap,
                fail_every,
                stream_events,
            };
            return match serve_fast(addr, &name, opts).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bind: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        let opts = MockOptions {
            name,
            addr,
            record: false,
            latency,
        };
        match MockServer::start_with(opts).await {
            Ok(mock) => {
                println!("listening on http://{}", mock.addr());
                std::future::pending::<()>().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("bind: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}

struct FastOptions {
    latency: Duration,
    gap: Duration,
    fail_every: usize,
    /// Chunks in a streamed answer (0: the default 6 of [`chat_chunks`] with usage).
    stream_events: usize,
}

struct Canned {
    chat: Bytes,
    error: Bytes,
    fail_every: usize,
    served: std::sync::atomic::AtomicUsize,
    anthropic: Bytes,
    events: Vec<Bytes>,
    latency: Duration,
    gap: Duration,
}

/// The SSE frames of a streamed answer: `n` `chat.completion.chunk` events (a role chunk,
/// content chunks, a final chunk with `finish_reason: "stop"`; one chunk carries both role and
/// finish), then `data: [DONE]`. With `n == 0`, the default [`chat_chunks`] (with a usage chunk).
fn stream_events(name: &str, n: usize) -> Vec<Bytes> {
    let chunks = if n == 0 {
        chat_chunks(name, "gpt-4o-mini", true)
    } else {
        let chunk = |delta: &str, finish: &str| {
            format!(
                r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
            )
        };
        let role = r#"{"role":"assistant","content":""}"#;
        (0..n)
            .map(|i| match i {
                0 if n == 1 => chunk(role, r#""stop""#),
                0 => chunk(role, "null"),
                i if i == n - 1 => chunk("{}", r#""stop""#),
                i => chunk(&format!(r#"{{"content":" word{i}"}}"#), "null"),
            })
            .collect()
    };
    let mut events: Vec<Bytes> = chunks
        .into_iter()
        .map(|e| Bytes::from(format!("data: {e}\n\n")))
        .collect();
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    events
}

async fn serve_fast(addr: SocketAddr, name: &str, opts: FastOptions) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let chat = format!(
        r#"{{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hello from {name}"}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}},"system_fingerprint":"fp_mock"}}"#
    );
    let anthropic = format!(
        r#"{{"id":"msg_mock","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[{{"type":"text","text":"Hello from {name}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":5,"output_tokens":3}}}}"#
    );
    let events = stream_events(name, opts.stream_events);
    let canned = std::sync::Arc::new(Canned {
        chat: Bytes::from(chat),
        error: Bytes::from_static(
            br#"{"error":{"message":"mock overloaded","type":"server_error","param":null,"code":null}}"#,
        ),
        fail_every: opts.fail_every,
        served: std::sync::atomic::AtomicUsize::new(0),
        anthropic: Bytes::from(anthropic),
        events,
        latency: opts.latency,
        gap: opts.gap,
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let canned = canned.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(canned.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// `"stream": true` anywhere in the body (any spacing), without parsing it.
fn asks_to_stream(body: &[u8]) -> bool {
    body.windows(8).enumerate().any(|(i, w)| {
        w == b"\"stream\"" && {
            let rest = &body[i + 8..];
            let rest = rest.trim_ascii_start();
            rest.strip_prefix(b":")
                .is_some_and(|r| r.trim_ascii_start().starts_with(b"true"))
        }
    })
}

type FastBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn answer(
    c: std::sync::Arc<Canned>,
    req: Request<Incoming>,
) -> Result<Response<FastBody>, Infallible> {
    let anthropic = req.uri().path().ends_with("/messages");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if !c.latency.is_zero() {
        tokio::time::sleep(c.latency).await;
    }
    let n = c.served.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if c.fail_every > 0 && n % c.fail_every == 0 {
        let resp = Response::builder()
            .status(503)
            .header("content-type", "application/json")
            .body(BodyExt::boxed(Full::new(c.error.clone())));
        return Ok(resp.unwrap_or_else(|_| Response::new(BodyExt::boxed(Full::new(Bytes::new())))));
    }
    let stream = asks_to_stream(&body);
    let resp = if stream && !anthropic {
        // Per stream: the shared `Canned` and an index (no copy of the event list).
        let s = futures_util::stream::unfold((c, 0usize), |(c, i)| async move {
            let ev = c.events.get(i)?.clone();
            if i > 0 && !c.gap.is_zero() {
                tokio::time::sleep(c.gap).await;
            }
            Some((Ok::<_, Infallible>(Frame::data(ev)), (c, i + 1)))
        });
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(BodyExt::boxed(StreamBody::new(s)))
    } else {
        let bytes = if anthropic {
            c.anthropic.clone()
        } else {
            c.chat.clone()
        };
        Response::builder()
            .header("content-type", "application/json")
            .body(BodyExt::boxed(Full::new(bytes)))
    };
    Ok(resp.unwrap_or_else(|_| Response::new(BodyExt::boxed(Full::new(Bytes::new())))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(events: &[Bytes]) -> Vec<serde_json::Value> {
        events[..events.len() - 1]
            .iter()
            .map(|e| {
                let text = std::str::from_utf8(e).unwrap();
                let json = text
                    .strip_prefix("data: ")
                    .unwrap()
                    .strip_suffix("\n\n")
                    .unwrap();
                serde_json::from_str(json).unwrap()
            })
            .collect()
    }

    #[test]
    fn stream_events_are_n_chunks_then_done() {
        for n in [1, 2, 10] {
            let events = stream_events("m", n);
            assert_eq!(events.len(), n + 1);
            assert_eq!(events[n], Bytes::from_static(b"data: [DONE]\n\n"));
            let chunks = parsed(&events);
            assert!(chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk"));
            assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
            assert_eq!(chunks[n - 1]["choices"][0]["finish_reason"], "stop");
        }
    }

    #[test]
    fn default_stream_is_the_usage_stream() {
        let events = stream_events("m", 0);
        assert_eq!(events.len(), 7);
        let chunks = parsed(&events);
        assert!(chunks[5]["usage"].is_object());
    }

    #[test]
    fn asks_to_stream_reads_the_flag_with_any_spacing() {
        assert!(asks_to_stream(br#"{"model":"m","stream":true}"#));
        assert!(asks_to_stream(br#"{"stream" :  true}"#));
        assert!(!asks_to_stream(br#"{"stream":false}"#));
        assert!(!asks_to_stream(br#"{"model":"stream"}"#));
    }
}
