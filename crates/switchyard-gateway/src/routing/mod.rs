//! The routing engine's pure parts: the tree, target selection, queries and retry timing.
//! Nothing here knows about providers or does I/O.

pub mod query;
pub mod retry;
pub mod select;
pub mod tree;
