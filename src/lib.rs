//! gomodwatch: watch Go module downloads on the wire and explain them.
//!
//! Data flows one way (docs/ARCHITECTURE.md): sources (`source`) → decoders (`decode`) →
//! events (`vocab`) → Go-module understanding (`gomod`) → the model (`session`) → views
//! (`ui`, `export`), with `pipeline` pumping between them.

pub mod decode;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod gomod;
pub mod pipeline;
pub mod present;
pub mod session;
pub mod source;
pub mod ui;
pub mod vocab;
