//! ClientHello and ServerHello: server name, ALPN, versions; and the server's certificate
//! chain when it is sent in the clear (TLS 1.2 and older).

use crate::vocab::{CertSummary, TlsInfo};

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

/// A TLS version's name (`TLS 1.3`), or its number when unknown.
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

pub(super) fn parse_client_hello(body: &[u8], info: &mut TlsInfo) -> Option<()> {
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
pub(super) fn parse_server_hello(body: &[u8], info: &mut TlsInfo) -> bool {
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

/// The Certificate message's chain (TLS ≤ 1.2: a 3-byte list of 3-byte-length DER
/// certificates, the server's own first): who it is for, who issued it, and who issued the
/// last one sent (the CA the client must trust).
pub(super) fn parse_certificate(body: &[u8]) -> Option<CertSummary> {
    let mut c = Cursor(body);
    let list = c.take(3)?;
    let len = (list[0] as usize) << 16 | (list[1] as usize) << 8 | list[2] as usize;
    let mut certs = Cursor(c.take(len.min(c.0.len()))?);
    let mut out = CertSummary::default();
    let mut first = true;
    while let Some(l) = certs.take(3) {
        let n = (l[0] as usize) << 16 | (l[1] as usize) << 8 | l[2] as usize;
        let Some(der) = certs.take(n) else { break };
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            break;
        };
        if first {
            out.subject = Some(cert.subject().to_string());
            out.issuer = Some(cert.issuer().to_string());
            first = false;
        }
        out.root_issuer = Some(cert.issuer().to_string());
    }
    (!first).then_some(out)
}
