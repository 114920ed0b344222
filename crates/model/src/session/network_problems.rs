//! Problems on the way to the proxies, in words a user can act on: an HTTP proxy that
//! refused a tunnel or wants credentials, endpoints that refuse, stay silent or are
//! rejected by ICMP, TLS handshakes the client abandoned, names that do not resolve.
//! Advice names a setting only when the traffic (or the environment) shows it is the one.

use super::model::Session;
use super::network::{Lookups, TlsFailures};
use crate::gomod::cause::Cause;
use crate::gomod::goproxy::ChainSource;
use crate::gomod::verdict::{Problem, Severity};
use gomodwatch_wire::vocab::url;
use std::net::SocketAddr;

/// What an endpoint is to the go command.
pub(super) enum Role {
    /// HTTPS_PROXY/HTTP_PROXY in the environment point at it.
    EnvProxy(String),
    /// A GOPROXY entry (the walks went there, or the configured list names it).
    GoproxyEntry(String),
    /// The traffic shows it is an HTTP proxy (CONNECT, absolute-form requests).
    HttpProxy,
    /// The checksum database (GOSUMDB, or its well-known name): its URL.
    Sumdb(String),
    /// Where a proxy redirects downloads (a CDN): (its origin, the proxy).
    Cdn(String, String),
    /// The configured GOPROXY has no entry that could be it.
    NotInGoproxy(String),
    Unknown,
}

fn error(text: String, proxy: Option<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        text,
        subject: None,
        proxy,
        ..Default::default()
    }
}

