//! The path between the go command and its proxies, as the traffic shows it: HTTP proxies
//! and what they answered to CONNECT, endpoints that never answered or sent an ICMP error,
//! TLS handshakes that did not complete, and DNS lookups that failed or were slow.

use gomodwatch_wire::vocab::event::Upstream;
use gomodwatch_wire::vocab::{
    CertSummary, ConnError, Connection, DnsAnswer, Exchange, TlsFailure, Ts, Unreachable,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// Entries kept per table; a capture with more distinct endpoints is summarised by the
/// first ones (each is one problem sentence: more would not be read).
const MAX_ENTRIES: usize = 1_000;

/// What one HTTP proxy answered to CONNECT for one target.
#[derive(Debug, Clone, Default)]
pub struct TunnelTally {
    /// Tunnels it opened.
    pub opened: u64,
    /// Refusals by status.
    pub refused: BTreeMap<u16, u64>,
    /// The `Proxy-Authenticate` challenge of a 407.
    pub challenge: Option<String>,
}

/// Connection attempts to one endpoint that got no answer at all.
#[derive(Debug, Clone)]
pub(crate) struct Silence {
    pub(crate) connections: u64,
    pub(crate) syns: u64,
    pub(crate) first: Ts,
    pub(crate) last: Ts,
    pub(crate) name: Option<String>,
    /// When each attempt started (the first `MAX_STARTS`), to tell a Happy Eyeballs
    /// fallback from a dead endpoint.
    pub(crate) starts: Vec<Ts>,
}

/// Attempt starts kept per silent endpoint.
const MAX_STARTS: usize = 64;
/// Connections that succeeded, kept to find the fallbacks of silent ones.
const MAX_CONNECTED: usize = 8_192;
/// The go command's dialer starts the other address family 300 ms after the first
/// (net.Dialer's FallbackDelay, RFC 6555 "Happy Eyeballs"); a loaded machine starts it a
/// little later.
const FALLBACK_NS: std::ops::RangeInclusive<i64> = 250_000_000..=450_000_000;

/// What followed a silent endpoint's attempts (see [`Network::fallbacks`]).
#[derive(Debug, Default)]
pub(crate) struct Fallbacks {
    pub(crate) fell_back: usize,
    pub(crate) abandoned: usize,
    pub(crate) waited_ms: f64,
    pub(crate) to: Option<std::net::IpAddr>,
}

/// One way the MITM failed for one host.
#[derive(Debug, Clone)]
pub(crate) struct MitmFailure {
    pub(crate) count: u64,
    pub(crate) error: ConnError,
    pub(crate) upstream: Upstream,
}

/// Attempts answered by an ICMP error.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub(crate) connections: u64,
    pub(crate) icmp: Unreachable,
    pub(crate) name: Option<String>,
}

/// TLS handshakes with one server that failed the same way.
#[derive(Debug, Clone)]
pub(crate) struct TlsFailures {
    pub(crate) count: u64,
    pub(crate) failure: TlsFailure,
    pub(crate) certificate: Option<CertSummary>,
    pub(crate) via: Option<SocketAddr>,
}

/// The lookups of one name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookups {
    pub(crate) queries: u64,
    /// Answers with addresses: the name resolved.
    pub(crate) resolved: u64,
    /// Failed answers by response code; `None` is a query never answered.
    pub(crate) failed: BTreeMap<Option<u8>, u64>,
    pub(crate) resolver: Option<SocketAddr>,
    pub(crate) slowest_ms: Option<f64>,
}

/// The way to the proxies: CONNECTs through HTTP proxies, name lookups, TLS failures, what
/// answered from where.
#[derive(Debug, Default)]
pub struct Network {
    /// (proxy, `host:port`) → what the proxy answered.
    pub tunnels: BTreeMap<(SocketAddr, String), TunnelTally>,
    /// Endpoints that the traffic shows to be HTTP proxies (they got CONNECT or
    /// absolute-form requests).
    pub(crate) http_proxies: BTreeSet<SocketAddr>,
    pub(crate) silent: BTreeMap<SocketAddr, Silence>,
    pub(crate) rejected: BTreeMap<SocketAddr, Rejection>,
    /// (server as the client named it, failure) → tally.
    pub(crate) tls_failures: BTreeMap<(String, String), TlsFailures>,
    pub(crate) lookups: BTreeMap<String, Lookups>,
    /// The MITM's own failures to reach a server (or to be trusted by the client), by
    /// (host, what it said).
    pub(crate) mitm_failures: BTreeMap<(String, String), MitmFailure>,
    /// A proxy failed the go command's `/sumdb/NAME/supported` question with something
    /// other than 200/404/410: (the request's URL, its status or error).
    pub(crate) sumdb_supported_failed: Option<(String, String, Option<u16>)>,
    /// The MITM got through only after its dialer fell back to the other address family
    /// (Happy Eyeballs): host → (connections, what it said about the first).
    pub(crate) mitm_fallbacks: BTreeMap<String, (u64, String)>,
    /// Where proxies redirected downloads (a CDN): `scheme://host:port` → the proxy.
    pub(crate) redirect_targets: BTreeMap<String, String>,
    /// Connections of which only the client's packets are in the capture, by server:
    /// (connections, the name the traffic resolved).
    pub(crate) one_way: BTreeMap<SocketAddr, (u64, Option<String>)>,
    /// Successful connections by server port: (start, end, server address).
    connected: BTreeMap<u16, Vec<(Ts, Ts, std::net::IpAddr)>>,
    connected_count: usize,
}

