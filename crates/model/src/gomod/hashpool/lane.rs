//! One worker's queue: batches of jobs in order, held in memory up to a bound and, past it,
//! in a spill file when the pool has one (the MITM's and a live capture's: `PoolLimits::spill`).
//!
//! Why a file: under `run` the go command and the hashing threads share the machine. When
//! the relay waited for the hashers (the queue's bound being in memory, 1 MiB a worker, so
//! that the proxy stays within its 32 MiB), every zip downloaded while they were behind
//! slowed the go command to the speed of hashing. Spilled bytes cost page cache, not the
//! proxy's memory, and the hashers then catch up at low priority, in time the go command
//! leaves idle (see `policy.rs`). The file is unnamed (deleted as soon as it is made,
//! readable by this user only), truncated each time the worker has read it all, and bounded:
//! past `spill_max` the decoder waits as before, or, where it may not wait (live capture),
//! the batch is refused and its hashes given up, and said.
//!
//! Order is kept: a batch goes to memory only while nothing is spilled, so everything in
//! memory is older than everything in the file, and the worker reads memory first.

use super::chunks::Spare;
use super::job::Job;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A job whose bytes are in the spill file.
enum Spilled {
    Other(Job),
    Data { id: u64, at: u64, len: usize },
}

#[derive(Default)]
struct State {
    mem: VecDeque<Vec<Job>>,
    spilled: VecDeque<Vec<Spilled>>,
    file: Option<Arc<File>>,
    /// Where the next spilled bytes go: the file's used length.
    end: u64,
    /// The worker is reading a batch it took from the file: the file may not be reset.
    reading: bool,
    /// The spill file could not be made or written: memory only from now on.
    broken: bool,
    closed: bool,
    /// The most bytes the file held at once, and batches that waited for room or were
    /// refused (the pool's figures).
    peak: u64,
    waits: u64,
}

pub(crate) struct Lane {
    state: Mutex<State>,
    /// The worker waits here for a batch.
    filled: Condvar,
    /// The decoder waits here for room.
    emptied: Condvar,
    /// Batches held in memory.
    mem_max: usize,
    /// Bytes the spill file may hold; 0: no spill.
    spill_max: u64,
}

