//! gomodwatch: watch Go module downloads on the wire and explain them.
//!
//! Data flows one way (docs/ARCHITECTURE.md): sources (`source`) → decoders (`decode`) →
//! events (`vocab`) → Go-module understanding (`gomod`) → the model (`session`) → views
//! (`ui`, `export`), with `pipeline` pumping between them. The layers below the binary
//! are crates of their own (crates/wire, crates/model, crates/mitm); they are re-exported
//! here under their old paths, so `gomodwatch::vocab`, `gomodwatch::session` and the rest
//! name the same things for the tests, the fuzz targets and the binary.

pub use gomodwatch_model::{gomod, present, session};
pub use gomodwatch_wire::{decode, vocab};

pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod pipeline;
pub mod source;
pub mod ui;
