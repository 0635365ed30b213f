//! Shared test harness: the real server on a loopback port 0, driven over HTTP.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;

use serde_json::{json, Value};
use switchyard_gateway::{GatewayConfig, Server};
use tokio::sync::oneshot;

pub use switchyard_mock::{MockServer, Reply, StreamEnd};

pub struct Gateway {
    pub addr: SocketAddr,
    /// Applies a new config to the running server.
    pub reloader: switchyard_gateway::http::reload::Reloader,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    /// Starts a gateway with the given YAML config (use "" for none).
    pub async fn start(yaml: &str) -> Gateway {
        Self::start_env(yaml, &|_| None).await
    }

    pub async fn start_env(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> Gateway {
        Self::start_full(yaml, env, Vec::new()).await
    }

    /// Starts a gateway with extra pipeline hooks.
    pub async fn start_with_hooks(
        yaml: &str,
        hooks: Vec<std::sync::Arc<dyn switchyard_gateway::pipeline::Hook>>,
    ) -> Gateway {
        Self::start_full(yaml, &|_| None, hooks).await
    }

    async fn start_full(
        yaml: &str,
        env: &dyn Fn(&str) -> Option<String>,
        hooks: Vec<std::sync::Arc<dyn switchyard_gateway::pipeline::Hook>>,
    ) -> Gateway {
        // Gateway keys keep their records in the data dir: each gateway gets its own.
        let data_dir = temp_dir("gw");
        let env = |k: &str| match k {
            "SWITCHYARD_DATA_DIR" => Some(data_dir.display().to_string()),
            _ => env(k),
        };
        let config = GatewayConfig::from_yaml(yaml, &env).unwrap_or_else(|e| panic!("config: {e}"));
        let server = Server::bind_with(config, Some(SocketAddr::from(([127, 0, 0, 1], 0))), hooks)
            .await
            .expect("bind");
        let addr = server.local_addr().expect("addr");
        let reloader = server.reloader();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Gateway {
            addr,
            reloader,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `POST /v1/chat/completions` with JSON body and headers.
    pub async fn chat(&self, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
        self.post("/v1/chat/completions", body, headers).await
    }

    /// `POST /v1/chat/completions` routed by a Gateway Config in `x-portkey-config`.
    pub async fn chat_config(&self, body: Value, config: &Value) -> reqwest::Response {
        self.chat(body, &[("x-portkey-config", &config.to_string())])
            .await
    }

    pub async fn post(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut rb = self.http.post(self.url(path)).json(&body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send().await.expect("request")
    }

    /// `POST` of `body` as it is, with `content-type: application/json`.
    pub async fn post_raw(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut rb = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send().await.expect("request")
    }

    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn hi(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

pub fn hi_stream(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": true})
}

/// Header pairs routing to `mock` as provider `openai` with a client key.
pub fn via(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", "openai".to_owned()),
        ("x-portkey-custom-host", mock.url()),
        ("authorization", "Bearer sk-client".to_owned()),
    ]
}

pub fn refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Header pairs routing to `mock` as Bedrock, with AWS keys (signed with SigV4).
pub fn bedrock_via(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", "bedrock".to_owned()),
        ("x-portkey-custom-host", format!("http://{}", mock.addr())),
        ("x-portkey-aws-access-key-id", "AKIDEXAMPLE".to_owned()),
        ("x-portkey-aws-secret-access-key", "secret".to_owned()),
        ("x-portkey-aws-region", "us-east-1".to_owned()),
    ]
}

/// An OpenAI target on `mock` for a Gateway Config.
pub fn target(mock: &MockServer) -> Value {
    json!({"provider": "openai", "api_key": "sk-target", "custom_host": mock.url()})
}

pub async fn error_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("error body is JSON");
    let err = &body["error"];
    assert!(err["message"].is_string(), "OpenAI error shape: {body}");
    assert!(err["type"].is_string(), "OpenAI error shape: {body}");
    assert!(
        err.get("param").is_some() && err.get("code").is_some(),
        "OpenAI error shape: {body}"
    );
    (status, body)
}

pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// A TCP port that refuses connections: bound for the rest of the test process but never
/// listening, so no mock of a test running beside this one can be given the port later and
/// answer requests meant to be refused (the e2e suite's `dead_v1` does the same).
pub async fn dead_port() -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    // Kept bound until the process ends: a test binary is short-lived.
    std::mem::forget(socket);
    port
}

/// A new, empty directory under the system's temp dir.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "switchyard-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
