//! What the proxy allows a client and a server before it gives up on them: the timeouts
//! (`--mitm-timeouts`), the cap on clients served at once (`--mitm-max-clients`), and
//! the descriptor budget that cap has to fit in. Without them, a thousand idle sockets
//! or one server that accepts and never answers stop all service.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `--mitm-timeouts head=10s,idle=90s,connect=10s,tls=10s,first-byte=300s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A client's request to the proxy (CONNECT or absolute-form), and its TLS handshake
    /// inside the tunnel, must arrive within this.
    pub(crate) head: Duration,
    /// A connection on which neither side sent anything (and no response is owed) for
    /// this long is closed; also a body that stalls this long.
    pub(crate) idle: Duration,
    /// DNS plus TCP connect to the server (or to the upstream proxy, plus its CONNECT).
    pub(crate) connect: Duration,
    /// The TLS handshake with the server.
    pub(crate) tls: Duration,
    /// A request forwarded to the server must get its first response byte within this.
    /// Generous by default: the go command itself never gives up on a response, and a
    /// proxy filling its cache from a slow VCS can think for minutes.
    pub(crate) first_byte: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            head: Duration::from_secs(10),
            // The go command keeps an idle connection 90 s: never close one before it does.
            idle: Duration::from_secs(90),
            connect: Duration::from_secs(10),
            tls: Duration::from_secs(10),
            first_byte: Duration::from_secs(300),
        }
    }
}

const KEYS: &str = "head, idle, connect, tls, first-byte";
/// Longer than this is a typo, not a timeout (and keeps deadlines far from overflow).
const MAX: Duration = Duration::from_secs(24 * 3600);

impl Timeouts {
    /// `KEY=DURATION[,KEY=DURATION...]`, each key at most once; the others keep their
    /// defaults. Durations take a unit: `500ms`, `10s`, `2m`, `1h`.
    pub fn parse(s: &str) -> Result<Timeouts, TimeoutsError> {
        let mut t = Timeouts::default();
        let mut seen = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| TimeoutsError::NotKeyValue(part.to_string()))?;
            let key = key.trim();
            let d = duration(value.trim()).map_err(|e| TimeoutsError::Duration {
                key: key.to_string(),
                error: e,
            })?;
            let slot = match key {
                "head" => &mut t.head,
                "idle" => &mut t.idle,
                "connect" => &mut t.connect,
                "tls" => &mut t.tls,
                "first-byte" => &mut t.first_byte,
                _ => return Err(TimeoutsError::UnknownKey(key.to_string())),
            };
            if seen.contains(&key) {
                return Err(TimeoutsError::Twice(key.to_string()));
            }
            seen.push(key);
            *slot = d;
        }
        if seen.is_empty() {
            return Err(TimeoutsError::Empty);
        }
        Ok(t)
    }
}

impl fmt::Display for Timeouts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "head={},idle={},connect={},tls={},first-byte={}",
            Shown(self.head),
            Shown(self.idle),
            Shown(self.connect),
            Shown(self.tls),
            Shown(self.first_byte)
        )
    }
}

/// A duration as the user would write it (`10s`, `500ms`).
pub(crate) struct Shown(pub(crate) Duration);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// Why `--mitm-timeouts` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutsError {
    /// A part without `=`.
    #[error("{0:?} is not KEY=DURATION (keys: {KEYS})")]
    NotKeyValue(String),
    /// A key that is not a timeout.
    #[error("unknown timeout {0:?} (keys: {KEYS})")]
    UnknownKey(String),
    /// A key given twice.
    #[error("{0} given twice")]
    Twice(String),
    /// Nothing given.
    #[error("give KEY=DURATION pairs, e.g. head=10s (keys: {KEYS})")]
    Empty,
    /// A key's duration cannot be read.
    #[error("{key}: {error}")]
    Duration {
        /// The key.
        key: String,
        /// What is wrong with its duration.
        error: DurationError,
    },
}

/// Why a duration (`10s`, `500ms`) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number with a unit.
    #[error("{0:?} is not a duration like 10s, 500ms or 2m")]
    NotADuration(String),
    /// A number without a unit.
    #[error("{0:?} needs a unit: ms, s, m or h (e.g. {0}s)")]
    NoUnit(String),
    /// A unit other than ms, s, m, h.
    #[error("unknown unit {unit:?} in {text:?} (ms, s, m or h)")]
    UnknownUnit {
        /// The unit given.
        unit: String,
        /// The whole duration.
        text: String,
    },
    /// Below a millisecond.
    #[error("{0:?} must be at least 1ms")]
    TooShort(String),
    /// Above a day.
    #[error("{0:?} is longer than a day")]
    TooLong(String),
}

