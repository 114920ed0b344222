//! Application protocols over a reassembled stream: the first bytes decide which codec
//! reads it, and [`ConnCtx`] is what a codec knows about its connection.

use super::hook::ExchangeHook;
use super::http1::{self, Http1};
use super::http2::{self, Http2};
use super::reassembly::Chunk;
use super::tls::decrypt::{Decryptor, KeyLog};
use super::tls::Tls;
use super::tunnel::Tunnel;
use crate::vocab::{url, Dir, Event, Exchange, Setup, Source, TlsInfo, Ts};
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
    pub conn_id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub scheme: &'static str,
    pub source: Source,
    pub show_credentials: bool,
    pub next_exchange: &'a mut u64,
    pub out: &'a mut Vec<Event>,
    pub hook: &'a mut dyn ExchangeHook,
    /// How long it took to reach the server, told with the connection's first request.
    pub setup: Setup,
    /// For server data: how far into the client's stream the server had read (its TCP
    /// acknowledgment), which pairs a response with its request again after lost packets.
    pub acked: Option<u64>,
    /// The HTTP proxy this connection's requests go through (inside a CONNECT tunnel).
    pub via: Option<SocketAddr>,
    /// The decoder's counters (requests dropped, malformed messages).
    pub stats: &'a mut super::Stats,
    /// TLS secrets to decrypt TLS 1.3 connections with (`--tls-keylog`).
    pub keylog: Option<&'a Arc<KeyLog>>,
}

/// How a connection ended without both sides closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// An RST.
    Reset,
    /// Not seen to its end (the capture ended, or the connection went idle).
    Cut,
    /// The decoder gave it up to stay within its bounds (`Stats::flows_evicted`).
    Evicted,
}

