//! TLS decryption from an NSS key log (`keylog.rs`): with the connection's secrets the
//! records become plaintext again, and the HTTP inside is decoded as if it had been in the
//! clear.
//!
//! TLS 1.3 (RFC 8446 §7: HKDF-Expand-Label key and IV per direction, nonce = IV xor record
//! number). Keys change per direction: the client's from early data (0-RTT) to handshake
//! to application secrets, the server's from handshake to application. Rather than parse
//! the encrypted handshake, each record is tried with the current key and, when that
//! fails, the next ones: the AEAD tag says which one is right (one failed open per switch).
//!
//! TLS 1.2 (`tls12.rs`): keys from the master secret; each side's key starts after its
//! ChangeCipherSpec, and every record after it (Finished, data, alerts) is sealed.

mod midway;

pub use super::keylog::KeyLog;
use super::keylog::Secrets;
use super::tls12::{self, Key12};
use ring::{aead, hkdf};

const CONTENT_CCS: u8 = 20;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APP_DATA: u8 = 23;
/// A record holds at most 2^14 bytes plus 256 of expansion (RFC 8446 §5.2).
const MAX_RECORD: usize = (1 << 14) + 256;

/// Records held per side while the other side's hello is awaited (0-RTT data).
const MAX_HELD: usize = 64 << 10;

/// The cipher suite's AEAD and hash.
#[derive(Clone, Copy)]
struct Suite {
    aead: &'static aead::Algorithm,
    hkdf: hkdf::Algorithm,
}

fn suite(id: u16) -> Option<Suite> {
    match id {
        0x1301 => Some(Suite {
            aead: &aead::AES_128_GCM,
            hkdf: hkdf::HKDF_SHA256,
        }),
        0x1302 => Some(Suite {
            aead: &aead::AES_256_GCM,
            hkdf: hkdf::HKDF_SHA384,
        }),
        0x1303 => Some(Suite {
            aead: &aead::CHACHA20_POLY1305,
            hkdf: hkdf::HKDF_SHA256,
        }),
        _ => None,
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1).
fn expand_label(alg: hkdf::Algorithm, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let info = [info.as_slice()];
    let okm = prk.expand(&info, Len(len)).ok()?;
    let mut out = vec![0; len];
    okm.fill(&mut out).ok()?;
    Some(out)
}

/// One direction's key and the next record's number.
struct Key {
    kind: KeyKind,
    seq: u64,
}

enum KeyKind {
    Tls13 {
        key: aead::LessSafeKey,
        iv: [u8; 12],
    },
    Tls12(Key12),
}

impl Key {
    fn tls13(s: Suite, secret: &[u8]) -> Option<Key> {
        let k = expand_label(s.hkdf, secret, "key", s.aead.key_len())?;
        let iv = expand_label(s.hkdf, secret, "iv", 12)?;
        Some(Key {
            kind: KeyKind::Tls13 {
                key: aead::LessSafeKey::new(aead::UnboundKey::new(s.aead, &k).ok()?),
                iv: iv.try_into().ok()?,
            },
            seq: 0,
        })
    }

    /// Opens one record (`header` is its 5 bytes); its real content type and plaintext.
    fn open<'a>(&mut self, header: &[u8], body: &'a mut [u8]) -> Option<(u8, &'a [u8])> {
        let out = match &self.kind {
            KeyKind::Tls13 { key, iv } => {
                let mut nonce = *iv;
                for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                    *n ^= s;
                }
                let plain = key
                    .open_in_place(
                        aead::Nonce::assume_unique_for_key(nonce),
                        aead::Aad::from(header),
                        body,
                    )
                    .ok()?;
                // Inner plaintext: content, the real type, then zero padding.
                let end = plain.iter().rposition(|b| *b != 0)?;
                (plain[end], &plain[..end])
            }
            KeyKind::Tls12(k) => (header[0], k.open(self.seq, header, body)?),
        };
        self.seq += 1;
        Some(out)
    }
}

/// One direction of a connection.
#[derive(Default)]
struct Side {
    buf: Vec<u8>,
    /// Keys in the order they come into use; `cur` is the one in use.
    keys: Vec<Key>,
    cur: usize,
    /// TLS 1.2: the key is used once this side sent its ChangeCipherSpec.
    active: bool,
    /// Some key has opened a record of this side.
    opened: bool,
    hello: Option<Vec<u8>>,
    /// Records that came before the keys were known (the client's 0-RTT data).
    held: Vec<Vec<u8>>,
    held_bytes: usize,
}

/// What a connection's decryption came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Hellos not both seen yet.
    Hellos,
    /// Joined after the handshake (`midway.rs`): the key log line, suite and record
    /// numbers are being tried.
    Trial,
    Decrypting,
    /// No secrets for this connection, a suite not covered, or a record would not open (a
    /// gap, a key update): nothing more is decrypted.
    GaveUp,
}