/// `500ms`, `10s`, `1.5s`, `2m`, `1h`: positive, with a unit, at most a day.
pub(crate) fn duration(s: &str) -> Result<Duration, DurationError> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| DurationError::NotADuration(s.to_string()))?;
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "" => return Err(DurationError::NoUnit(s.to_string())),
        _ => {
            return Err(DurationError::UnknownUnit {
                unit: unit.to_string(),
                text: s.to_string(),
            })
        }
    };
    let secs = n * scale;
    if !secs.is_finite() || secs < 0.001 {
        return Err(DurationError::TooShort(s.to_string()));
    }
    let d = Duration::from_secs_f64(secs);
    if d > MAX {
        return Err(DurationError::TooLong(s.to_string()));
    }
    Ok(d)
}

/// Clients served at once by default (`--mitm-max-clients`).
pub const MAX_CLIENTS: usize = 512;
/// Descriptors kept out of the clients' budget: the listener, the runtime, output files,
/// metrics, the spare one for EMFILE, and the short-lived sockets that answer 503.
const RESERVED_FDS: u64 = 48;

/// The descriptor limit, raised to the hard limit when the soft one is lower (as the go
/// command does for itself): a proxy's descriptors are its capacity.
pub(crate) fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_cur < lim.rlim_max {
        let want = libc::rlimit {
            rlim_cur: lim.rlim_max.min(1 << 20),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct; failing leaves the old limit.
        if want.rlim_cur > lim.rlim_cur
            && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0
        {
            lim.rlim_cur = want.rlim_cur;
        }
    }
    lim.rlim_cur
}

/// The client cap that fits in `nofile` descriptors (each client may hold two: itself and
/// its server); `None` when `wanted` fits as asked.
pub(crate) fn fitted_cap(wanted: usize, nofile: u64) -> Option<usize> {
    let fits = (nofile.saturating_sub(RESERVED_FDS) / 2).max(1);
    (wanted as u64 > fits).then_some(fits as usize)
}

/// What the proxy turned away or gave up on, for the summary and the status line.
#[derive(Debug, Default)]
pub(crate) struct GuardStats {
    /// Clients answered 503: more than the cap at once, or no descriptor left to serve them.
    pub(crate) refused: AtomicU64,
    /// Requests that were not proxy requests (garbage, a bare TLS ClientHello, an
    /// origin-form request), answered 400.
    pub(crate) bad_requests: AtomicU64,
    /// Clients that did not send their request within `head`, answered 408.
    pub(crate) head_timeouts: AtomicU64,
    /// Requests for gomodwatch's own address, answered 508.
    pub(crate) loops: AtomicU64,
    /// accept() failures (EMFILE and the like), each followed by a back-off.
    pub(crate) accept_errors: AtomicU64,
    /// Clients admitted whose connection is still being served (its tap events not all
    /// sent yet): `run` ends as soon as this is 0 after the child exits.
    pub(crate) serving: AtomicU64,
}

impl GuardStats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_with_defaults_for_the_rest() {
        let t = Timeouts::parse("head=2s, first-byte=1.5s,idle=500ms").unwrap();
        assert_eq!(t.head, Duration::from_secs(2));
        assert_eq!(t.first_byte, Duration::from_millis(1500));
        assert_eq!(t.idle, Duration::from_millis(500));
        assert_eq!(t.connect, Timeouts::default().connect);
        assert_eq!(
            Timeouts::default().to_string(),
            "head=10s,idle=90s,connect=10s,tls=10s,first-byte=300s"
        );
        for bad in [
            "",
            "head",
            "head=10",
            "head=0s",
            "head=-1s",
            "nap=1s",
            "head=1s,head=2s",
            "tls=2d",
            "idle=25h",
            "connect=1x",
        ] {
            assert!(Timeouts::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cap_fits_the_descriptors() {
        assert_eq!(fitted_cap(512, 256), Some(104));
        assert_eq!(fitted_cap(512, 1 << 20), None);
        assert_eq!(fitted_cap(10, 20), Some(1));
    }
}
