//! What every source offers the pipeline: [`PacketSource`], pulled for [`Pull`]s.

use crate::vocab::{Packet, StreamEvent};
use gomodwatch_wire::file::FileError;
use std::time::Duration;

/// What a source had for us.
pub enum Pull<'a> {
    Packet(Packet<'a>),
    /// Plaintext from a proxy (MITM mode).
    Stream(Box<StreamEvent>),
    /// Nothing right now (live capture is quiet).
    Idle,
    /// No more packets.
    End,
}

/// Where packets (or stream chunks) come from. I/O lives behind this trait, so the whole
/// program runs the same on a file, live interfaces or the proxy.
pub trait PacketSource {
    /// The next packet, waiting at most `wait` for one; `Err` when the input broke (a
    /// damaged file, the only input that can): everything before it was delivered.
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, FileError>;
    /// Packets lost before they reached the decoder.
    fn dropped(&self) -> u64;
    /// Bytes of damaged input skipped (capture files).
    fn skipped_bytes(&self) -> u64 {
        0
    }
    /// Packets read but not decoded: their interface's link type is not read (capture files).
    fn skipped_packets(&self) -> u64 {
        0
    }
    /// Messages worth showing (an interface went away, damage skipped), taken once.
    fn notices(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// MITM: clients turned away with 503 (None for other sources).
    fn refused(&self) -> Option<u64> {
        None
    }
    /// MITM: the client cap in effect (None for other sources).
    fn client_limit(&self) -> Option<u64> {
        None
    }
    /// MITM: times the relay waited for the decoder (None for other sources).
    fn relay_waits(&self) -> Option<u64> {
        None
    }
}
