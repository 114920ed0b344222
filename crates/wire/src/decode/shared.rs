//! What TCP flows and the proxy's plaintext streams share while they are decoded: the
//! hook, the events going out, the counters, DNS names, and how a connection is told
//! when it ends. The decoder (`mod.rs`) drives flows and streams (`stream.rs`) over it.

use super::app::App;
use super::context::{Close, ConnCtx, DecodeConfig};
use super::dns::DnsTable;
use super::hook::ExchangeHook;
use super::reassembly::Budget;
use super::stats::Stats;
use super::tcp::Flow;
use crate::vocab::event::Endpoints;
use crate::vocab::time::ms_between;
use crate::vocab::{ConnError, Connection, Dir, Event, Setup, Source, Ts};
use std::net::SocketAddr;

/// How a flow ended, which decides its `error`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Finished,
    Reset,
    /// The input ended with the connection still open.
    Cut,
    /// Removed from the table to make room (see `Stats::flows_evicted`).
    Evicted,
    /// No packet for the idle timeout.
    Idle,
}

/// Where a connection goes and what reaching it cost: what a codec is told about it.
#[derive(Clone, Copy)]
pub(super) struct ConnMeta {
    pub(super) id: u64,
    pub(super) client: SocketAddr,
    pub(super) server: SocketAddr,
    pub(super) scheme: &'static str,
    pub(super) source: Source,
    pub(super) setup: Setup,
}

/// Everything but the flow table, so a flow borrowed from the table can be worked on.
pub(super) struct Core {
    pub(super) config: DecodeConfig,
    pub(super) hook: Box<dyn ExchangeHook>,
    /// Things to tell the user that are not events.
    pub(super) notices: Vec<String>,
    pub(super) dns: DnsTable,
    pub(super) next_exchange: u64,
    pub(super) out: Vec<Event>,
    pub(super) stats: Stats,
    pub(super) last_ts: Ts,
}

impl Core {
    /// Adds what an HTTP/2 connection's codec dropped to the totals.
    pub(super) fn count_h2(&mut self, app: &App) {
        if let Some(c) = app.h2_counters() {
            self.stats.h2_dropped += c.streams_dropped + c.header_lists_too_large;
            self.stats.h2_broken += c.broken;
        }
    }

