//! TLS 1.3 decryption from an NSS key log (`SSLKEYLOGFILE`, what curl/git, browsers and
//! the recording's servers write): with the connection's traffic secrets the records
//! become plaintext again, and the HTTP inside is decoded as if it had been in the clear.
//! Only TLS 1.3 (RFC 8446 §7: HKDF-Expand-Label key and IV per direction, nonce = IV xor
//! record number); TLS 1.2 connections stay opaque.
//!
//! Keys change once per direction, from handshake to application secrets, after the
//! Finished message. Rather than parse the encrypted handshake, each record is tried
//! with the handshake key and, when that fails, the application key: the AEAD tag says
//! which one is right (one failed open per direction, at the switch).

use ring::{aead, hkdf};
use std::collections::HashMap;

const CONTENT_CCS: u8 = 20;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APP_DATA: u8 = 23;
/// A record holds at most 2^14 bytes plus 256 of expansion (RFC 8446 §5.2).
const MAX_RECORD: usize = (1 << 14) + 256;

/// Secrets by client random.
#[derive(Debug, Default)]
pub struct KeyLog {
    secrets: HashMap<[u8; 32], Secrets>,
}

#[derive(Debug, Default, Clone)]
struct Secrets {
    client_hs: Option<Vec<u8>>,
    server_hs: Option<Vec<u8>>,
    client_app: Option<Vec<u8>>,
    server_app: Option<Vec<u8>>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl KeyLog {
    /// Parses NSS key log lines (`LABEL CLIENT_RANDOM SECRET`, hex); unknown labels,
    /// comments and damaged lines are skipped. Returns the log and the lines it used.
    pub fn parse(text: &str) -> (KeyLog, usize) {
        let mut log = KeyLog::default();
        let mut used = 0;
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(label), Some(random), Some(secret)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let (Some(random), Some(secret)) = (unhex(random), unhex(secret)) else {
                continue;
            };
            let Ok(random) = <[u8; 32]>::try_from(random) else {
                continue;
            };
            let e = log.secrets.entry(random).or_default();
            let slot = match label {
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut e.client_hs,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut e.server_hs,
                "CLIENT_TRAFFIC_SECRET_0" => &mut e.client_app,
                "SERVER_TRAFFIC_SECRET_0" => &mut e.server_app,
                _ => continue,
            };
            *slot = Some(secret);
            used += 1;
        }
        (log, used)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

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

/// One direction's key: the AEAD key, its IV, and the next record's number.
struct Key {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Key {
    fn new(s: Suite, secret: &[u8]) -> Option<Key> {
        let k = expand_label(s.hkdf, secret, "key", s.aead.key_len())?;
        let iv = expand_label(s.hkdf, secret, "iv", 12)?;
        Some(Key {
            key: aead::LessSafeKey::new(aead::UnboundKey::new(s.aead, &k).ok()?),
            iv: iv.try_into().ok()?,
            seq: 0,
        })
    }

    /// Opens one record (`header` is its 5 bytes, the AAD); the inner plaintext.
    fn open<'a>(&mut self, header: &[u8], body: &'a mut [u8]) -> Option<&'a [u8]> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(header),
                body,
            )
            .ok()?;
        self.seq += 1;
        Some(plain)
    }
}

/// One direction of a connection.
#[derive(Default)]
struct Side {
    buf: Vec<u8>,
    hs: Option<Key>,
    app: Option<Key>,
    /// The application key has opened a record: the handshake key is done.
    in_app: bool,
    hello: Option<Vec<u8>>,
}

/// What a connection's decryption came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Hellos not both seen yet.
    Hellos,
    Decrypting,
    /// No secrets for this connection, not TLS 1.3, or a record would not open (a gap, a
    /// key update): nothing more is decrypted.
    GaveUp,
}

pub(crate) struct Decryptor {
    log: std::sync::Arc<KeyLog>,
    sides: [Side; 2],
    pub(crate) state: State,
}

/// Plaintext application data of one direction, in order.
pub(crate) type Plain = Vec<u8>;

