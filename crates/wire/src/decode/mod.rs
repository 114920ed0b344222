//! The decoder: packets (or a proxy's plaintext chunks) in, events out. Pure: it takes each
//! packet's timestamp as the time, never the clock, so a replay and a live capture of the
//! same traffic give the same events. What the exchanges mean is asked of an injected
//! [`hook::ExchangeHook`]; nothing here knows about Go modules.

pub(crate) mod app;
mod classify;
pub mod context;
pub mod dns;
pub mod hook;
pub mod http1;
pub mod http2;
pub(crate) mod ip;
pub(crate) mod link;
pub(crate) mod reassembly;
mod shared;
mod stats;
mod stream;
pub(crate) mod tcp;
pub mod tls;
pub(crate) mod tunnel;

use crate::vocab::{Event, Packet, StreamEvent, Ts};
use app::App;
use dns::DnsTable;
use hook::ExchangeHook;
use ip::{TcpSegment, Transport};
use reassembly::Budget;
use shared::{Core, End};
use std::net::SocketAddr;
use stream::Streams;
use tcp::{Flow, FlowTable, Limits, Lookup, Outcome};
use tls::Tls;

pub use context::DecodeConfig;
pub use stats::Stats;

/// The decoder: packets (or stream chunks) in, events out ([`Decoder::drain`]).
pub struct Decoder {
    flows: FlowTable<App>,
    streams: Streams,
    budget: Budget,
    core: Core,
    last_sweep: Ts,
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn new(config: DecodeConfig, hook: Box<dyn ExchangeHook>) -> Self {
        Self::with_limits(config, hook, Limits::default())
    }

    pub(crate) fn with_limits(
        config: DecodeConfig,
        hook: Box<dyn ExchangeHook>,
        limits: Limits,
    ) -> Self {
        let flows = FlowTable::new(limits);
        Decoder {
            budget: flows.budget(),
            flows,
            streams: Streams::default(),
            core: Core {
                config,
                hook,
                notices: Vec::new(),
                dns: DnsTable::default(),
                next_exchange: 0,
                out: Vec::new(),
                stats: Stats::default(),
                last_ts: Ts(i64::MIN),
            },
            last_sweep: Ts(i64::MIN),
        }
    }

    /// Its counters so far.
    pub fn stats(&self) -> &Stats {
        &self.core.stats
    }

    #[cfg(test)]
    /// Open flows in the table.
    pub(crate) fn open_flows(&self) -> usize {
        self.flows.open()
    }

    #[cfg(test)]
    /// Out-of-order bytes (and their overhead) held right now, across all flows.
    pub(crate) fn held_bytes(&self) -> usize {
        self.flows.limits.held_total - self.budget.remaining
    }

    #[cfg(test)]
    /// Protocol state held right now, across all flows (as each flow last reported it).
    pub(crate) fn state_bytes(&self) -> usize {
        self.flows.state_bytes()
    }

