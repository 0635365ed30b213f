//! Batching export that drops instead of blocking: ended spans go into a bounded queue (a full
//! queue drops the span and counts it), and one thread of its own wakes every half second (or
//! when a batch is full, never once per span) and sends them to the collector in batches over
//! OTLP/HTTP. A collector that is down or slow costs the gateway dropped spans,
//! never a waiting request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::config::TracesConfig;

/// Spans waiting for export; beyond this a span is dropped (and counted).
pub const QUEUE_SIZE: usize = 2048;
/// Spans per export request.
pub const MAX_BATCH: usize = 512;
/// How long a span may wait for its batch to fill.
pub const BATCH_DELAY: Duration = Duration::from_millis(500);
/// One export request's deadline.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutting down waits for the last spans to go out.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Spans dropped since start: a full queue, or a failed export.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Spans dropped so far by every exporter of this process (the queue was full, or the
/// collector did not take them).
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Spans waiting for the export thread. Requests only push (under a short lock); the thread
/// wakes every [`BATCH_DELAY`], or as soon as a batch is full — never once per span.
#[derive(Debug, Default)]
struct Queue {
    spans: Vec<SpanData>,
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// The span processor: hands ended, sampled spans to the export thread without waiting.
#[derive(Debug)]
pub struct DroppingProcessor {
    shared: Arc<Shared>,
    /// Signalled (by dropping its sender) when the export thread has sent what it had.
    done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl DroppingProcessor {
    /// Builds the OTLP/HTTP exporter for `config` and starts the export thread.
    pub fn start(config: &TracesConfig, resource: &Resource) -> Result<Self, String> {
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = opentelemetry_http::hyper::HyperClient::new(https, EXPORT_TIMEOUT, None);
        let headers: HashMap<String, String> = config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_endpoint(config.endpoint.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .with_headers(headers)
            .build()
            .map_err(|e| e.to_string())?;
        exporter.set_resource(resource);
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
                export_loop(&runtime, &exporter, &theirs);
                drop(done_tx);
            })
            .map_err(|e| e.to_string())?;
        Ok(DroppingProcessor {
            shared,
            done: Mutex::new(Some(done_rx)),
        })
    }
}

/// Takes what is queued every [`BATCH_DELAY`] (or once a batch is full) and exports it in
/// batches of at most [`MAX_BATCH`], until the queue is closed and empty.
fn export_loop(
    runtime: &tokio::runtime::Runtime,
    exporter: &opentelemetry_otlp::SpanExporter,
    shared: &Shared,
) {
    loop {
        let (spans, closed) = {
            let q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let (mut q, _) = shared
                .ready
                .wait_timeout_while(q, BATCH_DELAY, |q| q.spans.len() < MAX_BATCH && !q.closed)
                .unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut q.spans), q.closed)
        };
        let mut spans = spans;
        while !spans.is_empty() {
            let rest = spans.split_off(spans.len().min(MAX_BATCH));
            let batch = std::mem::replace(&mut spans, rest);
            let n = batch.len() as u64;
            // The timer is made inside the runtime (it needs its clock).
            let sent = runtime.block_on(async {
                tokio::time::timeout(
                    EXPORT_TIMEOUT + Duration::from_secs(1),
                    exporter.export(batch),
                )
                .await
            });
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    DROPPED.fetch_add(n, Ordering::Relaxed);
                    tracing::debug!(error = %e, spans = n, "trace export failed; spans dropped");
                }
                Err(_) => {
                    DROPPED.fetch_add(n, Ordering::Relaxed);
                    tracing::debug!(spans = n, "trace export timed out; spans dropped");
                }
            }
        }
        if closed {
            break;
        }
    }
}

impl SpanProcessor for DroppingProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let mut q = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if q.closed || q.spans.len() >= QUEUE_SIZE {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        q.spans.push(span);
        if q.spans.len() == MAX_BATCH {
            self.shared.ready.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Spans go out within BATCH_DELAY; nothing waits for them.
        Ok(())
    }

    /// Closes the queue and waits (up to `timeout`) for the export thread to send what it holds.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
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
        match done {
            Some(rx) => match rx.recv_timeout(timeout.min(SHUTDOWN_WAIT)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    Err(OTelSdkError::Timeout(timeout))
                }
                _ => Ok(()),
            },
            None => Err(OTelSdkError::AlreadyShutdown),
        }
    }
}
