//! The decoder: packets (or a proxy's plaintext chunks) in, events out. Pure: it takes each
//! packet's timestamp as the time, never the clock, so a replay and a live capture of the
//! same traffic give the same events. What the exchanges mean is asked of an injected
//! [`hook::ExchangeHook`]; nothing here knows about Go modules.

pub mod app;
pub mod dns;
pub mod hook;
pub mod http1;
pub mod http2;
pub mod ip;
pub mod link;
pub mod reassembly;
mod stream;
pub mod tcp;
pub mod tls;
pub mod tunnel;

use crate::vocab::{ConnError, Connection, Dir, Event, Packet, Setup, Source, StreamEvent, Ts};
use app::{App, Close, ConnCtx, DecodeConfig};
use dns::DnsTable;
use hook::ExchangeHook;
use ip::{TcpSegment, Transport};
use reassembly::Budget;
use std::net::SocketAddr;
use stream::Streams;
use tcp::{Flow, FlowTable, Limits, Lookup, Outcome};
use tls::Tls;

/// Counters for the summary and the status bar.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    pub connections: u64,
    pub exchanges: u64,
    pub gaps: u64,
    /// Frames that were not TCP/UDP over IP, or were malformed.
    pub skipped: u64,
    /// Open connections ended early to stay within the decoder's bounds: more than
    /// `Limits::max_flows` at once (a SYN flood), or more protocol state than
    /// `Limits::max_state_bytes`. The least recently active go first. Each is still
    /// reported (connection error `truncated`; its unanswered requests `evicted`), but
    /// packets of it that come later start a new, mid-stream connection. Like `gaps`, this
    /// is traffic the decoder did not follow to the end: answers may be missing because of
    /// it.
    pub flows_evicted: u64,
    /// HTTP/1 requests beyond the bound on requests waiting for a response on one
    /// connection (`http1::MAX_PENDING`; the go command never pipelines). Each is still
    /// reported, at once, as an exchange with error `dropped: too many pending requests`;
    /// its response, when it comes, is read past but not paired.
    pub requests_dropped: u64,
    /// HTTP/1 messages whose framing net/http rejects (two different Content-Length values,
    /// an invalid Content-Length, a Transfer-Encoding other than `chunked`, broken chunked
    /// encoding) or whose head is not HTTP: the exchange carries a `malformed: ...` error.
    pub malformed: u64,
    /// HTTP/2 streams the decoder's limits refused (too many open at once, a header list
    /// too large): counted, not reported as exchanges.
    pub h2_dropped: u64,
    /// HTTP/2 directions that could no longer be decoded (a gap, a protocol error).
    pub h2_broken: u64,
}

/// How a flow ended, which decides its `error`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Finished,
    Reset,
    /// The input ended with the connection still open.
    Cut,
    /// Removed from the table to make room (see `Stats::flows_evicted`).
    Evicted,
    /// No packet for the idle timeout.
    Idle,
}

pub struct Decoder {
    flows: FlowTable<App>,
    streams: Streams,
    budget: Budget,
    core: Core,
    last_sweep: Ts,
}

/// Where a connection goes and what reaching it cost: what a codec is told about it.
#[derive(Clone, Copy)]
struct ConnMeta {
    id: u64,
    client: SocketAddr,
    server: SocketAddr,
    scheme: &'static str,
    source: Source,
    setup: Setup,
}

/// Everything but the flow table, so a flow borrowed from the table can be worked on.
struct Core {
    config: DecodeConfig,
    hook: Box<dyn ExchangeHook>,
    /// Things to tell the user that are not events.
    notices: Vec<String>,
    dns: DnsTable,
    next_exchange: u64,
    out: Vec<Event>,
    stats: Stats,
    last_ts: Ts,
}

impl Decoder {
    pub fn new(config: DecodeConfig, hook: Box<dyn ExchangeHook>) -> Self {
        Self::with_limits(config, hook, Limits::default())
    }

