//! anthropic adapter (in progress).
