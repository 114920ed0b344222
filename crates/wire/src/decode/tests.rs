//! Flow-table cases that a recording of the go command does not produce on demand.

use super::*;
use crate::vocab::{ConnError, Connection, LinkType};
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
