//! cohere adapter (in progress).
