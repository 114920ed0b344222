//! Handing jobs to the workers: gathered per worker and sent in batches; live, a batch
//! that finds its worker behind loses its downloads' hashes, and says so.

use super::{HashError, HashPool, Job, BATCH_CHUNKS, WORKERS};
use std::sync::atomic::Ordering;

impl HashPool {
    /// Sends a job (with the next ones for its worker); `false` if its download is lost
    /// (live mode: a batch of it found the worker behind). An End is always taken.
    pub(crate) fn send(&mut self, job: Job) -> bool {
        let id = match &job {
            Job::Start { id, .. } | Job::Data { id, .. } | Job::End { id, .. } => *id,
        };
        let w = id as usize % WORKERS;
        if matches!(job, Job::End { .. }) {
            self.lost.remove(&id);
            self.outstanding += 1;
        } else if self.lost.contains(&id) {
            if let Job::Data { bytes, .. } = job {
                self.shared.spare.give(bytes);
            }
            return false;
        }
        let Some((jobs, chunks)) = self.pending.get_mut(w) else {
            return false;
        };
        *chunks += usize::from(matches!(job, Job::Data { .. }));
        jobs.push(job);
        if *chunks >= BATCH_CHUNKS {
            self.flush(w);
        }
        !self.lost.contains(&id)
    }

    /// Hands worker `w` its pending jobs. Live, when it is behind, the downloads they
    /// belong to are given up (and said so at their End, which is kept for later).
    fn flush(&mut self, w: usize) {
        let Some((jobs, chunks)) = self.pending.get_mut(w).map(std::mem::take) else {
            return;
        };
        let Some(lane) = self.lanes.get(w) else {
            return;
        };
        if jobs.is_empty() {
            return;
        }
        let (spare, hurry) = (&self.shared.spare, &self.shared.hurry);
        let queued = &self.shared.queued[w];
        if self.blocking {
            queued.fetch_add(chunks, Ordering::Relaxed);
            let _ = lane.push(jobs, true, spare, hurry);
            return;
        }
        // With a spill file the lane says whether there is room (memory, then the file).
        let room = self.spills || queued.load(Ordering::Relaxed) + chunks <= self.queue;
        let refused = if room {
            queued.fetch_add(chunks, Ordering::Relaxed);
            match lane.push(jobs, false, spare, hurry) {
                Ok(()) => return,
                Err(jobs) => {
                    queued.fetch_sub(chunks, Ordering::Relaxed);
                    jobs
                }
            }
        } else {
            jobs
        };
        for job in refused {
            match job {
                Job::End { .. } => self.deferred.push(job),
                Job::Start { id, .. } => self.lose(id),
                Job::Data { id, bytes } => {
                    self.shared.spare.give(bytes);
                    self.lose(id);
                }
            }
        }
    }

    /// The workers were behind: said as such (`FellBehind`), not as bytes missing.
    fn lose(&mut self, id: u64) {
        self.lost.insert(id);
        self.shared
            .given_up()
            .entry(id)
            .or_insert(HashError::FellBehind);
    }

    pub(super) fn flush_all(&mut self) {
        for w in 0..WORKERS {
            self.flush(w);
        }
    }

    /// The download `id` will not be hashed (bytes of its body went missing): the worker
    /// skips what is still queued for it. Its End must still be sent.
    pub(crate) fn give_up(&mut self, id: u64) {
        self.shared
            .given_up()
            .entry(id)
            .or_insert(HashError::Incomplete);
    }
}
