//! The relay thread asks the scheduler to be run soon after it wakes rather than for long.
//!
//! Under `run` the go command keeps both cores of a small machine busy (inflating and
//! hashing what it downloads), and every request and response crosses the relay thread,
//! which does little work each time (about 5 % of the CPU of a `go mod download`) but must
//! wait for a core whenever it wakes: on a loaded two-core machine a quarter to a third of a
//! millisecond per wake-up (`perf sched latency`), paid by the go command on each of its
//! requests. Since Linux 6.6 (EEVDF) a thread may ask for a shorter slice without
//! privilege (`sched_setattr` with `sched_runtime`, clamped by the kernel to 0.1–100 ms): it
//! then gets an earlier deadline when it wakes, so it runs sooner, and is preempted sooner
//! too, which for a thread that runs briefly costs nothing. Its share of the CPU is
//! unchanged (that is its nice value, left as it is). Older kernels ignore the field or
//! refuse the call; either way nothing else changes.

/// The slice asked for: the kernel's minimum.
#[cfg(target_os = "linux")]
const SLICE_NS: u64 = 100_000;

/// Asks for a short slice for the calling thread (see the module's comment); a refusal is
/// ignored.
pub(crate) fn prefer_latency() {
    #[cfg(target_os = "linux")]
    {
        // The kernel's `struct sched_attr` (SCHED_ATTR_SIZE_VER0: the fields up to
        // `sched_period`); the libc crate does not define it.
        #[repr(C)]
        struct SchedAttr {
            size: u32,
            policy: u32,
            flags: u64,
            nice: i32,
            priority: u32,
            runtime: u64,
            deadline: u64,
            period: u64,
        }
        // SAFETY: getpriority reads this thread's nice value; no memory is involved.
        let nice = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        };
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: libc::SCHED_OTHER as u32,
            flags: 0,
            // The nice value is set by the same call: keep the one the thread has.
            nice,
            priority: 0,
            runtime: SLICE_NS,
            deadline: 0,
            period: 0,
        };
        // SAFETY: the kernel reads `size` bytes of `attr`, which lives across the call.
        unsafe {
            libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0);
        }
    }
}