pub(crate) struct Decryptor {
    log: std::sync::Arc<KeyLog>,
    sides: [Side; 2],
    pub(crate) state: State,
    tls13: bool,
    /// The ClientHello offered 0-RTT: client records may come that no key here opens
    /// (early data without its secret), before the handshake key's first.
    early_offered: bool,
}

/// Plaintext application data, in order, and whose it is (`true`: the client's). Feeding
/// one side can give the other's: the client's 0-RTT records are held until the server's
/// hello gives their keys.
pub(crate) type Plain = (bool, Vec<u8>);

impl Decryptor {
    pub(crate) fn new(log: std::sync::Arc<KeyLog>) -> Decryptor {
        Decryptor {
            log,
            sides: Default::default(),
            state: State::Hellos,
            tls13: false,
            early_offered: false,
        }
    }

    /// Bytes were lost: the record numbers are unknown from here.
    pub(crate) fn gap(&mut self) {
        self.give_up();
    }

    fn give_up(&mut self) {
        self.state = State::GaveUp;
        self.sides = Default::default();
    }

    /// Feeds one direction's bytes (`up`: client to server); returns the application
    /// data they completed.
    pub(crate) fn feed(&mut self, up: bool, data: &[u8]) -> Vec<Plain> {
        let mut out = Vec::new();
        if self.state == State::GaveUp {
            return out;
        }
        let i = usize::from(!up);
        self.sides[i].buf.extend_from_slice(data);
        let mut at = 0;
        loop {
            let buf = &self.sides[i].buf[at..];
            if buf.len() < 5 {
                break;
            }
            let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
            if len > MAX_RECORD || buf[1] != 3 {
                self.give_up();
                return out;
            }
            if buf.len() < 5 + len {
                break;
            }
            let mut rec = buf[..5 + len].to_vec();
            at += 5 + len;
            if !self.record(i, &mut rec, &mut out) {
                self.give_up();
                return out;
            }
        }
        self.sides[i].buf.drain(..at);
        out
    }

    /// One whole record of side `i`; false when decryption cannot go on.
    fn record(&mut self, i: usize, rec: &mut Vec<u8>, out: &mut Vec<Plain>) -> bool {
        let content = rec[0];
        if self.state == State::Trial {
            return self.trial(i, rec, out);
        }
        if self.state == State::Hellos {
            let side = &mut self.sides[i];
            match content {
                CONTENT_HANDSHAKE if side.hello.is_none() => {
                    side.hello = Some(rec[5..].to_vec());
                    if self.sides.iter().all(|s| s.hello.is_some()) {
                        return self.keys(out);
                    }
                }
                // 0-RTT data before the ServerHello: kept for when the keys are known.
                CONTENT_APP_DATA if i == 0 => {
                    side.held_bytes += rec.len();
                    if side.held_bytes > MAX_HELD {
                        return false;
                    }
                    side.held.push(std::mem::take(rec));
                }
                _ => {}
            }
            return true;
        }
        if content == CONTENT_CCS {
            // TLS 1.2: this side's records are sealed from here (TLS 1.3 sends one for
            // middleboxes only).
            self.sides[i].active = true;
            return true;
        }
        let side = &mut self.sides[i];
        let sealed = if self.tls13 {
            content == CONTENT_APP_DATA
        } else {
            side.active
        };
        if !sealed {
            // Plaintext handshake (TLS 1.2 before ChangeCipherSpec), alerts.
            return true;
        }
        let (header, body) = rec.split_at_mut(5);
        let opened = open_trying(side, header, body);
        let Some((inner, plain)) = opened else {
            // Early data whose secret the log lacks: skipped until a key opens a record.
            return i == 0 && self.tls13 && self.early_offered && !side.opened;
        };
        side.opened = true;
        if inner == CONTENT_APP_DATA && !plain.is_empty() {
            out.push((i == 0, plain.to_vec()));
        }
        true
    }

