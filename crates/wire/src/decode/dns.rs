//! Passive DNS: answers seen on the wire fill an address → name map, so a connection to
//! 151.101.1.1 can say `proxy.golang.org`. Nothing is ever sent. The map and the table
//! of outstanding queries are bounded.

use crate::vocab::event::DnsAnswer;
use crate::vocab::time::Ts;
use ahash::AHashMap;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const MAX_NAMES: usize = 16_384;
const MAX_QUERIES: usize = 4_096;
/// A query unanswered this long is not going to be: the resolver's own timeout is 5 s
/// (resolv.conf default), and the go command's resolver retries within it.
const QUERY_TIMEOUT_NS: i64 = 10_000_000_000;

/// The question and answers of one DNS response.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub(crate) id: u16,
    pub(crate) name: String,
    pub(crate) qtype: u16,
    pub(crate) rcode: u8,
    /// The addresses in the answer.
    pub addresses: Vec<IpAddr>,
}

/// A query waiting for its answer.
struct Query {
    ts: Ts,
    name: String,
    qtype: u16,
}

/// What DNS said so far: names by address (for connections' `server_name`) and the queries
/// still waiting for an answer.
#[derive(Default)]
pub struct DnsTable {
    names: AHashMap<IpAddr, String>,
    /// How long the lookup that produced each address took.
    lookup_ms: AHashMap<IpAddr, f64>,
    order: VecDeque<IpAddr>,
    /// (client, server, id) → the query.
    queries: AHashMap<(SocketAddr, SocketAddr, u16), Query>,
    query_order: VecDeque<(SocketAddr, SocketAddr, u16)>,
}

impl DnsTable {
    /// The name the capture resolved to this address, if it did.
    pub fn name_of(&self, ip: &IpAddr) -> Option<&str> {
        self.names.get(ip).map(String::as_str)
    }

    /// Duration of the DNS lookup that answered with this address, when it was seen.
    pub fn lookup_ms(&self, ip: &IpAddr) -> Option<f64> {
        self.lookup_ms.get(ip).copied()
    }

    /// Feeds one UDP payload on port 53; returns an answer event for responses.
    pub fn datagram(
        &mut self,
        ts: Ts,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> Option<DnsAnswer> {
        if payload.len() < 12 {
            return None;
        }
        let id = u16::from_be_bytes([payload[0], payload[1]]);
        let is_response = payload[2] & 0x80 != 0;
        if !is_response {
            let q = parse_response(payload)?;
            if self.query_order.len() >= MAX_QUERIES {
                if let Some(old) = self.query_order.pop_front() {
                    self.queries.remove(&old);
                }
            }
            let key = (src, dst, id);
            let query = Query {
                ts,
                name: q.name,
                qtype: q.qtype,
            };
            // A retransmission keeps the time of the first query.
            if !self.queries.contains_key(&key) {
                self.queries.insert(key, query);
                self.query_order.push_back(key);
            }
            return None;
        }
        let resp = parse_response(payload)?;
        let asked = self.queries.remove(&(dst, src, id)).map(|q| q.ts);
        for ip in &resp.addresses {
            self.remember(*ip, &resp.name);
            if let Some(q) = asked {
                self.lookup_ms.insert(*ip, ts.ms_since(q));
            }
        }
        Some(DnsAnswer {
            ts,
            client: dst,
            server: src,
            qtype: qtype_name(resp.qtype),
            rcode: Some(resp.rcode),
            duration_ms: asked.map(|q| ts.ms_since(q)),
            name: resp.name,
            addresses: resp.addresses,
            error: None,
        })
    }

    /// Queries asked before `now - timeout` (every one, with `all`) that no answer came
    /// for: they end as `no-answer` events.
    pub fn unanswered(&mut self, now: Ts, all: bool) -> Vec<DnsAnswer> {
        let mut out = Vec::new();
        while let Some(key) = self.query_order.front().copied() {
            let Some(q) = self.queries.get(&key) else {
                self.query_order.pop_front();
                continue;
            };
            if !all && now.0 - q.ts.0 < QUERY_TIMEOUT_NS {
                break;
            }
            self.query_order.pop_front();
            let Some(q) = self.queries.remove(&key) else {
                continue;
            };
            out.push(DnsAnswer {
                ts: q.ts,
                client: key.0,
                server: key.1,
                name: q.name,
                qtype: qtype_name(q.qtype),
                rcode: None,
                addresses: Vec::new(),
                duration_ms: Some(now.ms_since(q.ts)),
                error: Some("no-answer"),
            });
        }
        out
    }

    fn remember(&mut self, ip: IpAddr, name: &str) {
        if self.names.insert(ip, name.to_string()).is_none() {
            self.order.push_back(ip);
            if self.order.len() > MAX_NAMES {
                if let Some(old) = self.order.pop_front() {
                    self.names.remove(&old);
                    self.lookup_ms.remove(&old);
                }
            }
        }
    }
}

fn qtype_name(t: u16) -> &'static str {
    match t {
        1 => "A",
        28 => "AAAA",
        5 => "CNAME",
        12 => "PTR",
        33 => "SRV",
        64 => "SVCB",
        65 => "HTTPS",
        _ => "other",
    }
}

