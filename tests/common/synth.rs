//! A synthetic capture of Go module-proxy traffic with many distinct modules (the fleet
//! benchmark and the folding tests): HTTP/1.1 keep-alive connections from a go command to
//! one or more GOPROXY servers (`http://127.0.0.2:3000`, `:3001`, …), each request
//! `GET /example.com/mNNNNNNN/@v/v1.0.0.info` answered 200 (a small JSON body) or 404, with
//! real TCP framing (handshake, sequence numbers, FIN) and valid IPv4/TCP checksums. It
//! streams: memory does not grow with the number of modules. With several proxies each
//! module walks the list as the go command does with `,`: 404 at every proxy but the last,
//! which answers 200 (or 404 too for a failing module).
#![allow(dead_code)]

use std::io::{self, Write};

pub struct Opts {
    pub modules: u64,
    /// Every Nth module is not found anywhere (0: none).
    pub fail_every: u64,
    pub all_fail: bool,
    pub proxies: u16,
    /// Requests per connection before it is closed.
    pub per_conn: u64,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            modules: 0,
            fail_every: 0,
            all_fail: false,
            proxies: 1,
            per_conn: 100,
        }
    }
}

/// Whether module `i` fails (404 everywhere) under `a`.
pub fn fails(a: &Opts, i: u64) -> bool {
    a.all_fail || (a.fail_every > 0 && i % a.fail_every == a.fail_every - 1)
}

fn csum(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// One TCP direction's state.
struct Side {
    ip: [u8; 4],
    port: u16,
    seq: u32,
}

struct Pcap<W: Write> {
    out: W,
    ts_us: u64,
    frame: Vec<u8>,
}

impl<W: Write> Pcap<W> {
    fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&0xa1b2c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?; // Ethernet
        Ok(Pcap {
            out,
            ts_us: 1_700_000_000_000_000,
            frame: Vec::with_capacity(2048),
        })
    }

    /// A segment from `from` to `to`; advances `from.seq` by the payload (and SYN/FIN).
    fn seg(
        &mut self,
        from: &mut Side,
        to: &Side,
        flags: u8,
        payload: &[u8],
        dt_us: u64,
    ) -> io::Result<()> {
        self.ts_us += dt_us;
        let f = &mut self.frame;
        f.clear();
        f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let tot = 20 + 20 + payload.len();
        let ip_start = f.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (tot >> 8) as u8,
            tot as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&from.ip);
        f.extend_from_slice(&to.ip);
        let ipc = fold(csum(&f[ip_start..ip_start + 20], 0));
        f[ip_start + 10..ip_start + 12].copy_from_slice(&ipc.to_be_bytes());
        let tcp_start = f.len();
        f.extend_from_slice(&from.port.to_be_bytes());
        f.extend_from_slice(&to.port.to_be_bytes());
        f.extend_from_slice(&from.seq.to_be_bytes());
        let ack = if flags & ACK != 0 { to.seq } else { 0 };
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        let tcp_len = (20 + payload.len()) as u32;
        let mut pseudo = csum(&from.ip, 0);
        pseudo = csum(&to.ip, pseudo);
        pseudo += 6 + tcp_len;
        let tc = fold(csum(&f[tcp_start..], pseudo));
        f[tcp_start + 16..tcp_start + 18].copy_from_slice(&tc.to_be_bytes());
        let len = f.len() as u32;
        self.out
            .write_all(&((self.ts_us / 1_000_000) as u32).to_le_bytes())?;
        self.out
            .write_all(&((self.ts_us % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(f)?;
        let adv = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        from.seq = from.seq.wrapping_add(adv);
        Ok(())
    }
}

/// Writes the capture.
pub fn write<W: Write>(out: W, a: &Opts) -> io::Result<()> {
    let mut pcap = Pcap::new(out)?;
    let mut port: u16 = 20000;
    let mut open: Vec<Option<(Side, Side, u64)>> = (0..a.proxies).map(|_| None).collect();
    let mut req = Vec::with_capacity(256);
    let mut resp = Vec::with_capacity(256);
    for i in 0..a.modules {
        let fails = fails(a, i);
        for p in 0..a.proxies {
            let server_port = 3000 + p;
            let slot = &mut open[p as usize];
            if slot.is_none() {
                port = if port >= 60000 { 20000 } else { port + 1 };
                let mut c = Side {
                    ip: [127, 0, 0, 1],
                    port,
                    seq: 1000,
                };
                let mut s = Side {
                    ip: [127, 0, 0, 2],
                    port: server_port,
                    seq: 5000,
                };
                pcap.seg(&mut c, &s, SYN, &[], 50)?;
                pcap.seg(&mut s, &c, SYN | ACK, &[], 100)?;
                pcap.seg(&mut c, &s, ACK, &[], 20)?;
                *slot = Some((c, s, 0));
            }
            let (c, s, n) = slot.as_mut().expect("opened above");
            req.clear();
            write!(
                req,
                "GET /example.com/m{i:07}/@v/v1.0.0.info HTTP/1.1\r\nHost: 127.0.0.2:{server_port}\r\n\
                 User-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n"
            )?;
            let ok = p + 1 == a.proxies && !fails;
            let body = if ok {
                "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-02T03:04:05Z\"}".to_string()
            } else {
                format!("not found: example.com/m{i:07}@v1.0.0: invalid version\n")
            };
            resp.clear();
            write!(
                resp,
                "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{body}",
                if ok { "200 OK" } else { "404 Not Found" },
                if ok {
                    "application/json"
                } else {
                    "text/plain; charset=UTF-8"
                },
                body.len()
            )?;
            pcap.seg(c, s, PSH | ACK, &req, 30)?;
            pcap.seg(s, c, ACK, &[], 10)?;
            pcap.seg(s, c, PSH | ACK, &resp, 900)?;
            pcap.seg(c, s, ACK, &[], 10)?;
            *n += 1;
            if *n >= a.per_conn {
                let (mut c, mut s, _) = slot.take().expect("open");
                pcap.seg(&mut c, &s, FIN | ACK, &[], 20)?;
                pcap.seg(&mut s, &c, FIN | ACK, &[], 20)?;
                pcap.seg(&mut c, &s, ACK, &[], 20)?;
            }
        }
    }
    for slot in &mut open {
        if let Some((mut c, mut s, _)) = slot.take() {
            pcap.seg(&mut c, &s, FIN | ACK, &[], 20)?;
            pcap.seg(&mut s, &c, FIN | ACK, &[], 20)?;
            pcap.seg(&mut c, &s, ACK, &[], 20)?;
        }
    }
    pcap.out.flush()
}