    pub fn with_limits(config: DecodeConfig, hook: Box<dyn ExchangeHook>, limits: Limits) -> Self {
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

    pub fn stats(&self) -> &Stats {
        &self.core.stats
    }

    /// Open flows in the table.
    pub fn open_flows(&self) -> usize {
        self.flows.open()
    }

    /// Out-of-order bytes (and their overhead) held right now, across all flows.
    pub fn held_bytes(&self) -> usize {
        self.flows.limits.held_total - self.budget.remaining
    }

    /// Protocol state held right now, across all flows (as each flow last reported it).
    pub fn state_bytes(&self) -> usize {
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

    /// Plaintext from the MITM proxy.
    pub fn stream(&mut self, ev: StreamEvent) {
        self.streams.event(ev, &mut self.core);
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

impl Core {
    /// Adds what an HTTP/2 connection's codec dropped to the totals.
    fn count_h2(&mut self, app: &App) {
        if let Some(c) = app.h2_counters() {
            self.stats.h2_dropped += c.streams_dropped + c.header_lists_too_large;
            self.stats.h2_broken += c.broken;
        }
    }

    fn ctx(&mut self, m: &ConnMeta) -> ConnCtx<'_> {
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

    fn flow_meta(&self, flow: &Flow<App>) -> ConnMeta {
        ConnMeta {
            id: flow.id,
            client: flow.client,
            server: flow.server,
            scheme: "http",
            source: Source::Capture,
            setup: Setup {
                dns_ms: self.dns.lookup_ms(&flow.server.ip()),
                connect_ms: crate::vocab::time::ms_between(flow.syn_at, flow.synack_at),
                tls_ms: None,
            },
        }
    }

    /// Finishes a flow: delivers what is held, closes its protocol, emits the connection.
    /// A flow still in the table stays there, done, to absorb late ACKs.
    fn end_flow(&mut self, flow: &mut Flow<App>, end: End, ts: Ts, budget: &mut Budget) {
        let mid = flow.mid_stream;
        let meta = self.flow_meta(flow);
        let mut ctx = self.ctx(&meta);
        flow.flush(ts, budget, &mut |app, dir, chunk| {
            app.chunk(dir, chunk, mid, &mut ctx)
        });
        match end {
            End::Finished => {}
            End::Reset => flow.app.close(Close::Reset, ts, &mut ctx),
            End::Evicted => flow.app.close(Close::Evicted, ts, &mut ctx),
            End::Cut | End::Idle => flow.app.close(Close::Cut, ts, &mut ctx),
        }
        flow.done = true;
        let gaps = flow.gaps();
        self.stats.gaps += gaps as u64;
        self.stats.exchanges = self.next_exchange;
        let answered = flow.synack_at.is_some() || flow.dirs[Dir::Down as usize].started();
        let both_fin = flow.dirs[0].finished() && flow.dirs[1].finished();
        let error = match end {
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
        app.end();
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
        let tunnel = app.tunnel().map(|t| {
            // The tunnel: a connection of its own, to the target, through the proxy.
            let mut tc = Connection::new(&(&meta).into(), t.started, t.last.max(t.started));
            tc.id = t.id;
            tc.via = Some(t.via);
            tc.target = Some(t.target.clone());
            tc.server_name = Some(t.host().to_string());
            tc.tls = t.inner.tls_info();
            tc.protocol = t.inner.protocol();
            tc.connect_ms = Some(t.connect_ms);
            tc.bytes_up = t.bytes[0];
            tc.bytes_down = t.bytes[1];
            tc.error = error;
            tc
        });
        if let Some(t) = app.tunnel() {
            c.target = Some(t.target.clone());
        }
        self.out.push(Event::Connection(c));
        if let Some(tc) = tunnel {
            self.stats.connections += 1;
            self.out.push(Event::Connection(tc));
        }
    }
}

impl From<&ConnMeta> for crate::vocab::event::Endpoints {
    fn from(m: &ConnMeta) -> Self {
        crate::vocab::event::Endpoints {
            id: m.id,
            client: m.client,
            server: m.server,
            source: m.source,
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
mod tests {
    //! Flow-table cases that a recording of the go command does not produce on demand.
    use super::*;
    use crate::vocab::LinkType;
    use etherparse::PacketBuilder;

    struct Tcp {
        from_client: bool,
        seq: u32,
        ack: u32,
        syn: bool,
        fin: bool,
        payload: &'static [u8],
    }

    fn frame(t: &Tcp) -> Vec<u8> {
        let (src, dst, sp, dp) = if t.from_client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 3000)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 3000, 40000)
        };
        let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, t.seq, 65535);
        // Everything but the opening SYN acknowledges something.
        if !(t.syn && t.from_client) {
            b = b.ack(t.ack);
        }
        if t.syn {
            b = b.syn();
        }
        if t.fin {
            b = b.fin();
        }
        let mut out = Vec::new();
        b.write(&mut out, t.payload).unwrap();
        out
    }

    fn run(segs: &[Tcp]) -> Vec<Event> {
        let mut d = Decoder::new(DecodeConfig::default(), Box::new(hook::NoHook));
        let mut events = Vec::new();
        for (i, t) in segs.iter().enumerate() {
            let data = frame(t);
            d.packet(&Packet {
                ts: Ts(1_000_000 * (i as i64 + 1)),
                link: LinkType::Ethernet,
                iface: 0,
                wire_len: data.len() as u32,
                data: &data,
            });
            events.extend(d.drain());
        }
        d.finish();
        events.extend(d.drain());
        events
    }

    const REQ: &[u8] = b"GET /a.com/m/@v/list HTTP/1.1\r\nHost: h\r\n\r\n";
    const RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv1";

    fn exchange(c_isn: u32, s_isn: u32) -> Vec<Tcp> {
        let c = c_isn.wrapping_add(1);
        let s = s_isn.wrapping_add(1);
        let t = |from_client, seq, ack, syn, payload| Tcp {
            from_client,
            seq,
            ack,
            syn,
            fin: false,
            payload,
        };
        vec![
            t(true, c_isn, 0, true, &[][..]),
            t(false, s_isn, c, true, &[][..]),
            t(true, c, s, false, REQ),
            t(false, s, c.wrapping_add(REQ.len() as u32), false, RESP),
        ]
    }

    #[test]
    fn port_reuse_starts_a_new_connection() {
        let mut segs = exchange(1000, 5000);
        // Same addresses and ports, a new SYN with another sequence number.
        segs.extend(exchange(900_000, 7000));
        let events = run(&segs);
        let conns: Vec<&Connection> = events
            .iter()
            .filter_map(|e| match e {
                Event::Connection(c) => Some(c),
                _ => None,
            })
            .collect();
        let exchanges = events
            .iter()
            .filter(|e| matches!(e, Event::Exchange(x) if x.status == Some(200)))
            .count();
        assert_eq!(conns.len(), 2);
        assert_eq!(exchanges, 2);
        assert_ne!(conns[0].id, conns[1].id);
    }

    #[test]
    fn sequence_numbers_wrapping_mid_connection() {
        // The client's ISN sits just below 2^32, so its request crosses the wrap.
        let events = run(&exchange(u32::MAX - 10, u32::MAX - 3));
        let ok = events
            .iter()
            .any(|e| matches!(e, Event::Exchange(x) if x.status == Some(200) && x.resp_bytes == 2));
        assert!(ok, "{events:?}");
    }

    #[test]
    fn a_stray_ack_does_not_invent_a_connection() {
        let events = run(&[Tcp {
            from_client: true,
            seq: 5,
            ack: 9,
            syn: false,
            fin: false,
            payload: &[],
        }]);
        assert!(events.is_empty());
    }
    type Addr = ([u8; 4], u16);

    fn raw(src: Addr, dst: Addr, seq: u32, ack: Option<u32>, syn: bool, payload: &[u8]) -> Vec<u8> {
        let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src.0, dst.0, 64)
            .tcp(src.1, dst.1, seq, 65535);
        if let Some(a) = ack {
            b = b.ack(a);
        }
        if syn {
            b = b.syn();
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    fn feed(d: &mut Decoder, ts: i64, data: &[u8], events: &mut Vec<Event>) {
        d.packet(&Packet {
            ts: Ts(ts),
            link: LinkType::Ethernet,
            iface: 0,
            wire_len: data.len() as u32,
            data,
        });
        events.extend(d.drain());
    }

    fn small(max_flows: usize) -> Decoder {
        let limits = Limits {
            max_flows,
            ..Default::default()
        };
        Decoder::with_limits(DecodeConfig::default(), Box::new(hook::NoHook), limits)
    }

    fn conn_errors(events: &[Event]) -> Vec<Option<ConnError>> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Connection(c) => Some(c.error),
                _ => None,
            })
            .collect()
    }

    const SRV: Addr = ([10, 0, 0, 2], 3000);

    /// A SYN flood with one timestamp: the table never holds more than its limit, and every
    /// connection is still reported.
    #[test]
    fn a_flood_with_one_timestamp_is_bounded_and_reported() {
        let mut d = small(8);
        let mut events = Vec::new();
        for i in 0..100u16 {
            let syn = raw(([10, 1, 0, 1], 10_000 + i), SRV, 5, None, true, &[]);
            feed(&mut d, 1_000, &syn, &mut events);
            assert!(d.open_flows() <= 8);
        }
        d.finish();
        events.extend(d.drain());
        let errors = conn_errors(&events);
        assert_eq!(errors.len(), 100);
        assert!(errors.iter().all(|e| *e == Some(ConnError::NoAnswer)));
        assert_eq!(d.stats().flows_evicted, 92);
        assert_eq!(d.stats().connections, 100);
        assert!(d
            .notices()
            .iter()
            .any(|n| n.contains("92 connections were evicted")));
    }

    /// Timestamps that go backwards: the idle sweep still runs (on the newest time seen)
    /// and a flow touched in the past is not expired early.
    #[test]
    fn backwards_time_still_sweeps_idle_flows() {
        let mut d = small(1000);
        let mut events = Vec::new();
        let s = 1_000_000_000i64;
        let a: Addr = ([10, 1, 0, 1], 10_000);
        feed(
            &mut d,
            1_000 * s,
            &raw(a, SRV, 5, None, true, &[]),
            &mut events,
        );
        // Later packets carry ever smaller timestamps; the clock stays at 1000 s.
        for i in 1..50u16 {
            let syn = raw(([10, 1, 0, 2], 10_000 + i), SRV, 5, None, true, &[]);
            feed(&mut d, (1_000 - i as i64) * s, &syn, &mut events);
        }
        assert_eq!(d.open_flows(), 50);
        // 301 s after the newest time: everything is idle and goes.
        let b: Addr = ([10, 1, 0, 3], 10_000);
        feed(
            &mut d,
            1_301 * s,
            &raw(b, SRV, 5, None, true, &[]),
            &mut events,
        );
        assert_eq!(conn_errors(&events).len(), 50);
        assert_eq!(d.open_flows(), 1);
        assert_eq!(d.stats().flows_evicted, 0);
    }

    /// An evicted connection with a request waiting: the request says "evicted", the
    /// connection "truncated" (never "the proxy did not answer").
    #[test]
    fn eviction_finishes_flows_properly() {
        let mut d = small(1);
        let mut events = Vec::new();
        let a: Addr = ([10, 1, 0, 1], 10_000);
        feed(&mut d, 1, &raw(a, SRV, 99, None, true, &[]), &mut events);
        feed(
            &mut d,
            2,
            &raw(SRV, a, 500, Some(100), true, &[]),
            &mut events,
        );
        feed(
            &mut d,
            3,
            &raw(a, SRV, 100, Some(501), false, REQ),
            &mut events,
        );
        // Out-of-order bytes held, to check the budget comes back.
        feed(
            &mut d,
            4,
            &raw(SRV, a, 600, Some(100 + REQ.len() as u32), false, b"later"),
            &mut events,
        );
        assert!(d.held_bytes() > 0);
        assert!(d.state_bytes() > 0);
        let b: Addr = ([10, 1, 0, 2], 10_000);
        feed(&mut d, 5, &raw(b, SRV, 5, None, true, &[]), &mut events);
        let ex: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Exchange(x) => Some(x.error.as_deref()),
                _ => None,
            })
            .collect();
        assert_eq!(ex, [Some(http1::EVICTED)]);
        assert_eq!(conn_errors(&events), [Some(ConnError::Gap)]);
        assert_eq!(d.held_bytes(), 0, "an evicted flow gives its budget back");
        assert_eq!(d.state_bytes(), 0);
        assert_eq!(d.stats().flows_evicted, 1);
        d.finish();
        assert_eq!(d.held_bytes(), 0);
    }
}
