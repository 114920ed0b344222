//! What a protocol codec knows about its connection ([`ConnCtx`]), how a connection can end
//! without both sides closing it (`Close`), and the settings the decoders take from the
//! command line ([`DecodeConfig`]). The codecs and the decoder that drives them share these,
//! so they sit below both.

use super::hook::ExchangeHook;
use super::stats::Stats;
use super::tls::decrypt::KeyLog;
use crate::vocab::{url, Event, Exchange, Setup, Source, Ts};
use std::net::SocketAddr;
use std::sync::Arc;

/// Settings the decoders take from the command line.
#[derive(Debug, Clone, Default)]
pub struct DecodeConfig {
    /// Keep credentials (URL passwords) in URLs instead of redacting them.
    pub show_credentials: bool,
    /// TLS secrets (an NSS key log) to decrypt TLS 1.3 connections in captures.
    pub keylog: Option<Arc<KeyLog>>,
}

/// What a protocol codec knows about its connection, and where its events go.
pub struct ConnCtx<'a> {
    pub(crate) conn_id: u64,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub(crate) scheme: &'static str,
    pub(crate) source: Source,
    pub(crate) show_credentials: bool,
    pub(crate) next_exchange: &'a mut u64,
    pub(crate) out: &'a mut Vec<Event>,
    pub(crate) hook: &'a mut dyn ExchangeHook,
    /// How long it took to reach the server, told with the connection's first request.
    pub(crate) setup: Setup,
    /// For server data: how far into the client's stream the server had read (its TCP
    /// acknowledgment), which pairs a response with its request again after lost packets.
    pub(crate) acked: Option<u64>,
    /// The HTTP proxy this connection's requests go through (inside a CONNECT tunnel).
    pub(crate) via: Option<SocketAddr>,
    /// The decoder's counters (requests dropped, malformed messages).
    pub(crate) stats: &'a mut Stats,
    /// TLS secrets to decrypt TLS 1.3 connections with (`--tls-keylog`).
    pub(crate) keylog: Option<&'a Arc<KeyLog>>,
}

/// How a connection ended without both sides closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// An RST.
    Reset,
    /// Not seen to its end (the capture ended, or the connection went idle).
    Cut,
    /// The decoder gave it up to stay within its bounds (`Stats::flows_evicted`).
    Evicted,
    /// Only the client's packets are in the capture: what the server sent is unknown.
    OneWay,
}

impl ConnCtx<'_> {
    /// The URL as the client asked for it: origin-form targets get the scheme and Host
    /// (or the server's address); absolute-form targets (sent to an explicit proxy),
    /// authority-form (CONNECT host:port) and `*` are kept as sent.
    pub(crate) fn url(&self, host: Option<&str>, target: &str) -> String {
        if !target.starts_with('/') {
            return self.redact(target);
        }
        // Built by hand, not with `format!`: this runs for every request.
        let server;
        let host = match host {
            Some(h) => h,
            None => {
                server = self.server.to_string();
                &server
            }
        };
        let mut url = String::with_capacity(self.scheme.len() + 3 + host.len() + target.len());
        url.push_str(self.scheme);
        url.push_str("://");
        url.push_str(host);
        url.push_str(target);
        // A password can only be in the authority, which here is the Host header.
        if host.contains('@') {
            self.redact(&url)
        } else {
            url
        }
    }

    /// A new exchange on this connection (the next id), its connection fields filled in.
    pub(crate) fn exchange(&mut self, ts: Ts) -> Exchange {
        *self.next_exchange += 1;
        Exchange {
            id: *self.next_exchange,
            connection: self.conn_id,
            ts,
            source: self.source,
            client: Some(self.client),
            server: Some(self.server),
            ..Default::default()
        }
    }

    /// A URL from the wire, its password hidden unless the user asked to see them.
    pub(crate) fn redact(&self, s: &str) -> String {
        if self.show_credentials {
            s.to_string()
        } else {
            url::redact_password(s)
        }
    }
}

/// A connection's context owned in one place, to run one codec on its own (unit tests,
/// tests of a codec over recorded streams): [`Standalone::ctx`] lends it as the
/// [`ConnCtx`] a codec takes, and the events it produced stay in `out`.
pub struct Standalone {
    pub(crate) conn_id: u64,
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// `http` or `https`: how URLs are written.
    pub scheme: &'static str,
    /// Where the connection was seen.
    pub source: Source,
    pub(crate) setup: Setup,
    /// What the next server chunk is told the server had acknowledged.
    pub(crate) acked: Option<u64>,
    pub(crate) next_exchange: u64,
    /// What the codec reported.
    pub out: Vec<Event>,
    pub(crate) hook: Box<dyn ExchangeHook>,
    pub(crate) stats: Stats,
}

impl Standalone {
    /// Connection 1 from 10.0.0.1:40000 to 10.0.0.2:3000, `http`, from a capture.
    pub fn new(hook: Box<dyn ExchangeHook>) -> Standalone {
        Standalone {
            conn_id: 1,
            client: SocketAddr::from(([10, 0, 0, 1], 40000)),
            server: SocketAddr::from(([10, 0, 0, 2], 3000)),
            scheme: "http",
            source: Source::Capture,
            setup: Setup::default(),
            acked: None,
            next_exchange: 0,
            out: Vec::new(),
            hook,
            stats: Stats::default(),
        }
    }

    /// The context a codec takes, borrowed from this one.
    pub fn ctx(&mut self) -> ConnCtx<'_> {
        ConnCtx {
            conn_id: self.conn_id,
            client: self.client,
            server: self.server,
            scheme: self.scheme,
            source: self.source,
            show_credentials: false,
            next_exchange: &mut self.next_exchange,
            out: &mut self.out,
            hook: &mut *self.hook,
            setup: self.setup,
            acked: self.acked,
            via: None,
            stats: &mut self.stats,
            keylog: None,
        }
    }

    #[cfg(test)]
    /// The exchanges reported so far.
    pub(crate) fn exchanges(&self) -> Vec<&Exchange> {
        self.out
            .iter()
            .filter_map(|e| match e {
                Event::Exchange(x) => Some(&**x),
                _ => None,
            })
            .collect()
    }
}
