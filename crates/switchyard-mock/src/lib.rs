//! A fast, scriptable mock of an OpenAI-compatible LLM upstream, for tests and benchmarks.
//!
//! By default it answers like OpenAI: `POST /v1/chat/completions` (JSON, or SSE when the body
//! asks for `"stream": true`), `/v1/completions`, `/v1/embeddings`, `GET /v1/models`. Embeddings
//! are a fixed vector, except for the model [`BAG_OF_WORDS`]: a vector of the input's words, so
//! texts with the same words get the same direction (for semantic cache tests). A chat request
//! that forces a tool (`tool_choice` `required` or a named function) gets a call of that tool
//! (each required parameter `"mock"`) until its last message is the tool's result. Images,
//! speech (bytes) and transcriptions get fixed answers. Tests can
//! script the next replies ([`Reply`]: any status and body, event streams that end cleanly, get
//! cut, or stall, delays, hangs, connection resets, malformed bodies) and read back every request
//! the mock received.
//!
//! For cancellation and leak tests it counts the work it has in flight: streamed response bodies
//! ([`MockServer::streams_started`], [`MockServer::streams_cancelled`],
//! [`MockServer::streams_open`]) and request handlers ([`MockServer::handlers_cancelled`],
//! [`MockServer::handlers_open`]). A body or handler is *cancelled* when the peer went away
//! (the connection closed) before the mock finished it.
//!
//! [`dns::MockDns`] is a scriptable DNS server for resolver tests.

pub mod dns;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The embedding model whose vectors depend on the text: one of 64 dimensions per word
/// (lowercased letters and digits; FNV-1a picks the dimension), counting its occurrences.
pub const BAG_OF_WORDS: &str = "mock-bag-of-words";

/// The [`BAG_OF_WORDS`] vector of `text`.
pub fn bag_of_words(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 64];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut h: u32 = 0x811c_9dc5;
        for b in word.to_lowercase().bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        v[(h % 64) as usize] += 1.0;
    }
    v
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    /// The body as JSON (panics in tests if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a scripted event stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// `data: [DONE]` and a clean close.
    Done,
    /// The connection is cut without `[DONE]` (after the events have been flushed).
    Cut,
    /// The body ends cleanly but without `[DONE]`.
    Close,
    /// The stream goes silent and never closes.
    Stall,
}

/// A reply the mock gives.
#[derive(Debug, Clone)]
pub enum Reply {
    /// OpenAI-style answer for the path (chat JSON/SSE, completions, embeddings, models).
    Default,
    /// A fixed status and JSON body.
    Json {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// An event stream: each string is sent as one `data:` event.
    Sse {
        events: Vec<String>,
        gap: Duration,
        end: StreamEnd,
    },
    /// Waits, then gives the inner reply.
    Delay(Duration, Box<Reply>),
    /// Never answers.
    Hang,
    /// Sends the head and part of a body, then resets the connection.
    CutBody { status: u16, partial: String },
    /// Any status, content type and body, sent in the given pieces (e.g. a provider's own
    /// event stream, SSE or binary), `gap` apart.
    Raw {
        status: u16,
        content_type: String,
        chunks: Vec<Bytes>,
        gap: Duration,
    },
    /// Closes the connection without sending a response head: the client sees the connection
    /// end (or reset) before any byte of a response.
    Reset,
    /// The inner reply with these extra response headers (set after the reply's own).
    WithHeaders(Vec<(String, String)>, Box<Reply>),
    /// An event stream whose last event is cut off: `events` as whole `data:` events, then
    /// `partial` (the start of one more event, without its closing blank line), then `end`.
    /// `Done` closes cleanly like `Close` (no `[DONE]` can follow a broken event).
    TruncatedSse {
        events: Vec<String>,
        partial: String,
        end: StreamEnd,
    },
}

impl Reply {
    pub fn status(status: u16, body: Value) -> Reply {
        Reply::Json {
            status,
            body: body.to_string(),
            headers: vec![],
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::status(
            status,
            json!({"error": {"message": message, "type": "upstream_error", "param": null, "code": null}}),
        )
    }

    /// A 200 whose JSON body stops half-way: `{"id": "x", "choices": [`.
    pub fn malformed_json() -> Reply {
        Reply::Json {
            status: 200,
            body: r#"{"id": "x", "choices": ["#.to_owned(),
            headers: vec![],
        }
    }

    /// An event stream that opens with a role-only chunk, then sends one complete event whose
    /// data is not JSON (`{"id": "x", "choices": [`), then `data: [DONE]`.
    pub fn garbled_sse() -> Reply {
        Reply::Sse {
            events: vec![role_chunk(), r#"{"id": "x", "choices": ["#.to_owned()],
            gap: Duration::ZERO,
            end: StreamEnd::Done,
        }
    }

    /// A long chat completion stream: a role-only chunk, `n` content chunks (`" tick 0"`, …),
    /// a finish chunk and `data: [DONE]`, `gap` apart — `n · gap` in all.
    pub fn long_stream(n: usize, gap: Duration) -> Reply {
        let mut events = Vec::with_capacity(n + 2);
        events.push(role_chunk());
        events.extend((0..n).map(|i| content_chunk(&format!(" tick {i}"))));
        events.push(
            json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
                   "model": "mock-model", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            .to_string(),
        );
        Reply::Sse {
            events,
            gap,
            end: StreamEnd::Done,
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Json {
                status,
                body,
                mut headers,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Reply::Json {
                    status,
                    body,
                    headers,
                }
            }
            other => other,
        }
    }
}

/// The chunk `{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, as OpenAI
/// opens a stream.
pub fn role_chunk() -> String {
    json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
           "model": "mock-model", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]})
    .to_string()
}

