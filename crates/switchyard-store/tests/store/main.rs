//! The store's test suite: one binary, every database test run against a real SQLite file and a
//! real PostgreSQL (see `common` for how each test gets its own database).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod cipher;
mod credentials;
mod keys;
mod open;
mod request_log;
mod responses;
mod spend;