fn times(n: u64) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Session {
    /// Every problem of the path to the proxies.
    pub(super) fn network_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.tunnel_problems(&mut out);
        self.silent_problems(&mut out);
        self.one_way_problems(&mut out);
        self.tls_problems(&mut out);
        self.dns_problems(&mut out);
        self.mitm_problems(&mut out);
        out
    }

    /// How to name an endpoint: its address, with the name the traffic resolved.
    fn endpoint(&self, addr: &SocketAddr, name: Option<&str>) -> String {
        match name {
            Some(n) => format!("{addr} ({n})"),
            None => addr.to_string(),
        }
    }

    /// What an endpoint that refused or never answered is, as far as the traffic, the
    /// environment and the configured GOPROXY can tell.
    pub(super) fn role_of(&self, addr: &SocketAddr, name: Option<&str>) -> Role {
        if let Some(setting) = self
            .config
            .proxy_env
            .as_ref()
            .and_then(|e| e.naming(addr, name))
        {
            return Role::EnvProxy(setting);
        }
        if self.is_proxy_in_walks(addr) {
            return Role::GoproxyEntry(self.proxy_at(addr));
        }
        if let Some(url) = self.sumdb_endpoint(addr, name) {
            return Role::Sumdb(url);
        }
        if let Some((origin, proxy)) = self.redirect_target(addr, name) {
            return Role::Cdn(origin, proxy);
        }
        if self.network.http_proxies.contains(addr) {
            return Role::HttpProxy;
        }
        let configured = self
            .config
            .goproxy
            .as_ref()
            .filter(|l| l.source != ChainSource::Inferred);
        match configured {
            Some(list) => match list
                .entries
                .iter()
                .find(|e| self.entry_could_be(&e.url, addr, name))
            {
                Some(e) => Role::GoproxyEntry(e.url.clone()),
                None => Role::NotInGoproxy(list.display()),
            },
            None => Role::Unknown,
        }
    }

    /// Could this GOPROXY entry be the endpoint? Same port, and the same address, or a
    /// name the capture resolved to it (or did not resolve at all).
    fn entry_could_be(&self, entry: &str, addr: &SocketAddr, name: Option<&str>) -> bool {
        let Some(u) = url::parse(entry) else {
            return false;
        };
        url::could_be_at(&u, addr, |d| {
            name.is_none_or(|n| n == d) || !self.network.lookups.contains_key(d)
        })
    }

    /// The advice for an endpoint that refused or never answered, by what it is.
    pub(super) fn fix_for(&self, role: &Role) -> String {
        match role {
            Role::EnvProxy(setting) => format!(
                "it is the HTTP proxy your environment names ({setting}): fix that setting or \
                 start the proxy"
            ),
            Role::GoproxyEntry(url) => format!("it is the GOPROXY entry {url}"),
            Role::Cdn(origin, proxy) => format!(
                "it is where {proxy} redirects downloads ({origin}, a CDN): the go command \
                 follows the redirect and fails there — the download host is down or blocked \
                 from here; ask whoever runs the proxy, or let {origin} through"
            ),
            Role::Sumdb(url) => format!(
                "it is the checksum database ({url}, from GOSUMDB): the go command cannot \
                 verify a module it has not verified before without it — fix GOSUMDB or start \
                 the server; for private modules, list them in GONOSUMDB or GOPRIVATE"
            ),
            Role::HttpProxy => "it is the HTTP proxy the go command was told to use \
                                (HTTPS_PROXY/HTTP_PROXY): fix that setting or start the proxy"
                .into(),
            Role::NotInGoproxy(list) => format!(
                "it is not in GOPROXY ({list}), so it is probably the HTTP proxy in HTTPS_PROXY \
                 or HTTP_PROXY: fix that setting or start the proxy"
            ),
            Role::Unknown => "no module request ever reached it: if it is your HTTPS_PROXY or \
                              HTTP_PROXY, fix that setting; if it is one of your module \
                              proxies, start it (--goproxy tells them apart)"
                .into(),
        }
    }

    fn tunnel_problems(&self, out: &mut Vec<Problem>) {
        for ((proxy, target), t) in &self.network.tunnels {
            for (&status, &n) in &t.refused {
                let credentials = self
                    .config
                    .proxy_env
                    .as_ref()
                    .and_then(|e| e.naming(proxy, None))
                    .map_or_else(
                        || {
                            "put user:password in HTTPS_PROXY (http://user:password@host:port)"
                                .into()
                        },
                        |s| format!("{s} has no valid user:password: put them in it"),
                    );
                let text = match status {
                    407 => format!(
                        "the HTTP proxy {proxy} wants credentials to open a tunnel to {target} \
                         (407 Proxy Authentication Required{realm}, {times}): {credentials}",
                        realm = t
                            .challenge
                            .as_deref()
                            .and_then(realm)
                            .map(|r| format!(", realm \"{r}\""))
                            .unwrap_or_default(),
                        times = times(n),
                    ),
                    403 => format!(
                        "the HTTP proxy {proxy} refused to open a tunnel to {target} (403 \
                         Forbidden, {}): your network blocks that host; ask for it to be \
                         allowed, or use a GOPROXY it allows",
                        times(n)
                    ),
                    502..=504 => format!(
                        "the HTTP proxy {proxy} could not reach {target} ({} {}, {}): the proxy's own \
                         connection failed (its DNS, a firewall, or the host is down); try again \
                         later, or ask whoever runs the proxy",
                        status,
                        reason(status),
                        times(n)
                    ),
                    _ => format!(
                        "the HTTP proxy {proxy} answered {status} {} to CONNECT {target} ({})",
                        reason(status),
                        times(n)
                    ),
                };
                let cause = if status == 407 {
                    Cause::Credentials
                } else {
                    Cause::Proxy
                };
                out.push(error(text, Some(proxy.to_string())).caused(
                    cause,
                    "tunnel",
                    target.clone(),
                ));
            }
        }
    }

    /// Connections of which the capture holds the client's side only: said as such, not
    /// judged (no refusal, no silence, no failed handshake can be told).
    fn one_way_problems(&self, out: &mut Vec<Problem>) {
        for (addr, (n, name)) in &self.network.one_way {
            let endpoint = self.endpoint(addr, name.as_deref());
            out.push(
                Problem {
                    severity: Severity::Warning,
                    text: format!(
                        "the capture holds only the client's packets of {} to {endpoint} (a \
                         filter on one direction, such as `src host`): what the server \
                         answered is not known; capture both directions (`host {}`)",
                        plural(*n, "connection", "connections"),
                        addr.ip(),
                    ),
                    ..Default::default()
                }
                .caused(Cause::Capture, "connect", endpoint),
            );
        }
    }

    fn silent_problems(&self, out: &mut Vec<Problem>) {
        for (addr, s) in &self.network.silent {
            let span = s.last.ms_since(s.first) / 1000.0;
            let endpoint = self.endpoint(addr, s.name.as_deref());
            let f = self.network.fallbacks(addr, s);
            let explained = f.fell_back + f.abandoned == s.starts.len();
            if let Some(to) = f.to.filter(|_| explained) {
                // Happy Eyeballs: the dialer tried the other family 300 ms later and got
                // through. A cost on every new connection, not a failure.
                let (family, other) = if addr.is_ipv6() {
                    ("IPv6", "IPv4")
                } else {
                    ("IPv4", "IPv6")
                };
                out.push(
                    Problem {
                        severity: Severity::Warning,
                        text: format!(
                            "the {family} address {endpoint} never answered ({}); the go \
                             command fell back to {other} ({to}) after 300 ms (Happy \
                             Eyeballs) and got through{}, so every new connection costs ~300 ms \
                             ({:.2} s in all, {:.0} ms each): a cost, not a failure; fix the \
                             {family} route, or the name's {} record",
                            plural(s.connections, "connection", "connections"),
                            if f.abandoned > 0 {
                                format!(
                                    " ({}; {} more were abandoned: the open {other} \
                                     connection served their requests first)",
                                    times(f.fell_back as u64),
                                    plural(f.abandoned as u64, "attempt", "attempts")
                                )
                            } else {
                                String::new()
                            },
                            f.waited_ms / 1000.0,
                            f.waited_ms / f.fell_back.max(1) as f64,
                            if addr.is_ipv6() { "AAAA" } else { "A" },
                        ),
                        ..Default::default()
                    }
                    .caused(Cause::Timeout, "connect", endpoint),
                );
                continue;
            }
            let what = self.fix_for(&self.role_of(addr, s.name.as_deref()));
            out.push(
                error(
                    format!(
                        "nothing answered the connection to {endpoint} ({}, {} over {span:.1} s): \
                         a firewall drops it, or the address is unreachable; the go command gives \
                         up after 30 s with `dial tcp {addr}: i/o timeout`; {what}",
                        plural(s.connections, "connection", "connections"),
                        plural(s.syns, "SYN", "SYNs"),
                    ),
                    None,
                )
                .caused(Cause::Timeout, "connect", endpoint.clone()),
            );
        }
        for (addr, r) in &self.network.rejected {
            let by = if r.icmp.from == addr.ip() {
                "the host itself".to_string()
            } else {
                format!("{} on the way", r.icmp.from)
            };
            let cause = if r.icmp.reason == "port unreachable" && r.icmp.from == addr.ip() {
                "nothing listens on that port, or a firewall there rejects it"
            } else {
                "a firewall or router rejects it, or the host cannot be reached"
            };
            out.push(
                error(
                    format!(
                    "{} rejected the connection to {} with ICMP {} ({}): {cause}; the go command \
                     reports `connect: connection refused` or `no route to host`; {}",
                    by,
                    self.endpoint(addr, r.name.as_deref()),
                    r.icmp.reason,
                    plural(r.connections, "attempt", "attempts"),
                    self.fix_for(&self.role_of(addr, r.name.as_deref())),
                ),
                    None,
                )
                .caused(
                    Cause::Refused,
                    "connect",
                    self.endpoint(addr, r.name.as_deref()),
                ),
            );
        }
    }

    /// Redirect targets that refused, or never answered, with the cause.
    pub(crate) fn redirects_down(&self) -> Vec<(String, Cause)> {
        let refused = self
            .connections
            .refused_by_server
            .keys()
            .map(|a| (a, None, Cause::Refused));
        let silent = self
            .network
            .silent
            .iter()
            .map(|(a, s)| (a, s.name.as_deref(), Cause::Timeout));
        // Through gomodwatch's MITM the go command connects to nothing itself: a redirect
        // target the MITM could not reach is down by the MITM's own cause.
        let via_mitm = self.network.redirect_targets.keys().filter_map(|origin| {
            let host = url::parse(origin)?.host_str()?.to_string();
            self.mitm_cause(&host).map(|m| (origin.clone(), m.cause))
        });
        refused
            .chain(silent)
            .filter_map(|(a, name, c)| self.redirect_target(a, name).map(|(o, _)| (o, c)))
            .chain(via_mitm)
            .collect()
    }

    /// The redirect target (origin, proxy) that could be at this address.
    pub(super) fn redirect_target(
        &self,
        addr: &SocketAddr,
        name: Option<&str>,
    ) -> Option<(String, String)> {
        self.network
            .redirect_targets
            .iter()
            .find(|(origin, _)| {
                url::parse(origin)
                    .is_some_and(|u| url::could_be_at(&u, addr, |d| name.is_none_or(|n| n == d)))
            })
            .map(|(o, p)| (o.clone(), p.clone()))
    }

    /// Did the module model see a proxy at this address (a GOPROXY entry the walks went to)?
    pub(super) fn is_proxy_in_walks(&self, addr: &SocketAddr) -> bool {
        let base = self.proxy_at(addr);
        self.proxies.by_base.contains_key(&base)
            || self.modules.records.values().any(|r| {
                r.attempts
                    .iter()
                    .any(|a| a.proxy.as_deref() == Some(base.as_str()))
            })
    }

    fn tls_problems(&self, out: &mut Vec<Problem>) {
        for ((server, _), f) in &self.network.tls_failures {
            // The client gave up on the server's certificate: a trust failure (Go sends
            // bad_certificate; under TLS 1.3 the alert is encrypted, the timing tells).
            let trust = f.failure.by == "client"
                && match f.failure.alert.as_deref() {
                    Some(a) => matches!(
                        a,
                        "bad_certificate"
                            | "unknown_ca"
                            | "certificate_unknown"
                            | "certificate_expired"
                            | "unsupported_certificate"
                    ),
                    None => f.failure.after.contains("certificate"),
                };
            let cause = if trust { Cause::TlsTrust } else { Cause::Tls };
            out.push(error(self.tls_sentence(server, f), None).caused(
                cause,
                "tls",
                server.clone(),
            ));
        }
    }

    fn tls_sentence(&self, server: &str, f: &TlsFailures) -> String {
        let via = f
            .via
            .map(|v| format!(" (through the HTTP proxy {v})"))
            .unwrap_or_default();
        let fl = &f.failure;
        let how = match (&fl.alert, fl.inferred) {
            (Some(a), _) => format!("alert {a}"),
            (None, true) => "inferred: TLS 1.3 encrypts the alert, and the client answered the \
                             server's flight with one alert-sized record and closed"
                .into(),
            (None, false) => "no alert".into(),
        };
        let issuer = f
            .certificate
            .as_ref()
            .and_then(|c| c.root_issuer.as_deref());
        if fl.by == "client" && fl.after == "after the server's certificate" {
            let cert = match issuer {
                Some(i) if self.is_public_ca(i) == Some(false) => format!(
                    "; its certificate chain ends at \"{i}\", which is not a public CA this \
                     machine trusts: a TLS-inspecting proxy on your network? Trust that CA \
                     (SSL_CERT_FILE, or the system store) if it is your company's"
                ),
                Some(i) => format!("; its certificate chain ends at \"{i}\""),
                None => String::new(),
            };
            format!(
                "the go command abandoned the TLS handshake with {server}{via} after the \
                 server's certificate ({}; {how}): it probably does not trust it (a \
                 TLS-inspecting proxy on your network? a missing CA? On macOS before Go 1.27, \
                 SSL_CERT_FILE is ignored){cert}",
                times(f.count)
            )
        } else if fl.by == "server" {
            format!(
                "{server}{via} ended the TLS handshake {} ({how}, {}): the server and the go \
                 command share no TLS version, cipher or name it accepts",
                fl.after,
                times(f.count)
            )
        } else {
            format!(
                "the TLS handshake with {server}{via} did not complete {} ({how}, {})",
                fl.after,
                times(f.count)
            )
        }
    }

    /// Whether this issuer is a root this machine trusts (`None` when that is not known).
    fn is_public_ca(&self, issuer: &str) -> Option<bool> {
        self.config.trusted_roots.as_ref()?.contains(issuer)
    }

    fn dns_problems(&self, out: &mut Vec<Problem>) {
        let lookups = &self.network.lookups;
        for (name, l) in lookups {
            if l.resolved > 0 || l.failed.is_empty() {
                if let Some(ms) = l.slowest_ms.filter(|ms| *ms > self.config.slo_ms) {
                    out.push(Problem {
                        severity: Severity::Info,
                        text: format!(
                            "DNS lookup of {name} took {ms:.0} ms at {} (SLO {:.0} ms): every new \
                             connection to it waits for that",
                            resolver(l),
                            self.config.slo_ms
                        ),
                        subject: None,
                        proxy: None,
                        ..Default::default()
                    });
                }
                continue;
            }
            // A search-domain expansion (`goproxy.test.corp.example`) that failed while the
            // name itself resolved is how resolvers work, not a problem.
            let expansion_of_resolved = lookups.iter().any(|(other, o)| {
                o.resolved > 0 && name.len() > other.len() && name.starts_with(&format!("{other}."))
            });
            if expansion_of_resolved {
                continue;
            }
            out.push(error(dns_sentence(name, l), None).caused(Cause::Dns, "dns", name.clone()));
        }
    }
}

