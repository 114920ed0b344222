//! A tunnel through an HTTP proxy: after `CONNECT host:port` is answered 2xx, the rest of
//! the TCP stream is another connection, to `host:port`, run through the proxy. It is
//! decoded as one (TLS hello, timings, bytes; or plain HTTP) and reported as a connection
//! of its own whose `via` is the proxy. This file holds what the tunnel is (its id, target,
//! times and bytes) and the context its inner codec sees; the codec inside is the
//! application layer's (`app::Tunneled`).

use super::context::ConnCtx;
use super::http1::TunnelStart;
use super::reassembly::Chunk;
use crate::vocab::{Dir, Setup, Ts};
use std::net::SocketAddr;

/// Tunnel connection ids: the outer connection's id plus this (flow ids never get here,
/// MITM streams start at 1 << 40).
pub(crate) const TUNNEL_ID_BASE: u64 = 1 << 41;

pub(crate) struct Tunnel {
    pub(crate) id: u64,
    /// `host:port` asked of the proxy.
    pub(crate) target: String,
    /// The proxy.
    pub(crate) via: SocketAddr,
    pub(crate) started: Ts,
    pub(crate) last: Ts,
    /// The CONNECT round trip: what reaching the target cost.
    pub(crate) connect_ms: f64,
    pub(crate) bytes: [u64; 2],
}

impl Tunnel {
    /// The tunnel `t` opens on the connection `ctx` describes, and the client's bytes held
    /// since the CONNECT (its first ones, for the caller to feed the codec inside).
    pub(crate) fn start(t: TunnelStart, ctx: &ConnCtx<'_>) -> (Tunnel, Vec<u8>) {
        let tunnel = Tunnel {
            id: ctx.conn_id + TUNNEL_ID_BASE,
            target: t.target,
            via: ctx.server,
            started: t.ts,
            last: t.ts,
            connect_ms: t.connect_ms,
            bytes: [0, 0],
        };
        (tunnel, t.up)
    }

    /// The target's host, as the proxy was asked for it.
    pub(crate) fn host(&self) -> &str {
        match self.target.rsplit_once(':') {
            Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
            None => &self.target,
        }
    }

    /// Counts a chunk of the tunnel's bytes, and gives it as the codec inside sees it:
    /// acknowledgments count bytes of the outer stream, not the tunnel's.
    pub(crate) fn account<'d>(&mut self, dir: Dir, chunk: Chunk<'d>) -> Chunk<'d> {
        match chunk {
            Chunk::Data(ts, d, _) => {
                self.bytes[dir as usize] += d.len() as u64;
                self.last = self.last.max(ts);
                Chunk::Data(ts, d, None)
            }
            Chunk::Gap(ts, n) => {
                self.bytes[dir as usize] += n;
                self.last = self.last.max(ts);
                chunk
            }
            Chunk::Fin(ts) => {
                self.last = self.last.max(ts);
                chunk
            }
        }
    }

    /// What the codec inside sees: a connection of its own, through the proxy, whose
    /// setup was the CONNECT.
    pub(crate) fn ctx<'a>(&self, outer: &'a mut ConnCtx<'_>) -> ConnCtx<'a> {
        ConnCtx {
            conn_id: self.id,
            client: outer.client,
            server: outer.server,
            scheme: outer.scheme,
            source: outer.source,
            show_credentials: outer.show_credentials,
            next_exchange: &mut *outer.next_exchange,
            out: &mut *outer.out,
            hook: &mut *outer.hook,
            setup: Setup {
                dns_ms: None,
                connect_ms: Some(self.connect_ms),
                tls_ms: None,
                path: None,
            },
            acked: None,
            via: Some(self.via),
            stats: &mut *outer.stats,
            keylog: outer.keylog,
        }
    }
}