impl ConnCtx<'_> {
    /// The URL as the client asked for it: origin-form targets get the scheme and Host
    /// (or the server's address); absolute-form targets (sent to an explicit proxy),
    /// authority-form (CONNECT host:port) and `*` are kept as sent.
    pub fn url(&self, host: Option<&str>, target: &str) -> String {
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
    pub fn exchange(&mut self, ts: Ts) -> Exchange {
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
    pub fn redact(&self, s: &str) -> String {
        if self.show_credentials {
            s.to_string()
        } else {
            url::redact_password(s)
        }
    }
}

#[derive(Default)]
pub enum App {
    /// No payload yet.
    #[default]
    Undecided,
    Http(Box<Http1>),
    Http2(Box<Http2>),
    Tls(Box<Tls>),
    /// After a CONNECT answered 2xx: another connection runs inside.
    Tunnel(Box<Tunnel>),
    /// Something else (or given up on): bytes are only counted.
    Opaque,
}

impl App {
    pub fn protocol(&self) -> &'static str {
        match self {
            App::Undecided => "none",
            App::Http(_) => "http1",
            App::Http2(_) => "http2",
            App::Tls(_) => "tls",
            // The connection to the proxy spoke HTTP; the tunnel is reported on its own.
            App::Tunnel(_) => "http1",
            App::Opaque => "unknown",
        }
    }

    /// Bytes of protocol state held (buffers, requests waiting for responses): what the
    /// flow table's state bound counts.
    pub fn state_bytes(&self) -> usize {
        match self {
            App::Undecided | App::Opaque => 0,
            App::Http(h) => std::mem::size_of::<Http1>() + h.state_bytes(),
            App::Http2(h) => std::mem::size_of::<Http2>() + h.state_bytes(),
            App::Tls(t) => {
                std::mem::size_of::<Tls>()
                    + t.state_bytes()
                    + t.plain.as_ref().map_or(0, |p| p.state_bytes())
            }
            App::Tunnel(t) => std::mem::size_of::<Tunnel>() + t.inner.state_bytes(),
        }
    }

    pub fn tls_info(&self) -> Option<Box<TlsInfo>> {
        match self {
            App::Tls(t) => Some(Box::new(t.info.clone())),
            _ => None,
        }
    }

    /// The tunnel this connection became, if it did.
    pub fn tunnel(&self) -> Option<&Tunnel> {
        match self {
            App::Tunnel(t) => Some(t),
            _ => None,
        }
    }

    /// HTTP/2 counters of this connection (`None` for other protocols).
    pub fn h2_counters(&self) -> Option<&http2::codec::Counters> {
        match self {
            App::Http2(h) => Some(h.counters()),
            _ => None,
        }
    }

    /// Picks the protocol from the first bytes of a stream.
    fn decide(&mut self, dir: Dir, data: &[u8], mid_stream: bool) {
        *self = match dir {
            Dir::Up if Tls::detect(data) => App::Tls(Box::default()),
            // Cleartext HTTP/2 with prior knowledge starts with the connection preface.
            Dir::Up if http2::looks_like_preface(data) => App::Http2(Box::default()),
            Dir::Up if http1::looks_like_request(data) => App::Http(Box::default()),
            Dir::Down if http1::looks_like_response(data) => App::Http(Box::default()),
            // Joined mid-stream (or after a gap): look for the next HTTP message.
            _ if mid_stream => App::Http(Box::new(Http1::resyncing())),
            _ => App::Opaque,
        };
    }

    pub fn chunk(&mut self, dir: Dir, chunk: Chunk<'_>, mid_stream: bool, ctx: &mut ConnCtx<'_>) {
        match (&*self, &chunk) {
            (App::Undecided, Chunk::Data(_, data, _)) => self.decide(dir, data, mid_stream),
            // Bytes lost before the first ones we see: look for the next message.
            (App::Undecided, Chunk::Gap(..)) => *self = App::Http(Box::new(Http1::resyncing())),
            _ => {}
        }
        let mut opened = None;
        match (&mut *self, chunk) {
            (App::Undecided | App::Opaque, _) => {}
            (App::Http(h), Chunk::Data(ts, d, acked)) => match dir {
                Dir::Up => h.client_data(ts, d, ctx),
                Dir::Down => {
                    ctx.acked = acked;
                    if let Some(start) = h.server_data(ts, d, ctx) {
                        let rest = &d[start.offset.min(d.len())..];
                        let mut t = Tunnel::start(start, ctx);
                        if !rest.is_empty() {
                            t.chunk(Dir::Down, Chunk::Data(ts, rest, None), ctx);
                        }
                        opened = Some(t);
                    }
                }
            },
            (App::Http(h), Chunk::Gap(ts, n)) => match dir {
                Dir::Up => h.client_gap(n),
                Dir::Down => h.server_gap(ts, n, ctx),
            },
            (App::Http(h), Chunk::Fin(ts)) => {
                if dir == Dir::Down {
                    h.server_fin(ts, ctx)
                }
            }
            (App::Http2(h), Chunk::Data(ts, d, _)) => match dir {
                Dir::Up => h.client_data(ts, d, ctx),
                Dir::Down => h.server_data(ts, d, ctx),
            },
            (App::Http2(h), Chunk::Gap(ts, n)) => h.gap(dir, ts, n, ctx),
            // The server closed its side: nothing more will answer the open streams.
            (App::Http2(h), Chunk::Fin(ts)) => {
                if dir == Dir::Down {
                    h.close(false, ts, ctx)
                }
            }
            (App::Tls(t), Chunk::Data(ts, d, _)) => {
                match dir {
                    Dir::Up => t.client_data(ts, d),
                    Dir::Down => t.server_data(ts, d),
                }
                if t.plain.is_none() && !mid_stream {
                    t.plain = ctx.keylog.map(|k| Box::new(Decrypted::new(k.clone())));
                }
                if let Some(p) = &mut t.plain {
                    p.data(dir, ts, d, ctx);
                    t.info.decrypted = p.decrypting();
                }
            }
            (App::Tls(t), Chunk::Gap(ts, _)) => {
                if let Some(p) = &mut t.plain {
                    p.dec.gap();
                    p.inner.close(Close::Cut, ts, &mut https(ctx));
                }
            }
            (App::Tls(t), Chunk::Fin(ts)) => {
                if let Some(p) = &mut t.plain {
                    p.inner.chunk(dir, Chunk::Fin(ts), false, &mut https(ctx));
                }
            }
            (App::Tunnel(t), chunk) => t.chunk(dir, chunk, ctx),
        }
        if let Some(t) = opened {
            *self = App::Tunnel(Box::new(t));
        }
    }

    /// The connection ended by RST, was never seen to its end, or was evicted.
    pub fn close(&mut self, how: Close, ts: Ts, ctx: &mut ConnCtx<'_>) {
        match self {
            App::Http(h) => h.close(how, ts, ctx),
            App::Http2(h) => h.close(how == Close::Reset, ts, ctx),
            App::Tunnel(t) => t.close(how, ts, ctx),
            App::Tls(t) => {
                if let Some(p) = &mut t.plain {
                    p.inner.close(how, ts, &mut https(ctx));
                }
            }
            _ => {}
        }
    }

    /// The connection is over, however it ended: what was left half done is judged (a
    /// TLS handshake that never completed).
    pub fn end(&mut self) {
        match self {
            App::Tls(t) => t.close(),
            App::Tunnel(t) => t.inner.end(),
            _ => {}
        }
    }
}

