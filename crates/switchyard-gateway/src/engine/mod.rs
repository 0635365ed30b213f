//! The routing engine: walks the tree for one request, attempting leaves and applying each
//! group's strategy (single, fallback, loadbalance, conditional).

mod attempt;
pub mod native;
pub mod stream;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::config::providers::ProviderEntry;
use crate::config::ServerSettings;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::routing::query::Facts;
use crate::routing::select::{pick_conditional, pick_weighted};
use crate::routing::tree::{Mode, Node, NodeKind};
use crate::upstream::UpstreamClient;
use stream::EventForwarder;

/// Runs requests against upstreams. One per server, shared by every request.
pub struct Engine {
    client: UpstreamClient,
    settings: Arc<ServerSettings>,
    google_tokens: crate::auth::google::GoogleTokens,
}

/// A response ready for the client.
pub struct Success {
    /// The leaf that answered (`x-portkey-last-used-option-index`).
    pub path: Arc<str>,
    pub provider: Arc<ProviderEntry>,
    /// Retries made by that leaf (`x-portkey-retry-attempt-count`).
    pub retries: i32,
    pub status: StatusCode,
    /// Upstream response headers worth passing on.
    pub headers: HeaderMap,
    pub body: SuccessBody,
}

pub enum SuccessBody {
    /// A whole response body.
    Full(Bytes),
    /// An OpenAI event stream, forwarded event by event.
    Events(EventForwarder),
    /// A proxied response body, streamed through untouched.
    Raw(crate::upstream::UpstreamBody),
    /// A native provider's stream, translated to OpenAI chunks.
    Native(native::NativeStream),
}

/// Why a node did not produce a response.
#[derive(Debug)]
pub struct Failure {
    /// The last leaf tried (`None` if the failure happened before any leaf).
    pub path: Option<Arc<str>>,
    pub provider: Option<Arc<ProviderEntry>>,
    pub retries: i32,
    pub error: GatewayError,
    /// Upstream response headers, for upstream error responses.
    pub headers: Option<HeaderMap>,
    /// A gateway-side problem no other target can fix: stops a fallback.
    pub terminal: bool,
    /// One line per failed leaf, in the order they were tried.
    pub history: Vec<String>,
}

impl Failure {
    fn terminal(error: GatewayError) -> Self {
        Failure {
            path: None,
            provider: None,
            retries: 0,
            error,
            headers: None,
            terminal: true,
            history: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.error.status_code()
    }
}

pub type Outcome = Result<Success, Failure>;

type BoxFut<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

impl Engine {
    pub fn new(client: UpstreamClient, settings: Arc<ServerSettings>) -> Self {
        let google_tokens =
            crate::auth::google::GoogleTokens::with_trusted_hosts(settings.trusted_hosts.clone());
        Engine {
            client,
            settings,
            google_tokens,
        }
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// Executes `root` for `req`. When more than one leaf failed, the final error's message lists
    /// every target's reason.
    pub async fn execute(&self, root: &Node, req: &RequestContext) -> Outcome {
        match self.run(root, req).await {
            Ok(s) => Ok(s),
            Err(mut f) => {
                if f.history.len() > 1 {
                    let mut envelope = f.error.envelope();
                    envelope.error.message = format!(
                        "All {} targets failed: {}",
                        f.history.len(),
                        f.history.join("; ")
                    );
                    f.error = GatewayError::Upstream {
                        status: f.status(),
                        envelope,
                    };
                }
                Err(f)
            }
        }
    }

    fn run<'a>(&'a self, node: &'a Node, req: &'a RequestContext) -> BoxFut<'a> {
        Box::pin(async move {
            let group = match &node.kind {
                NodeKind::Leaf(leaf) => return self.attempt_leaf(leaf, &node.path, req).await,
                NodeKind::Group(g) => g,
            };
            match group.mode {
                Mode::Single => match group.targets.first() {
                    Some(t) => self.run(t, req).await,
                    None => Err(Failure::terminal(GatewayError::Internal(
                        "empty target list".into(),
                    ))),
                },
                Mode::LoadBalance => match pick_weighted(&group.targets, fastrand::f64()) {
                    Some(i) => self.run(&group.targets[i], req).await,
                    None => Err(Failure::terminal(GatewayError::Internal(
                        "no target with a weight above 0".into(),
                    ))),
                },
                Mode::Conditional => {
                    let reads_params = group.conditions.iter().any(|c| c.query.reads_params());
                    let facts = Facts {
                        metadata: &req.metadata,
                        params: if reads_params { req.params() } else { None },
                    };
                    match pick_conditional(group, &facts) {
                        Some(i) => self.run(&group.targets[i], req).await,
                        None => Err(Failure::terminal(GatewayError::NoConditionMatched(format!(
                            "no condition of {}.strategy matched the request and there is no strategy.default",
                            node.path
                        )))),
                    }
                }
                Mode::Fallback => {
                    let mut history = Vec::new();
                    let mut last: Option<Failure> = None;
                    for target in &group.targets {
                        match self.run(target, req).await {
                            Ok(s) => return Ok(s),
                            Err(mut f) => {
                                history.append(&mut f.history);
                                let status = f.status().as_u16();
                                let falls_through = match &group.on_status_codes {
                                    Some(codes) => codes.contains(&status),
                                    None => true,
                                };
                                if f.terminal || !falls_through {
                                    f.history = history;
                                    return Err(f);
                                }
                                last = Some(f);
                            }
                        }
                    }
                    match last {
                        Some(mut f) => {
                            f.history = history;
                            Err(f)
                        }
                        None => Err(Failure::terminal(GatewayError::Internal(
                            "empty target list".into(),
                        ))),
                    }
                }
            }
        })
    }

    /// The timeout for one attempt: the request header, else the target's, else the server's.
    fn timeout_for(
        &self,
        req: &RequestContext,
        leaf_timeout: Option<Duration>,
    ) -> Option<Duration> {
        req.timeout_override
            .or(leaf_timeout)
            .or(self.settings.default_request_timeout)
    }
}
