//! Live capture with libpcap. One thread per interface reads packets in immediate mode
//! (non-blocking, waiting on the descriptor itself), copies them into batches (sent when
//! full, or at most 10 ms after its first packet) and hands the batches
//! over a bounded channel with `try_send`:
//! when the decoder falls behind, whole batches are dropped and counted, and libpcap is
//! never kept waiting. Kernel drops come from `pcap_stats`.

use super::platform::{self, Os};
use crate::vocab::time::Ts;
use crate::vocab::{LinkType, UnsupportedLinkType};
use pcap::{Active, BreakLoop, Capture, Device, Linktype, Precision};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Packets per batch, bytes per batch, and how long a batch may wait before it is sent.
const BATCH_PACKETS: usize = 512;
const BATCH_BYTES: usize = 256 << 10;
const BATCH_AGE: Duration = Duration::from_millis(10);
/// How often a quiet interface says so (see `Message::Watermark`).
const WATERMARK_EVERY: Duration = Duration::from_millis(10);
/// How long the thread waits for a packet before it looks at `stop` again.
const IDLE_WAIT: Duration = Duration::from_millis(15);
/// Batches in flight between the capture threads and the decoder (≤ 16 MiB).
pub(crate) const CHANNEL_BATCHES: usize = 64;

/// Default filter: TCP (any proxy, any port), DNS, and ICMP "destination unreachable"
/// (a firewall rejecting a connection), with or without a VLAN tag.
pub(crate) const DEFAULT_FILTER: &str = "tcp or udp port 53 or icmp[icmptype] == icmp-unreach \
     or (icmp6 and ip6[40] == 1) or (vlan and (tcp or udp port 53))";
/// Fallback for link types where `vlan` does not compile.
const PLAIN_FILTER: &str =
    "tcp or udp port 53 or icmp[icmptype] == icmp-unreach or (icmp6 and ip6[40] == 1)";
/// Large enough for a 64 KiB loopback MTU plus link headers (and GRO super-segments).
pub const DEFAULT_SNAPLEN: i32 = 262_144;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot capture on {iface}: {hint}")]
    Permission { iface: String, hint: String },
    #[error("no interface named {name}; available: {available} (gomodwatch -D lists them)")]
    NoSuchDevice { name: String, available: String },
    #[error("{iface}: {source}")]
    LinkType {
        iface: String,
        source: UnsupportedLinkType,
    },
    #[error("bad filter {filter:?} on {iface}: {msg}")]
    Filter {
        iface: String,
        filter: String,
        msg: String,
    },
    #[error("{iface}: {msg}")]
    Pcap { iface: String, msg: String },
}

fn classify_error(iface: &str, e: pcap::Error) -> LiveError {
    let msg = e.to_string();
    if platform::is_permission_error(Os::current(), &msg) {
        LiveError::Permission {
            iface: iface.to_string(),
            hint: platform::permission_hint(Os::current()).to_string(),
        }
    } else {
        LiveError::Pcap {
            iface: iface.to_string(),
            msg,
        }
    }
}

/// `-D`: interfaces with their state and addresses, one per line.
pub fn list_devices() -> Result<Vec<String>, LiveError> {
    let devs = Device::list().map_err(|e| classify_error("(listing)", e))?;
    Ok(devs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut flags = Vec::new();
            if d.flags.is_up() {
                flags.push("Up");
            }
            if d.flags.is_running() {
                flags.push("Running");
            }
            if d.flags.is_loopback() {
                flags.push("Loopback");
            }
            let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
            let mut line = format!("{}. {}", i + 1, d.name);
            if !flags.is_empty() {
                line.push_str(&format!(" [{}]", flags.join(", ")));
            }
            if !addrs.is_empty() {
                line.push_str(&format!(" {}", addrs.join(" ")));
            }
            if let Some(desc) = &d.desc {
                line.push_str(&format!(" ({desc})"));
            }
            line
        })
        .collect())
}

/// An opened capture handle, before its thread starts.
pub struct Opened {
    pub name: String,
    pub link: LinkType,
    pub snaplen: u32,
    cap: Capture<Active>,
}

