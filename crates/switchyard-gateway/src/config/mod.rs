//! Configuration: the server's config file and Portkey Gateway Configs, parsed once and
//! validated into runtime types (errors carry the path of the field at fault).

pub mod errors;
pub mod file;
pub mod gateway;
pub mod governance;
pub mod keys;
pub mod providers;
pub mod responses;
pub mod secret;
pub mod stores;
pub mod telemetry;
pub mod values;

pub use errors::{ConfigError, ConfigErrors};
pub use file::{DnsSettings, GatewayConfig, ServerSettings};
pub use secret::Secret;