impl Decryptor {
    pub(crate) fn new(log: std::sync::Arc<KeyLog>) -> Decryptor {
        Decryptor {
            log,
            sides: Default::default(),
            state: State::Hellos,
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
        loop {
            let side = &self.sides[i];
            if side.buf.len() < 5 {
                break;
            }
            let len = u16::from_be_bytes([side.buf[3], side.buf[4]]) as usize;
            if len > MAX_RECORD || side.buf[1] != 3 {
                self.give_up();
                break;
            }
            if side.buf.len() < 5 + len {
                break;
            }
            let mut rec: Vec<u8> = self.sides[i].buf.drain(..5 + len).collect();
            if !self.record(i, &mut rec, &mut out) {
                self.give_up();
                break;
            }
        }
        out
    }

    /// One whole record of side `i`; false when decryption cannot go on.
    fn record(&mut self, i: usize, rec: &mut [u8], out: &mut Vec<Plain>) -> bool {
        let content = rec[0];
        match content {
            CONTENT_HANDSHAKE if self.state == State::Hellos => {
                if self.sides[i].hello.is_none() {
                    self.sides[i].hello = Some(rec[5..].to_vec());
                }
                if self.sides.iter().all(|s| s.hello.is_some()) {
                    return self.keys();
                }
                true
            }
            CONTENT_CCS => true,
            CONTENT_APP_DATA if self.state == State::Decrypting => {
                let (header, body) = rec.split_at_mut(5);
                let side = &mut self.sides[i];
                let plain = if side.in_app {
                    side.app.as_mut().and_then(|k| k.open(header, body))
                } else {
                    // The handshake key while it opens records, then the application key.
                    let mut copy = body.to_vec();
                    match side.hs.as_mut().and_then(|k| k.open(header, &mut copy)) {
                        Some(p) => {
                            let n = p.len();
                            body[..n].copy_from_slice(&copy[..n]);
                            Some(&body[..n])
                        }
                        None => {
                            side.in_app = true;
                            side.app.as_mut().and_then(|k| k.open(header, body))
                        }
                    }
                };
                let Some(plain) = plain else { return false };
                // Inner plaintext: content, the real type, then zero padding.
                let end = plain.iter().rposition(|b| *b != 0);
                if let Some(end) = end {
                    if plain[end] == CONTENT_APP_DATA && end > 0 {
                        out.push(plain[..end].to_vec());
                    }
                }
                true
            }
            // Plaintext alerts and anything before the keys: not application data.
            _ => true,
        }
    }

    /// Both hellos seen: the client random, the suite, the secrets.
    fn keys(&mut self) -> bool {
        let (Some(ch), Some(sh)) = (&self.sides[0].hello, &self.sides[1].hello) else {
            return false;
        };
        // Handshake header (4), legacy version (2), random (32).
        let Some(random) = ch.get(6..38).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
            return false;
        };
        let Some(suite_id) = server_suite(sh) else {
            return false;
        };
        let (Some(s), Some(secrets)) = (suite(suite_id), self.log.secrets.get(&random)) else {
            return false;
        };
        let key = |k: &Option<Vec<u8>>| k.as_deref().and_then(|k| Key::new(s, k));
        let (c_hs, s_hs, c_app, s_app) = (
            key(&secrets.client_hs),
            key(&secrets.server_hs),
            key(&secrets.client_app),
            key(&secrets.server_app),
        );
        if c_app.is_none() || s_app.is_none() {
            return false;
        }
        self.sides[0].hs = c_hs;
        self.sides[0].app = c_app;
        self.sides[1].hs = s_hs;
        self.sides[1].app = s_app;
        self.sides[0].hello = None;
        self.sides[1].hello = None;
        self.state = State::Decrypting;
        true
    }
}

/// The cipher suite of a ServerHello (handshake header, version, random, session id).
fn server_suite(sh: &[u8]) -> Option<u16> {
    if sh.first() != Some(&2) {
        return None;
    }
    let sid_len = *sh.get(38)? as usize;
    let at = 39 + sid_len;
    Some(u16::from_be_bytes([*sh.get(at)?, *sh.get(at + 1)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (simple 1-RTT handshake): the server's handshake traffic secret
    /// gives this key and IV.
    #[test]
    fn expand_label_matches_rfc8448() {
        let secret =
            unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
        let key = expand_label(hkdf::HKDF_SHA256, &secret, "key", 16).unwrap();
        let iv = expand_label(hkdf::HKDF_SHA256, &secret, "iv", 12).unwrap();
        assert_eq!(key, unhex("3fce516009c21727d0f2e4e86ee403bc").unwrap());
        assert_eq!(iv, unhex("5d313eb2671276ee13000b30").unwrap());
    }

    #[test]
    fn key_log_lines() {
        let r = "00".repeat(32);
        let text = format!(
            "# comment\nCLIENT_TRAFFIC_SECRET_0 {r} {}\nbad line\n",
            "11".repeat(32)
        );
        let (log, used) = KeyLog::parse(&text);
        assert_eq!(used, 1);
        assert!(!log.is_empty());
    }
}
