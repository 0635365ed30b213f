//! Batching export that drops instead of blocking: ended spans go into a bounded queue (a full
//! queue drops the span and counts it), and one thread of its own sends them to the collector
//! in batches over OTLP/HTTP. A collector that is down or slow costs the gateway dropped spans,
//! never a waiting request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;
use tokio::sync::mpsc;

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

/// The span processor: hands ended, sampled spans to the export thread without waiting.
#[derive(Debug)]
pub struct DroppingProcessor {
    queue: Mutex<Option<mpsc::Sender<SpanData>>>,
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
        let (tx, rx) = mpsc::channel(QUEUE_SIZE);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                runtime.block_on(export_loop(exporter, rx));
                drop(done_tx);
            })
            .map_err(|e| e.to_string())?;
        Ok(DroppingProcessor {
            queue: Mutex::new(Some(tx)),
            done: Mutex::new(Some(done_rx)),
        })
    }
}

/// Collects spans into batches (up to [`MAX_BATCH`], or what arrived within [`BATCH_DELAY`]
/// of the first) and exports them, until the queue is closed and empty.
async fn export_loop(exporter: opentelemetry_otlp::SpanExporter, mut rx: mpsc::Receiver<SpanData>) {
    loop {
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH.min(64));
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_DELAY;
        let mut closed = false;
        while batch.len() < MAX_BATCH {
            tokio::select! {
                span = rx.recv() => match span {
                    Some(s) => batch.push(s),
                    None => {
                        closed = true;
                        break;
                    }
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        let n = batch.len() as u64;
        let sent = tokio::time::timeout(
            EXPORT_TIMEOUT + Duration::from_secs(1),
            exporter.export(batch),
        )
        .await;
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
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let sent = match queue.as_ref() {
            Some(tx) => tx.try_send(span).is_ok(),
            None => false,
        };
        if !sent {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Spans go out within BATCH_DELAY; nothing waits for them.
        Ok(())
    }

    /// Closes the queue and waits (up to `timeout`) for the export thread to send what it holds.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        drop(
            self.queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
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