    /// Events produced since the last call.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Event> {
        self.core.out.drain(..)
    }

    /// Messages for the user (a proxied server that could not be reached), taken once.
    pub fn notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.core.notices)
    }

    /// Decodes one captured frame.
    pub fn packet(&mut self, pkt: &Packet<'_>) {
        let core = &mut self.core;
        core.stats.packets += 1;
        core.stats.bytes += pkt.wire_len as u64;
        let ts = pkt.ts;
        core.last_ts = core.last_ts.max(ts);
        self.flows.advance(ts);
        match ip::decode(pkt) {
            Ok(Transport::Tcp(seg)) => self.tcp(ts, &seg),
            Ok(Transport::Udp(d)) => {
                if d.src.port() == 53 || d.dst.port() == 53 {
                    if let Some(ans) = core.dns.datagram(ts, d.src, d.dst, d.payload) {
                        core.out.push(Event::Dns(ans));
                    }
                }
            }
            Ok(Transport::Unreachable(icmp)) => {
                // It answers a connection attempt: the flow from `src` to `dst`.
                if let Some(flow) = self.flows.get_mut(icmp.src, icmp.dst) {
                    if flow.synack_at.is_none() {
                        flow.unreachable = Some(crate::vocab::Unreachable {
                            from: icmp.from,
                            reason: icmp.reason,
                        });
                    }
                }
            }
            Err(_) => core.stats.skipped += 1,
        }
        if self.core.stats.packets % 256 == 0 {
            self.core.hook.poll(false, &mut self.core.out);
        }
        // Expire flows (and DNS queries) once per second of capture time, by the table's
        // clock (the newest timestamp seen), so that timestamps going backwards cannot
        // stop it.
        let now = self.flows.clock();
        if now.0.saturating_sub(self.last_sweep.0) > 1_000_000_000 {
            self.last_sweep = now;
            for q in self.core.dns.unanswered(now, false) {
                self.core.out.push(Event::Dns(q));
            }
            for mut flow in self.flows.sweep() {
                let at = flow.last_ts;
                self.core
                    .end_flow(&mut flow, End::Idle, at, &mut self.budget);
            }
        }
    }

    /// Plaintext from the MITM proxy. Hashes finished meanwhile are collected at once:
    /// a MITM's zip gets its `h1:` (and a mismatch its verdict) as its download ends,
    /// not when gomodwatch exits.
    pub fn stream(&mut self, ev: StreamEvent) {
        self.streams.event(ev, &mut self.core);
        self.poll();
    }

    /// Collects what the hook finished off the decoding thread (zip hashes); for a
    /// source that has nothing to decode for a while.
    pub fn poll(&mut self) {
        self.core.hook.poll(false, &mut self.core.out);
    }

    /// The input is over: every open flow ends as it is, and every hash is waited for.
    pub fn finish(&mut self) {
        let ts = self.core.last_ts;
        self.streams.finish(ts, &mut self.core);
        for slot in self.flows.open_by_id() {
            let mut flow = self.flows.remove(slot);
            self.core
                .end_flow(&mut flow, End::Cut, ts, &mut self.budget);
        }
        for q in self.core.dns.unanswered(ts, true) {
            self.core.out.push(Event::Dns(q));
        }
        self.core.hook.poll(true, &mut self.core.out);
        let st = &self.core.stats;
        let mut lost = Vec::new();
        if st.flows_evicted > 0 {
            lost.push(format!("{} connections were evicted", st.flows_evicted));
        }
        if st.requests_dropped > 0 {
            lost.push(format!(
                "{} pipelined requests were dropped",
                st.requests_dropped
            ));
        }
        if !lost.is_empty() {
            self.core.notices.push(format!(
                "{} to stay within memory bounds (each is still reported)",
                lost.join(" and ")
            ));
        }
    }

    /// Ends a flow the table gave up to make room.
    fn evicted(&mut self, mut flow: Flow<App>, why: &str) {
        if self.core.stats.flows_evicted == 0 {
            self.core.notices.push(format!(
                "{why}: the least recently active connections are ended early (counted as \
                 evicted)"
            ));
        }
        self.core.stats.flows_evicted += 1;
        let at = flow.last_ts;
        self.core
            .end_flow(&mut flow, End::Evicted, at, &mut self.budget);
    }

    fn tcp(&mut self, ts: Ts, seg: &TcpSegment<'_>) {
        self.core.stats.snaplen_bytes += u64::from(seg.missing);
        let slot = match self.flows.lookup(seg) {
            Lookup::Found(slot) => slot,
            Lookup::Missing { stale } => {
                if let Some(mut old) = stale.filter(|f| !f.done) {
                    let at = old.last_ts;
                    self.core.end_flow(&mut old, End::Cut, at, &mut self.budget);
                }
                // Only a SYN, or a segment carrying data, starts a flow: a stray ACK or FIN
                // after a flow was forgotten must not invent a connection.
                let f = seg.flags;
                if !f.syn && seg.payload.is_empty() {
                    return;
                }
                let (client, server) = orient(seg);
                let (slot, evicted) = self.flows.insert(ts, client, server, App::Undecided);
                if let Some(old) = evicted {
                    let max = self.flows.limits.max_flows;
                    self.evicted(old, &format!("more than {max} connections open at once"));
                }
                self.flows.flow(slot).mid_stream = !f.syn || f.ack;
                self.core.stats.connections += 1;
                slot
            }
        };
        let flow = self.flows.flow(slot);
        if flow.done {
            flow.last_ts = ts;
            self.flows.touch(slot, 0);
            return;
        }
        let core = &mut self.core;
        let mid = flow.mid_stream;
        let meta = core.flow_meta(flow);
        let mut ctx = core.ctx(&meta);
        let outcome = flow.segment(ts, seg, &mut self.budget, &mut |app, dir, chunk| {
            app.chunk(dir, chunk, mid, &mut ctx)
        });
        match outcome {
            Outcome::Open => {}
            Outcome::Finished => core.end_flow(flow, End::Finished, ts, &mut self.budget),
            Outcome::Reset => core.end_flow(flow, End::Reset, ts, &mut self.budget),
        }
        let state = flow.app.state_bytes();
        self.flows.touch(slot, state);
        while let Some(old) = self.flows.evict_over_state(slot) {
            let max = self.flows.limits.max_state_bytes >> 20;
            self.evicted(
                old,
                &format!("connections hold more than {max} MiB of state"),
            );
        }
    }
}

/// Who opened the connection? The SYN says; without it, the payload or the ports guess.
fn orient(seg: &TcpSegment<'_>) -> (SocketAddr, SocketAddr) {
    let f = seg.flags;
    let sender_is_client = if f.syn {
        !f.ack
    } else if Tls::detect(seg.payload) || http1::looks_like_request(seg.payload) {
        true
    } else if http1::looks_like_response(seg.payload) {
        false
    } else {
        // Ephemeral ports are high: the server usually has the lower one.
        seg.src.port() > seg.dst.port()
    };
    if sender_is_client {
        (seg.src, seg.dst)
    } else {
        (seg.dst, seg.src)
    }
}

#[cfg(test)]
mod tests;
