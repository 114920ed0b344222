//! Application protocols over a reassembled TCP stream. The first bytes decide which one.

use super::http1;
use super::tls;
use crate::gomod::redirect;

use crate::decode::reassembly::Chunk;
use crate::vocab::event::{Event, Setup, Source, TlsInfo};
use crate::vocab::time::Ts;
use crate::vocab::Dir;
use http1::Http1;
use std::net::SocketAddr;
use tls::Tls;

/// Settings the decoders need from the command line.
#[derive(Debug, Clone, Default)]
pub struct DecodeEnv {
    /// Proxy base URLs from the configured GOPROXY, to find where module paths start.
    pub proxy_bases: Vec<String>,
    /// Keep credentials (URL passwords) in URLs instead of redacting them.
    pub show_credentials: bool,
    /// Live capture: never wait for the hashing thread (give up a hash instead).
    pub live: bool,
    /// Skip `h1:` hashing of zips (`--no-hash`).
    pub no_hash: bool,
}

/// What a protocol decoder needs to know about its connection, and where events go.
pub struct ConnCtx<'a> {
    pub conn_id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub scheme: &'static str,
    pub source: Source,
    pub env: &'a DecodeEnv,
    pub next_exchange: &'a mut u64,
    pub out: &'a mut Vec<Event>,
    pub redirects: &'a mut redirect::Redirects,
    /// Where zip bodies go to be hashed.
    pub hashes: &'a mut crate::gomod::hashpool::HashPool,
    /// How long it took to reach the server, told with the connection's first request.
    pub setup: Setup,
    /// For server data: how far into the client's stream the server had read (its TCP
    /// acknowledgment), which pairs a response with its request again after lost packets.
    pub acked: Option<u64>,
}

#[derive(Default)]
pub enum App {
    /// No payload yet.
    #[default]
    Undecided,
    Http(Box<Http1>),
    Tls(Box<Tls>),
    /// Something else (or given up on): bytes are only counted.
    Opaque,
}

impl App {
    pub fn protocol(&self) -> &'static str {
        match self {
            App::Undecided => "none",
            App::Http(_) => "http1",
            App::Tls(_) => "tls",
            App::Opaque => "unknown",
        }
    }

    pub fn tls_info(&self) -> Option<TlsInfo> {
        match self {
            App::Tls(t) => Some(t.info.clone()),
            _ => None,
        }
    }

    /// Picks the protocol from the first bytes of a stream.
    fn decide(&mut self, dir: Dir, data: &[u8], mid_stream: bool) {
        *self = match dir {
            Dir::Up if Tls::detect(data) => App::Tls(Box::default()),
            Dir::Up if http1::looks_like_request(data) => App::Http(Box::default()),
            Dir::Down if http1::looks_like_response(data) => App::Http(Box::default()),
            // Joined mid-stream (or after a gap): look for the next HTTP message.
            _ if mid_stream => App::Http(Box::new(Http1::resyncing())),
            _ => App::Opaque,
        };
    }

    pub fn chunk(&mut self, dir: Dir, chunk: Chunk<'_>, mid_stream: bool, ctx: &mut ConnCtx<'_>) {
        match (&*self, &chunk) {
            (App::Undecided, Chunk::Data(_, data, _)) => self.decide(dir, data, mid_stream),
            // Bytes lost before the first ones we see: look for the next message.
            (App::Undecided, Chunk::Gap(..)) => *self = App::Http(Box::new(Http1::resyncing())),
            _ => {}
        }
        match (self, chunk) {
            (App::Undecided | App::Opaque, _) => {}
            (App::Http(h), Chunk::Data(ts, d, acked)) => match dir {
                Dir::Up => h.client_data(ts, d, ctx),
                Dir::Down => {
                    ctx.acked = acked;
                    h.server_data(ts, d, ctx)
                }
            },
            (App::Http(h), Chunk::Gap(ts, n)) => match dir {
                Dir::Up => h.client_gap(n),
                Dir::Down => h.server_gap(ts, n, ctx),
            },
            (App::Http(h), Chunk::Fin(ts)) => {
                if dir == Dir::Down {
                    h.server_fin(ts, ctx)
                }
            }
            (App::Tls(t), Chunk::Data(ts, d, _)) => match dir {
                Dir::Up => t.client_data(ts, d),
                Dir::Down => t.server_data(ts, d),
            },
            (App::Tls(_), _) => {}
        }
    }

    /// The connection ended by RST (`reset`) or was never seen to its end.
    pub fn close(&mut self, reset: bool, ts: Ts, ctx: &mut ConnCtx<'_>) {
        if let App::Http(h) = self {
            h.close(reset, ts, ctx);
        }
    }
}
