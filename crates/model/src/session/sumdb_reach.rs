//! The checksum database as the go command reaches it: which endpoint it is (GOSUMDB, or
//! its well-known name), and whether the traffic shows it could not be reached. A refused
//! checksum database is not a GOPROXY entry: the go command fails every module it has to
//! verify (`verifying module: ... connection refused`), whatever GOPROXY says.

use super::model::Session;
use crate::gomod::cause::Cause;
use crate::gomod::verdict::SumdbDown;
use gomodwatch_wire::vocab::url;
use std::net::SocketAddr;

/// Names the go command uses for the public checksum databases.
const WELL_KNOWN: [&str; 2] = ["sum.golang.org", "sum.golang.google.cn"];

impl Session {
    /// The checksum database's URL if `addr` (named `name` in the traffic) could be it.
    pub(crate) fn sumdb_endpoint(&self, addr: &SocketAddr, name: Option<&str>) -> Option<String> {
        if let Some(n) = name.filter(|n| WELL_KNOWN.contains(n)) {
            return Some(format!("https://{n}"));
        }
        let url = self.config.go_env.as_ref()?.sumdb_url()?;
        let u = url::parse(&url)?;
        // A name the traffic never resolved (a hosts file) may be any address on that
        // port; one it resolved must be the name the connection carried.
        let same = url::could_be_at(&u, addr, |d| {
            name.is_none_or(|n| n == d) && !self.proxies_could_be(addr)
        });
        same.then_some(url)
    }

    /// Some proxy the walks used is at this address.
    fn proxies_could_be(&self, addr: &SocketAddr) -> bool {
        self.is_proxy_in_walks(addr)
    }

    /// The first way the traffic shows the checksum database unreachable: refused,
    /// rejected by ICMP, or never answering.
    pub(crate) fn sumdb_down(&self) -> Option<SumdbDown> {
        let plural = |n: u64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        for (addr, n) in &self.connections.refused_by_server {
            if let Some(url) = self.sumdb_endpoint(addr, None) {
                return Some(SumdbDown {
                    who: format!("the checksum database {url} (GOSUMDB)"),
                    url,
                    addr: Some(*addr),
                    cause: Cause::Refused,
                    what: format!("refused {}", plural(*n, "connection")),
                });
            }
        }
        for (addr, r) in &self.network.rejected {
            if let Some(url) = self.sumdb_endpoint(addr, r.name.as_deref()) {
                return Some(SumdbDown {
                    who: format!("the checksum database {url} (GOSUMDB)"),
                    url,
                    addr: Some(*addr),
                    cause: Cause::Refused,
                    what: format!(
                        "was rejected with ICMP {} ({})",
                        r.icmp.reason,
                        plural(r.connections, "attempt")
                    ),
                });
            }
        }
        if let Some((url, answer, status)) = &self.network.sumdb_supported_failed {
            // The go command asks its first proxy whether it serves the checksum database;
            // an answer other than 200/404/410 fails verification (no fallback).
            return Some(SumdbDown {
                who: format!("the proxy asked whether it serves the checksum database ({url})"),
                url: url.clone(),
                addr: None,
                cause: status.map_or(Cause::Reset, Cause::of_status),
                what: answer.clone(),
            });
        }
        if let Some(down) = self.sumdb_name_failed() {
            return Some(down);
        }
        for (addr, s) in &self.network.silent {
            if let Some(url) = self.sumdb_endpoint(addr, s.name.as_deref()) {
                return Some(SumdbDown {
                    who: format!("the checksum database {url} (GOSUMDB)"),
                    url,
                    addr: Some(*addr),
                    cause: Cause::Timeout,
                    what: format!(
                        "never answered ({}, {})",
                        plural(s.connections, "connection"),
                        plural(s.syns, "SYN")
                    ),
                });
            }
        }
        None
    }
}

impl Session {
    /// The checksum database's name did not resolve (a lookup failed, none succeeded).
    fn sumdb_name_failed(&self) -> Option<SumdbDown> {
        let url = match self.config.go_env.as_ref() {
            Some(env) => env.sumdb_url()?,
            None => "https://sum.golang.org".to_string(),
        };
        let host = url::parse(&url)?.host_str()?.to_string();
        let Some(l) = self.network.lookups.get(&host) else {
            // Through gomodwatch's MITM the go command resolves nothing: the MITM's own
            // failure to reach the database (its name, its port) is what tells.
            let m = self.mitm_cause(&host)?;
            return Some(SumdbDown {
                who: format!("the checksum database {url} (GOSUMDB)"),
                url,
                addr: None,
                cause: m.cause,
                what: format!("could not be reached by gomodwatch's MITM: {}", m.message),
            });
        };
        if l.resolved > 0 || l.failed.is_empty() {
            return None;
        }
        let n = l.queries;
        Some(SumdbDown {
            who: format!("the checksum database {url} (GOSUMDB)"),
            url,
            addr: None,
            cause: Cause::Dns,
            what: format!(
                "could not be looked up ({n} DNS quer{} for {host} failed)",
                if n == 1 { "y" } else { "ies" }
            ),
        })
    }
}
