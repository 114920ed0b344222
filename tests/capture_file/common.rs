//! Shared by the integration tests: the old reader, both readers' output as owned lists,
//! builders for synthetic files, and where the real captures are.
#![allow(dead_code)]

#[path = "legacy_reader.rs"]
pub mod legacy;

use gomodwatch::source::file::{CaptureFile, Damage};
use gomodwatch::vocab::LinkType;
use std::path::PathBuf;

/// A packet, owned, as both readers return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkt {
    pub ts: i64,
    pub link: LinkType,
    pub iface: u32,
    pub wire_len: u32,
    pub data: Vec<u8>,
    /// `position()` after the packet: the end of its record.
    pub end: u64,
}

/// What a reader made of a file: its packets, then how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub packets: Vec<Pkt>,
    /// `Err(message)` for an error from `new` or `next_packet`.
    pub end: Result<(), String>,
    pub damage: Vec<Damage>,
    pub skipped: u64,
    pub resyncs: u64,
    pub dropped: u64,
    pub interfaces: Vec<(LinkType, Option<String>)>,
}

pub fn read_new(bytes: &[u8]) -> Outcome {
    let mut out = Outcome {
        packets: Vec::new(),
        end: Ok(()),
        damage: Vec::new(),
        skipped: 0,
        resyncs: 0,
        dropped: 0,
        interfaces: Vec::new(),
    };
    let mut f = match CaptureFile::new(bytes) {
        Ok(f) => f,
        Err(e) => {
            out.end = Err(e.to_string());
            return out;
        }
    };
    loop {
        match f.next_packet() {
            Ok(Some(p)) => {
                let pkt = Pkt {
                    ts: p.ts.0,
                    link: p.link,
                    iface: p.iface,
                    wire_len: p.wire_len,
                    data: p.data.to_vec(),
                    end: 0,
                };
                out.packets.push(Pkt {
                    end: f.position(),
                    ..pkt
                });
            }
            Ok(None) => break,
            Err(e) => {
                out.end = Err(e.to_string());
                break;
            }
        }
    }
    out.damage = f.damage().to_vec();
    out.skipped = f.skipped_bytes();
    out.resyncs = f.resyncs();
    out.dropped = f.dropped();
    out.interfaces = f
        .interfaces()
        .iter()
        .map(|i| (i.link, i.name.clone()))
        .collect();
    out
}

pub fn read_old(bytes: &[u8]) -> Outcome {
    let mut out = Outcome {
        packets: Vec::new(),
        end: Ok(()),
        damage: Vec::new(),
        skipped: 0,
        resyncs: 0,
        dropped: 0,
        interfaces: Vec::new(),
    };
    let mut f = match legacy::CaptureFile::new(bytes) {
        Ok(f) => f,
        Err(e) => {
            out.end = Err(e.to_string());
            return out;
        }
    };
    loop {
        match f.next_packet() {
            Ok(Some(p)) => {
                let pkt = Pkt {
                    ts: p.ts.0,
                    link: p.link,
                    iface: p.iface,
                    wire_len: p.wire_len,
                    data: p.data.to_vec(),
                    end: 0,
                };
                out.packets.push(Pkt {
                    end: f.position(),
                    ..pkt
                });
            }
            Ok(None) => break,
            Err(e) => {
                out.end = Err(e.to_string());
                break;
            }
        }
    }
    out.dropped = f.dropped();
    out.interfaces = f
        .interfaces()
        .iter()
        .map(|i| (i.link, i.name.clone()))
        .collect();
    out
}

/// Asserts that both readers read `bytes` the same way (packets, positions, end, interfaces).
pub fn assert_same(name: &str, bytes: &[u8]) -> Outcome {
    let old = read_old(bytes);
    let new = read_new(bytes);
    assert_eq!(new.packets.len(), old.packets.len(), "{name}: packet count");
    for (i, (n, o)) in new.packets.iter().zip(&old.packets).enumerate() {
        assert_eq!(n, o, "{name}: packet {i}");
    }
    assert_eq!(new.end, old.end, "{name}: end");
    assert_eq!(new.interfaces, old.interfaces, "{name}: interfaces");
    assert_eq!(new.dropped, old.dropped, "{name}: dropped");
    assert!(new.damage.is_empty(), "{name}: damage {:?}", new.damage);
    new
}

/// The directory of real captures: `CAPFILE_CAPTURES`, else gomodwatch's `captures/`.
pub fn captures_dir() -> PathBuf {
    std::env::var_os("CAPFILE_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures")))
}

/// Every `*.pcap` and `*.pcapng` there, sorted.
pub fn real_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(captures_dir())
        .expect("captures directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no captures in {}", captures_dir().display());
    v
}

pub fn capture(name: &str) -> Vec<u8> {
    std::fs::read(captures_dir().join(name)).expect("capture")
}

/// A small deterministic PRNG (xorshift64*), so that damage is reproducible by seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum E {
    Le,
    Be,
}

