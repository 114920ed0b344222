//! The words every layer shares: time, packets and stream chunks, directions, and the
//! events that connect the decoders to the model. It imports nothing else of gomodwatch.

pub mod event;
pub mod go;
pub(crate) mod link;
pub(crate) mod packet;
pub mod text;
pub mod time;
pub mod url;

pub use event::{
    BodyInfo, CertSummary, ConnError, Connection, DnsAnswer, Event, Exchange, Setup, Source,
    TcpStats, Timing, TlsFailure, TlsInfo, Tried, Unreachable, Upstream, ZipHash,
    H1_FROM_MODULE_CACHE,
};
pub use go::{GoRequest, Kind};
pub use link::{LinkType, UnsupportedLinkType};
pub use packet::{Dir, Packet, StreamEvent};
pub use time::Ts;