impl Opened {
    /// A handle that makes this capture's thread stop at its next read (for Ctrl-C).
    pub(crate) fn breaker(&mut self) -> BreakLoop {
        self.cap.breakloop_handle()
    }
}

pub struct LiveConfig {
    pub interfaces: Vec<String>,
    pub filter: Option<String>,
    pub snaplen: i32,
}

/// Opens every interface (as root, before privileges are dropped).
pub fn open_all(cfg: &LiveConfig) -> Result<Vec<Opened>, LiveError> {
    let devices = Device::list().unwrap_or_default();
    cfg.interfaces
        .iter()
        .map(|name| open_one(name, cfg, &devices))
        .collect()
}

fn open_one(name: &str, cfg: &LiveConfig, devices: &[Device]) -> Result<Opened, LiveError> {
    let is_loopback = devices
        .iter()
        .any(|d| d.name == name && d.flags.is_loopback());
    let plan = platform::open_plan(Os::current(), name, is_loopback);
    if !plan.made_on_open && !devices.is_empty() && !devices.iter().any(|d| d.name == name) {
        let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
        return Err(LiveError::NoSuchDevice {
            name: name.to_string(),
            available: names.join(", "),
        });
    }
    let cap = Capture::from_device(name).map_err(|e| classify_error(name, e))?;
    // Only Apple's libpcap has the switch (see `OpenPlan::want_pktap`).
    #[cfg(target_os = "macos")]
    let cap = cap.want_pktap(plan.want_pktap);
    let mut cap = cap
        .immediate_mode(true)
        .snaplen(cfg.snaplen)
        .buffer_size(32 << 20)
        .precision(Precision::Nano)
        .promisc(false)
        .open()
        .map_err(|e| classify_error(name, e))?;
    // Linux `any` offers LINUX_SLL2 (with the interface index); prefer it to SLL.
    if cap.get_datalink() == Linktype::LINUX_SLL {
        if let Ok(links) = cap.list_datalinks() {
            if links.contains(&Linktype::LINUX_SLL2) {
                let _ = cap.set_datalink(Linktype::LINUX_SLL2);
            }
        }
    }
    let link = platform::live_link_type(Os::current(), cap.get_datalink().0).map_err(|source| {
        LiveError::LinkType {
            iface: name.to_string(),
            source,
        }
    })?;
    let filter = cfg.filter.as_deref().unwrap_or(DEFAULT_FILTER);
    // Linux loopback: incoming copies only (`OpenPlan::inbound_only` says why).
    if plan.inbound_only {
        ignore_outgoing(&cap);
    }
    if let Err(e) = cap.filter(filter, true) {
        // The default's `vlan` clause does not compile on every link type.
        if cfg.filter.is_none() {
            cap.filter(PLAIN_FILTER, true)
                .map_err(|e| filter_error(name, PLAIN_FILTER, e))?;
        } else {
            return Err(filter_error(name, filter, e));
        }
    }
    // Non-blocking, with the thread waiting on the descriptor itself: in immediate mode
    // libpcap's own read never returns on a quiet interface (its timeout only applies to
    // TPACKET_V3's buffering, which immediate mode turns off), so the last packets of a
    // burst stayed in the thread's batch until the next packet arrived, and a quiet
    // interface never said it had nothing (the watermark the merge and `run` rely on).
    let cap = cap.setnonblock().map_err(|e| classify_error(name, e))?;
    Ok(Opened {
        name: name.to_string(),
        link,
        snaplen: cfg.snaplen as u32,
        cap,
    })
}

