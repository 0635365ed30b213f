//! Switchyard's gateway library: configuration, the routing engine, the upstream transport and
//! the HTTP server. The `switchyard` binary is a thin wrapper around [`Server`].

pub mod auth;
pub mod cache;
pub mod config;
pub mod context;
pub mod engine;
pub mod error;
pub mod governance;
pub mod guardrails;
pub mod health;
pub mod http;
pub mod pipeline;
pub mod responses;
pub mod routing;
pub mod ssrf;
pub mod telemetry;
pub mod upstream;

pub use config::{ConfigErrors, GatewayConfig, ServerSettings};
pub use error::GatewayError;
pub use http::server::{router, App, Server};
