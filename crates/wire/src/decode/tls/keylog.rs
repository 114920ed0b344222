//! The NSS key log (`SSLKEYLOGFILE`, what curl, git, browsers, Go's `KeyLogWriter` and
//! gomodwatch's own `--keylog` write): secrets by client random. TLS 1.3 traffic secrets,
//! 0-RTT's `CLIENT_EARLY_TRAFFIC_SECRET`, and TLS 1.2's `CLIENT_RANDOM` master secret.
//!
//! Secrets can arrive while a capture is read (pcapng Decryption Secrets Blocks), so the
//! log is shared and grows: a connection looks its secrets up when its hellos are in, and
//! again later if they were not there yet (`decrypt.rs`).

use std::collections::HashMap;
use std::sync::RwLock;

/// Secrets of one connection (one client random).
#[derive(Debug, Default, Clone)]
pub(crate) struct Secrets {
    pub(crate) client_early: Option<Vec<u8>>,
    pub(crate) client_hs: Option<Vec<u8>>,
    pub(crate) server_hs: Option<Vec<u8>>,
    pub(crate) client_app: Option<Vec<u8>>,
    pub(crate) server_app: Option<Vec<u8>>,
    /// TLS 1.2 (and older): the 48-byte master secret (`CLIENT_RANDOM`).
    pub(crate) master: Option<Vec<u8>>,
}

/// Secrets by client random, shared by every connection and grown as secrets arrive.
#[derive(Debug, Default)]
pub struct KeyLog {
    secrets: RwLock<HashMap<[u8; 32], Secrets>>,
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

/// How many lines of each kind a key log gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Used {
    /// TLS 1.3 lines (traffic, handshake and early secrets).
    pub tls13: usize,
    /// TLS 1.2 `CLIENT_RANDOM` lines.
    pub tls12: usize,
}

impl Used {
    /// Lines used in all.
    pub fn total(self) -> usize {
        self.tls13 + self.tls12
    }
}

impl KeyLog {
    /// Parses NSS key log lines (`LABEL CLIENT_RANDOM SECRET`, hex); unknown labels,
    /// comments and damaged lines are skipped. Returns the log and the lines it used.
    pub fn parse(text: &str) -> (KeyLog, usize) {
        let log = KeyLog::default();
        let used = log.add(text).total();
        (log, used)
    }

    /// Adds the secrets of more key log lines (a file, a Decryption Secrets Block).
    pub fn add(&self, text: &str) -> Used {
        let mut used = Used::default();
        let Ok(mut map) = self.secrets.write() else {
            return used;
        };
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
            let e = map.entry(random).or_default();
            let slot = match label {
                "CLIENT_EARLY_TRAFFIC_SECRET" => &mut e.client_early,
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut e.client_hs,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut e.server_hs,
                "CLIENT_TRAFFIC_SECRET_0" => &mut e.client_app,
                "SERVER_TRAFFIC_SECRET_0" => &mut e.server_app,
                "CLIENT_RANDOM" if secret.len() == 48 => {
                    e.master = Some(secret);
                    used.tls12 += 1;
                    continue;
                }
                _ => continue,
            };
            *slot = Some(secret);
            used.tls13 += 1;
        }
        used
    }

    /// The secrets logged for a client random.
    pub(crate) fn get(&self, random: &[u8; 32]) -> Option<Secrets> {
        self.secrets.read().ok()?.get(random).cloned()
    }

    /// Every connection's secrets (to find a connection's without its hellos).
    pub(crate) fn all(&self) -> Vec<Secrets> {
        self.secrets
            .read()
            .map_or_else(|_| Vec::new(), |m| m.values().cloned().collect())
    }

    /// Client randoms with secrets.
    pub fn len(&self) -> usize {
        self.secrets.read().map_or(0, |m| m.len())
    }

    /// No secrets at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_log_lines() {
        let r = "00".repeat(32);
        let text = format!(
            "# comment\nCLIENT_TRAFFIC_SECRET_0 {r} {}\nbad line\nCLIENT_RANDOM {} {}\n",
            "11".repeat(32),
            "22".repeat(32),
            "33".repeat(48)
        );
        let (log, used) = KeyLog::parse(&text);
        assert_eq!(used, 2);
        assert_eq!(log.len(), 2);
        let more = log.add(&format!(
            "CLIENT_RANDOM {} {}\n",
            "44".repeat(32),
            "55".repeat(48)
        ));
        assert_eq!(more, Used { tls13: 0, tls12: 1 });
        assert!(log.get(&[0x44; 32]).unwrap().master.is_some());
    }
}
