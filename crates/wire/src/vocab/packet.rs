//! What sources hand to the decoder: captured frames, or plaintext chunks of a proxied
//! stream (MITM), and the two directions of a connection.

use super::event::{ConnError, Setup, TlsInfo, Upstream};
use super::link::LinkType;
use super::time::Ts;
use std::net::SocketAddr;

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub ts: Ts,
    pub link: LinkType,
    /// Index of the capture interface (pcapng IDB, or the `-i` position when live).
    pub iface: u32,
    /// Length on the wire; larger than `data.len()` when the snap length cut the frame.
    pub wire_len: u32,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    Up = 0,
    /// Server to client.
    Down = 1,
}

/// Plaintext from a stream source (the MITM proxy): what the decoder gets instead of
/// packets. Timestamps are the proxy's clock at the moment each chunk arrived.
#[derive(Debug)]
pub enum StreamEvent {
    /// A proxied connection is ready: the client's side and the real server's.
    Open {
        id: u64,
        ts: Ts,
        client: SocketAddr,
        server: SocketAddr,
        host: String,
        /// "https" (a CONNECT tunnel) or "http" (a plain request to the proxy).
        scheme: &'static str,
        /// Both legs' TLS (None for plain HTTP): the client's offer, the server's choice.
        tls: Option<Box<TlsInfo>>,
        setup: Setup,
    },
    Data {
        id: u64,
        dir: Dir,
        ts: Ts,
        bytes: Vec<u8>,
    },
    /// `len` bytes of `dir` were not handed over (the decoder fell behind and the proxy,
    /// which never waits for it, dropped them).
    Gap { id: u64, dir: Dir, ts: Ts, len: u64 },
    /// One side closed its half.
    Fin { id: u64, dir: Dir, ts: Ts },
    End {
        id: u64,
        ts: Ts,
        error: Option<ConnError>,
    },
    /// The server could not be reached, or TLS failed: a connection with an error.
    Failed {
        id: u64,
        ts: Ts,
        /// When the proxy gave up (the connection's end).
        end: Ts,
        client: SocketAddr,
        server: Option<SocketAddr>,
        host: String,
        error: ConnError,
        message: String,
        /// The details (issuer, upstream proxy's answer).
        upstream: Upstream,
    },
}
