//! MITM mode (`--mitm`): an explicit proxy that terminates TLS with a local CA, so traffic
//! to proxy.golang.org, sum.golang.org or a private proxy is decoded in full, HTTP/2
//! included (ALPN is mirrored: each end speaks what it would have without us). Plain
//! `http://` requests are forwarded too. It runs on its own tokio runtime and feeds
//! plaintext chunks to the same decoder that reads captures, through a bounded tap that
//! never slows a transfer down.

#![warn(missing_docs)]

mod accept;
pub mod ca;
mod constraints;
mod dial;
mod explicit;
mod guard;
mod h2frames;
mod head;
pub mod keylog;
mod latency;
pub mod limits;
mod plain;
mod proxy;
mod tap;
mod transparent;
pub mod trust;
mod tunnel;
pub mod upstream;
mod verify;
mod watch;

use gomodwatch_wire::vocab::StreamEvent;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often the decoder looks at the tap while traffic flows, and for how long after the
/// last event it keeps looking before it waits to be woken.
const POLL: Duration = Duration::from_millis(1);
const FLOWING: Duration = Duration::from_millis(50);

/// For the fuzz targets (`gomodwatch::fuzzing`): the proxy's request-head handling on
/// bytes a client (or a server) sent: heads read one after another as the proxy reads them
/// (`head::Reader` over the bytes), parsed, the CONNECT authority or absolute-form target
/// split, the body framing decided, and a chunked body's size lines read.
#[doc(hidden)]
pub fn fuzz_head(data: &[u8]) {
    use head::{Body, Head};
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    /// Polls a future over in-memory bytes: it never waits, so one poll settles it.
    fn now<T>(f: impl Future<Output = T>) -> Option<T> {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }
    let mut r = head::Reader::new(data);
    for _ in 0..64 {
        let Some(Ok(raw)) = now(r.head()) else { return };
        let body = match head::parse(&raw) {
            Some(Head::Request {
                method,
                target,
                headers,
            }) => {
                if method == "CONNECT" {
                    let _ = explicit::authority(&target);
                } else if target.starts_with("http://") {
                    let _ = plain::split_target(&target);
                }
                let _ = head::header(&headers, "connection");
                head::request_body(&headers)
            }
            Some(Head::Response {
                status, headers, ..
            }) => head::response_body(status, raw.len() % 2 == 0, &headers),
            None => return,
        };
        match body {
            Body::Chunked => {
                for _ in 0..16 {
                    match now(r.line()) {
                        Some(Ok(line)) if line != b"0\r\n" => {}
                        _ => break,
                    }
                }
            }
            Body::Length(n) => {
                let _ = now(r.some(n.min(1 << 16) as usize));
            }
            Body::None | Body::Close => {}
        }
    }
}

/// How to start the proxy (`--mitm` and its options, or `run`'s).
pub struct MitmConfig {
    /// Where to listen (port 0: any free one).
    pub addr: SocketAddr,
    /// Where the CA lives (`--ca-dir`).
    pub ca_dir: PathBuf,
    /// `--upstream-ca`: another CA to trust for servers.
    pub upstream_ca: Option<PathBuf>,
    /// `--upstream-proxy URL`.
    pub upstream_proxy: Option<upstream::UpstreamProxy>,
    /// `--keylog FILE`, already created (owner-only).
    pub keylog: Option<keylog::KeyLogFile>,
    /// `--transparent`: connections redirected by the OS, not proxy requests.
    pub transparent: bool,
    /// `--mitm-timeouts`.
    pub timeouts: limits::Timeouts,
    /// `--mitm-max-clients` (lowered to fit the descriptor limit).
    pub max_clients: usize,
}

