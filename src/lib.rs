//! gomodwatch: watch Go module downloads on the wire and explain them.
//!
//! Data flows one way: a packet source (`capture`) → link/IP/TCP (`net`) → application
//! protocols (`proto`) → events (`event`) → the session model (`session`) → views
//! (`export`). See ARCHITECTURE in the README.

pub mod capture;
pub mod decode;
pub mod event;
pub mod export;
pub mod gomod;
pub mod mitm;
pub mod net;
pub mod pipeline;
pub mod privdrop;
pub mod proto;
pub mod redact;
pub mod session;
pub mod stats;
pub mod time;
pub mod ui;
