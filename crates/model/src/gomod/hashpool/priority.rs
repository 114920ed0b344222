//! The hashing threads' priority: lowered where nothing waits for them (`PoolLimits::
//! background`), and asked back when something does.

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
