//! Gemini (and Vertex AI Gemini) stream translator (and chat/error response parsers) on fuzzed input; see
//! `common/mod.rs` for the input layout.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_providers::Native;

mod common;

fuzz_target!(|data: &[u8]| {
    common::run(Native::Google, "gemini-2.0-flash", "gemini-2.0-flash", data);
});
