//! Finishing the pool: every job sent is hashed before the results are returned.
//!
//! Workers that ran at lowered priority (the MITM's, nice +19, in the time the go command
//! left idle) would finish what is still queued at that priority, which an unprivileged
//! process cannot raise again: on a machine kept busy by other work, `run` would then wait
//! long for its report. So they stop at the next batch and give themselves back, and each
//! goes on from where it was, on a new thread started here, which has the caller's
//! priority (Linux gives a new thread its creator's scheduling policy and nice value).

use super::{HashPool, HashResult, Job, WORKERS};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

impl HashPool {
    /// The run's end has come: workers waiting for it (vouch.rs) start now, not at their
    /// next look.
    pub(super) fn end_the_wait(&self) {
        self.shared.handover.store(true, Ordering::Release);
        for w in &self.workers {
            w.thread().unpark();
        }
    }

    /// Waits for every job sent so far and stops the workers.
    pub(crate) fn finish(&mut self) -> Vec<HashResult> {
        self.flush_all();
        for job in self.deferred.drain(..) {
            if let Job::End { id, .. } = &job {
                if let Some(lane) = self.lanes.get(*id as usize % WORKERS) {
                    let shared = &self.shared;
                    let _ = lane.push(vec![job], true, &shared.spare, &shared.hurry);
                }
            }
        }
        self.end_the_wait();
        self.close();
        let handed: Vec<_> = self
            .workers
            .drain(..)
            .map(|w| w.join().ok().flatten())
            .collect();
        let again: Vec<_> = handed
            .into_iter()
            .zip(self.lanes.iter().cloned())
            .enumerate()
            .filter_map(|(i, (worker, lane))| {
                let mut worker = worker?;
                worker.lowered = false;
                // Held where both sides can take it: if no thread can be had, the work is
                // done here instead, never dropped with the closure.
                let slot = Arc::new(Mutex::new(Some(worker)));
                let (theirs, moved) = (slot.clone(), lane.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("zip-hash-{i}"))
                    .spawn(move || {
                        let taken = theirs.lock().ok().and_then(|mut w| w.take());
                        if let Some(w) = taken {
                            w.run(&moved);
                        }
                    });
                if spawned.is_err() {
                    let taken = slot.lock().ok().and_then(|mut w| w.take());
                    if let Some(w) = taken {
                        w.run(&lane);
                    }
                }
                spawned.ok()
            })
            .collect();
        for w in again {
            let _ = w.join();
        }
        let mut v: Vec<HashResult> = self.rx.try_iter().collect();
        v.sort_by_key(|r| r.exchange);
        self.outstanding = 0;
        v
    }
}
