//! `GET /ready`: whether this node should get traffic. `/health` says the process is alive;
//! `/ready` also checks what requests need: the config is loaded (it is, once this answers),
//! the Redis server shared state goes through is reachable (when `redis:` is configured), the
//! records database answers (when it is open: gateway keys or the request log), and the node is
//! not shutting down. Each check has [`CHECK_TIMEOUT`]; a failed one names itself, never a URL
//! or a password.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::server::App;
use crate::error::json_response;

/// How long one dependency may take to answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn ready(State(app): State<Arc<App>>) -> Response {
    if app.draining.load(Ordering::Acquire) {
        let body = json!({"status": "draining"});
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from(body.to_string()),
        );
    }
    let mut checks = Map::new();
    checks.insert("config".into(), json!("ok"));
    if let Some(r) = &app.config.redis {
        checks.insert("redis".into(), verdict(redis_ping(&r.url).await));
    }
    if let Some(store) = app.governance.store() {
        let pinged = tokio::time::timeout(CHECK_TIMEOUT, store.ping()).await;
        let ok = matches!(pinged, Ok(Ok(())));
        checks.insert("database".into(), verdict(ok));
    }
    let all = checks.values().all(|v| v == "ok");
    let (status, word) = if all {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let body = json!({"status": word, "checks": Value::Object(checks)});
    json_response(status, Bytes::from(body.to_string()))
}

fn verdict(ok: bool) -> Value {
    json!(if ok { "ok" } else { "unreachable" })
}

/// Whether the Redis server at `url` answers `PING` in time.
async fn redis_ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Some(_)))
}
