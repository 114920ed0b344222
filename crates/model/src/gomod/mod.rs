//! What the go command meant: URL classification and module path escaping.

pub mod chain;
pub mod classify;
pub mod direct;
pub mod direct_verdict;
pub mod drift;
pub mod goenv;
pub mod goproxy;
pub mod h1;
pub mod hashpool;
pub mod hook;
pub mod module;
pub mod path;
pub mod redirect;
pub mod sinks;
pub mod sumdb;
pub mod verdict;