/// Asks the kernel not to hand this socket outgoing packets at all (PACKET_IGNORE_OUTGOING,
/// Linux 4.20 and later): on loopback each packet then reaches the ring once.
///
/// Not with `inbound` in the BPF filter, as before: when a filter is set, libpcap runs it
/// again in user space over the ring's first block (its packets may predate the filter),
/// and its user-space BPF cannot read the packet type that `inbound` tests, so it rejected
/// every packet of that block: the first packets of a capture (a connection's SYN, which
/// tcpdump had) never reached the decoder nor the `-w` file. Where the option is refused
/// (an older kernel), libpcap still drops the outgoing copies itself, as for tcpdump; only
/// the ring fills twice as fast.
fn ignore_outgoing(cap: &Capture<Active>) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: setsockopt on the capture's own socket with a c_int option value that
        // lives across the call.
        unsafe {
            libc::setsockopt(
                cap.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_IGNORE_OUTGOING,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cap;
}

fn filter_error(iface: &str, filter: &str, e: pcap::Error) -> LiveError {
    LiveError::Filter {
        iface: iface.to_string(),
        filter: filter.to_string(),
        msg: e.to_string(),
    }
}

/// Packets of one interface, stored back to back.
pub(crate) struct Batch {
    pub(crate) iface: u32,
    pub(crate) link: LinkType,
    pub(crate) data: Vec<u8>,
    pub(crate) packets: Vec<PacketMeta>,
}

#[derive(Clone, Copy)]
pub(crate) struct PacketMeta {
    pub(crate) ts: Ts,
    pub(crate) offset: u32,
    pub(crate) caplen: u32,
    pub(crate) wire_len: u32,
}

/// What the capture threads tell the decoder.
pub(crate) enum Message {
    Batch(Arc<Batch>),
    /// The interface had nothing captured before `upto` that it has not sent: lets the
    /// merge release other interfaces' packets without waiting on a quiet one.
    Watermark {
        iface: u32,
        upto: Ts,
    },
    /// The interface's capture ended (error, interface gone, or stop).
    Ended {
        iface: u32,
        error: Option<String>,
    },
}

/// Counters shared between the capture threads and the views.
#[derive(Default)]
pub struct LiveStats {
    pub(crate) captured: AtomicU64,
    /// Dropped by the kernel (pcap_stats), summed over interfaces.
    pub(crate) kernel_dropped: AtomicU64,
    /// Dropped here because the decoder was behind (whole batches).
    pub(crate) handoff_dropped: AtomicU64,
    /// Packets the -w writer could not keep up with.
    pub unwritten: AtomicU64,
    per_iface_kernel: Mutex<Vec<u64>>,
}

impl LiveStats {
    pub(crate) fn dropped(&self) -> u64 {
        self.kernel_dropped.load(Ordering::Relaxed) + self.handoff_dropped.load(Ordering::Relaxed)
    }

    fn set_kernel(&self, iface: usize, n: u64) {
        let mut v = self
            .per_iface_kernel
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if v.len() <= iface {
            v.resize(iface + 1, 0);
        }
        v[iface] = n;
        self.kernel_dropped.store(v.iter().sum(), Ordering::Relaxed);
    }
}

/// Starts one capture thread per interface.
pub(crate) fn spawn(
    opened: Vec<Opened>,
    tx: SyncSender<Message>,
    writer: Option<SyncSender<Message>>,
    stats: Arc<LiveStats>,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    opened
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let (tx, writer, stats, stop) =
                (tx.clone(), writer.clone(), stats.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("capture-{}", o.name))
                .spawn(move || capture_loop(i as u32, o, tx, writer, stats, stop))
                .expect("spawn capture thread")
        })
        .collect()
}