/// A TLS connection decrypted with the key log: its plaintext runs through a codec of
/// its own, as a cleartext connection would (`https` URLs).
pub struct Decrypted {
    dec: Decryptor,
    inner: App,
    /// Server plaintext that came before the client's first (at most 64 records).
    early: Vec<(Ts, Vec<u8>)>,
}

impl Decrypted {
    fn new(log: Arc<KeyLog>) -> Decrypted {
        Decrypted {
            dec: Decryptor::new(log),
            inner: App::Undecided,
            early: Vec::new(),
        }
    }

    fn decrypting(&self) -> bool {
        self.dec.state == super::tls::decrypt::State::Decrypting
    }

    fn data(&mut self, dir: Dir, ts: Ts, d: &[u8], ctx: &mut ConnCtx<'_>) {
        for plain in self.dec.feed(dir == Dir::Up, d) {
            // An HTTP/2 server sends its SETTINGS right after its Finished, often before
            // the client's preface is on the wire: the codec is chosen by the client's
            // first bytes, so the server's wait until then.
            if matches!(self.inner, App::Undecided) && dir == Dir::Down {
                if self.early.len() < 64 {
                    self.early.push((ts, plain));
                }
                continue;
            }
            let mut inner = https(ctx);
            self.inner
                .chunk(dir, Chunk::Data(ts, &plain, None), false, &mut inner);
            for (t, early) in std::mem::take(&mut self.early) {
                self.inner
                    .chunk(Dir::Down, Chunk::Data(t, &early, None), false, &mut inner);
            }
        }
    }

    /// Bytes of state held by the codec inside.
    pub fn state_bytes(&self) -> usize {
        self.inner.state_bytes()
    }
}

/// The context of a decrypted connection's codec: the same connection, `https`.
fn https<'b>(ctx: &'b mut ConnCtx<'_>) -> ConnCtx<'b> {
    ConnCtx {
        conn_id: ctx.conn_id,
        client: ctx.client,
        server: ctx.server,
        scheme: "https",
        source: ctx.source,
        show_credentials: ctx.show_credentials,
        next_exchange: &mut *ctx.next_exchange,
        out: &mut *ctx.out,
        hook: &mut *ctx.hook,
        setup: ctx.setup,
        acked: None,
        via: ctx.via,
        stats: &mut *ctx.stats,
        keylog: ctx.keylog,
    }
}