/// Parses a DNS response: the first question's name, and every A/AAAA record in the answer
/// section (CNAME chains lead to them; they are attributed to the name asked for).
pub fn parse_response(msg: &[u8]) -> Option<Response> {
    if msg.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([msg[0], msg[1]]);
    let rcode = msg[3] & 0x0f;
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    if qd == 0 {
        return None;
    }
    let mut pos = 12;
    let (name, after) = read_name(msg, pos)?;
    let qtype = u16::from_be_bytes([*msg.get(after)?, *msg.get(after + 1)?]);
    pos = after + 4;
    for _ in 1..qd {
        pos = skip_name(msg, pos)? + 4;
    }
    let mut addresses = Vec::new();
    for _ in 0..an {
        // The owner names are not needed: step over them without following pointers, so
        // a response full of records costs its length, not 64 pointer hops each.
        let after = skip_name(msg, pos)?;
        let rr = msg.get(after..after + 10)?;
        let ty = u16::from_be_bytes([rr[0], rr[1]]);
        let len = u16::from_be_bytes([rr[8], rr[9]]) as usize;
        let data = msg.get(after + 10..after + 10 + len)?;
        match (ty, len) {
            (1, 4) => addresses.push(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            ))),
            (28, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(data);
                addresses.push(IpAddr::V6(Ipv6Addr::from(a)));
            }
            _ => {}
        }
        pos = after + 10 + len;
    }
    Some(Response {
        id,
        name,
        qtype,
        rcode,
        addresses,
    })
}

/// A name longer than this (RFC 1035: 255 octets on the wire) is not a name.
const MAX_NAME: usize = 255;

/// The offset just after the name at `pos` (a pointer ends it), without reading it.
fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)? as usize;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => {
                msg.get(pos + 1)?;
                return Some(pos + 2);
            }
            l if l < 64 => pos += 1 + l,
            _ => return None,
        }
    }
}

/// Reads a possibly compressed name; returns it and the offset after it in the message.
/// Names longer than [`MAX_NAME`] are refused, so the name table stays small.
fn read_name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *msg.get(pos)? as usize;
        match len {
            0 => {
                return Some((name, end.unwrap_or(pos + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = (l & 0x3f) << 8 | *msg.get(pos + 1)? as usize;
                end.get_or_insert(pos + 2);
                pos = ptr;
            }
            l if l < 64 => {
                let label = msg.get(pos + 1..pos + 1 + l)?;
                if name.len() + 1 + l > MAX_NAME {
                    return None;
                }
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
                pos += 1 + l;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real-shaped answer: proxy.golang.org CNAME → A, with compression pointers.
    fn answer() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        for l in ["proxy", "golang", "org"] {
            m.push(l.len() as u8);
            m.extend(l.as_bytes());
        }
        m.extend([0, 0, 1, 0, 1]);
        // CNAME proxy.golang.org → x.org (pointer to "org" at offset 25)
        m.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, b'x', 0xc0, 25]);
        // A x.org 142.250.1.1
        m.extend([0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 142, 250, 1, 1]);
        m
    }

    #[test]
    fn parses_compressed_answer() {
        let r = parse_response(&answer()).unwrap();
        assert_eq!(r.name, "proxy.golang.org");
        assert_eq!(r.addresses, vec![IpAddr::from([142, 250, 1, 1])]);
        assert_eq!(r.id, 0x1234);
    }

    #[test]
    fn fills_map_and_times_queries() {
        let mut t = DnsTable::default();
        let c: SocketAddr = "10.0.0.2:5353".parse().unwrap();
        let s: SocketAddr = "10.0.0.1:53".parse().unwrap();
        let mut q = answer();
        q[2] = 0x01;
        assert!(t.datagram(Ts(1_000_000), c, s, &q).is_none());
        let ev = t.datagram(Ts(3_000_000), s, c, &answer()).unwrap();
        assert_eq!(ev.duration_ms, Some(2.0));
        assert_eq!(
            t.name_of(&IpAddr::from([142, 250, 1, 1])),
            Some("proxy.golang.org")
        );
    }

    #[test]
    fn pointer_loops_are_rejected() {
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend([0xc0, 12]);
        assert!(parse_response(&m).is_none());
    }
    #[test]
    fn names_past_255_octets_are_refused() {
        let mut m = vec![0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        // A 63-byte label, then pointers back to it: 64 hops would make a 4 KiB name.
        m.push(63);
        m.extend([b'a'; 63]);
        m.extend([0xc0, 12]);
        assert!(parse_response(&m).is_none());
        assert!(parse_response(&m[..5]).is_none());
    }

    #[test]
    fn many_records_with_long_owner_names_are_read() {
        let mut m = answer();
        // 2000 more A records whose owner name points at the question.
        let n = 2 + 2000u16;
        m[6..8].copy_from_slice(&n.to_be_bytes());
        for i in 0..2000u16 {
            m.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9]);
            m.extend(i.to_be_bytes());
        }
        let r = parse_response(&m).unwrap();
        assert_eq!(r.addresses.len(), 2001);
    }
}
