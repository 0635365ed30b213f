//! Batching export that drops instead of blocking: each sampled request goes into a bounded
//! queue as its shared record ([`Queued`]; a full queue drops its spans and counts them), and
//! one thread of its own wakes every half second (or when a batch is full, never once per
//! request), makes each request's [`SpanSet`], encodes them into OTLP protobuf and POSTs them
//! to the collector, at most [`MAX_BATCH`] spans a request. A collector that is down or slow
//! costs the gateway dropped spans, never a waiting request.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::config::TracesConfig;
use super::encode::{encode_batch, SpanSet};
use super::sampling::TraceId;
use crate::pipeline::RequestRecord;

/// A sampled request waiting for export: its trace and its record, shared with the pipeline
/// (the spans are built from it on the export thread, not the request's).
#[derive(Debug)]
pub struct Queued {
    pub trace_id: TraceId,
    pub record: Arc<RequestRecord>,
}

impl Queued {
    /// The spans this request gives: its server span and one per try.
    fn spans(&self) -> usize {
        1 + self.record.tries.len()
    }
}

/// Makes a request's spans from its record (on the export thread).
pub type BuildSpans = for<'a> fn(TraceId, &'a RequestRecord) -> SpanSet<'a>;

/// Spans waiting for export; beyond this a request's spans are dropped (and counted).
pub const QUEUE_SIZE: usize = 2048;
/// Spans per export request.
pub const MAX_BATCH: usize = 512;
/// How long a span may wait for its batch to fill.
pub const BATCH_DELAY: Duration = Duration::from_millis(500);
/// One export request's deadline.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutting down waits for the last spans to go out.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);
/// The most of a collector's answer that is read (it is only drained, for the connection).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Spans dropped since start: a full queue, or a failed export.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Spans dropped so far by every exporter of this process (the queue was full, or the
/// collector did not take them).
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn drop_spans(n: usize) {
    DROPPED.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Requests waiting for the export thread, and how many spans they make.
#[derive(Debug, Default)]
struct Queue {
    sets: Vec<Queued>,
    spans: usize,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// What the export thread sends with: the client, the URL, the headers, the encoded resource.
struct Sender {
    build: BuildSpans,
    client: HttpsClient,
    endpoint: Uri,
    headers: HeaderMap,
    resource: Vec<u8>,
}

/// The request side of the export: [`Exporter::push`] queues without waiting. Dropping it
/// closes the queue and waits (at most [`SHUTDOWN_WAIT`]) for the thread to send what is left.
#[derive(Debug)]
pub struct Exporter {
    shared: Arc<Shared>,
    /// Signalled (by dropping its sender) when the export thread has sent what it had.
    done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl Exporter {
    /// Starts the export thread for `config`, with `resource` (an encoded `Resource`); `build`
    /// makes each queued request's spans.
    pub fn start(
        config: &TracesConfig,
        resource: Vec<u8>,
        build: BuildSpans,
    ) -> Result<Exporter, String> {
        let endpoint = Uri::from_str(&config.endpoint)
            .map_err(|e| format!("endpoint `{}`: {e}", config.endpoint))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let name = HeaderName::from_str(k).map_err(|e| format!("header `{k}`: {e}"))?;
            let value = HeaderValue::from_str(v).map_err(|e| format!("header `{k}`: {e}"))?;
            headers.insert(name, value);
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("switchyard/", env!("CARGO_PKG_VERSION"))),
        );
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        let sender = Sender {
            build,
            client,
            endpoint,
            headers,
            resource,
        };
        let shared = Arc::new(Shared::default());
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                export_loop(&runtime, &sender, &theirs);
                drop(done_tx);
            })
            .map_err(|e| e.to_string())?;
        Ok(Exporter {
            shared,
            done: Mutex::new(Some(done_rx)),
        })
    }

    /// Queues one request's spans, or drops (and counts) them when the queue is full. Wakes
    /// the export thread only when a batch is full.
    pub fn push(&self, set: Queued) {
        let n = set.spans();
        let mut q = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if q.closed || q.spans + n > QUEUE_SIZE {
            drop(q);
            drop_spans(n);
            return;
        }
        let before = q.spans;
        q.spans += n;
        q.sets.push(set);
        if before < MAX_BATCH && q.spans >= MAX_BATCH {
            self.shared.ready.notify_one();
        }
    }
}

