//! Zip hashing off the decoding thread.
//!
//! Inflating and hashing a module zip costs several times more than decoding the packets
//! that carried it, so it runs on a worker thread: the decoder copies zip bytes into
//! chunks and hands them over; `h1:` results come back as they finish.
//!
//! The same zip is often fetched again and again (every CI job, every fresh module cache).
//! The workers remember, per module@version, the BLAKE3 hash of the raw zip bytes they
//! hashed and the resulting `h1:`. A later download of that module@version is only BLAKE3'd
//! raw while it streams (kept in memory, within a budget); if the raw hash is the same, the
//! bytes are the same and so is the `h1:` — a cryptographic hash makes that sound even
//! against a hostile proxy. If it differs, the kept bytes are inflated and hashed for real.
//!
//! With a small budget (the MITM proxy's), a big zip seen before cannot be kept whole: it is
//! then only checked against the raw hash remembered for it, its bytes dropped as they go
//! (BLAKE3 runs many times faster than inflating and SHA-256). The same bytes give the same
//! `h1:`; different ones lose their hash, with an error saying so, rather than the memory.
//!
//! Two workers share the load (downloads are spread by exchange id) and the memory.

mod chunks;
mod finish;
mod handoff;
mod job;
mod lane;
mod policy;
mod priority;
mod reuse;
mod saved;
mod vouch;

use super::h1::{HashError, ZipHasher};
use chunks::{Kept, Spare};
use lane::Lane;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub(crate) use chunks::CHUNK;
pub(crate) use job::Job;
pub(crate) use policy::PoolLimits;
pub use saved::ModuleCache;
/// Chunks handed over together: one hand-off per 64 KiB woke a worker (a futex call on
/// each side) some 5 000 times per 300 MB replayed. A batch also goes when the decoder
/// polls for results (every 256 packets, every MITM stream event), so nothing waits long.
const BATCH_CHUNKS: usize = 4;
/// Remembered (module@version → raw hash, h1) entries.
const MAX_REMEMBERED: usize = 100_000;

/// An `h1:` (or why there is none) for a zip exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashResult {
    pub(crate) exchange: u64,
    pub(crate) h1: Result<String, HashError>,
    /// The `h1:` is the one the go command saved with these same bytes (vouch.rs).
    pub(crate) from_cache: bool,
}

const WORKERS: usize = 2;
/// Hashers kept per worker for reuse.
const KEEP_HASHERS: usize = 2;

pub(crate) struct HashPool {
    lanes: Vec<Arc<Lane>>,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<HashResult>,
    /// A worker gives itself back (`Some`) when asked to hand over (see finish.rs).
    workers: Vec<JoinHandle<Option<Worker>>>,
    /// Block when the worker is behind (replay) rather than give up on a hash (live).
    blocking: bool,
    /// Jobs whose End was sent and whose result has not come back.
    outstanding: usize,
    /// Ends that found the queue full (live mode): sent at the next chance, since the
    /// worker holds the download until its End arrives.
    deferred: Vec<Job>,
    /// Jobs gathered per worker, and the chunks among them.
    pending: Vec<(Vec<Job>, usize)>,
    /// Downloads a batch could not be delivered for (live mode): their next chunks are
    /// refused, so that their sinks stop copying; forgotten at their End.
    lost: HashSet<u64>,
    /// Live mode: chunks a worker may have queued (as before batching: the bound is in
    /// bytes, whatever the batches' sizes) when it has no spill file.
    queue: usize,
    /// The workers' lanes spill to a file: live, the lane decides whether there is room.
    spills: bool,
}

impl HashPool {
    #[cfg(test)]
    pub(crate) fn with_limits(blocking: bool, limits: PoolLimits) -> Self {
        Self::with_cache(blocking, limits, None)
    }

