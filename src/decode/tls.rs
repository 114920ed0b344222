//! What a passive observer can learn from a TLS connection: the ClientHello's server name,
//! ALPN offers and versions, the ServerHello's choice, and when the handshake finished.
//! Everything after that is encrypted and only counted.
//!
//! Handshake end: in TLS 1.3 the client's second flight (its encrypted Finished) follows the
//! server's first flight at once, so it is the first client record after the ServerHello. In
//! TLS 1.2 the server's ChangeCipherSpec comes last.

use crate::vocab::event::TlsInfo;
use crate::vocab::time::Ts;

/// A ClientHello or ServerHello larger than this is not something we can use.
const MAX_HELLO: usize = 64 << 10;

const CONTENT_CCS: u8 = 20;
const CONTENT_HANDSHAKE: u8 = 22;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ClientHello,
    ServerHello,
    Finishing,
    Done,
}

pub struct Tls {
    state: State,
    client: Records,
    server: Records,
    hello_at: Option<Ts>,
    tls13: bool,
    pub info: TlsInfo,
}

/// Walks TLS records of one direction, collecting handshake-message bytes until told to stop.
#[derive(Default)]
struct Records {
    header: Vec<u8>,
    /// Bytes left in the current record's fragment, and its content type.
    left: usize,
    content: u8,
    handshake: Vec<u8>,
    collect: bool,
}

impl Records {
    /// Feeds bytes; returns content types of records that *started* in this call.
    fn feed(&mut self, mut data: &[u8], started: &mut Vec<u8>) -> bool {
        while !data.is_empty() {
            if self.left == 0 {
                let need = 5 - self.header.len();
                let take = need.min(data.len());
                self.header.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.header.len() < 5 {
                    break;
                }
                self.content = self.header[0];
                if !(20..=24).contains(&self.content) || self.header[1] != 3 {
                    return false;
                }
                self.left = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                self.header.clear();
                started.push(self.content);
                continue;
            }
            let take = self.left.min(data.len());
            if self.collect && self.content == CONTENT_HANDSHAKE {
                if self.handshake.len() + take > MAX_HELLO {
                    return false;
                }
                self.handshake.extend_from_slice(&data[..take]);
            }
            self.left -= take;
            data = &data[take..];
        }
        true
    }

    /// The first complete handshake message, if it has arrived: (type, body).
    fn first_message(&self) -> Option<(u8, &[u8])> {
        let h = &self.handshake;
        if h.len() < 4 {
            return None;
        }
        let len = (h[1] as usize) << 16 | (h[2] as usize) << 8 | h[3] as usize;
        Some((h[0], h.get(4..4 + len)?))
    }
}

impl Tls {
    pub fn new() -> Self {
        Tls {
            state: State::ClientHello,
            client: Records {
                collect: true,
                ..Default::default()
            },
            server: Records {
                collect: true,
                ..Default::default()
            },
            hello_at: None,
            tls13: false,
            info: TlsInfo::default(),
        }
    }

    /// Does this look like the start of a TLS connection (a handshake record)?
    pub fn detect(data: &[u8]) -> bool {
        data.len() >= 3 && data[0] == CONTENT_HANDSHAKE && data[1] == 3 && data[2] <= 4
    }

    /// Bytes held in buffers (hellos being collected).
    pub fn state_bytes(&self) -> usize {
        let r = |r: &Records| r.header.capacity() + r.handshake.capacity();
        r(&self.client) + r(&self.server)
    }

    pub fn client_data(&mut self, ts: Ts, data: &[u8]) {
        match self.state {
            State::ClientHello => {
                self.hello_at.get_or_insert(ts);
                let mut started = Vec::new();
                if !self.client.feed(data, &mut started) {
                    self.done();
                    return;
                }
                if let Some((1, body)) = self.client.first_message() {
                    parse_client_hello(body, &mut self.info);
                    self.client = Records::default();
                    self.state = State::ServerHello;
                }
            }
            State::Finishing if self.tls13 => self.finish(ts),
            _ => {}
        }
    }

    pub fn server_data(&mut self, ts: Ts, data: &[u8]) {
        if !matches!(self.state, State::ServerHello | State::Finishing) {
            return;
        }
        let mut started = Vec::new();
        if !self.server.feed(data, &mut started) {
            self.done();
            return;
        }
        if self.state == State::ServerHello {
            if let Some((2, body)) = self.server.first_message() {
                self.tls13 = parse_server_hello(body, &mut self.info);
                self.server.collect = false;
                self.server.handshake = Vec::new();
                self.state = State::Finishing;
            }
        } else if !self.tls13 && started.contains(&CONTENT_CCS) {
            self.finish(ts);
        }
    }

    fn finish(&mut self, ts: Ts) {
        self.info.handshake_ms = self.hello_at.map(|h| ts.ms_since(h));
        self.done();
    }

    /// Nothing more is read: the buffers go.
    fn done(&mut self) {
        self.state = State::Done;
        self.client = Records::default();
        self.server = Records::default();
    }
}

impl Default for Tls {
    fn default() -> Self {
        Self::new()
    }
}

/// A cursor over handshake bytes; every read is checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

