//! The hashing threads' priority: lowered where nothing waits for them (`PoolLimits::
//! background`), and asked back when something does.
//!
//! Nice +19, not SCHED_IDLE. SCHED_IDLE was tried (2026-12-07): on a quiet machine `run`
//! with a non-go child went from 1.24x to 1.20x the go command's time alone, but with the
//! machine saturated (four busy loops on two cores) the same run took 12.7-18.2 s against
//! 11.8-12.3 s at +19 (benches/README.md): a thread of weight 3 makes almost no progress
//! there, and one preempted while holding a lock the decoder needs holds the decoder too.
//! Under `run` with a go command the threads wait for its end anyway (vouch.rs).

/// Nice +19 for the calling thread (Linux sets priorities per thread): it then runs in what
/// time the go command leaves. `false` elsewhere and on failure (the priority stays).
pub(crate) fn lower() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority on this thread's own id; no memory is involved.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        return libc::setpriority(libc::PRIO_PROCESS, tid, 19) == 0;
    }
    #[allow(unreachable_code)]
    false
}

/// Back to normal priority. Lowering a nice value needs CAP_SYS_NICE (or RLIMIT_NICE) on
/// Linux, so for most users this fails and the worker stays at +19 until the pool finishes
/// and its work goes on at the caller's priority (finish.rs).
pub(crate) fn restore() {
    #[cfg(target_os = "linux")]
    // SAFETY: as in `lower`.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 0);
    }
}