fn resolver(l: &Lookups) -> String {
    l.resolver
        .map_or_else(|| "the resolver".into(), |r| format!("resolver {r}"))
}

fn dns_sentence(name: &str, l: &Lookups) -> String {
    let (&rcode, _) = l
        .failed
        .iter()
        .max_by_key(|(_, n)| **n)
        .expect("a failed lookup has failures");
    let (what, go_says) = match rcode {
        Some(3) => ("NXDOMAIN: no such name", "no such host"),
        Some(2) => (
            "SERVFAIL: the resolver could not answer",
            "server misbehaving",
        ),
        Some(5) => (
            "REFUSED: the resolver would not answer",
            "server misbehaving",
        ),
        Some(_) => ("an error answer", "server misbehaving"),
        None => ("no answer at all", "i/o timeout"),
    };
    let on = l.resolver.map(|r| format!(" on {r}")).unwrap_or_default();
    format!(
        "DNS lookup of {name} failed ({what}) at {} ({}): the go command cannot reach it \
         (`lookup {name}{on}: {go_says}`); check the name in GOPROXY, /etc/resolv.conf, a VPN's \
         resolver (macOS: scutil --dns)",
        resolver(l),
        plural(l.queries, "query", "queries"),
    )
}

/// The realm of a `Basic realm="corp"` challenge.
fn realm(challenge: &str) -> Option<&str> {
    let at = challenge.find("realm=")? + "realm=".len();
    let rest = &challenge[at..];
    Some(match rest.strip_prefix('"') {
        Some(q) => q.split('"').next().unwrap_or(q),
        None => rest.split([',', ' ']).next().unwrap_or(rest),
    })
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::config::ProxyEnv;

    #[test]
    fn realms() {
        assert_eq!(realm("Basic realm=\"corp\""), Some("corp"));
        assert_eq!(realm("Basic realm=corp, charset=x"), Some("corp"));
        assert_eq!(realm("Negotiate"), None);
    }

    #[test]
    fn env_names_the_setting_that_points_there() {
        let env = ProxyEnv {
            https_proxy: Some("http://bob:secret@10.0.0.5:3128".into()),
            http_proxy: Some("proxy.corp:8080".into()),
        };
        let a: SocketAddr = "10.0.0.5:3128".parse().unwrap();
        assert_eq!(
            env.naming(&a, None).as_deref(),
            Some("HTTPS_PROXY=http://bob:xxxxx@10.0.0.5:3128")
        );
        let b: SocketAddr = "10.0.0.6:8080".parse().unwrap();
        assert_eq!(
            env.naming(&b, Some("proxy.corp")).as_deref(),
            Some("HTTP_PROXY=proxy.corp:8080")
        );
        assert_eq!(env.naming(&b, None), None);
    }
}
