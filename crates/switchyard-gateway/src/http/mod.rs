//! The HTTP face of the gateway.

pub mod admin;
pub mod console;
pub(crate) mod handlers;
pub mod headers;
pub mod layers;
mod metrics;
pub mod models;
pub mod ready;
pub mod reload;
mod response;
pub mod route;
pub mod server;
