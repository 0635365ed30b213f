//! The HTTP server: routes, shared state, and graceful shutdown.
//!
//! Request path (see docs/architecture.md): axum router → handler reads the body once (size
//! limit) → `x-portkey-*` headers parsed → route resolved (header config, provider header, model
//! alias, `provider/model`, default) → engine walks the tree (retries, fallback, loadbalance,
//! conditional) → response with Portkey's headers → one access-log line.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;

use super::handlers;
use crate::config::GatewayConfig;
use crate::engine::Engine;
use crate::upstream::{build_client, FilteringResolver, Policy};

/// State shared by every request.
pub struct App {
    pub config: GatewayConfig,
    pub engine: Engine,
}

/// The router, for serving or for in-process tests.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(handlers::health))
        .route(
            "/v1/chat/completions",
            post(handlers::chat_completions).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/completions",
            post(handlers::completions).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/embeddings",
            post(handlers::embeddings).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/models",
            get(handlers::models).fallback(handlers::method_not_allowed),
        )
        .route("/v1/{*rest}", any(handlers::proxy))
        .fallback(handlers::not_found)
        .with_state(app)
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Binds `addr` (or the config's `server.listen`) and builds the shared state.
    pub async fn bind(config: GatewayConfig, addr: Option<SocketAddr>) -> std::io::Result<Server> {
        let addr = addr.unwrap_or(config.server.listen);
        let listener = TcpListener::bind(addr).await?;
        let settings = Arc::new(config.server.clone());
        // Configured and client-supplied hosts share this client; client hosts are still
        // checked before the request (`Engine::check_resolved`).
        let resolver = FilteringResolver::new(&settings.dns, Policy::Any);
        let client = build_client(&settings, resolver)?;
        let engine = Engine::new(client, settings);
        Ok(Server {
            listener,
            app: Arc::new(App { config, engine }),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight requests
    /// (streams included) finish for up to `server.shutdown_grace`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let grace = self.app.config.server.shutdown_grace;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            let _ = tx.send(());
        };
        // Small writes (a response head, one stream event) go out at once, not after Nagle's
        // algorithm waits for an ACK.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serve = axum::serve(listener, router(self.app))
            .with_graceful_shutdown(signal)
            .into_future();
        tokio::pin!(serve);
        tokio::select! {
            res = &mut serve => res,
            _ = async {
                if rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "shutdown grace period over; closing remaining connections");
                Ok(())
            }
        }
    }
}
