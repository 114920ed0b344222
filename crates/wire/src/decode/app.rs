//! Application protocols over a reassembled stream: the first bytes decide which codec
//! reads it (`App`); a TLS connection decrypted with the key log runs its plaintext
//! through a codec of its own (`Decrypted`).

use super::classify::{classify, Verdict};
use super::context::{Close, ConnCtx};
use super::http1::{self, H2cStart, Http1, Switch, TunnelStart};
use super::http2::{self, Http2};
use super::reassembly::Chunk;
use super::tls::decrypt::Decryptor;
use super::tls::Tls;
use super::tunnel::Tunnel;
use crate::vocab::{Dir, TlsInfo, Ts};

#[derive(Default)]
pub(crate) enum App {
    /// No payload yet.
    #[default]
    Undecided,
    /// First bytes that do not tell yet (`classify.rs`), held until they do.
    Sniffing(Box<Held>),
    Http(Box<Http1>),
    Http2(Box<Http2>),
    Tls(Box<TlsConn>),
    /// After a CONNECT answered 2xx: another connection runs inside.
    Tunnel(Box<Tunneled>),
    /// Something else (or given up on): bytes are only counted.
    Opaque,
}

impl App {
    pub(crate) fn protocol(&self) -> &'static str {
        match self {
            App::Undecided | App::Sniffing(_) => "none",
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
    pub(crate) fn state_bytes(&self) -> usize {
        match self {
            App::Undecided | App::Opaque => 0,
            App::Sniffing(h) => h.bytes(Dir::Up) + h.bytes(Dir::Down),
            App::Http(h) => std::mem::size_of::<Http1>() + h.state_bytes(),
            App::Http2(h) => std::mem::size_of::<Http2>() + h.state_bytes(),
            App::Tls(t) => {
                std::mem::size_of::<TlsConn>()
                    + t.tls.state_bytes()
                    + t.plain.as_ref().map_or(0, |p| p.state_bytes())
            }
            App::Tunnel(t) => std::mem::size_of::<Tunneled>() + t.inner.state_bytes(),
        }
    }

    pub(crate) fn tls_info(&self) -> Option<Box<TlsInfo>> {
        match self {
            App::Tls(t) => Some(Box::new(t.tls.info.clone())),
            _ => None,
        }
    }

    /// The tunnel this connection became, if it did.
    pub(crate) fn tunnel(&self) -> Option<&Tunneled> {
        match self {
            App::Tunnel(t) => Some(t),
            _ => None,
        }
    }

    /// HTTP/2 counters of this connection (`None` for other protocols).
    pub(crate) fn h2_counters(&self) -> Option<&http2::codec::Counters> {
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
            // Joined after a TLS handshake: records of application data.
            _ if mid_stream && Tls::detect_app_data(data) => App::Tls(Box::default()),
            // Joined mid-stream (or after a gap): look for the next HTTP message.
            _ if mid_stream => App::Http(Box::new(Http1::resyncing())),
            _ => App::Opaque,
        };
    }

    /// Classifies by the first bytes of both directions (`classify.rs`). `true`: decided by
    /// this chunk alone, which the caller feeds to the codec; `false`: held, or decided with
    /// bytes held before, which are all fed here (this chunk among them).
    fn sniff(&mut self, dir: Dir, ts: Ts, data: &[u8], ctx: &mut ConnCtx<'_>) -> bool {
        let verdict = match self {
            App::Sniffing(h) => {
                h.chunks.push((dir, ts, data.to_vec()));
                classify(&h.joined(Dir::Up), &h.joined(Dir::Down))
            }
            _ => {
                let (up, down): (&[u8], &[u8]) = match dir {
                    Dir::Up => (data, &[]),
                    Dir::Down => (&[], data),
                };
                match classify(up, down) {
                    Verdict::Wait => {
                        *self = App::Sniffing(Box::new(Held {
                            chunks: vec![(dir, ts, data.to_vec())],
                        }));
                        return false;
                    }
                    v => {
                        *self = App::from_verdict(v);
                        return !matches!(v, Verdict::Opaque);
                    }
                }
            }
        };
        if verdict == Verdict::Wait {
            return false;
        }
        let App::Sniffing(held) = std::mem::replace(self, App::from_verdict(verdict)) else {
            return false;
        };
        // The client's bytes first: a codec is chosen by them and reads the server's after.
        for d in [Dir::Up, Dir::Down] {
            for (_, ts, bytes) in held.chunks.iter().filter(|c| c.0 == d) {
                self.chunk(d, Chunk::Data(*ts, bytes, None), false, ctx);
            }
        }
        false
    }