    /// With the go command's module cache (`run`): the workers wait for the run's end and
    /// check zips against what it saved (vouch.rs).
    pub(crate) fn with_cache(
        blocking: bool,
        limits: PoolLimits,
        cache: Option<Arc<dyn ModuleCache>>,
    ) -> Self {
        let (results, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            budget: limits.speculation,
            check_raw_past_budget: limits.check_raw_past_budget,
            cache,
            ..Shared::default()
        });
        let mut lanes = Vec::new();
        let mut workers = Vec::new();
        let queue = (limits.queue / WORKERS).max(1);
        // A replay blocks on a full lane: batches bound the chunks. Live, batches may be
        // small (flushed at each poll), so the chunks queued are counted (`Shared::queued`);
        // with a spill file, `queue` batches (of at most `BATCH_CHUNKS`) stay in memory.
        let batches = if blocking {
            (queue / BATCH_CHUNKS).max(1)
        } else {
            queue
        };
        for i in 0..WORKERS {
            let lane = Arc::new(Lane::new(batches, limits.spill));
            let (results, shared, jobs) = (results.clone(), shared.clone(), lane.clone());
            let w = std::thread::Builder::new()
                .name(format!("zip-hash-{i}"))
                .spawn(move || {
                    let lowered = limits.background && priority::lower();
                    let worker = Worker {
                        active: HashMap::new(),
                        shared,
                        results,
                        hashers: Vec::new(),
                        index: i,
                        lowered,
                    };
                    worker.run(&jobs)
                })
                .expect("spawn a zip hashing thread");
            lanes.push(lane);
            workers.push(w);
        }
        HashPool {
            lanes,
            shared,
            rx,
            workers,
            blocking,
            outstanding: 0,
            deferred: Vec::new(),
            pending: (0..WORKERS).map(|_| (Vec::new(), 0)).collect(),
            lost: HashSet::new(),
            queue,
            spills: limits.spill > 0,
        }
    }

    /// An empty buffer for the next chunk of zip bytes (one the workers gave back, if any).
    pub(crate) fn chunk(&self) -> Vec<u8> {
        self.shared.spare.take()
    }

    /// Results that are ready now.
    pub(crate) fn ready(&mut self) -> Vec<HashResult> {
        self.flush_all();
        let mut still = Vec::new();
        for job in self.deferred.drain(..) {
            let Job::End { id, .. } = &job else { continue };
            if let Some(lane) = self.lanes.get(*id as usize % WORKERS) {
                let shared = &self.shared;
                if let Err(mut jobs) = lane.push(vec![job], false, &shared.spare, &shared.hurry) {
                    still.append(&mut jobs);
                }
            }
        }
        self.deferred = still;
        let v: Vec<HashResult> = self.rx.try_iter().collect();
        self.outstanding -= v.len().min(self.outstanding);
        v
    }
}

impl HashPool {
    /// No more jobs: each worker ends once it has taken what is queued for it.
    fn close(&mut self) {
        for lane in &self.lanes {
            lane.close();
        }
    }

