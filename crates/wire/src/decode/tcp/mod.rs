//! TCP: the flow table (`table.rs`: which connection a segment belongs to, who is the
//! client, and bounds: the table never holds more than `max_flows` flows nor more than
//! `max_state_bytes` of protocol state, the least recently active flow evicted in O(1),
//! idle flows expiring in capture time) and each flow (`flow.rs`: the handshake and its
//! timing, reassembly, FIN/RST, port reuse), and what its packets say about the path
//! and the server (`timing.rs`: round trip, server time, rate, retransmissions).

mod flow;
mod table;
mod timing;

pub use flow::{Flow, Outcome};
pub use table::{FlowTable, Limits, Lookup};

#[cfg(test)]
mod tests;
