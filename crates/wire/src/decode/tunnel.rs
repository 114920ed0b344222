//! A tunnel through an HTTP proxy: after `CONNECT host:port` is answered 2xx, the rest of
//! the TCP stream is another connection, to `host:port`, run through the proxy. It is
//! decoded as one (TLS hello, timings, bytes; or plain HTTP) and reported as a connection
//! of its own whose `via` is the proxy.

use super::app::{App, Close, ConnCtx};
use super::http1::TunnelStart;
use super::reassembly::Chunk;
use crate::vocab::{Dir, Setup, Ts};
use std::net::SocketAddr;

/// Tunnel connection ids: the outer connection's id plus this (flow ids never get here,
/// MITM streams start at 1 << 40).
pub const TUNNEL_ID_BASE: u64 = 1 << 41;

pub struct Tunnel {
    pub id: u64,
    /// `host:port` asked of the proxy.
    pub target: String,
    /// The proxy.
    pub via: SocketAddr,
    pub started: Ts,
    pub last: Ts,
    /// The CONNECT round trip: what reaching the target cost.
    pub connect_ms: f64,
    pub bytes: [u64; 2],
    pub inner: App,
}

impl Tunnel {
    /// Starts the tunnel `t` on the connection `ctx` describes and feeds it the client's
    /// bytes held since the CONNECT.
    pub fn start(t: TunnelStart, ctx: &mut ConnCtx<'_>) -> Tunnel {
        let mut tunnel = Tunnel {
            id: ctx.conn_id + TUNNEL_ID_BASE,
            target: t.target,
            via: ctx.server,
            started: t.ts,
            last: t.ts,
            connect_ms: t.connect_ms,
            bytes: [0, 0],
            inner: App::Undecided,
        };
        if !t.up.is_empty() {
            tunnel.chunk(Dir::Up, Chunk::Data(t.ts, &t.up, None), ctx);
        }
        tunnel
    }

    /// The target's host, as the proxy was asked for it.
    pub fn host(&self) -> &str {
        match self.target.rsplit_once(':') {
            Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
            None => &self.target,
        }
    }

    pub fn chunk(&mut self, dir: Dir, chunk: Chunk<'_>, ctx: &mut ConnCtx<'_>) {
        match &chunk {
            Chunk::Data(ts, d, _) => {
                self.bytes[dir as usize] += d.len() as u64;
                self.last = self.last.max(*ts);
            }
            Chunk::Gap(ts, n) => {
                self.bytes[dir as usize] += n;
                self.last = self.last.max(*ts);
            }
            Chunk::Fin(ts) => self.last = self.last.max(*ts),
        }
        let mut inner = self.ctx(ctx);
        // Acknowledgments count bytes of the outer stream: not the tunnel's.
        let chunk = match chunk {
            Chunk::Data(ts, d, _) => Chunk::Data(ts, d, None),
            other => other,
        };
        self.inner.chunk(dir, chunk, false, &mut inner);
    }

    pub fn close(&mut self, how: Close, ts: Ts, ctx: &mut ConnCtx<'_>) {
        let mut inner = self.ctx(ctx);
        self.inner.close(how, ts, &mut inner);
    }

    /// What the codec inside sees: a connection of its own, through the proxy, whose
    /// setup was the CONNECT.
    fn ctx<'a>(&self, outer: &'a mut ConnCtx<'_>) -> ConnCtx<'a> {
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
            },
            acked: None,
            via: Some(self.via),
            stats: &mut *outer.stats,
            keylog: outer.keylog,
        }
    }
}