    pub(super) fn ctx(&mut self, m: &ConnMeta) -> ConnCtx<'_> {
        ConnCtx {
            conn_id: m.id,
            client: m.client,
            server: m.server,
            scheme: m.scheme,
            source: m.source,
            show_credentials: self.config.show_credentials,
            next_exchange: &mut self.next_exchange,
            out: &mut self.out,
            hook: &mut *self.hook,
            setup: m.setup,
            acked: None,
            via: None,
            stats: &mut self.stats,
            keylog: self.config.keylog.as_ref(),
        }
    }

    pub(super) fn flow_meta(&self, flow: &Flow<App>) -> ConnMeta {
        ConnMeta {
            id: flow.id,
            client: flow.client,
            server: flow.server,
            scheme: "http",
            source: Source::Capture,
            setup: Setup {
                dns_ms: self.dns.lookup_ms(&flow.server.ip()),
                connect_ms: ms_between(flow.syn_at, flow.synack_at),
                tls_ms: None,
                path: flow.timing.path(),
            },
        }
    }

    /// Finishes a flow: delivers what is held, closes its protocol, emits the connection.
    /// A flow still in the table stays there, done, to absorb late ACKs.
    pub(super) fn end_flow(&mut self, flow: &mut Flow<App>, end: End, ts: Ts, budget: &mut Budget) {
        let mid = flow.mid_stream;
        let meta = self.flow_meta(flow);
        let mut ctx = self.ctx(&meta);
        flow.flush(ts, budget, &mut |app, dir, chunk| {
            app.chunk(dir, chunk, mid, &mut ctx)
        });
        // Only the client's side is in the capture (a filter on one direction): it sent
        // data, which it cannot before the server's SYN-ACK, yet nothing of the server's
        // is here. Nothing can be said of what the server did.
        let one_way = flow.synack_at.is_none()
            && !flow.dirs[Dir::Down as usize].started()
            && flow.rst != Some(Dir::Down)
            && flow.dirs[Dir::Up as usize].bytes > 0;
        match end {
            End::Finished => {}
            End::Reset => flow.app.close(Close::Reset, ts, &mut ctx),
            End::Evicted => flow.app.close(Close::Evicted, ts, &mut ctx),
            _ if one_way => flow.app.close(Close::OneWay, ts, &mut ctx),
            End::Cut | End::Idle => flow.app.close(Close::Cut, ts, &mut ctx),
        }
        flow.done = true;
        let gaps = flow.gaps();
        self.stats.gaps += gaps as u64;
        self.stats.exchanges = self.next_exchange;
        let answered = flow.synack_at.is_some() || flow.dirs[Dir::Down as usize].started();
        let both_fin = flow.dirs[0].finished() && flow.dirs[1].finished();
        let error = match end {
            _ if one_way => Some(ConnError::OneWay),
            End::Reset if flow.rst == Some(Dir::Down) && flow.syn_at.is_some() && !answered => {
                Some(ConnError::Refused)
            }
            _ if flow.syn_at.is_some() && !answered && flow.unreachable.is_some() => {
                Some(ConnError::Unreachable)
            }
            _ if flow.syn_at.is_some() && !answered && flow.rst.is_none() => {
                Some(ConnError::NoAnswer)
            }
            End::Reset if !both_fin => Some(ConnError::Reset),
            _ if gaps > 0 => Some(ConnError::Gap),
            End::Cut | End::Evicted if !both_fin => Some(ConnError::Truncated),
            _ => None,
        };
        let mut app = std::mem::replace(&mut flow.app, App::Opaque);
        if !one_way {
            // A handshake left half done is judged only when both sides were seen.
            app.end();
        }
        self.count_h2(&app);
        let end_ts = flow.last_ts.max(ts);
        let mut c = Connection::new(&(&meta).into(), flow.first_ts, end_ts);
        c.tls = app.tls_info();
        c.connect_ms = meta.setup.connect_ms;
        c.connected_at = flow.synack_at;
        c.bytes_up = flow.dirs[0].bytes;
        c.bytes_down = flow.dirs[1].bytes;
        c.error = error;
        c.server_name = self.dns.name_of(&flow.server.ip()).map(str::to_string);
        c.protocol = app.protocol();
        c.syns = flow.syns;
        c.unreachable = flow.unreachable.take();
        c.tcp = flow.timing.stats().map(Box::new);
        let tunnel = app.tunnel().map(|t| {
            // The tunnel: a connection of its own, to the target, through the proxy.
            let (inner, t) = (&t.inner, &t.tunnel);
            let mut tc = Connection::new(&(&meta).into(), t.started, t.last.max(t.started));
            tc.id = t.id;
            tc.via = Some(t.via);
            tc.target = Some(t.target.clone());
            tc.server_name = Some(t.host().to_string());
            tc.tls = inner.tls_info();
            tc.protocol = inner.protocol();
            tc.connect_ms = Some(t.connect_ms);
            tc.bytes_up = t.bytes[0];
            tc.bytes_down = t.bytes[1];
            tc.error = error;
            tc
        });
        if let Some(t) = app.tunnel() {
            c.target = Some(t.tunnel.target.clone());
        }
        self.out.push(Event::Connection(c));
        if let Some(tc) = tunnel {
            self.stats.connections += 1;
            self.out.push(Event::Connection(tc));
        }
    }
}

impl From<&ConnMeta> for Endpoints {
    fn from(m: &ConnMeta) -> Self {
        Endpoints {
            id: m.id,
            client: m.client,
            server: m.server,
            source: m.source,
        }
    }
}
