//! The server's YAML config file (`GatewayConfig::from_yaml`) on arbitrary text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_gateway::GatewayConfig;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Some variables are set, some not, so both `${VAR}` paths run.
    let env = |k: &str| k.len().is_multiple_of(2).then(|| format!("value-of-{k}"));
    let _ = GatewayConfig::from_yaml(&text, &env);
});