impl E {
    pub fn u16(self, v: u16) -> [u8; 2] {
        match self {
            E::Le => v.to_le_bytes(),
            E::Be => v.to_be_bytes(),
        }
    }
    pub fn u32(self, v: u32) -> [u8; 4] {
        match self {
            E::Le => v.to_le_bytes(),
            E::Be => v.to_be_bytes(),
        }
    }
    pub fn u64(self, v: u64) -> [u8; 8] {
        match self {
            E::Le => v.to_le_bytes(),
            E::Be => v.to_be_bytes(),
        }
    }
}

/// A pcap file: (seconds, fraction, data, wire length) records.
pub fn pcap(
    e: E,
    nanos: bool,
    link: u32,
    snaplen: u32,
    recs: &[(u32, u32, &[u8], u32)],
) -> Vec<u8> {
    let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = Vec::new();
    v.extend(e.u32(magic));
    v.extend(e.u16(2));
    v.extend(e.u16(4));
    v.extend([0u8; 8]);
    v.extend(e.u32(snaplen));
    v.extend(e.u32(link));
    for (s, frac, data, wire) in recs {
        v.extend(e.u32(*s));
        v.extend(e.u32(*frac));
        v.extend(e.u32(data.len() as u32));
        v.extend(e.u32(*wire));
        v.extend(*data);
    }
    v
}

/// Builds pcapng files block by block.
pub struct Ng {
    pub e: E,
    pub out: Vec<u8>,
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

impl Ng {
    pub fn new(e: E) -> Ng {
        let mut ng = Ng { e, out: Vec::new() };
        ng.shb();
        ng
    }
    pub fn block(&mut self, ty: u32, body: &[u8]) -> &mut Self {
        let len = 12 + body.len() as u32;
        let ty_bytes = if ty == 0x0A0D_0D0A {
            ty.to_be_bytes()
        } else {
            self.e.u32(ty)
        };
        self.out.extend(ty_bytes);
        self.out.extend(self.e.u32(len));
        self.out.extend(body);
        self.out.extend(self.e.u32(len));
        self
    }
    pub fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (code, val) in opts {
            v.extend(self.e.u16(*code));
            v.extend(self.e.u16(val.len() as u16));
            v.extend(*val);
            pad4(&mut v);
        }
        if !opts.is_empty() {
            v.extend([0u8; 4]);
        }
        v
    }
    pub fn shb(&mut self) -> &mut Self {
        let mut b = Vec::new();
        b.extend(self.e.u32(0x1a2b_3c4d));
        b.extend(self.e.u16(1));
        b.extend(self.e.u16(0));
        b.extend((-1i64).to_le_bytes());
        self.block(0x0A0D_0D0A, &b)
    }
    pub fn idb(&mut self, link: u16, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut b = Vec::new();
        b.extend(self.e.u16(link));
        b.extend(self.e.u16(0));
        b.extend(self.e.u32(262_144));
        b.extend(self.options(opts));
        self.block(1, &b)
    }
    fn packet_body(&self, iface_bytes: &[u8], units: u64, data: &[u8], wire: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(iface_bytes);
        b.extend(self.e.u32((units >> 32) as u32));
        b.extend(self.e.u32(units as u32));
        b.extend(self.e.u32(data.len() as u32));
        b.extend(self.e.u32(wire));
        b.extend(data);
        pad4(&mut b);
        b
    }
    pub fn epb(&mut self, iface: u32, units: u64, data: &[u8], wire: u32) -> &mut Self {
        let b = self.packet_body(&self.e.u32(iface), units, data, wire);
        self.block(6, &b)
    }
    /// An EPB with options (a comment and flags), as Wireshark writes after editing.
    pub fn epb_opts(&mut self, iface: u32, units: u64, data: &[u8], wire: u32) -> &mut Self {
        let mut b = self.packet_body(&self.e.u32(iface), units, data, wire);
        b.extend(self.options(&[(1, b"a comment"), (2, &self.e.u32(1))]));
        self.block(6, &b)
    }
    /// The obsolete Packet Block (type 2): 16-bit interface id, 16-bit drops count.
    pub fn pb(&mut self, iface: u16, units: u64, data: &[u8], wire: u32) -> &mut Self {
        let mut id = Vec::new();
        id.extend(self.e.u16(iface));
        id.extend(self.e.u16(0));
        let b = self.packet_body(&id, units, data, wire);
        self.block(2, &b)
    }
    pub fn spb(&mut self, data: &[u8], wire: u32) -> &mut Self {
        let mut b = Vec::new();
        b.extend(self.e.u32(wire));
        b.extend(data);
        pad4(&mut b);
        self.block(3, &b)
    }
    pub fn isb(&mut self, iface: u32, ifdrop: u64) -> &mut Self {
        let mut b = Vec::new();
        b.extend(self.e.u32(iface));
        b.extend([0u8; 8]);
        b.extend(self.options(&[(5, &self.e.u64(ifdrop))]));
        self.block(5, &b)
    }
}

/// An Ethernet frame carrying an IPv4 packet of `n` bytes (filled with `fill`).
pub fn eth_ipv4(n: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45];
    f.resize(14 + n, fill);
    f
}
