//! `run` with a go command: zips are checked after it has exited, and a zip whose bytes are
//! exactly those the go command saved in its module cache takes the `h1:` it wrote beside
//! them.
//!
//! Why: hashing every zip while the go command runs costs as much CPU as the go command's
//! own inflating and hashing of the same files (bigtree.py's graph: 0.7 CPU-seconds for
//! 400 MiB inflated). On two cores that time is taken from the go command however low the
//! hashers' priority: `run` took 1.20x the go command's time alone with the hashers at
//! SCHED_IDLE (the lowest there is), 1.09x with them only reading the raw bytes
//! (benches/README.md). So under `run` the workers leave their lanes alone until the child
//! has exited (or a lane's spill is full: then they start at once), and then, for each zip
//! the go command has saved
//! (`cache/download/MODULE/@v/VERSION.zip`, and its `.ziphash`: the `h1:` it computed from
//! that file):
//!
//! * the download's bytes are compared with the file's as they are read back from the lane.
//!   The same bytes have the same `h1:`, and the hash event says where it came from
//!   (`h1_from`). A comparison, not a hash of each: the file is read once, no digest is
//!   computed, and nothing a hostile proxy sends can match a file it did not write;
//! * at the first difference the download is inflated and hashed here after all: its bytes
//!   up to there are the file's, read again from it, then its own from there on;
//! * a zip the go command did not save (it refused it: a checksum mismatch, a bad zip; or
//!   it was saved by another process) is inflated and hashed here, as always.
//!
//! Reading files is the binary's part (`ModuleCache`); which file, and what is trusted of
//! it, is decided in the model (saved.rs).

use super::saved::Compare;
use super::{Download, HashError, HashResult, Key, Mode, Worker};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often a worker waiting for the child to exit looks again whether its lane is full
/// (`Shared::hurry`); the end of the run wakes it at once.
const DEFER_POLL: Duration = Duration::from_millis(20);

impl Worker {
    /// Under `run` with a module cache: nothing is hashed until the pool finishes, or the
    /// decoder found a lane full (the spill is full: the relay would wait for the workers).
    pub(super) fn defer(&self) {
        let sh = &self.shared;
        if sh.cache.is_none() {
            return;
        }
        while !sh.handover.load(Ordering::Acquire) && !sh.hurry.load(Ordering::Relaxed) {
            std::thread::park_timeout(DEFER_POLL);
        }
    }

    /// The zip the go command saved for `key`, with its `h1:`, if it has saved it. Usually
    /// asked once it has exited; when a full spill started the workers early, the zips it
    /// has saved by then are compared too (it writes the `.ziphash`, then renames the
    /// finished zip into place: a zip that is there is whole).
    pub(super) fn saved(&self, key: &Key) -> Option<Box<Compare>> {
        let cache = self.shared.cache.clone()?;
        Compare::open(cache, &key.0, &key.1).map(Box::new)
    }

    /// A compared download ended: the file's `h1:` if the file ended with it, else its own.
    pub(super) fn compared(
        &mut self,
        id: u64,
        c: &mut Compare,
        missing: Option<HashError>,
        mut raw: blake3::Hasher,
        key: Option<Key>,
    ) {
        if let Some(why) = missing {
            return self.send(id, Err(why));
        }
        if c.ends() {
            let h1 = Ok(c.take_h1());
            let _ = self.results.send(HashResult {
                exchange: id,
                h1,
                from_cache: true,
            });
            return;
        }
        // Shorter than the file: every byte of it was the file's.
        let mut z = self.hasher();
        if !c.replay(&mut z, &mut raw) {
            z.reset();
            self.give_hasher(z);
            return self.send(id, Err(HashError::SavedZipUnreadable));
        }
        if let Some(k) = &key {
            self.shared.now_inflating(k);
        }
        let d = Download {
            key,
            raw,
            mode: Mode::Inflate(z),
        };
        self.end(id, d, None);
    }
}

#[cfg(test)]
mod tests;
