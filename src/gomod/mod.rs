//! What the go command meant: URL classification and module path escaping.

pub mod classify;
pub mod path;
