//! The buffers zip bytes travel in between the decoder and the hashing threads: fixed-size
//! chunks that go round (decoder fills, worker empties, the emptied buffer goes back), and
//! the chunks a download keeps while it speculates.
//!
//! Recycling is hand-written (a bounded free list under a mutex) because what it avoids is
//! the allocator's own behaviour: each chunk was allocated on the decoder's thread and freed
//! on a worker's, so both fought over the decoder's heap, and a zip's growing buffers (a
//! speculating download's copy of its bytes, doubling as it grew) went to mmap/mremap/munmap
//! above glibc's mmap threshold, which `mallopt(M_TRIM_THRESHOLD)` in main fixes at 128 KiB.
//! Here no buffer ever grows: every one is exactly `CHUNK` long.

use std::sync::Mutex;

/// Bytes per chunk handed to a worker (below glibc's mmap threshold, so even a chunk that
/// is not recycled comes from the heap, not from a fresh mapping).
pub(crate) const CHUNK: usize = 64 << 10;

/// Emptied chunks kept for reuse (2 MiB): enough for the decoder to find one ready while the
/// workers keep up; past it, buffers are freed (what is queued is bounded by the queue).
const MAX_SPARE: usize = 32;

/// Emptied chunk buffers, shared by the decoder (who takes) and the workers (who give back).
#[derive(Default)]
pub(crate) struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    /// An empty buffer with room for exactly `CHUNK` bytes.
    pub(crate) fn take(&self) -> Vec<u8> {
        self.lock()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK))
    }

    /// A buffer whose bytes were used: kept for `take` if there is room, else freed.
    pub(crate) fn give(&self, mut chunk: Vec<u8>) {
        if chunk.capacity() != CHUNK {
            return;
        }
        chunk.clear();
        let mut spare = self.lock();
        if spare.len() < MAX_SPARE {
            spare.push(chunk);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A download's bytes kept while it speculates: the chunks as they arrived, never copied
/// into one growing buffer.
#[derive(Default)]
pub(crate) struct Kept {
    chunks: Vec<Vec<u8>>,
    len: usize,
}

impl Kept {
    pub(crate) fn push(&mut self, chunk: Vec<u8>) {
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// Bytes kept.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes in order.
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().map(Vec::as_slice)
    }

    /// Gives every chunk back for reuse.
    pub(crate) fn release(self, spare: &Spare) {
        for chunk in self.chunks {
            spare.give(chunk);
        }
    }
}
