//! Packet sources: capture files, live interfaces (libpcap), and the MITM proxy (plaintext
//! stream chunks). Every source yields the vocabulary's `Packet` or `StreamEvent`.

pub mod capture;
pub mod live;
pub mod merge;
pub mod platform;
pub mod privdrop;

/// The capture-file reader and the `-w` writer live in the wire crate, the proxy in a crate
/// of its own; they are sources all the same.
pub use gomodwatch_mitm as mitm;
pub use gomodwatch_wire::{file, writer};

use gomodwatch_wire::file::FileError;
use std::time::Duration;

pub use pace::FileSource;
pub use pull::{PacketSource, Pull};

mod pace;
mod pull;

/// A live capture: the merged batches of every interface.
pub struct LiveSource {
    pub merger: merge::Merger,
    pub(crate) stats: std::sync::Arc<live::LiveStats>,
    pub(crate) names: Vec<String>,
}

impl PacketSource for LiveSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, FileError> {
        Ok(match self.merger.next(wait) {
            merge::Next::Packet => match self.merger.packet() {
                Some(p) => Pull::Packet(p),
                None => Pull::Idle,
            },
            merge::Next::Idle => Pull::Idle,
            merge::Next::End => Pull::End,
        })
    }

    fn dropped(&self) -> u64 {
        self.stats.dropped()
    }

    fn notices(&mut self) -> Vec<String> {
        self.merger
            .ended
            .drain(..)
            .filter_map(|(i, err)| {
                let name = self.names.get(i as usize).cloned().unwrap_or_default();
                err.map(|e| format!("capture on {name} ended: {e}"))
            })
            .collect()
    }
}

/// The MITM proxy as a source.
pub struct MitmSource {
    pub mitm: mitm::Mitm,
}

impl PacketSource for MitmSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, FileError> {
        Ok(match self.mitm.next(wait) {
            Some(ev) => Pull::Stream(Box::new(ev)),
            None => Pull::Idle,
        })
    }

    /// Tapped chunks the decoder never got (it was stuck: the relay waits at most 1 s).
    fn dropped(&self) -> u64 {
        self.mitm.dropped_chunks()
    }

    fn notices(&mut self) -> Vec<String> {
        let mut n: Vec<String> = self.mitm.drop_notice().into_iter().collect();
        n.extend(self.mitm.refused_notice());
        n
    }

    fn refused(&self) -> Option<u64> {
        Some(self.mitm.refused())
    }

    fn client_limit(&self) -> Option<u64> {
        Some(self.mitm.max_clients as u64)
    }

    fn relay_waits(&self) -> Option<u64> {
        Some(self.mitm.relay_waits())
    }
}
