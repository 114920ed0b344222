//! What sources hand to the decoder: captured frames, or plaintext chunks of a proxied
//! stream (MITM), and the two directions of a connection.

use super::event::{ConnError, Setup, TlsInfo, Upstream};
use super::link::LinkType;
use super::time::Ts;
use std::net::SocketAddr;

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// When it was captured (the capture's clock).
    pub ts: Ts,
    /// What the frame starts with (Ethernet, Linux cooked capture, raw IP, ...).
    pub link: LinkType,
    /// Index of the capture interface (pcapng IDB, or the `-i` position when live).
    pub iface: u32,
    /// Length on the wire; larger than `data.len()` when the snap length cut the frame.
    pub wire_len: u32,
    /// The bytes captured.
    pub data: &'a [u8],
}

/// A direction of a connection; `as usize` indexes per-direction arrays.
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
        /// The proxied connection's id (the other events name it).
        id: u64,
        /// When the proxy had both legs.
        ts: Ts,
        /// The client's address.
        client: SocketAddr,
        /// The server's (or the upstream proxy's) address.
        server: SocketAddr,
        /// The host the client asked for.
        host: String,
        /// "https" (a CONNECT tunnel) or "http" (a plain request to the proxy).
        scheme: &'static str,
        /// Both legs' TLS (None for plain HTTP): the client's offer, the server's choice.
        tls: Option<Box<TlsInfo>>,
        /// What reaching the server cost (DNS, connect, TLS).
        setup: Setup,
        /// What reaching it met on the way, when an address failed before one connected
        /// (the connection event's `upstream`); None otherwise.
        upstream: Option<Box<Upstream>>,
    },
    /// Plaintext one side sent.
    Data {
        /// The connection.
        id: u64,
        /// Who sent it.
        dir: Dir,
        /// When the proxy relayed it.
        ts: Ts,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// `len` bytes of `dir` were not handed over (the decoder was stuck and the proxy,
    /// which waits for it only so long, dropped them).
    Gap {
        /// The connection.
        id: u64,
        /// Whose bytes.
        dir: Dir,
        /// When they were dropped.
        ts: Ts,
        /// How many.
        len: u64,
    },
    /// One side closed its half.
    Fin {
        /// The connection.
        id: u64,
        /// Who closed.
        dir: Dir,
        /// When.
        ts: Ts,
    },
    /// The proxied connection is over.
    End {
        /// The connection.
        id: u64,
        /// When.
        ts: Ts,
        /// How it ended, when not cleanly (reset, timeout, ...).
        error: Option<ConnError>,
    },
    /// The server could not be reached, or TLS failed: a connection with an error.
    Failed {
        /// The connection's id.
        id: u64,
        /// When the client asked.
        ts: Ts,
        /// When the proxy gave up (the connection's end).
        end: Ts,
        /// The client's address.
        client: SocketAddr,
        /// The server's address, when it was resolved.
        server: Option<SocketAddr>,
        /// The host the client asked for.
        host: String,
        /// The connection's error (`tls`, `proxy`, `refused`, ...).
        error: ConnError,
        /// What failed, in words (a notice for the user).
        message: String,
        /// The details (issuer, upstream proxy's answer).
        upstream: Upstream,
    },
}