fn capture_loop(
    iface: u32,
    mut o: Opened,
    tx: SyncSender<Message>,
    writer: Option<SyncSender<Message>>,
    stats: Arc<LiveStats>,
    stop: Arc<AtomicBool>,
) {
    let new_batch = || Batch {
        iface,
        link: o.link,
        // Grows as needed: a batch sent after 10 ms of light traffic stays small.
        data: Vec::with_capacity(16 << 10),
        packets: Vec::with_capacity(BATCH_PACKETS),
    };
    let mut batch = new_batch();
    let mut started = Instant::now();
    let mut last_stats = Instant::now();
    let mut last_mark = Instant::now();
    // The ring was found empty and no packet came while the batch could wait.
    let mut flush = false;
    let send = |batch: Batch, stats: &LiveStats| {
        let n = batch.packets.len() as u64;
        let batch = Arc::new(batch);
        if let Some(w) = &writer {
            if w.try_send(Message::Batch(batch.clone())).is_err() {
                stats.unwritten.fetch_add(n, Ordering::Relaxed);
            }
        }
        match tx.try_send(Message::Batch(batch)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                stats.handoff_dropped.fetch_add(n, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    };
    let error = loop {
        if stop.load(Ordering::Relaxed) {
            break None;
        }
        // Taken before the read, not after: a read that finds the ring empty proves nothing
        // stamped before it is still to come, and this thread may be preempted between the
        // two (on a loaded machine for longer than the margin below).
        let before = batch.packets.is_empty().then(Ts::now);
        match o.cap.next_packet() {
            Ok(p) => {
                let h = p.header;
                // With nanosecond precision the usec field holds nanoseconds.
                #[allow(clippy::unnecessary_cast)] // time_t/suseconds_t vary by platform
                let ts = Ts(h.ts.tv_sec as i64 * 1_000_000_000 + h.ts.tv_usec as i64);
                batch.packets.push(PacketMeta {
                    ts,
                    offset: batch.data.len() as u32,
                    caplen: p.data.len() as u32,
                    wire_len: h.len,
                });
                batch.data.extend_from_slice(p.data);
                stats.captured.fetch_add(1, Ordering::Relaxed);
            }
            // The ring is empty (the handle does not block).
            Err(pcap::Error::TimeoutExpired) if batch.packets.is_empty() => {
                // Nothing stamped before the read (less a margin for packets between
                // stamping and the ring) is still to come.
                if let Some(before) = before.filter(|_| last_mark.elapsed() >= WATERMARK_EVERY) {
                    last_mark = Instant::now();
                    let upto = Ts(before.0 - 2_000_000);
                    let _ = tx.try_send(Message::Watermark { iface, upto });
                    if let Some(w) = &writer {
                        let _ = w.try_send(Message::Watermark { iface, upto });
                    }
                }
                wait_readable(&o.cap, IDLE_WAIT);
            }
            // Packets are held for more only while the batch is young: with none coming
            // in what is left of BATCH_AGE, the batch goes.
            Err(pcap::Error::TimeoutExpired) => {
                let left = BATCH_AGE.saturating_sub(started.elapsed());
                flush = left.is_zero() || !wait_readable(&o.cap, left);
            }
            Err(pcap::Error::NoMorePackets) => break None,
            Err(e) => break Some(e.to_string()),
        }
        let full = batch.packets.len() >= BATCH_PACKETS || batch.data.len() >= BATCH_BYTES;
        let due = std::mem::take(&mut flush)
            || (!batch.packets.is_empty() && started.elapsed() >= BATCH_AGE);
        if full || due {
            if !send(std::mem::replace(&mut batch, new_batch()), &stats) {
                return;
            }
            started = Instant::now();
        }
        if batch.packets.is_empty() {
            started = Instant::now();
        }
        if last_stats.elapsed() >= Duration::from_millis(500) {
            last_stats = Instant::now();
            if let Ok(s) = o.cap.stats() {
                stats.set_kernel(iface as usize, s.dropped as u64 + s.if_dropped as u64);
            }
        }
    };
    if let Ok(s) = o.cap.stats() {
        stats.set_kernel(iface as usize, s.dropped as u64 + s.if_dropped as u64);
    }
    if !batch.packets.is_empty() {
        send(batch, &stats);
    }
    if let Some(w) = &writer {
        let _ = w.send(Message::Ended { iface, error: None });
    }
    let _ = tx.send(Message::Ended { iface, error });
}

/// Waits until the capture has a packet to read, at most `wait`; whether it has.
fn wait_readable(cap: &Capture<Active>, wait: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut fds = [libc::pollfd {
        fd: cap.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // Rounded up: a wait of less than a millisecond must not become a busy loop.
    let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is one valid pollfd that lives across the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    n > 0
}