/// Why the proxy could not start; the text is the line the user sees.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `--transparent` on a platform without it.
    #[error("transparent mode is Linux-only for now (macOS's pf would need DIOCNATLOOK)")]
    Transparent,
    /// The CA cannot be loaded or made.
    #[error("{0}")]
    Ca(#[from] ca::CaError),
    /// Whom to trust upstream cannot be set up.
    #[error("{0}")]
    Trust(#[from] trust::TrustError),
    /// The runtime (or its socket) could not be set up.
    #[error("{0}")]
    Runtime(std::io::Error),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        error: std::io::Error,
    },
}

/// A running proxy: its events, and the runtime that drives it.
pub struct Mitm {
    runtime: tokio::runtime::Runtime,
    rx: mpsc::Receiver<StreamEvent>,
    stats: Arc<tap::TapStats>,
    /// Dropped chunks already told to the user.
    told: u64,
    /// What the proxy turned away, and how much of it was already told.
    pub(crate) guard: Arc<limits::GuardStats>,
    refused_told: (u64, Instant),
    /// When the last event was taken (see `poll`).
    last_event: Instant,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The CA certificate clients must trust.
    pub ca_path: PathBuf,
    /// Clients served at once at most (after fitting the descriptor limit).
    pub max_clients: usize,
    /// Things to say once at start (the client cap lowered, the proxy exposed).
    pub warnings: Vec<String>,
}