    fn from_verdict(v: Verdict) -> App {
        match v {
            Verdict::Tls => App::Tls(Box::default()),
            Verdict::Http2 => App::Http2(Box::default()),
            Verdict::Http1 => App::Http(Box::default()),
            Verdict::Wait | Verdict::Opaque => App::Opaque,
        }
    }

    pub(crate) fn chunk(
        &mut self,
        dir: Dir,
        chunk: Chunk<'_>,
        mid_stream: bool,
        ctx: &mut ConnCtx<'_>,
    ) {
        let undecided = matches!(self, App::Undecided | App::Sniffing(_));
        match &chunk {
            // Joined mid-stream: the first bytes decide at once, as before.
            Chunk::Data(_, data, _) if mid_stream && matches!(self, App::Undecided) => {
                self.decide(dir, data, mid_stream)
            }
            // Held, or fed with the bytes held before it.
            Chunk::Data(ts, data, _) if undecided && !self.sniff(dir, *ts, data, ctx) => return,
            // Bytes lost before the first ones we see: look for the next message.
            Chunk::Gap(..) if undecided => *self = App::Http(Box::new(Http1::resyncing())),
            // The connection ended before its first bytes told what it is.
            Chunk::Fin(_) if matches!(self, App::Sniffing(_)) => *self = App::Opaque,
            _ => {}
        }
        let mut switched = None;
        match (&mut *self, chunk) {
            (App::Undecided | App::Sniffing(_) | App::Opaque, _) => {}
            (App::Http(h), Chunk::Data(ts, d, acked)) => match dir {
                Dir::Up => h.client_data(ts, d, ctx),
                Dir::Down => {
                    ctx.acked = acked;
                    switched = match h.server_data(ts, d, ctx) {
                        Some(Switch::Tunnel(start)) => {
                            let rest = &d[start.offset.min(d.len())..];
                            let mut t = Tunneled::start(start, ctx);
                            if !rest.is_empty() {
                                t.chunk(Dir::Down, Chunk::Data(ts, rest, None), ctx);
                            }
                            Some(App::Tunnel(Box::new(t)))
                        }
                        Some(Switch::H2c(start)) => Some(App::upgraded(start, ts, d, ctx)),
                        None => None,
                    };
                }
            },
            (App::Http(h), Chunk::Gap(ts, n)) => match dir {
                Dir::Up => h.client_gap(n, ctx),
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
                // Joined after the handshake: there is none to read.
                match dir {
                    _ if mid_stream => {}
                    Dir::Up => t.tls.client_data(ts, d),
                    Dir::Down => t.tls.server_data(ts, d),
                }
                if t.plain.is_none() {
                    t.plain = ctx.keylog.map(|k| {
                        let dec = if mid_stream {
                            Decryptor::midway(k.clone())
                        } else {
                            Decryptor::new(k.clone())
                        };
                        Box::new(Decrypted::with(dec))
                    });
                }
                if let Some(p) = &mut t.plain {
                    p.data(dir, ts, d, ctx);
                    t.tls.info.decrypted = p.decrypting();
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
        if let Some(app) = switched {
            *self = app;
        }
    }

    /// HTTP/2 after an `Upgrade: h2c` answered 101 in server chunk `d`: stream 1 answers
    /// the upgraded request; the client's bytes held since (its preface) and the rest of
    /// `d` are its first.
    fn upgraded(start: H2cStart, ts: Ts, d: &[u8], ctx: &mut ConnCtx<'_>) -> App {
        let mut h2 = Http2::upgraded(*start.ex);
        if !start.up.is_empty() {
            h2.client_data(ts, &start.up, ctx);
        }
        let rest = &d[start.offset.min(d.len())..];
        if !rest.is_empty() {
            h2.server_data(ts, rest, ctx);
        }
        App::Http2(Box::new(h2))
    }

    /// The connection ended by RST, was never seen to its end, or was evicted.
    pub(crate) fn close(&mut self, how: Close, ts: Ts, ctx: &mut ConnCtx<'_>) {
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
    pub(crate) fn end(&mut self) {
        match self {
            App::Tls(t) => t.tls.close(),
            App::Tunnel(t) => t.inner.end(),
            _ => {}
        }
    }
}

/// First bytes held while they do not tell the protocol (at most `classify::MAX_HELD` per
/// direction, as chunks with their times).
pub(crate) struct Held {
    chunks: Vec<(Dir, Ts, Vec<u8>)>,
}

impl Held {
    fn bytes(&self, dir: Dir) -> usize {
        self.chunks
            .iter()
            .filter(|c| c.0 == dir)
            .map(|c| c.2.len())
            .sum()
    }

    fn joined(&self, dir: Dir) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.bytes(dir));
        for c in self.chunks.iter().filter(|c| c.0 == dir) {
            v.extend_from_slice(&c.2);
        }
        v
    }
}

/// A TLS connection: its handshake as read, and its plaintext when the key log decrypts it.
#[derive(Default)]
pub(crate) struct TlsConn {
    pub(crate) tls: Tls,
    /// Decrypted with the key log (`--tls-keylog`), when it has this connection's secrets.
    pub(crate) plain: Option<Box<Decrypted>>,
}

/// A tunnel through an HTTP proxy (`tunnel.rs`) and the connection that runs inside it.
pub(crate) struct Tunneled {
    pub(crate) tunnel: Tunnel,
    pub(crate) inner: App,
}

impl Tunneled {
    /// Starts the tunnel and feeds it the client's bytes held since the CONNECT.
    fn start(t: TunnelStart, ctx: &mut ConnCtx<'_>) -> Tunneled {
        let ts = t.ts;
        let (tunnel, up) = Tunnel::start(t, ctx);
        let mut tunneled = Tunneled {
            tunnel,
            inner: App::Undecided,
        };
        if !up.is_empty() {
            tunneled.chunk(Dir::Up, Chunk::Data(ts, &up, None), ctx);
        }
        tunneled
    }

    fn chunk(&mut self, dir: Dir, chunk: Chunk<'_>, ctx: &mut ConnCtx<'_>) {
        let chunk = self.tunnel.account(dir, chunk);
        let mut inner = self.tunnel.ctx(ctx);
        self.inner.chunk(dir, chunk, false, &mut inner);
    }

    fn close(&mut self, how: Close, ts: Ts, ctx: &mut ConnCtx<'_>) {
        let mut inner = self.tunnel.ctx(ctx);
        self.inner.close(how, ts, &mut inner);
    }
}

/// A TLS connection decrypted with the key log: its plaintext runs through a codec of
/// its own, as a cleartext connection would (`https` URLs).
pub(crate) struct Decrypted {
    dec: Decryptor,
    inner: App,
    /// Server plaintext that came before the client's first (at most 64 records).
    early: Vec<(Ts, Vec<u8>)>,
}

impl Decrypted {
    fn with(dec: Decryptor) -> Decrypted {
        Decrypted {
            dec,
            inner: App::Undecided,
            early: Vec::new(),
        }
    }

    fn decrypting(&self) -> bool {
        self.dec.state == super::tls::decrypt::State::Decrypting
    }

    fn data(&mut self, dir: Dir, ts: Ts, d: &[u8], ctx: &mut ConnCtx<'_>) {
        for (up, plain) in self.dec.feed(dir == Dir::Up, d) {
            let dir = if up { Dir::Up } else { Dir::Down };
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
    pub(crate) fn state_bytes(&self) -> usize {
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