impl Network {
    pub(crate) fn connection(&mut self, c: &Connection) {
        let name = c.server_name.clone();
        // The MITM's failures that the capture-side tables do not tell (a refusal or a
        // silent server is told there, as for a capture).
        let mitm_own = |up: &Upstream, e: ConnError| {
            !matches!(e, ConnError::Refused | ConnError::NoAnswer)
                || up
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("DNS lookup failed"))
        };
        if let (Some(up), None) = (c.upstream.as_deref(), c.error) {
            // A dial that succeeded after trying more than one address.
            if let Some(m) = &up.message {
                let host = name.clone().unwrap_or_else(|| c.server.to_string());
                if self.mitm_fallbacks.len() < MAX_ENTRIES
                    || self.mitm_fallbacks.contains_key(&host)
                {
                    self.mitm_fallbacks.entry(host).or_insert((0, m.clone())).0 += 1;
                }
            }
        }
        if let Some((up, error)) = c
            .upstream
            .as_deref()
            .zip(c.error)
            .filter(|(up, e)| mitm_own(up, *e))
        {
            let key = (
                name.clone().unwrap_or_else(|| c.server.to_string()),
                up.message.clone().unwrap_or_default(),
            );
            if self.mitm_failures.len() < MAX_ENTRIES || self.mitm_failures.contains_key(&key) {
                self.mitm_failures
                    .entry(key)
                    .or_insert_with(|| MitmFailure {
                        count: 0,
                        error,
                        upstream: up.clone(),
                    })
                    .count += 1;
            }
            return;
        }
        match c.error {
            Some(ConnError::NoAnswer) if room(&self.silent, &c.server) => {
                let s = self.silent.entry(c.server).or_insert(Silence {
                    connections: 0,
                    syns: 0,
                    first: c.ts,
                    last: c.end,
                    name: None,
                    starts: Vec::new(),
                });
                if s.starts.len() < MAX_STARTS {
                    s.starts.push(c.ts);
                }
                s.connections += 1;
                s.syns += u64::from(c.syns);
                s.first = s.first.min(c.ts);
                s.last = s.last.max(c.end);
                s.name = s.name.take().or(name);
            }
            Some(ConnError::OneWay) if room(&self.one_way, &c.server) => {
                let e = self.one_way.entry(c.server).or_insert((0, None));
                e.0 += 1;
                e.1 = e.1.take().or(name);
            }
            Some(ConnError::Unreachable) if room(&self.rejected, &c.server) => {
                if let Some(icmp) = &c.unreachable {
                    let r = self.rejected.entry(c.server).or_insert(Rejection {
                        connections: 0,
                        icmp: icmp.clone(),
                        name: None,
                    });
                    r.connections += 1;
                    r.name = r.name.take().or(name);
                }
            }
            None if c.connect_ms.is_some() && self.connected_count < MAX_CONNECTED => {
                self.connected_count += 1;
                self.connected.entry(c.server.port()).or_default().push((
                    c.ts,
                    c.end,
                    c.server.ip(),
                ));
            }
            _ => {}
        }
        if let Some(tls) = &c.tls {
            if let Some(f) = &tls.failure {
                let server = match (&tls.sni, &c.target) {
                    (_, Some(t)) => t.clone(),
                    (Some(sni), None) => format!("{sni}:{}", c.server.port()),
                    (None, None) => c.server.to_string(),
                };
                let key = (server, format!("{f:?}"));
                if self.tls_failures.len() < MAX_ENTRIES || self.tls_failures.contains_key(&key) {
                    let e = self.tls_failures.entry(key).or_insert(TlsFailures {
                        count: 0,
                        failure: f.clone(),
                        certificate: tls.certificate.clone(),
                        via: c.via,
                    });
                    e.count += 1;
                }
            }
        }
    }

    /// What the dialer did after each of a silent endpoint's attempts: how many it
    /// followed, 300 ms later, with a connection to the same port at an address of the
    /// other family that succeeded (Happy Eyeballs), and the time those waits cost; how
    /// many it abandoned without a fallback while such a connection was open (the go
    /// command got its answer over that one before 300 ms passed); and the first
    /// address it fell back to.
    pub(crate) fn fallbacks(&self, addr: &SocketAddr, s: &Silence) -> Fallbacks {
        let mut f = Fallbacks::default();
        let Some(ok) = self.connected.get(&addr.port()) else {
            return f;
        };
        let other = |ip: &std::net::IpAddr| ip.is_ipv4() != addr.is_ipv4();
        for t in &s.starts {
            let hit = ok
                .iter()
                .find(|(u, _, ip)| other(ip) && FALLBACK_NS.contains(&(u.0 - t.0)));
            if let Some((u, _, ip)) = hit {
                f.fell_back += 1;
                f.waited_ms += u.ms_since(*t);
                f.to.get_or_insert(*ip);
            } else if ok
                .iter()
                .any(|(u, end, ip)| other(ip) && u.0 <= t.0 && t.0 <= end.0)
            {
                f.abandoned += 1;
            }
        }
        f
    }

    pub(crate) fn exchange(&mut self, ex: &Exchange) {
        if ex.go.kind == gomodwatch_wire::vocab::Kind::SumdbSupported
            && self.sumdb_supported_failed.is_none()
            && !matches!(ex.status, Some(200 | 404 | 410))
        {
            let answer = match (ex.status, &ex.error) {
                (Some(s), _) => format!("answered {s}"),
                (None, Some(e)) => format!("failed ({e})"),
                (None, None) => "gave no answer".into(),
            };
            self.sumdb_supported_failed =
                Some((ex.url.clone().unwrap_or_default(), answer, ex.status));
        }
        if let (Some(loc), Some(proxy)) = (&ex.location, &ex.go.proxy) {
            let origin = gomodwatch_wire::vocab::url::parse(loc).map(|u| {
                format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.port_or_known_default().unwrap_or(0)
                )
            });
            if let Some(o) = origin {
                if self.redirect_targets.len() < MAX_ENTRIES {
                    self.redirect_targets
                        .entry(o)
                        .or_insert_with(|| proxy.clone());
                }
            }
        }
        let Some(server) = ex.server else { return };
        if let Some(via) = ex.via {
            self.http_proxies.insert(via);
        }
        if ex.method.as_deref() != Some("CONNECT") {
            return;
        }
        self.http_proxies.insert(server);
        let target = ex.url.clone().unwrap_or_default();
        let key = (server, target);
        if self.tunnels.len() >= MAX_ENTRIES && !self.tunnels.contains_key(&key) {
            return;
        }
        let t = self.tunnels.entry(key).or_default();
        match ex.status {
            Some(200..=299) => t.opened += 1,
            Some(s) => {
                *t.refused.entry(s).or_default() += 1;
                if ex.proxy_authenticate.is_some() {
                    t.challenge = ex.proxy_authenticate.clone();
                }
            }
            None => {}
        }
    }

    pub(crate) fn dns(&mut self, d: &DnsAnswer) {
        // Only lookups of hosts to connect to: reverse lookups (PTR, a proxy logging its
        // clients) and the like are not the go command's.
        if !matches!(d.qtype, "A" | "AAAA" | "HTTPS") {
            return;
        }
        if self.lookups.len() >= MAX_ENTRIES && !self.lookups.contains_key(&d.name) {
            return;
        }
        let l = self.lookups.entry(d.name.clone()).or_default();
        l.queries += 1;
        l.resolver = Some(d.server);
        if let Some(ms) = d.duration_ms.filter(|_| d.error.is_none()) {
            l.slowest_ms = Some(l.slowest_ms.map_or(ms, |s| s.max(ms)));
        }
        match d.rcode {
            Some(0) if !d.addresses.is_empty() => l.resolved += 1,
            // NOERROR without addresses (no AAAA for an IPv4-only name) is an answer.
            Some(0) => {}
            rcode => *l.failed.entry(rcode).or_default() += 1,
        }
    }
}

fn room<V>(map: &BTreeMap<SocketAddr, V>, key: &SocketAddr) -> bool {
    map.len() < MAX_ENTRIES || map.contains_key(key)
}
