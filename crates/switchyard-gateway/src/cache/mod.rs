//! Response caching: exact and semantic matches, in memory by default or shared through Redis,
//! partitioned by tenant so clients never see each other's answers (docs/caching.md).
//!
//! A target's `cache` policy (Gateway Config) turns it on. The [`CacheHook`] runs in two
//! pipeline phases: *per attempt*, it looks the target's request up and answers a hit without
//! calling the upstream; its *tap* sees the answer that came back and, when it was a complete
//! 2xx, stores it — a stream assembled into one response ([`replay`]), replayed later as a valid
//! stream or as JSON, whichever the next request asks for. In `semantic` mode a lookup that
//! found no exact entry also searches by meaning ([`semantic`]).

pub mod key;
pub mod policy;
pub mod replay;
pub mod semantic;
pub mod store;
pub mod warn;

mod hook;

pub use hook::CacheHook;
