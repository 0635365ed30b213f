//! Portkey Gateway Config JSON → routing tree (`config::gateway::build`).
//!
//! Client-origin configs must never panic, and every error must name a path under `config`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchyard_gateway::config::gateway::{build, BuildInput, Origin};
use switchyard_gateway::config::providers::Providers;
use switchyard_gateway::ssrf::TrustedHosts;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    for origin in [Origin::Client, Origin::Server] {
        let input = BuildInput::new(&providers, origin, &trusted);
        if let Err(errs) = build(&v, "config", &input) {
            assert!(!errs.is_empty());
            for e in &errs.0 {
                assert!(
                    e.path.starts_with("config"),
                    "error path {:?} outside config",
                    e.path
                );
            }
        }
    }
});