    /// Both hellos seen: the client random, the version and suite, the secrets.
    fn keys(&mut self, out: &mut Vec<Plain>) -> bool {
        let (Some(ch), Some(sh)) = (&self.sides[0].hello, &self.sides[1].hello) else {
            return false;
        };
        // Handshake header (4), legacy version (2), random (32).
        let Some(random) = ch.get(6..38).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
            return false;
        };
        let Some(hello) = server_hello(sh) else {
            return false;
        };
        let Some(secrets) = self.log.get(&random) else {
            return false;
        };
        self.early_offered = client_offers_early_data(ch);
        let ok = if hello.tls13 {
            self.keys13(hello.suite, &secrets)
        } else {
            self.keys12(hello.suite, &secrets, &random, &hello.random)
        };
        if !ok {
            return false;
        }
        self.tls13 = hello.tls13;
        self.sides[0].hello = None;
        self.sides[1].hello = None;
        self.state = State::Decrypting;
        // 0-RTT records held until now.
        for mut rec in std::mem::take(&mut self.sides[0].held) {
            if !self.record(0, &mut rec, out) {
                return false;
            }
        }
        self.sides[0].held_bytes = 0;
        true
    }

    fn keys13(&mut self, suite_id: u16, secrets: &Secrets) -> bool {
        let Some(s) = suite(suite_id) else {
            return false;
        };
        let key = |k: &Option<Vec<u8>>| k.as_deref().and_then(|k| Key::tls13(s, k));
        let (early, c_hs, s_hs, c_app, s_app) = (
            key(&secrets.client_early),
            key(&secrets.client_hs),
            key(&secrets.server_hs),
            key(&secrets.client_app),
            key(&secrets.server_app),
        );
        let (Some(c_app), Some(s_app)) = (c_app, s_app) else {
            return false;
        };
        self.sides[0].keys = [early, c_hs, Some(c_app)].into_iter().flatten().collect();
        self.sides[1].keys = [s_hs, Some(s_app)].into_iter().flatten().collect();
        true
    }

    fn keys12(&mut self, suite_id: u16, secrets: &Secrets, cr: &[u8], sr: &[u8]) -> bool {
        let (Some(s), Some(master)) = (tls12::suite(suite_id), &secrets.master) else {
            return false;
        };
        let Some((c, s)) = tls12::keys(s, master, cr, sr) else {
            return false;
        };
        let key = |k| Key {
            kind: KeyKind::Tls12(k),
            seq: 0,
        };
        self.sides[0].keys = vec![key(c)];
        self.sides[1].keys = vec![key(s)];
        true
    }
}

/// Opens a record with the side's current key or, failing that, the next ones (trying
/// each on a copy, as a failed open leaves the buffer undefined); the key that opens it
/// becomes the current one.
fn open_trying<'a>(side: &mut Side, header: &[u8], body: &'a mut [u8]) -> Option<(u8, &'a [u8])> {
    let last = side.keys.len().checked_sub(1)?;
    for k in side.cur..last {
        let mut copy = body.to_vec();
        if let Some((inner, plain)) = side.keys[k].open(header, &mut copy) {
            let n = plain.len();
            body[..n].copy_from_slice(&copy[..n]);
            side.cur = k;
            return Some((inner, &body[..n]));
        }
    }
    let (inner, plain) = side.keys[last].open(header, body)?;
    side.cur = last;
    Some((inner, plain))
}

/// What the decryptor needs from the ServerHello.
struct ServerHello {
    random: [u8; 32],
    suite: u16,
    tls13: bool,
}

/// The ServerHello's random, suite and version (handshake header, version, random,
/// session id, suite, compression, extensions).
fn server_hello(sh: &[u8]) -> Option<ServerHello> {
    if sh.first() != Some(&2) {
        return None;
    }
    let random = <[u8; 32]>::try_from(sh.get(6..38)?).ok()?;
    let sid_len = *sh.get(38)? as usize;
    let at = 39 + sid_len;
    let suite = u16::from_be_bytes([*sh.get(at)?, *sh.get(at + 1)?]);
    let mut tls13 = false;
    let mut exts = sh.get(at + 5..).unwrap_or_default();
    while exts.len() >= 4 {
        let ty = u16::from_be_bytes([exts[0], exts[1]]);
        let len = u16::from_be_bytes([exts[2], exts[3]]) as usize;
        let data = exts.get(4..4 + len)?;
        // supported_versions: 0x0304.
        if ty == 43 && data == [3, 4] {
            tls13 = true;
        }
        exts = &exts[4 + len..];
    }
    Some(ServerHello {
        random,
        suite,
        tls13,
    })
}

/// Does the ClientHello carry the early_data extension (42)?
fn client_offers_early_data(ch: &[u8]) -> bool {
    fn walk(ch: &[u8]) -> Option<bool> {
        let mut at = 38;
        at += 1 + *ch.get(at)? as usize;
        at += 2 + u16::from_be_bytes([*ch.get(at)?, *ch.get(at + 1)?]) as usize;
        at += 1 + *ch.get(at)? as usize;
        let mut exts = ch.get(at + 2..)?;
        while exts.len() >= 4 {
            let ty = u16::from_be_bytes([exts[0], exts[1]]);
            let len = u16::from_be_bytes([exts[2], exts[3]]) as usize;
            if ty == 42 {
                return Some(true);
            }
            exts = exts.get(4 + len..)?;
        }
        Some(false)
    }
    walk(ch).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (simple 1-RTT handshake): the server's handshake traffic secret
    /// gives this key and IV.
    fn unhex(s: &str) -> Option<Vec<u8>> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect()
    }

    #[test]
    fn expand_label_matches_rfc8448() {
        let secret =
            unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
        let key = expand_label(hkdf::HKDF_SHA256, &secret, "key", 16).unwrap();
        let iv = expand_label(hkdf::HKDF_SHA256, &secret, "iv", 12).unwrap();
        assert_eq!(key, unhex("3fce516009c21727d0f2e4e86ee403bc").unwrap());
        assert_eq!(iv, unhex("5d313eb2671276ee13000b30").unwrap());
    }
}
