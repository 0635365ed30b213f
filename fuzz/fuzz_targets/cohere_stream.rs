//! Cohere v2 stream translator (and chat/error response parsers) on fuzzed input; see
//! `common/mod.rs` for the input layout.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_providers::Native;

mod common;

fuzz_target!(|data: &[u8]| {
    common::run(Native::Cohere, "command-r-plus", "command-r-plus", data);
});