    /// (the most zip bytes spilled at once by a worker, batches that found its lane full).
    #[cfg(test)]
    pub(crate) fn spill_figures(&self) -> (u64, u64) {
        self.lanes
            .iter()
            .map(|l| l.figures())
            .fold((0, 0), |(p, w), (lp, lw)| (p.max(lp), w + lw))
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        // Workers waiting for the run's end (vouch.rs) would wait for ever: it has come.
        self.end_the_wait();
        self.close();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// One zip download being hashed.
struct Download {
    key: Option<(String, String)>,
    raw: blake3::Hasher,
    mode: Mode,
}

enum Mode {
    /// Inflating as it streams.
    Inflate(Box<ZipHasher>),
    /// Expecting the same bytes as before: only the raw hash, and the bytes kept in case
    /// they are not.
    Speculate(Kept),
    /// Expecting the same bytes as a download hashed before, with no room to keep them:
    /// only the raw hash.
    CheckRaw,
    /// Expecting the bytes the go command saved (vouch.rs): compared with its file.
    Compare(Box<saved::Compare>),
}

struct Known {
    raw: [u8; 32],
    h1: String,
}

type Key = (String, String);

/// A speculative download that ended while another download of the same module@version
/// was still being inflated: it waits for that one's result.
struct Parked {
    id: u64,
    raw: [u8; 32],
    buf: Kept,
}

#[derive(Default)]
struct State {
    known: HashMap<Key, Known>,
    /// Downloads being inflated right now, per module@version.
    inflating: HashMap<Key, usize>,
    parked: HashMap<Key, Vec<Parked>>,
}

/// What the workers share: remembered hashes, who is inflating what, and the budget.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    kept: AtomicUsize,
    /// Zip bytes that may be kept for speculation.
    budget: usize,
    /// See `PoolLimits::check_raw_past_budget`.
    check_raw_past_budget: bool,
    /// Downloads whose hash was given up, and why (a chunk could not be handed over: the
    /// workers fell behind; or the body lost bytes), whose End has not been seen: their
    /// chunks still queued are skipped.
    given_up: Mutex<HashMap<u64, HashError>>,
    /// Emptied chunk buffers going back to the decoder.
    spare: Spare,
    /// Chunks handed to each worker and not yet taken (live mode's bound).
    queued: [AtomicUsize; WORKERS],
    /// A batch found a worker's lane full: workers at lowered priority try to get it back.
    hurry: AtomicBool,
    /// The pool is finishing: workers at lowered priority stop and give themselves back,
    /// to go on at normal priority on threads of the caller's (finish.rs).
    handover: AtomicBool,
    /// `run`'s go command's module cache: see vouch.rs.
    cache: Option<Arc<dyn ModuleCache>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A download of `k` that was not inflating started to (see `State::inflating`).
    fn now_inflating(&self, k: &Key) {
        *self.lock().inflating.entry(k.clone()).or_default() += 1;
    }

    fn given_up(&self) -> std::sync::MutexGuard<'_, HashMap<u64, HashError>> {
        self.given_up.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Worker {
    active: HashMap<u64, Download>,
    shared: Arc<Shared>,
    results: mpsc::Sender<HashResult>,
    /// Hashers whose buffers (inflate state, window) are kept for the next zips inflated:
    /// a worker often has two downloads inflating at once, and a fresh hasher's window was
    /// a fresh mapping each time.
    /// Boxed as `Mode::Inflate` holds them: taken and given back without a move or an
    /// allocation.
    #[allow(clippy::vec_box)]
    hashers: Vec<Box<ZipHasher>>,
    /// Which worker this is (its count in `Shared::queued`).
    index: usize,
    /// Running at lowered priority (`PoolLimits::background`).
    lowered: bool,
}

impl Worker {
    /// Until the lane is closed and empty; or, at lowered priority, until the pool
    /// finishes, giving itself back then (see finish.rs).
    fn run(mut self, lane: &Lane) -> Option<Worker> {
        self.defer();
        loop {
            if self.lowered && self.shared.handover.load(Ordering::Acquire) {
                return Some(self);
            }
            let (batch, unreadable) = lane.pop(&self.shared.spare)?;
            self.hurry();
            for id in unreadable {
                let mut given_up = self.shared.given_up();
                given_up.entry(id).or_insert(HashError::SpillUnreadable);
            }
            self.jobs(batch);
        }
    }

    /// The decoder found a lane full: at lowered priority, ask for the normal one back.
    fn hurry(&mut self) {
        if self.lowered && self.shared.hurry.load(Ordering::Relaxed) {
            priority::restore();
            self.lowered = false;
        }
    }

    fn jobs(&mut self, batch: Vec<Job>) {
        for job in batch {
            match job {
                Job::Start {
                    id,
                    module,
                    version,
                } => self.start(id, module.zip(version)),
                Job::Data { id, bytes } => {
                    self.shared.queued[self.index].fetch_sub(1, Ordering::Relaxed);
                    // A hash given up costs nothing more: the megabyte or so still queued
                    // for it when a fast download outran the worker is not inflated.
                    if self.shared.given_up().contains_key(&id) {
                        self.shared.spare.give(bytes);
                    } else {
                        self.data(id, bytes)
                    }
                }
                Job::End { id, complete } => {
                    // Why its hash was given up, if it was: the workers fell behind, or
                    // bytes of the body went missing (said as such, never mixed up).
                    let given_up = self.shared.given_up().remove(&id);
                    let missing = given_up.or((!complete).then_some(HashError::Incomplete));
                    match self.active.remove(&id) {
                        Some(d) => self.end(id, d, missing),
                        // Its start could not be handed over (the queue was full): the
                        // hash is given up, and said, rather than missing without a word.
                        None => self.send(id, Err(HashError::FellBehind)),
                    }
                }
            }
        }
    }

    fn start(&mut self, id: u64, key: Option<Key>) {
        let room = self.shared.kept.load(Ordering::Relaxed) < self.shared.budget;
        let saved = key.as_ref().and_then(|k| self.saved(k));
        let mode = if let Some(c) = saved {
            Mode::Compare(c)
        } else {
            let mut st = self.shared.lock();
            match &key {
                // Seen before, or being inflated right now: expect the same bytes.
                Some(k)
                    if room
                        && (st.known.contains_key(k)
                            || st.inflating.get(k).copied().unwrap_or(0) > 0) =>
                {
                    Mode::Speculate(Kept::default())
                }
                // Seen before, and no room to keep any of it.
                Some(k) if self.shared.check_raw_past_budget && st.known.contains_key(k) => {
                    Mode::CheckRaw
                }
                Some(k) => {
                    *st.inflating.entry(k.clone()).or_default() += 1;
                    Mode::Inflate(self.hashers.pop().unwrap_or_default())
                }
                None => Mode::Inflate(self.hashers.pop().unwrap_or_default()),
            }
        };
        self.active.insert(
            id,
            Download {
                key,
                raw: blake3::Hasher::new(),
                mode,
            },
        );
    }

    fn data(&mut self, id: u64, bytes: Vec<u8>) {
        let Some(d) = self.active.get_mut(&id) else {
            return self.shared.spare.give(bytes);
        };
        // Compared bytes are hashed only if they turn out different (vouch.rs).
        if !matches!(d.mode, Mode::Compare(_)) {
            d.raw.update(&bytes);
        }
        let kept = &self.shared.kept;
        match &mut d.mode {
            Mode::Inflate(z) => z.update(&bytes),
            Mode::Compare(c) => {
                if !c.same(&bytes) {
                    let mut z = self.hashers.pop().unwrap_or_default();
                    if !c.replay(&mut z, &mut d.raw) {
                        let mut given_up = self.shared.given_up();
                        given_up.entry(id).or_insert(HashError::SavedZipUnreadable);
                    }
                    z.update(&bytes);
                    d.raw.update(&bytes);
                    d.mode = Mode::Inflate(z);
                    if let Some(k) = &d.key {
                        self.shared.now_inflating(k);
                    }
                }
            }
            Mode::Speculate(buf) => {
                let out_of_room = kept.load(Ordering::Relaxed) + bytes.len() > self.shared.budget;
                let known = || {
                    let st = self.shared.lock();
                    d.key.as_ref().is_some_and(|k| st.known.contains_key(k))
                };
                if out_of_room && self.shared.check_raw_past_budget && known() {
                    kept.fetch_sub(buf.len(), Ordering::Relaxed);
                    std::mem::take(buf).release(&self.shared.spare);
                    d.mode = Mode::CheckRaw;
                } else if out_of_room {
                    // Out of room: inflate what was kept and carry on inflating.
                    let mut z = self.hashers.pop().unwrap_or_default();
                    for piece in buf.pieces() {
                        z.update(piece);
                    }
                    z.update(&bytes);
                    kept.fetch_sub(buf.len(), Ordering::Relaxed);
                    std::mem::take(buf).release(&self.shared.spare);
                    if let Some(k) = &d.key {
                        self.shared.now_inflating(k);
                    }
                    d.mode = Mode::Inflate(z);
                } else {
                    kept.fetch_add(bytes.len(), Ordering::Relaxed);
                    buf.push(bytes);
                    return;
                }
            }
            Mode::CheckRaw => {}
        }
        self.shared.spare.give(bytes);
    }

    fn send(&self, exchange: u64, h1: Result<String, HashError>) {
        let from_cache = false;
        let _ = self.results.send(HashResult {
            exchange,
            h1,
            from_cache,
        });
    }

    fn end(&mut self, id: u64, d: Download, missing: Option<HashError>) {
        let raw: [u8; 32] = d.raw.finalize().into();
        let key = d.key;
        match d.mode {
            Mode::Speculate(buf) => {
                if let Some(why) = missing {
                    self.release(buf);
                    return self.send(id, Err(why));
                }
                let Some(k) = key else {
                    let h1 = self.inflate(&buf);
                    self.release(buf);
                    return self.send(id, h1);
                };
                let mut st = self.shared.lock();
                if let Some(h1) = st
                    .known
                    .get(&k)
                    .filter(|x| x.raw == raw)
                    .map(|x| x.h1.clone())
                {
                    drop(st);
                    self.release(buf);
                    return self.send(id, Ok(h1));
                }
                if st.inflating.get(&k).copied().unwrap_or(0) > 0 {
                    // Its twin is still being inflated: decide when that one is done.
                    st.parked
                        .entry(k)
                        .or_default()
                        .push(Parked { id, raw, buf });
                    return;
                }
                drop(st);
                let h1 = self.inflate(&buf);
                self.release(buf);
                self.remember(&k, raw, &h1);
                self.send(id, h1);
            }
            Mode::Compare(mut c) => self.compared(id, &mut c, missing, d.raw, key),
            Mode::CheckRaw => {
                if let Some(why) = missing {
                    return self.send(id, Err(why));
                }
                let st = self.shared.lock();
                let same = key
                    .and_then(|k| st.known.get(&k))
                    .filter(|x| x.raw == raw)
                    .map(|x| x.h1.clone());
                drop(st);
                self.send(id, same.ok_or(HashError::DiffersFromEarlier))
            }
            Mode::Inflate(mut z) => {
                let complete = missing.is_none();
                let h1 = match missing {
                    None => z.finish_and_reset(),
                    Some(why) => {
                        z.reset();
                        Err(why)
                    }
                };
                self.give_hasher(z);
                if let Some(k) = &key {
                    if complete {
                        self.remember(k, raw, &h1);
                    }
                    self.resolve_parked(k);
                }
                self.send(id, h1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
