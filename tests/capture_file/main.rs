//! The capture-file reader (crates/wire/src/file.rs): every real capture read exactly as the
//! reader it replaced read it (kept here as the oracle, `legacy_reader.rs`), every format
//! variant, and recovery past damage.

mod common;
mod equivalence;
mod formats;
mod real_formats;
mod resync;