impl Exporter {
    /// Closes the queue and waits (at most [`SHUTDOWN_WAIT`]) for the export thread to send
    /// what it holds; spans pushed after are dropped. Blocks: call it off the async workers.
    pub fn close(&self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.ready.notify_one();
        let done = self
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(rx) = done {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(SHUTDOWN_WAIT)
            {
                tracing::debug!("trace export still running at shutdown; spans left behind");
            }
        }
    }
}

impl Drop for Exporter {
    /// [`Exporter::close`], if the server's shutdown did not already.
    fn drop(&mut self) {
        self.close();
    }
}

/// Takes what is queued every [`BATCH_DELAY`] (or once a batch is full) and exports it in
/// batches of at most [`MAX_BATCH`] spans, until the queue is closed and empty.
fn export_loop(runtime: &tokio::runtime::Runtime, sender: &Sender, shared: &Shared) {
    loop {
        let (queued, closed) = {
            let q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let (mut q, _) = shared
                .ready
                .wait_timeout_while(q, BATCH_DELAY, |q| q.spans < MAX_BATCH && !q.closed)
                .unwrap_or_else(PoisonError::into_inner);
            q.spans = 0;
            (std::mem::take(&mut q.sets), q.closed)
        };
        // Every batch is encoded first and the records let go, then the batches are sent: a
        // record is not kept while a slow collector answers.
        let bodies = encode_all(sender, &queued);
        drop(queued);
        for (body, spans) in bodies {
            if let Err(e) = runtime.block_on(send(sender, body)) {
                drop_spans(spans);
                tracing::debug!(error = %e, spans, "trace export failed; spans dropped");
            }
        }
        if closed {
            break;
        }
    }
}

/// The queued requests' spans, encoded in batches of at most [`MAX_BATCH`] spans (and at least
/// one request): each batch's body and how many spans it holds.
fn encode_all(sender: &Sender, queued: &[Queued]) -> Vec<(Vec<u8>, usize)> {
    let sets: Vec<SpanSet<'_>> = queued
        .iter()
        .map(|q| (sender.build)(q.trace_id, &q.record))
        .collect();
    let mut bodies = Vec::new();
    let mut rest: &[SpanSet<'_>] = &sets;
    while !rest.is_empty() {
        let mut spans = 0;
        let mut take = 0;
        for set in rest {
            if take > 0 && spans + set.spans() > MAX_BATCH {
                break;
            }
            spans += set.spans();
            take += 1;
        }
        let (batch, after) = rest.split_at(take.min(rest.len()));
        rest = after;
        bodies.push((encode_batch(&sender.resource, batch), spans));
    }
    bodies
}

/// POSTs one encoded batch; an error for anything but a 2xx answer within [`EXPORT_TIMEOUT`].
async fn send(sender: &Sender, body: Vec<u8>) -> Result<(), String> {
    let mut req = Request::new(Full::new(Bytes::from(body)));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = sender.endpoint.clone();
    *req.headers_mut() = sender.headers.clone();
    // The timer is made inside the runtime (it needs its clock).
    let exchange = async {
        let resp = sender
            .client
            .request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        // Drain the answer (bounded) so the connection can be reused.
        let mut body = resp.into_body();
        let mut read = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| e.to_string())?;
            if let Ok(chunk) = frame.into_data() {
                read = read.saturating_add(chunk.len());
                if read > MAX_RESPONSE_BYTES {
                    break;
                }
            }
        }
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("collector answered {status}"))
        }
    };
    tokio::time::timeout(EXPORT_TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
}
