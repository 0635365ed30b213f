//! OpenAI-compatible wire types shared by every Switchyard crate.
//!
//! This crate is pure: no async runtime, no I/O. It holds
//! - [`error`]: the OpenAI error envelope every failure is rendered as;
//! - [`chat`], [`completions`], [`embeddings`]: typed OpenAI request/response/chunk shapes used
//!   where a format conversion needs them (OpenAI-compatible traffic passes through as bytes
//!   instead);
//! - [`json`]: cheap top-level inspection and patching of JSON request bodies;
//! - [`sse`]: an incremental Server-Sent Events decoder;
//! - [`usage`]: token usage read from response bodies and event streams without building them.

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod error;
pub mod images;
pub mod json;
pub mod rerank;
pub mod sse;
pub mod usage;

pub use error::{ErrorBody, ErrorEnvelope, ErrorKind};