pub fn version_name(v: u16) -> String {
    match v {
        0x0304 => "TLS 1.3".into(),
        0x0303 => "TLS 1.2".into(),
        0x0302 => "TLS 1.1".into(),
        0x0301 => "TLS 1.0".into(),
        0x0300 => "SSL 3.0".into(),
        v if v & 0x0f0f == 0x0a0a => "GREASE".into(),
        v => format!("0x{v:04x}"),
    }
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Iterates (type, data) of a hello's extensions block.
fn extensions<'a>(c: &mut Cursor<'a>) -> impl Iterator<Item = (u16, &'a [u8])> {
    let mut exts = Cursor(c.vec16().unwrap_or(&[]));
    std::iter::from_fn(move || {
        let ty = exts.u16()?;
        let data = exts.vec16()?;
        Some((ty, data))
    })
}

fn parse_client_hello(body: &[u8], info: &mut TlsInfo) -> Option<()> {
    let mut c = Cursor(body);
    let legacy = c.u16()?;
    c.take(32)?;
    c.vec8()?;
    c.vec16()?;
    c.vec8()?;
    info.versions_offered = vec![version_name(legacy)];
    for (ty, data) in extensions(&mut c) {
        let mut d = Cursor(data);
        match ty {
            0 => {
                let mut list = Cursor(d.vec16()?);
                while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
                    if kind == 0 {
                        info.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            16 => {
                let mut list = Cursor(d.vec16()?);
                while let Some(p) = list.vec8() {
                    info.alpn.push(String::from_utf8_lossy(p).into_owned());
                }
            }
            43 => {
                let mut list = Cursor(d.vec8()?);
                info.versions_offered.clear();
                while let Some(v) = list.u16() {
                    if !is_grease(v) {
                        info.versions_offered.push(version_name(v));
                    }
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// Returns true when the server chose TLS 1.3.
fn parse_server_hello(body: &[u8], info: &mut TlsInfo) -> bool {
    let mut c = Cursor(body);
    let Some(legacy) = c.u16() else { return false };
    let mut version = legacy;
    if c.take(32).and(c.vec8()).and(c.u16()).and(c.u8()).is_some() {
        for (ty, data) in extensions(&mut c) {
            let mut d = Cursor(data);
            match ty {
                43 => version = d.u16().unwrap_or(version),
                16 => {
                    if let Some(p) = d.vec16().and_then(|l| Cursor(l).vec8()) {
                        info.alpn_selected = Some(String::from_utf8_lossy(p).into_owned());
                    }
                }
                _ => {}
            }
        }
    }
    info.version = Some(version_name(version));
    version == 0x0304
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello as Go's crypto/tls builds it (SNI, ALPN h2/http1.1, TLS 1.3/1.2),
    /// in one record.
    fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let name = sni.as_bytes();
        ext.extend([0, 0]);
        ext.extend(((name.len() + 5) as u16).to_be_bytes());
        ext.extend(((name.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend((name.len() as u16).to_be_bytes());
        ext.extend(name);
        ext.extend([0, 16, 0, 14, 0, 12, 2, b'h', b'2', 8]);
        ext.extend(b"http/1.1");
        ext.extend([0, 43, 0, 5, 4, 3, 4, 3, 3]);
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.extend([0, 0, 2, 0x13, 1, 1, 0]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn client_hello_split_anywhere() {
        let rec = client_hello("proxy.golang.org");
        for cut in 1..rec.len() {
            let mut t = Tls::new();
            t.client_data(Ts(0), &rec[..cut]);
            t.client_data(Ts(1), &rec[cut..]);
            assert_eq!(t.info.sni.as_deref(), Some("proxy.golang.org"), "cut {cut}");
            assert_eq!(t.info.alpn, ["h2", "http/1.1"]);
            assert_eq!(t.info.versions_offered, ["TLS 1.3", "TLS 1.2"]);
        }
    }

    #[test]
    fn tls13_handshake_time_ends_with_client_second_flight() {
        let mut t = Tls::new();
        t.client_data(Ts(1_000_000), &client_hello("h"));
        // ServerHello choosing TLS 1.3
        let mut sh = vec![3, 3];
        sh.extend([1u8; 32]);
        sh.extend([0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
        let mut hs = vec![2, 0];
        hs.extend((sh.len() as u16).to_be_bytes());
        hs.extend(sh);
        let mut rec = vec![22, 3, 3];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        t.server_data(Ts(2_000_000), &rec);
        assert_eq!(t.info.version.as_deref(), Some("TLS 1.3"));
        t.client_data(Ts(3_500_000), &[20, 3, 3, 0, 1, 1]);
        assert_eq!(t.info.handshake_ms, Some(2.5));
    }

    #[test]
    fn garbage_is_not_tls() {
        assert!(!Tls::detect(b"GET / HTTP/1.1"));
        let mut t = Tls::new();
        t.client_data(Ts(0), b"\x16\x03\x01\x00\x04\x01\x00\xff\xff");
        assert_eq!(t.info.sni, None);
    }
    #[test]
    fn an_oversized_hello_is_given_up_and_its_buffer_freed() {
        let mut t = Tls::new();
        // A handshake record announcing a huge ClientHello, sent in full records.
        let mut hs = vec![1, 0xff, 0xff, 0xff];
        hs.resize(16_000, 0);
        for _ in 0..5 {
            let mut rec = vec![22, 3, 1];
            rec.extend((hs.len() as u16).to_be_bytes());
            rec.extend(&hs);
            t.client_data(Ts(0), &rec);
            assert!(t.state_bytes() <= MAX_HELLO + 64);
        }
        assert_eq!(t.state, State::Done);
        assert_eq!(t.state_bytes(), 0);
    }
}
