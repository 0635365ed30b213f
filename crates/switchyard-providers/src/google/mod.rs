//! google adapter (in progress).
