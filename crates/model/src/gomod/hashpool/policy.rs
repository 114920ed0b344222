//! How the decoder hands zips to the hashing threads in each mode, and the memory that may
//! take: the one place that decides whether a hash may be given up.
//!
//! Every zip is hashed in every mode (issue 26). What differs is who waits when hashing
//! falls behind:
//!
//! * a replay: the decoder waits (nothing is lost by reading a file later);
//! * the MITM proxy (`--mitm`, `run`): past 1 MiB a worker in memory, zip bytes go to a
//!   spill file (`MITM_SPILL`, `lane.rs`) and the workers run at nice +19, so the go command
//!   is not slowed to the speed of hashing: the hashes are computed in the time it leaves
//!   idle, and the rest once it has exited. Past the spill the decoder waits, and the tap in
//!   front of it (gomodwatch-mitm's `tap.rs`) makes the relay wait for room, within its
//!   stated bound: a download is slowed instead of losing its hash;
//! * a live capture: packets cannot be slowed, and a decoder that stops reading loses
//!   packets (worse: whole exchanges). Past 1 MiB a worker in memory, zip bytes go to a
//!   spill file of up to `LIVE_SPILL` bytes, used only while the workers are behind; past it
//!   a download's hash is given up, and said (`HashError::FellBehind`: the hash event, the
//!   module's `hash_note`, the summary's count and a problem). The spill was 64 MiB of the
//!   capture's own memory before: a real service's graph (114 MiB of zips at loopback speed)
//!   could outrun it.

/// Chunks queued per pool by default (a replay waits when they are all taken): 16 MiB.
const QUEUE: usize = 256;
/// Zip bytes kept for speculative reuse, over all downloads in flight.
const SPECULATION_BUDGET: usize = 32 << 20;
/// A live capture's spill file: zip bytes a worker may have queued while it is behind (512
/// MiB each, as the MITM's: several times a real service's whole graph, 114 MiB in
/// bigtree.py's, all arriving at loopback speed). Page cache and disk in the temporary
/// directory, not the capture's memory; truncated whenever the worker has caught up.
pub(crate) const LIVE_SPILL: u64 = 512 << 20;

/// Zip bytes a MITM worker may have spilled to its file while it is behind (512 MiB each:
/// several times a real service's whole graph, 114 MiB in bigtree.py's). Page cache and
/// disk in the temporary directory, never the proxy's own memory; the file is truncated
/// whenever the worker has caught up.
pub(crate) const MITM_SPILL: u64 = 512 << 20;

/// How much memory the pool may hold: chunks queued, and zip bytes kept to speculate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    pub(crate) queue: usize,
    pub(crate) speculation: usize,
    /// Run the workers at the lowest priority (nice +19): only where nothing waits for them
    /// short of a full spill (they then ask for their priority back: `Worker::hurry`).
    pub(crate) background: bool,
    /// Zip bytes a worker may spill to a file past its queue in memory (0: none).
    pub(crate) spill: u64,
    /// A zip seen before that outgrows `speculation` is only checked against its remembered
    /// raw hash (its bytes dropped) instead of being inflated from the start: a download
    /// that differs then loses its hash. Without it, such a zip is inflated after all.
    pub(crate) check_raw_past_budget: bool,
}

impl PoolLimits {
    pub(crate) const DEFAULT: PoolLimits = PoolLimits {
        queue: QUEUE,
        speculation: SPECULATION_BUDGET,
        background: false,
        spill: 0,
        check_raw_past_budget: false,
    };
    /// For the MITM proxy, whose whole footprint is a target (32 MiB): 1 MiB of chunks
    /// queued per worker in memory, the spill past it, and 2 MiB kept to speculate (small
    /// zips fetched again). When the decoder waited for room at 1 MiB, the workers had to
    /// run at normal priority and took the cores the go command needed (`run` at 1.3-1.4x
    /// the go command alone on bigtree.py's graph, benches/README.md).
    pub(crate) const LEAN: PoolLimits = PoolLimits {
        queue: 32,
        speculation: 2 << 20,
        background: true,
        spill: MITM_SPILL,
        check_raw_past_budget: true,
    };
    /// A live capture: 1 MiB of chunks a worker in memory, the spill file past it (see
    /// `LIVE_SPILL`), and the default speculation budget.
    pub(crate) const LIVE: PoolLimits = PoolLimits {
        queue: 32,
        spill: LIVE_SPILL,
        ..PoolLimits::DEFAULT
    };

    /// The hand-off for a mode: whether the decoder waits for the workers (`true`), and
    /// the limits. `live`: packets from an interface or the MITM's tap; `lean`: the MITM.
    pub(crate) fn for_mode(live: bool, lean: bool) -> (bool, PoolLimits) {
        match (live, lean) {
            (_, true) => (true, PoolLimits::LEAN),
            (true, false) => (false, PoolLimits::LIVE),
            (false, false) => (true, PoolLimits::DEFAULT),
        }
    }
}
