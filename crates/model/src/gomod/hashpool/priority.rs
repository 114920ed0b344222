//! The hashing threads' priority: lowered where nothing waits for them (`PoolLimits::
//! background`), and asked back when something does.
//!
//! Lowered means SCHED_IDLE, not only nice +19: a SCHED_IDLE thread is preempted as soon as
//! another thread wakes on its core, and a core running only such threads counts as idle
//! when the kernel chooses where to wake a thread. Under `run` on bigtree.py's graph the
//! go command with the hashers at +19 took 1.24-1.27x its time alone, at SCHED_IDLE
//! 1.20x (benches/README.md). No privilege is needed to lower a thread this way.

/// SCHED_IDLE (falling back to nice +19) for the calling thread: it then runs only in time
/// no other thread wants. `false` elsewhere and on failure (the priority stays).
pub(crate) fn lower() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a parameter that lives
    // across the call; gettid and setpriority on this thread's own id.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 {
            return true;
        }
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        return libc::setpriority(libc::PRIO_PROCESS, tid, 19) == 0;
    }
    #[allow(unreachable_code)]
    false
}

/// Back to normal priority. Leaving SCHED_IDLE, like lowering a nice value, needs
/// CAP_SYS_NICE (or RLIMIT_NICE) on Linux, so for most users this fails and the worker
/// stays lowered until the pool finishes and its work goes on at the caller's priority
/// (finish.rs).
pub(crate) fn restore() {
    #[cfg(target_os = "linux")]
    // SAFETY: as in `lower`.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 0);
    }
}
