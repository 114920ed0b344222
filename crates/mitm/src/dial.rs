//! Connecting to a name's addresses as the go command does (Go's `net.Dialer`, RFC 6555
//! "Happy Eyeballs"): the addresses of the first address's family (the primaries) are
//! tried in turn; when the name also has addresses of the other family (the fallbacks)
//! and no primary has connected after 300 ms, the fallbacks are tried in parallel; the
//! first to connect wins and the other attempt is dropped. A refused address moves on to
//! the next at once; each address of a list gets its share of the time left (at least
//! 2 s, as Go's `partialDeadline`). One deadline (`--mitm-timeouts connect=`) bounds it all.
//!
//! Without this, a name whose IPv6 route is dead made the client wait for the whole
//! connect timeout and get a 504, where the go command alone connects over IPv4 in 300 ms.

use gomodwatch_wire::vocab::Tried;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Go's `DefaultFallbackDelay`: how long the primaries go alone.
pub(crate) const FALLBACK_DELAY: Duration = Duration::from_millis(300);
/// Go's `saneMinimum`: the least time one address gets when the deadline allows it.
const SANE_MINIMUM: Duration = Duration::from_secs(2);

/// Go's `partition`: the addresses of the first one's family, and the others, each list
/// in the resolver's order.
pub(crate) fn partition(addrs: &[SocketAddr]) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    let Some(first) = addrs.first() else {
        return (Vec::new(), Vec::new());
    };
    addrs
        .iter()
        .copied()
        .partition(|a| a.is_ipv4() == first.is_ipv4())
}

/// Go's `partialDeadline`: the time one of `remaining` addresses gets out of `left`: an
/// equal share, but at least 2 s when that much is left.
pub(crate) fn share(left: Duration, remaining: usize) -> Duration {
    let even = left / u32::try_from(remaining.max(1)).unwrap_or(u32::MAX);
    if even < SANE_MINIMUM {
        SANE_MINIMUM.min(left)
    } else {
        even
    }
}

/// How one address ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Connected,
    Refused(String),
    /// Another error from the system (unreachable network, ...).
    Error(String),
    /// Its share of the deadline ran out with no answer.
    NoAnswer(Duration),
    /// Still unanswered when another address connected (or when everything stopped).
    Abandoned,
}

/// One address tried: when it started and how it ended (None while it runs).
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) addr: SocketAddr,
    pub(crate) start: Instant,
    pub(crate) end: Option<(Instant, Outcome)>,
}

/// What the dialer did, addresses in the order it started them.
#[derive(Debug, Default)]
pub(crate) struct Log(Mutex<Vec<Attempt>>);

impl Log {
    fn start(&self, addr: SocketAddr) -> usize {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.push(Attempt {
            addr,
            start: Instant::now(),
            end: None,
        });
        v.len() - 1
    }

    fn end(&self, i: usize, outcome: Outcome) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = v.get_mut(i) {
            a.end = Some((Instant::now(), outcome));
        }
    }

    /// The attempts, those still running marked abandoned now.
    pub(crate) fn finish(self) -> Vec<Attempt> {
        let now = Instant::now();
        let mut v = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        for a in &mut v {
            a.end.get_or_insert((now, Outcome::Abandoned));
        }
        v
    }
}

/// The attempts as the connection event's `upstream.tried`, times from `since`.
pub(crate) fn tried(attempts: &[Attempt], since: Instant) -> Vec<Tried> {
    let ms = |d: Duration| d.as_micros() as f64 / 1000.0;
    attempts
        .iter()
        .map(|a| {
            let (end, outcome) = a.end.clone().unwrap_or((a.start, Outcome::Abandoned));
            let (outcome, error) = match outcome {
                Outcome::Connected => ("connected", None),
                Outcome::Refused(e) => ("refused", Some(e)),
                Outcome::Error(e) => ("error", Some(e)),
                Outcome::NoAnswer(_) => ("no-answer", None),
                Outcome::Abandoned => ("abandoned", None),
            };
            Tried {
                address: a.addr,
                outcome,
                start_ms: ms(a.start.saturating_duration_since(since)),
                ms: ms(end.saturating_duration_since(a.start)),
                error,
            }
        })
        .collect()
}

