//! What the go command meant: URL classification and module path escaping.

pub mod cause;
pub(crate) mod chain;
pub(crate) mod classify;
pub(crate) mod direct;
pub(crate) mod direct_verdict;
pub(crate) mod drift;
pub mod goenv;
pub mod goproxy;
pub mod gosaid;
pub mod h1;
pub(crate) mod hashpool;
pub mod hook;
pub(crate) mod judgement;
pub(crate) mod module;
pub(crate) mod path;
pub(crate) mod redirect;
pub(crate) mod sentences;
pub(crate) mod sinks;
pub mod sumdb;
pub(crate) mod validate;
pub(crate) mod verdict;
