//! TLS connections that a capture sees only from outside, by server name: how many, how
//! big, which versions and ALPN, how long the handshakes took.

use super::latency::Latencies;
use gomodwatch_wire::vocab::{Connection, Source};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// TLS connections to one server name.
#[derive(Debug, Clone, Default)]
pub struct TlsServer {
    /// Connections made.
    pub connections: u64,
    /// Bytes both ways.
    pub bytes: u64,
    /// The server's address (the last seen).
    pub address: Option<SocketAddr>,
    /// The DNS name the capture resolved to the address, when it did.
    pub dns_name: Option<String>,
    /// TLS versions negotiated.
    pub versions: BTreeSet<String>,
    /// Negotiated ALPN when visible, else what the client offered.
    pub alpn: Vec<String>,
    /// `alpn` is what the server chose (not only what the client offered).
    pub alpn_selected: bool,
    /// Handshake times.
    pub handshake: Latencies,
    /// Connection durations.
    pub duration: Latencies,
    /// Handshakes that did not complete (nothing was carried).
    pub(crate) failed: u64,
    /// The HTTP proxy these connections were tunnelled through.
    pub via: Option<SocketAddr>,
}

/// TLS servers seen from outside, by name (SNI, else the address).
#[derive(Debug, Default)]
pub struct TlsServers {
    /// By server name.
    pub by_name: BTreeMap<String, TlsServer>,
}

impl TlsServers {
    pub(crate) fn apply(&mut self, c: &Connection) {
        // The MITM proxy decodes its own TLS: only what a capture saw from outside counts.
        let (Some(tls), Source::Capture) = (&c.tls, c.source) else {
            return;
        };
        // Decrypted with --tls-keylog: its exchanges were decoded, nothing is hidden.
        if tls.decrypted {
            return;
        }
        let name = tls
            .sni
            .clone()
            .or_else(|| c.server_name.clone())
            .unwrap_or_else(|| c.server.to_string());
        // Tunnelled and direct connections to a name are different paths: kept apart.
        let key = match c.via {
            Some(v) => format!("{name} via {v}"),
            None => name,
        };
        let e = self.by_name.entry(key).or_default();
        e.via = c.via;
        e.connections += 1;
        e.failed += u64::from(tls.failure.is_some());
        e.bytes += c.bytes_up + c.bytes_down;
        e.address = Some(c.server);
        if let Some(h) = tls.handshake_ms {
            e.handshake.add(h);
        }
        e.duration.add(c.duration_ms);
        if let Some(v) = &tls.version {
            e.versions.insert(v.clone());
        }
        e.alpn_selected = tls.alpn_selected.is_some();
        e.alpn = tls
            .alpn_selected
            .clone()
            .map(|a| vec![a])
            .unwrap_or(tls.alpn.clone());
        e.dns_name = c.server_name.clone().or(e.dns_name.take());
    }
}