impl Mitm {
    /// Binds the address and starts serving.
    pub fn start(cfg: MitmConfig) -> Result<Mitm, StartError> {
        if cfg.transparent && !transparent::supported() {
            return Err(StartError::Transparent);
        }
        let ca = ca::Ca::load_or_create(&cfg.ca_dir)?;
        let ca_path = ca.cert_path.clone();
        let keylog = cfg.keylog.map(|k| Arc::new(k) as Arc<dyn rustls::KeyLog>);
        let trust = trust::Trust::new(cfg.upstream_ca.as_deref(), keylog.clone())?;
        // One worker: the relay of every connection fits on one core (AES-GCM and copies,
        // about 1 GB/s), the decoder has its own thread, and a second worker only adds
        // wake-ups between workers, which on a loaded machine cost more than they save.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mitm")
            .on_thread_start(latency::prefer_latency)
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(cfg.addr))
            .map_err(|error| StartError::Listen {
                addr: cfg.addr,
                error,
            })?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        let (max_clients, mut warnings) = fit_clients(cfg.max_clients);
        let (tx, rx) = mpsc::channel(tap::capacity(max_clients));
        let stats = Arc::new(tap::TapStats::default());
        let tap = tap::Tap::new(tx, stats.clone());
        warnings.extend(guard::exposure_warning(addr));
        let guard = Arc::new(limits::GuardStats::default());
        let bounds = proxy::Bounds {
            reach: upstream::Reach {
                timeouts: cfg.timeouts,
                me: guard::SelfAddr { listen: addr },
            },
            max_clients,
            guard: guard.clone(),
        };
        let proxy = Arc::new(proxy::Proxy::new(
            Arc::new(ca),
            trust,
            cfg.upstream_proxy,
            keylog,
            tap,
            bounds,
        ));
        if cfg.transparent {
            runtime.spawn(accept::serve(proxy, listener, transparent::handle));
        } else {
            runtime.spawn(accept::serve(proxy, listener, explicit::handle));
        }
        Ok(Mitm {
            runtime,
            rx,
            stats,
            told: 0,
            guard,
            refused_told: (0, Instant::now()),
            last_event: Instant::now(),
            addr,
            ca_path,
            max_clients,
            warnings,
        })
    }

    /// The next event, waiting at most `wait`.
    pub fn next(&mut self, wait: Duration) -> Option<StreamEvent> {
        let ev = match self.rx.try_recv() {
            Ok(ev) => Some(ev),
            Err(_) if self.last_event.elapsed() < FLOWING => self.poll(wait),
            Err(_) => {
                let rx = &mut self.rx;
                self.runtime
                    .block_on(async { tokio::time::timeout(wait, rx.recv()).await.ok().flatten() })
            }
        };
        if let Some(ev) = &ev {
            self.last_event = Instant::now();
            tap::taken(&self.stats, ev);
        }
        ev
    }

    /// While traffic flows, the queue is looked at every `POLL` rather than the relay
    /// waking this thread for every chunk: a wake-up is a futex call on the relay's side and
    /// a context switch on this one, and on a loaded two-core machine those cost the
    /// transfer more than a millisecond of latency costs the decoder (benches/mitm.sh: the
    /// proxy's context switches per 144 MB zip download halved).
    fn poll(&mut self, wait: Duration) -> Option<StreamEvent> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            std::thread::sleep(POLL.min(left));
            if let Ok(ev) = self.rx.try_recv() {
                return Some(ev);
            }
        }
    }

    /// Nothing left to tell: no client is being served and every event was taken. A
    /// connection's events are all sent before it stops counting as served.
    pub fn quiet(&self) -> bool {
        self.guard.serving.load(Ordering::Acquire) == 0 && self.rx.is_empty()
    }

    /// Plaintext chunks the decoder never got (it fell behind; the transfer did not wait).
    pub fn dropped_chunks(&self) -> u64 {
        self.stats.dropped_chunks.load(Ordering::Relaxed)
    }

    /// Times the relay waited for the decoder to make room: transfers gomodwatch slowed.
    pub fn relay_waits(&self) -> u64 {
        self.stats.waits.load(Ordering::Relaxed)
    }

    /// Clients answered 503 (too many at once, or out of descriptors).
    pub fn refused(&self) -> u64 {
        self.guard.refused.load(Ordering::Relaxed)
    }

    /// A line for the user when clients were turned away since it was last said (at most
    /// every 10 seconds: a flood must not become a flood of lines).
    pub fn refused_notice(&mut self) -> Option<String> {
        let now = self.refused();
        let failed = self.guard.accept_errors.load(Ordering::Relaxed);
        // Either count moving is news (accept() can fail with no client answered).
        let (told, at) = self.refused_told;
        if now + failed == told || (told > 0 && at.elapsed() < Duration::from_secs(10)) {
            return None;
        }
        self.refused_told = (now + failed, Instant::now());
        let mut line = format!(
            "{} clients answered 503 so far: more than {} at once (--mitm-max-clients) or out of file descriptors",
            now, self.max_clients
        );
        if failed > 0 {
            line.push_str(&format!(
                "; accepting a connection failed {failed} times (no descriptor left: raise ulimit -n)"
            ));
        }
        Some(line)
    }

    /// A line for the user when more chunks were dropped since the last call.
    pub fn drop_notice(&mut self) -> Option<String> {
        let now = self.dropped_chunks();
        let untapped = self.stats.untapped.load(Ordering::Relaxed);
        // Either count moving is news (a failed connection's event can be lost alone).
        if now + untapped == self.told {
            return None;
        }
        self.told = now + untapped;
        let mut line = format!(
            "decoding fell behind: {now} plaintext chunks ({} bytes) were not decoded (transfers were not slowed; affected exchanges end with error \"gap\")",
            self.stats.dropped_bytes.load(Ordering::Relaxed)
        );
        if untapped > 0 {
            line.push_str(&format!(
                "; {untapped} connections were relayed without being decoded at all"
            ));
        }
        Some(line)
    }
}

/// The client cap, lowered when the descriptor limit cannot hold it (with a warning).
fn fit_clients(wanted: usize) -> (usize, Vec<String>) {
    let nofile = limits::raise_nofile();
    match limits::fitted_cap(wanted, nofile) {
        Some(fits) => (
            fits,
            vec![format!(
                "warning: --mitm-max-clients {wanted} lowered to {fits}: the descriptor limit is {nofile} and each client may hold two (raise it with ulimit -n)"
            )],
        ),
        None => (wanted, Vec::new()),
    }
}
