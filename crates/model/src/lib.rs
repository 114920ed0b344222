//! gomodwatch's Go-module model: what the go command's traffic means (`gomod`), the session
//! every view reads (`session`), and the records and formatting the views share
//! (`present`). Pure: events in, verdicts out — no network, no processes, no terminal.

#![warn(missing_docs)]

pub mod gomod;
pub mod present;
pub mod session;
