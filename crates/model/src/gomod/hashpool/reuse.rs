//! What a worker reuses: hashers (their buffers), and the `h1:` of bytes hashed before
//! (remembered per module@version, handed to twins parked while one was inflating).

use super::chunks::Kept;
use super::{HashError, Key, Known, Parked, Worker, ZipHasher, KEEP_HASHERS, MAX_REMEMBERED};
use std::sync::atomic::Ordering;

impl Worker {
    /// Bytes kept to speculate are no longer needed: out of the budget, chunks back to
    /// the decoder.
    pub(super) fn release(&self, buf: Kept) {
        self.shared.kept.fetch_sub(buf.len(), Ordering::Relaxed);
        buf.release(&self.shared.spare);
    }

    /// The `h1:` of kept bytes, with one of the worker's reused hashers.
    pub(super) fn inflate(&mut self, buf: &Kept) -> Result<String, HashError> {
        let mut z = self.hasher();
        for piece in buf.pieces() {
            z.update(piece);
        }
        let h1 = z.finish_and_reset();
        self.give_hasher(z);
        h1
    }

    /// A hasher at a zip's first byte, reused if one is free.
    pub(super) fn hasher(&mut self) -> Box<ZipHasher> {
        self.hashers.pop().unwrap_or_default()
    }

    /// A hasher reset after its zip, kept for the next (up to `KEEP_HASHERS`).
    pub(super) fn give_hasher(&mut self, z: Box<ZipHasher>) {
        if self.hashers.len() < KEEP_HASHERS {
            self.hashers.push(z);
        }
    }

    pub(super) fn remember(&self, k: &Key, raw: [u8; 32], h1: &Result<String, HashError>) {
        if let Ok(h1) = h1 {
            let mut st = self.shared.lock();
            if st.known.len() < MAX_REMEMBERED || st.known.contains_key(k) {
                st.known.insert(
                    k.clone(),
                    Known {
                        raw,
                        h1: h1.clone(),
                    },
                );
            }
        }
    }

    /// One inflating download of `k` ended: parked twins get its answer (same raw bytes),
    /// or, once nothing of `k` is inflating any more, are inflated themselves.
    pub(super) fn resolve_parked(&mut self, k: &Key) {
        let (parked, known) = {
            let mut st = self.shared.lock();
            let left = st.inflating.get_mut(k).map(|n| {
                *n = n.saturating_sub(1);
                *n
            });
            if left == Some(0) {
                st.inflating.remove(k);
            }
            let known = st.known.get(k).map(|x| (x.raw, x.h1.clone()));
            let all = left.unwrap_or(0) == 0;
            let list = st.parked.remove(k).unwrap_or_default();
            let (ready, wait): (Vec<Parked>, Vec<Parked>) = list
                .into_iter()
                .partition(|p| all || known.as_ref().is_some_and(|(r, _)| *r == p.raw));
            if !wait.is_empty() {
                st.parked.insert(k.clone(), wait);
            }
            (ready, known)
        };
        for p in parked {
            let h1 = match &known {
                Some((raw, h1)) if *raw == p.raw => Ok(h1.clone()),
                _ => self.inflate(&p.buf),
            };
            self.release(p.buf);
            self.send(p.id, h1);
        }
    }
}