/// A chat chunk whose delta carries `text`.
pub fn content_chunk(text: &str) -> String {
    json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
           "model": "mock-model", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    .to_string()
}

/// Work in flight, for cancellation and leak tests.
#[derive(Default)]
struct Counters {
    streams_started: AtomicUsize,
    streams_cancelled: AtomicUsize,
    streams_open: AtomicUsize,
    handlers_cancelled: AtomicUsize,
    handlers_open: AtomicUsize,
}

/// Counts one handler; dropped before [`HandlerGuard::finish`] means the connection went away
/// while the handler was still working (reading the body, waiting, hanging).
struct HandlerGuard {
    counters: Arc<Counters>,
    done: bool,
}

impl HandlerGuard {
    fn new(counters: &Arc<Counters>) -> HandlerGuard {
        counters.handlers_open.fetch_add(1, Ordering::Relaxed);
        HandlerGuard {
            counters: counters.clone(),
            done: false,
        }
    }

    fn finish(mut self) {
        self.done = true;
        self.counters.handlers_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        if !self.done {
            self.counters
                .handlers_cancelled
                .fetch_add(1, Ordering::Relaxed);
            self.counters.handlers_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Counts one streamed body; dropped before its end (or its scripted error) means the client
/// stopped reading it.
struct StreamGuard {
    counters: Arc<Counters>,
    done: bool,
}

impl StreamGuard {
    fn new(counters: &Arc<Counters>) -> StreamGuard {
        counters.streams_started.fetch_add(1, Ordering::Relaxed);
        counters.streams_open.fetch_add(1, Ordering::Relaxed);
        StreamGuard {
            counters: counters.clone(),
            done: false,
        }
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.counters.streams_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if !self.done {
            self.counters
                .streams_cancelled
                .fetch_add(1, Ordering::Relaxed);
            self.counters.streams_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

type ChunkStream = futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A response body from `stream`, counted by a [`StreamGuard`]. The body is finished when the
/// stream ends or yields its (scripted) error.
fn counted_body(counters: &Arc<Counters>, stream: ChunkStream) -> Body {
    let guard = StreamGuard::new(counters);
    Body::from_stream(futures_util::stream::unfold(
        (stream, guard),
        |(mut stream, mut guard)| async move {
            match stream.next().await {
                Some(Ok(b)) => Some((Ok(b), (stream, guard))),
                Some(Err(e)) => {
                    guard.finish();
                    Some((Err(e), (stream, guard)))
                }
                None => {
                    guard.finish();
                    None
                }
            }
        },
    ))
}

struct Shared {
    name: String,
    counters: Arc<Counters>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    recorded: Mutex<Vec<Recorded>>,
    record: bool,
    hits: AtomicUsize,
    latency: Duration,
}

/// A running mock upstream. Dropping it does not stop the server task (it ends with the runtime).
#[derive(Clone)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// Options for [`MockServer::start_with`].
#[derive(Debug, Clone)]
pub struct MockOptions {
    pub name: String,
    pub addr: SocketAddr,
    /// Keep every request for [`MockServer::requests`] (off for benchmarks).
    pub record: bool,
    /// Added before every default reply.
    pub latency: Duration,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            name: "mock".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            record: true,
            latency: Duration::ZERO,
        }
    }
}

impl MockServer {
    /// Starts a recording mock on a free loopback port; `name` appears in its answers.
    #[allow(clippy::panic)]
    pub async fn start(name: &str) -> MockServer {
        Self::start_with(MockOptions {
            name: name.to_owned(),
            ..MockOptions::default()
        })
        .await
        .unwrap_or_else(|e| panic!("mock upstream failed to bind: {e}"))
    }

    pub async fn start_with(opts: MockOptions) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(opts.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            name: opts.name,
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::Default),
            recorded: Mutex::new(Vec::new()),
            record: opts.record,
            hits: AtomicUsize::new(0),
            latency: opts.latency,
            counters: Arc::default(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(MockServer { addr, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI-style base URL, ending in `/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues replies for the next requests, in order.
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.script).push_back(reply);
    }

    /// The reply once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.shared.default) = reply;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.recorded).clone()
    }

    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::Relaxed)
    }

    /// Streamed response bodies (`Sse`, `TruncatedSse`, `Raw`, `CutBody` and the default SSE
    /// answer) the mock started sending.
    pub fn streams_started(&self) -> usize {
        self.shared.counters.streams_started.load(Ordering::Relaxed)
    }

    /// Streamed bodies dropped before their end: the client closed the connection mid-stream.
    pub fn streams_cancelled(&self) -> usize {
        self.shared
            .counters
            .streams_cancelled
            .load(Ordering::Relaxed)
    }

    /// Streamed bodies still being sent (neither finished nor cancelled).
    pub fn streams_open(&self) -> usize {
        self.shared.counters.streams_open.load(Ordering::Relaxed)
    }

    /// Request handlers dropped before they produced a response: the client closed the
    /// connection while the mock was waiting (`Delay`, `Hang`) or reading the body.
    pub fn handlers_cancelled(&self) -> usize {
        self.shared
            .counters
            .handlers_cancelled
            .load(Ordering::Relaxed)
    }

    /// Request handlers still working on a response.
    pub fn handlers_open(&self) -> usize {
        self.shared.counters.handlers_open.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    shared.hits.fetch_add(1, Ordering::Relaxed);
    let guard = HandlerGuard::new(&shared.counters);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if shared.record {
        lock(&shared.recorded).push(Recorded {
            method: parts.method.clone(),
            path: path.clone(),
            headers: parts.headers.clone(),
            body: body.clone(),
        });
    }
    let reply = lock(&shared.script)
        .pop_front()
        .unwrap_or_else(|| lock(&shared.default).clone());
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let resp = respond(&shared, reply, &path, &body).await;
    guard.finish();
    resp
}

async fn respond(shared: &Shared, mut reply: Reply, path: &str, body: &Bytes) -> Response {
    let mut extra = Vec::new();
    loop {
        match reply {
            Reply::WithHeaders(headers, inner) => {
                extra.extend(headers);
                reply = *inner;
            }
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            other => {
                reply = other;
                break;
            }
        }
    }
    let mut resp = respond_plain(shared, reply, path, body).await;
    for (k, v) in extra {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

async fn respond_plain(shared: &Shared, mut reply: Reply, path: &str, body: &Bytes) -> Response {
    let name = shared.name.as_str();
    let counters = &shared.counters;
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::Hang => std::future::pending::<()>().await,
            // Peeled off by `respond`.
            Reply::WithHeaders(_, inner) => reply = *inner,
            Reply::Default => return default_reply(counters, name, path, body),
            Reply::Json {
                status,
                body,
                headers,
            } => {
                let mut resp = json_response(status, body.into());
                for (k, v) in headers {
                    if let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(k.as_bytes()),
                        HeaderValue::from_str(&v),
                    ) {
                        resp.headers_mut().insert(k, v);
                    }
                }
                return resp;
            }
            Reply::Sse { events, gap, end } => return sse_response(counters, events, gap, end),
            Reply::TruncatedSse {
                events,
                partial,
                end,
            } => {
                let mut frames: Vec<Bytes> = events
                    .into_iter()
                    .map(|e| Bytes::from(format!("data: {e}\n\n")))
                    .collect();
                frames.push(Bytes::from(partial));
                return sse_frames(counters, frames, Duration::ZERO, end);
            }
            Reply::Reset => {
                // The head is only buffered when the body is first polled; a body that fails at
                // once makes hyper drop the connection without writing it.
                let stream = futures_util::stream::once(async {
                    Err::<Bytes, std::io::Error>(std::io::Error::other("mock reset the connection"))
                });
                return Response::new(Body::from_stream(stream));
            }
            Reply::Raw {
                status,
                content_type,
                chunks,
                gap,
            } => {
                let stream = futures_util::stream::iter(chunks.into_iter().enumerate()).then(
                    move |(i, c)| async move {
                        if i > 0 && !gap.is_zero() {
                            tokio::time::sleep(gap).await;
                        }
                        Ok::<Bytes, std::io::Error>(c)
                    },
                );
                let mut resp = Response::new(counted_body(counters, stream.boxed()));
                *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                if let Ok(v) = HeaderValue::from_str(&content_type) {
                    resp.headers_mut().insert("content-type", v);
                }
                return resp;
            }
            Reply::CutBody { status, partial } => {
                let stream = futures_util::stream::iter(vec![Ok::<Bytes, std::io::Error>(
                    Bytes::from(partial),
                )])
                .chain(futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("mock cut the connection"))
                }));
                let mut resp = Response::new(counted_body(counters, stream.boxed()));
                *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                resp.headers_mut()
                    .insert("content-type", HeaderValue::from_static("application/json"));
                return resp;
            }
        }
    }
}

fn json_response(status: u16, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

fn sse_response(
    counters: &Arc<Counters>,
    events: Vec<String>,
    gap: Duration,
    end: StreamEnd,
) -> Response {
    let mut frames: Vec<Bytes> = events
        .into_iter()
        .map(|e| Bytes::from(format!("data: {e}\n\n")))
        .collect();
    if end == StreamEnd::Done {
        frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    }
    sse_frames(counters, frames, gap, end)
}

/// An event stream of raw `frames`, `gap` apart, ending as `end` says (`Done` only closes: the
/// caller adds `[DONE]` when it wants one).
fn sse_frames(
    counters: &Arc<Counters>,
    frames: Vec<Bytes>,
    gap: Duration,
    end: StreamEnd,
) -> Response {
    let stream = futures_util::stream::iter(frames.into_iter().enumerate())
        .then(move |(i, f)| async move {
            if i > 0 && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            Ok::<Bytes, std::io::Error>(f)
        })
        .chain(futures_util::stream::once(async move {
            match end {
                StreamEnd::Done | StreamEnd::Close => Ok(Bytes::new()),
                StreamEnd::Cut => {
                    // Let the events already written reach the client before the reset.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("mock cut the stream"))
                }
                StreamEnd::Stall => {
                    std::future::pending::<()>().await;
                    Ok(Bytes::new())
                }
            }
        }));
    let mut resp = Response::new(counted_body(counters, stream.boxed()));
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    resp
}

/// The chunks of the default streamed chat answer: role, three content pieces, finish, and the
/// usage chunk when asked for.
pub fn chat_chunks(name: &str, model: &str, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
               "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        .to_string()
    };
    let mut out = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Hello"}), Value::Null),
        chunk(json!({"content": " from"}), Value::Null),
        chunk(json!({"content": format!(" {name}")}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    if include_usage {
        out.push(
            json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
                   "model": model, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
            .to_string(),
        );
    }
    out
}

/// The tool call a chat request forces (`tool_choice` `required` or naming a function) while
/// its last message is not already a tool result: the tool's name and arguments giving each
/// required parameter the string `"mock"`.
fn forced_tool_call(req: &Value) -> Option<(String, String)> {
    let tools = req.get("tools")?.as_array()?;
    let last_is_result = req
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m.get("role"))
        .is_some_and(|r| r == "tool");
    if last_is_result {
        return None;
    }
    let function = match req.get("tool_choice")? {
        Value::String(s) if s == "required" => tools.first()?.get("function")?,
        Value::Object(o) => {
            let wanted = o.get("function")?.get("name")?;
            tools
                .iter()
                .filter_map(|t| t.get("function"))
                .find(|f| f.get("name") == Some(wanted))?
        }
        _ => return None,
    };
    let name = function.get("name")?.as_str()?.to_owned();
    let mut args = serde_json::Map::new();
    for p in function
        .pointer("/parameters/required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        args.insert(p.to_owned(), json!("mock"));
    }
    Some((name, Value::Object(args).to_string()))
}

/// A chat answer that calls `call` (name, arguments), whole or streamed (arguments in two
/// pieces).
fn tool_reply(
    counters: &Arc<Counters>,
    model: &str,
    (name, args): (String, String),
    stream: bool,
    usage: bool,
) -> Response {
    let id = "call_mock_1";
    if !stream {
        let body = json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000u64, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": args}}]},
                "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        });
        return json_response(200, body.to_string().into());
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
               "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        .to_string()
    };
    let half = args.len() / 2;
    let (a, b) = args.split_at(
        args.char_indices()
            .map(|(i, _)| i)
            .find(|i| *i >= half)
            .unwrap_or(0),
    );
    let mut events = vec![
        chunk(json!({"role": "assistant", "content": null}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    if usage {
        events.push(
            json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
                   "model": model, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
            .to_string(),
        );
    }
    sse_response(counters, events, Duration::ZERO, StreamEnd::Done)
}

fn default_reply(counters: &Arc<Counters>, name: &str, path: &str, body: &Bytes) -> Response {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock-model");
    let path = path.split('?').next().unwrap_or(path);
    if path.ends_with("/chat/completions") {
        let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
        let usage = req
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(call) = forced_tool_call(&req) {
            return tool_reply(counters, model, call, stream, usage);
        }
        if stream {
            return sse_response(
                counters,
                chat_chunks(name, model, usage),
                Duration::ZERO,
                StreamEnd::Done,
            );
        }
        let body = json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000u64, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Hello from {name}")},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            "system_fingerprint": "fp_mock"
        });
        return json_response(200, body.to_string().into());
    }
    if path.ends_with("/completions") {
        let body = json!({
            "id": "cmpl-mock", "object": "text_completion", "created": 1_700_000_000u64, "model": model,
            "choices": [{"index": 0, "text": format!("Hello from {name}"), "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        });
        return json_response(200, body.to_string().into());
    }
    if path.ends_with("/embeddings") {
        let inputs: Vec<&str> = match req.get("input") {
            Some(Value::Array(a)) if a.first().is_some_and(Value::is_string) => {
                a.iter().map(|v| v.as_str().unwrap_or_default()).collect()
            }
            Some(Value::String(s)) => vec![s.as_str()],
            _ => vec![""],
        };
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let embedding = if model == BAG_OF_WORDS {
                    json!(bag_of_words(text))
                } else {
                    json!([0.1, 0.2, 0.3])
                };
                json!({"object": "embedding", "index": i, "embedding": embedding})
            })
            .collect();
        let body = json!({"object": "list", "data": data, "model": model,
                          "usage": {"prompt_tokens": 2, "total_tokens": 2}});
        return json_response(200, body.to_string().into());
    }
    if path.ends_with("/models") {
        let body = json!({"object": "list", "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": name}]});
        return json_response(200, body.to_string().into());
    }
    if path.ends_with("/images/generations") {
        let body = json!({"created": 1_700_000_000u64, "data": [{"b64_json": TINY_PNG_B64, "revised_prompt": format!("drawn by {name}")}]});
        return json_response(200, body.to_string().into());
    }
    if path.ends_with("/audio/speech") {
        // Audio bytes, as OpenAI streams them (the content is not real audio).
        let mut resp = Response::new(Body::from(speech_bytes(name)));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("audio/mpeg"),
        );
        return resp;
    }
    if path.ends_with("/audio/transcriptions") || path.ends_with("/audio/translations") {
        // The multipart upload's size proves the file arrived whole.
        let body = json!({"text": format!("Hello from {name}"), "bytes_received": body.len()});
        return json_response(200, body.to_string().into());
    }
    let body = json!({"echo": {"path": path, "name": name}});
    json_response(200, body.to_string().into())
}

/// A 1×1 PNG, base64: what the mock "draws".
pub const TINY_PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// The mock's "speech": 16 KiB of bytes starting with an ID3 tag and the mock's name.
pub fn speech_bytes(name: &str) -> Vec<u8> {
    let mut out = b"ID3".to_vec();
    out.extend_from_slice(name.as_bytes());
    out.resize(16 << 10, 0x55);
    out
}
