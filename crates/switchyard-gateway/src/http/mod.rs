//! The HTTP face of the gateway.

mod handlers;
pub mod headers;
mod response;
mod route;
pub mod server;
