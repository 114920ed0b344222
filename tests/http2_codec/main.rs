//! The HTTP/2 codec (crates/wire/src/decode/http2/codec) against its public API: hand-built frames,
//! deterministic fuzzing, and real go-command HTTP/2 streams decrypted from the project's
//! https captures (tests/data/h2, made by tests/data/h2/extract.sh).

mod fuzz;
mod h2common;
mod real;
mod unit;
