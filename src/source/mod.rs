//! Packet sources: capture files, live interfaces (libpcap), and the MITM proxy (plaintext
//! stream chunks). Every source yields the vocabulary's `Packet` or `StreamEvent`.

pub mod file;
pub mod live;
pub mod mitm;
pub mod privdrop;
pub mod writer;