impl Lane {
    pub(crate) fn new(mem_max: usize, spill_max: u64) -> Lane {
        Lane {
            state: Mutex::new(State::default()),
            filled: Condvar::new(),
            emptied: Condvar::new(),
            mem_max: mem_max.max(1),
            spill_max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a batch, waiting for room if `wait`; without it, a batch that finds no room
    /// is given back. A closed lane drops what it is given. `full` is raised whenever a
    /// batch finds no room (the workers are asked to hurry: `Worker::hurry`).
    pub(crate) fn push(
        &self,
        jobs: Vec<Job>,
        wait: bool,
        spare: &Spare,
        full: &AtomicBool,
    ) -> Result<(), Vec<Job>> {
        let mut st = self.lock();
        let mut jobs = jobs;
        loop {
            if st.closed {
                return Ok(());
            }
            if st.spilled.is_empty() && st.mem.len() < self.mem_max {
                st.mem.push_back(jobs);
                self.filled.notify_one();
                return Ok(());
            }
            if self.spill_max > 0 && !st.broken {
                match self.spill(&mut st, jobs, spare) {
                    Ok(()) => {
                        self.filled.notify_one();
                        return Ok(());
                    }
                    Err(back) => jobs = back,
                }
            }
            st.waits += 1;
            full.store(true, Ordering::Relaxed);
            if !wait {
                return Err(jobs);
            }
            st = self.emptied.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Writes a batch's bytes to the spill file (under the lock: only the decoder writes,
    /// and the worker holds the lock only to take a batch). The batch back if there is no
    /// room or the file fails (then the spill is off for good: memory only, as without one).
    fn spill(&self, st: &mut State, jobs: Vec<Job>, spare: &Spare) -> Result<(), Vec<Job>> {
        let bytes: u64 = jobs.iter().map(data_len).sum();
        if st.end + bytes > self.spill_max {
            return Err(jobs);
        }
        let file = match &st.file {
            Some(f) => f.clone(),
            None => match tempfile::tempfile() {
                Ok(f) => st.file.insert(Arc::new(f)).clone(),
                Err(_) => {
                    st.broken = true;
                    return Err(jobs);
                }
            },
        };
        let mut at = st.end;
        for job in &jobs {
            if let Job::Data { bytes, .. } = job {
                if write_at(&file, bytes, at).is_err() {
                    st.broken = true;
                    return Err(jobs);
                }
                at += bytes.len() as u64;
            }
        }
        let mut at = st.end;
        let batch = jobs
            .into_iter()
            .map(|job| match job {
                Job::Data { id, bytes } => {
                    let len = bytes.len();
                    spare.give(bytes);
                    at += len as u64;
                    Spilled::Data {
                        id,
                        at: at - len as u64,
                        len,
                    }
                }
                other => Spilled::Other(other),
            })
            .collect();
        st.end = at;
        st.peak = st.peak.max(at);
        st.spilled.push_back(batch);
        Ok(())
    }

    /// The next batch, waiting for one, with the downloads whose spilled bytes could not be
    /// read back (their hash must be given up, never computed from the rest); `None` once
    /// the lane is closed and empty.
    pub(crate) fn pop(&self, spare: &Spare) -> Option<(Vec<Job>, Vec<u64>)> {
        let mut st = self.lock();
        loop {
            if let Some(batch) = st.mem.pop_front() {
                self.emptied.notify_one();
                return Some((batch, Vec::new()));
            }
            if let Some(batch) = st.spilled.pop_front() {
                st.reading = true;
                let file = st.file.clone();
                drop(st);
                let read = read_back(batch, file.as_deref(), spare);
                let mut st = self.lock();
                st.reading = false;
                if st.spilled.is_empty() {
                    // All read: start the file again from nothing (its pages freed).
                    st.end = 0;
                    if let Some(f) = &st.file {
                        let _ = f.set_len(0);
                    }
                }
                self.emptied.notify_one();
                return Some(read);
            }
            if st.closed {
                return None;
            }
            st = self.filled.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No more batches: the worker ends once it has taken what is queued.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.filled.notify_all();
        self.emptied.notify_all();
    }

    /// (the most bytes spilled at once, batches that found no room).
    #[cfg(test)]
    pub(crate) fn figures(&self) -> (u64, u64) {
        let st = self.lock();
        (st.peak, st.waits)
    }
}

fn data_len(job: &Job) -> u64 {
    match job {
        Job::Data { bytes, .. } => bytes.len() as u64,
        _ => 0,
    }
}

/// The jobs of a spilled batch, their bytes read back into chunks from `spare`, and the
/// downloads a chunk of which could not be read back (left out: the worker gives their hash
/// up and says why).
fn read_back(batch: Vec<Spilled>, file: Option<&File>, spare: &Spare) -> (Vec<Job>, Vec<u64>) {
    let mut lost: Vec<u64> = Vec::new();
    let mut jobs = Vec::with_capacity(batch.len());
    for s in batch {
        match s {
            Spilled::Other(job) => jobs.push(job),
            Spilled::Data { id, at, len } => {
                let mut bytes = spare.take();
                bytes.resize(len, 0);
                match file.map(|f| read_at(f, &mut bytes, at)) {
                    Some(Ok(())) => jobs.push(Job::Data { id, bytes }),
                    _ => {
                        spare.give(bytes);
                        lost.push(id);
                    }
                }
            }
        }
    }
    (jobs, lost)
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, at)
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(windows)]
fn write_at(f: &File, mut buf: &[u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = f.seek_write(buf, at)?;
        buf = &buf[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(f: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = f.seek_read(buf, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
impl Lane {
    /// Bytes in the spill file now.
    fn in_file(&self) -> u64 {
        self.lock().end
    }
}

#[cfg(test)]
mod tests;
