//! bedrock adapter (in progress).
