//! Decryption of a TLS 1.3 connection whose handshake is not in the capture (tcpdump
//! started after it opened). Without the hellos neither the client random (which key log
//! line) nor the suite nor the record numbers are known, but the application traffic
//! secrets are in the key log: each candidate line, suite and record number is tried on
//! the client's first whole record until the AEAD tag says which is right; the server's
//! key then comes from the same line and suite, and only its record number is searched.
//!
//! Bounded: record numbers up to [`MAX_SEQ_TRIAL`], and at most [`MAX_TRIAL_OPENS`] trial
//! opens per direction (small records first: the client's requests). The server's records
//! wait (within `MAX_HELD`) until the client's have found the line. TLS 1.2 cannot be
//! decrypted this way: its keys come from both hellos' randoms.

use super::{suite, Key, Plain, Side, State, CONTENT_APP_DATA, MAX_HELD};
use super::{Decryptor, Suite};

/// Record numbers tried for a direction's first record seen.
pub(crate) const MAX_SEQ_TRIAL: u64 = 4096;
/// Trial opens per direction before the connection is given up.
pub(crate) const MAX_TRIAL_OPENS: u64 = 1 << 20;

/// The TLS 1.3 suites, as their ids.
const SUITES: [u16; 3] = [0x1301, 0x1302, 0x1303];

/// What the trial found for a connection: the server's secret and the suite.
pub(super) struct Found {
    server_secret: Vec<u8>,
    suite: Suite,
}

impl Decryptor {
    /// A decryptor for a connection joined after its handshake.
    pub(crate) fn midway(log: std::sync::Arc<super::KeyLog>) -> Decryptor {
        let mut d = Decryptor::new(log);
        d.state = State::Trial;
        d.tls13 = true;
        d
    }

    /// One whole record of side `i` while the keys are being found.
    pub(super) fn trial(&mut self, i: usize, rec: &mut Vec<u8>, out: &mut Vec<Plain>) -> bool {
        if rec[0] != CONTENT_APP_DATA {
            // A record of another type mid-connection (an alert in the clear?): skipped.
            return true;
        }
        if !self.sides[i].keys.is_empty() {
            return self.sync_or_open(i, rec, out);
        }
        if i == 1 {
            // The server's records wait for the client's to name the key log line.
            let side = &mut self.sides[1];
            side.held_bytes += rec.len();
            if side.held_bytes > MAX_HELD {
                return false;
            }
            side.held.push(std::mem::take(rec));
            return true;
        }
        let Some((key, found, plain)) = self.find_line(rec) else {
            return false;
        };
        out.push((true, plain));
        self.sides[0].keys = vec![key];
        self.sides[0].opened = true;
        let Some(server) = Key::tls13(found.suite, &found.server_secret) else {
            return false;
        };
        self.sides[1].keys = vec![server];
        for mut held in std::mem::take(&mut self.sides[1].held) {
            if !self.sync_or_open(1, &mut held, out) {
                return false;
            }
        }
        self.sides[1].held_bytes = 0;
        true
    }

    /// Side `i` has its key: the record number is searched on its first record, then
    /// records open in turn; both sides in step, decryption goes on as usual.
    fn sync_or_open(&mut self, i: usize, rec: &mut [u8], out: &mut Vec<Plain>) -> bool {
        let side = &mut self.sides[i];
        let (header, body) = rec.split_at_mut(5);
        let opened = if side.opened {
            side.keys[0]
                .open(header, body)
                .map(|(t, p)| (t, p.to_vec()))
        } else {
            sync(side, header, body)
        };
        let Some((inner, plain)) = opened else {
            return false;
        };
        side.opened = true;
        if inner == CONTENT_APP_DATA && !plain.is_empty() {
            out.push((i == 0, plain));
        }
        if self.sides.iter().all(|s| s.opened) {
            self.state = State::Decrypting;
        }
        true
    }

    /// Tries every key log line with application secrets, every suite and record number
    /// (lowest numbers first: a client has sent few records) on the client's record.
    fn find_line(&self, rec: &[u8]) -> Option<(Key, Found, Vec<u8>)> {
        let candidates: Vec<(Key, Found)> = self
            .log
            .all()
            .into_iter()
            .filter_map(|s| Some((s.client_app?, s.server_app?)))
            .flat_map(|(c, srv)| {
                SUITES.iter().filter_map(move |id| {
                    let suite = suite(*id)?;
                    let key = Key::tls13(suite, &c)?;
                    Some((
                        key,
                        Found {
                            server_secret: srv.clone(),
                            suite,
                        },
                    ))
                })
            })
            .collect();
        let mut budget = MAX_TRIAL_OPENS;
        let mut candidates = candidates;
        for seq in 0..MAX_SEQ_TRIAL {
            let mut hit = None;
            for (n, (key, _)) in candidates.iter_mut().enumerate() {
                budget = budget.checked_sub(1)?;
                key.seq = seq;
                let mut copy = rec.to_vec();
                let (header, body) = copy.split_at_mut(5);
                if let Some((inner, plain)) = key.open(header, body) {
                    let plain = (inner == CONTENT_APP_DATA).then(|| plain.to_vec());
                    hit = Some((n, plain.unwrap_or_default()));
                    break;
                }
            }
            if let Some((n, plain)) = hit {
                let (key, found) = candidates.swap_remove(n);
                return Some((key, found, plain));
            }
        }
        None
    }
}

/// The record number of the side's first record, found by trying them in turn.
fn sync(side: &mut Side, header: &[u8], body: &mut [u8]) -> Option<(u8, Vec<u8>)> {
    let key = side.keys.first_mut()?;
    for seq in 0..MAX_SEQ_TRIAL {
        key.seq = seq;
        let mut copy = body.to_vec();
        if let Some((inner, plain)) = key.open(header, &mut copy) {
            return Some((inner, plain.to_vec()));
        }
    }
    None
}
