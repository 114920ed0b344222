//! Network and transport layers: frames to TCP segments and UDP datagrams, TCP flows put
//! back in order, and passive DNS.

pub mod dns;
pub mod packet;
pub mod reassembly;
pub mod tcp;