/// Go's `dialSerial`: each address in turn, each with its share of what is left.
async fn serial(addrs: &[SocketAddr], deadline: Instant, log: &Log) -> Option<TcpStream> {
    for (i, &addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let limit = share(left, addrs.len() - i);
        let n = log.start(addr);
        match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                log.end(n, Outcome::Connected);
                return Some(s);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                log.end(n, Outcome::Refused(e.to_string()));
            }
            Ok(Err(e)) => log.end(n, Outcome::Error(e.to_string())),
            Err(_) => log.end(n, Outcome::NoAnswer(limit)),
        }
    }
    None
}

/// Go's `dialParallel`: the primaries, then after [`FALLBACK_DELAY`] (or as soon as they
/// have all failed) the fallbacks beside them; the first connection wins, the other
/// attempt is dropped (its socket closed). `log` says what each address did.
pub(crate) async fn parallel(
    addrs: &[SocketAddr],
    deadline: Instant,
    delay: Duration,
    log: &Log,
) -> Option<TcpStream> {
    let (primaries, fallbacks) = partition(addrs);
    if fallbacks.is_empty() {
        return serial(&primaries, deadline, log).await;
    }
    let primary = serial(&primaries, deadline, log);
    tokio::pin!(primary);
    let primary_failed = tokio::select! {
        r = &mut primary => match r {
            Some(s) => return Some(s),
            None => true,
        },
        _ = tokio::time::sleep(delay) => false,
    };
    let fallback = serial(&fallbacks, deadline, log);
    if primary_failed {
        return fallback.await;
    }
    tokio::pin!(fallback);
    tokio::select! {
        r = &mut primary => match r {
            Some(s) => Some(s),
            None => fallback.await,
        },
        r = &mut fallback => match r {
            Some(s) => Some(s),
            None => primary.await,
        },
    }
}

/// A short account of how the dial went, when more than one address was tried: what
/// failed, and what connected in the end (for the connection event's `upstream.message`).
pub(crate) fn account(attempts: &[Attempt]) -> Option<String> {
    if attempts.len() < 2 {
        return None;
    }
    let said = |a: &Attempt| match a.end.as_ref().map(|e| &e.1) {
        Some(Outcome::Refused(_)) => format!("{} refused the connection", a.addr),
        Some(Outcome::Error(e)) => format!("{}: {e}", a.addr),
        Some(Outcome::NoAnswer(d)) => {
            format!("{} did not answer within {} ms", a.addr, d.as_millis())
        }
        Some(Outcome::Abandoned) | None => {
            let ms = a
                .end
                .as_ref()
                .map_or(0, |e| e.0.saturating_duration_since(a.start).as_millis());
            format!("{} had not answered after {ms} ms", a.addr)
        }
        Some(Outcome::Connected) => format!("{} connected", a.addr),
    };
    let failed: Vec<String> = attempts
        .iter()
        .filter(|a| !matches!(a.end, Some((_, Outcome::Connected))))
        .map(said)
        .collect();
    let won = attempts
        .iter()
        .find(|a| matches!(a.end, Some((_, Outcome::Connected))));
    let fell_back = won.is_some_and(|w| {
        attempts
            .first()
            .is_some_and(|f| f.addr.is_ipv4() != w.addr.is_ipv4())
    });
    Some(match won {
        Some(w) if fell_back => format!(
            "connected to {} after falling back to {} (Happy Eyeballs, as the go command \
             does): {}",
            w.addr,
            if w.addr.is_ipv4() { "IPv4" } else { "IPv6" },
            failed.join("; ")
        ),
        Some(w) => format!("connected to {}: {}", w.addr, failed.join("; ")),
        None => format!("every address failed: {}", failed.join("; ")),
    })
}

#[cfg(test)]
mod tests;
