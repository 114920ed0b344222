//! The event vocabulary that connects every source to every view (docs/CONTRACT.md). Fields
//! serialise exactly as the NDJSON contract names them; unknown values are `null`.

use super::go::GoRequest;
use super::time::Ts;
use serde::Serialize;
use std::net::SocketAddr;

/// Where an event was seen: in packets (a capture file or live interfaces) or through the
/// proxy.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Packets: a capture file or live interfaces.
    #[default]
    Capture,
    /// The MITM proxy's plaintext.
    Mitm,
}

/// A connection's TLS handshake as far as it was seen (the NDJSON `tls` object).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TlsInfo {
    /// The server name the client asked for (SNI).
    pub sni: Option<String>,
    /// Protocols the client offered, in its order.
    pub alpn: Vec<String>,
    /// The protocol the server chose, when visible (TLS 1.2 ServerHello; TLS 1.3 hides it).
    pub alpn_selected: Option<String>,
    /// Extension (MITM): the protocol gomodwatch's handshake with the client settled on;
    /// the same as `alpn_selected`, since the server's choice is mirrored.
    pub alpn_selected_client: Option<String>,
    /// Negotiated version ("TLS 1.3"), from the ServerHello.
    pub version: Option<String>,
    /// ClientHello → the handshake's end, when both were seen.
    pub handshake_ms: Option<f64>,
    /// Versions the client offered.
    pub versions_offered: Vec<String>,
    /// Extension: the handshake did not complete, and how it ended.
    pub failure: Option<TlsFailure>,
    /// Extension: the server's certificate, when the capture shows it (TLS 1.2 and older).
    pub certificate: Option<CertSummary>,
    /// Extension: the connection was decrypted with `--tls-keylog` (its exchanges are
    /// decoded like any other's).
    pub decrypted: bool,
}

/// A TLS handshake that did not complete.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFailure {
    /// The alert's name (`bad_certificate`, `unknown_ca`, `handshake_failure`,
    /// `protocol_version`, ...) when it was visible; TLS 1.3 encrypts it.
    pub alert: Option<String>,
    /// Who gave up: `client` or `server`.
    pub by: &'static str,
    /// When: `after the server's certificate` (the client did not accept it), `after the
    /// client hello` (the server refused the offer), ...
    pub after: &'static str,
    /// Not seen but deduced from what the capture shows (TLS 1.3: the client sent one
    /// encrypted record the size of an alert after the server's flight, then closed).
    pub inferred: bool,
}

/// Who a certificate is for and who vouches for it.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CertSummary {
    /// The server's certificate's subject and issuer (RFC 4514 strings).
    pub(crate) subject: Option<String>,
    pub(crate) issuer: Option<String>,
    /// The issuer of the last certificate the server sent: the CA the client must trust.
    pub root_issuer: Option<String>,
}

/// An ICMP "destination unreachable" answering a connection attempt.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Unreachable {
    /// Who sent it (the server itself, or a router or firewall on the way).
    pub from: std::net::IpAddr,
    /// What it said: `port unreachable`, `host unreachable`, `administratively prohibited`, ...
    pub reason: &'static str,
}

/// Why a connection ended abnormally (its `error`).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ConnError {
    /// RST answered the SYN.
    Refused,
    /// RST after the connection was established.
    Reset,
    /// The SYN was never answered.
    NoAnswer,
    /// Extension: an ICMP "destination unreachable" answered the SYN.
    Unreachable,
    /// The capture ended while the connection was open.
    Truncated,
    /// Bytes are missing from the capture.
    Gap,
    /// Extension: only the client's packets are in the capture (a filter on one direction,
    /// such as `src host`): the client sent data, which it cannot before the server's
    /// SYN-ACK, yet no packet of the server's is there. What the server did is not known.
    OneWay,
    /// Extension (MITM): the TLS handshake failed (a certificate that did not verify, or a
    /// client that does not trust the local CA).
    Tls,
    /// Extension (MITM): the upstream proxy (`--upstream-proxy`) refused the CONNECT or
    /// could not be reached; `upstream` on the connection says what it answered.
    Proxy,
    /// Extension (MITM): gomodwatch gave up waiting (`--mitm-timeouts`): the server sent
    /// no response in time; the client was answered 504.
    Timeout,
}

/// Extension (MITM): what reaching the server through the proxy met, when it failed, or
/// when it connected only after an address failed (Happy Eyeballs fallback).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct Upstream {
    /// What failed, in words (the same text as the 502 the client got).
    pub message: Option<String>,
    /// The issuer of the certificate that did not verify: a CA this machine does not
    /// trust, often a TLS-inspecting proxy on the path.
    pub issuer: Option<String>,
    /// The upstream proxy the connection went through (`--upstream-proxy`, no password).
    pub proxy: Option<String>,
    /// The proxy's answer to CONNECT when it was not 2xx (403, 407, ...).
    pub proxy_status: Option<u16>,
    /// The realm of a 407's `Proxy-Authenticate`.
    pub proxy_realm: Option<String>,
    /// The addresses the dialer tried, in the order it started them, when there was more
    /// than one (absent otherwise: an object that was never extended stays as it was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tried: Vec<Tried>,
}

/// Extension (MITM): one address the dialer tried.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Tried {
    /// The address (`[v6]:port` or `v4:port`).
    pub address: SocketAddr,
    /// `connected`, `refused`, `no-answer` (its share of the connect timeout ran out),
    /// `abandoned` (still unanswered when another address connected), `error`.
    pub outcome: &'static str,
    /// When it was started, from the start of the connect phase.
    pub start_ms: f64,
    /// How long it ran until its outcome.
    pub ms: f64,
    /// The system's error, for `refused` and `error`.
    pub error: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a connection's packets say about the path and the server (the `tcp` object of the
/// `connection` event). Legs are split at the capture point: the server's leg is capture →
/// server → capture, the client's capture → client → capture; their sum is the round trip.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TcpStats {
    /// The round trip (both legs), null when one of them was not measured.
    pub rtt_ms: Option<f64>,
    /// How it was measured: `handshake`, `timestamps` (TSval echoed in TSecr: a capture
    /// that joined mid-connection), `acks` (data → the ACK covering it), `connect` (MITM:
    /// the upstream dial's connect time).
    pub rtt_from: Option<&'static str>,
    /// Capture → server → capture.
    pub server_leg_ms: Option<f64>,
    /// Capture → client → capture.
    pub client_leg_ms: Option<f64>,
    /// Turns: client data answered by server data (a request and its response, a TLS
    /// hello and its answer).
    pub turns: u32,
    /// The server's own time per turn (request's last byte → response's first byte, less
    /// the server's leg), mean and largest.
    pub server_ms: Option<f64>,
    /// The largest of them.
    pub server_max_ms: Option<f64>,
    /// Bits per second the server's new data arrived at, first to last new segment.
    pub down_bps: Option<f64>,
    /// Segments that carried data, both directions (what the loss counts are out of).
    pub data_segments: u64,
    /// Segments that repeated data already sent, both directions.
    pub retransmits: u32,
    /// The bytes they repeated.
    pub retransmit_bytes: u64,
    /// The client's share of `retransmits`.
    pub retransmits_up: u32,
    /// Segments that filled a hole soon after it opened (reordered, or a prompt resend).
    pub out_of_order: u32,
    /// The same ACK sent again while data was outstanding (the receiver saw a hole).
    pub dup_acks: u32,
    /// Segments that advertised a zero receive window (the receiver could not keep up).
    pub zero_windows: u32,
    /// Time spent waiting for lost data to be sent again.
    pub recovery_ms: f64,
}

/// A TCP connection (or a proxied one), told when it ends: the `connection` event.
#[derive(Serialize, Clone, Debug)]
pub struct Connection {
    /// The connection's id, which its exchanges name.
    pub id: u64,
    /// Its first packet.
    pub ts: Ts,
    pub(crate) client: SocketAddr,
    /// The address the client connected to.
    pub server: SocketAddr,
    /// Where it was seen.
    pub source: Source,
    /// Boxed: most connections are plain, and the event stays small.
    pub tls: Option<Box<TlsInfo>>,
    /// SYN → SYN-ACK; null when the handshake was not seen.
    pub connect_ms: Option<f64>,
    /// Bytes the client sent (payload).
    pub bytes_up: u64,
    /// Bytes the server sent (payload).
    pub bytes_down: u64,
    /// First packet → last packet.
    pub duration_ms: f64,
    /// How it ended, when not cleanly.
    pub error: Option<ConnError>,
    /// The DNS name the capture resolved to the server's address, if it did.
    pub server_name: Option<String>,
    /// Extension: what the stream carried ("http1", "http2", "tls", "unknown").
    pub(crate) protocol: &'static str,
    /// Extension: this connection ran inside a tunnel through the HTTP proxy at this
    /// address (its `server` is that proxy; `target` is what the tunnel reached).
    pub via: Option<SocketAddr>,
    /// Extension: `host:port` asked of an HTTP proxy with CONNECT.
    pub target: Option<String>,
    /// Extension: SYNs the client sent (retransmissions of an unanswered one included).
    pub syns: u32,
    /// Extension: the ICMP error that answered the SYN, if one did.
    pub unreachable: Option<Unreachable>,
    /// Extension (MITM): why the server could not be reached (null otherwise).
    pub upstream: Option<Box<Upstream>>,
    /// Extension: round trip, server time, rate and loss (null when nothing was measured).
    /// Boxed: the event stays small for the connections that carry none.
    pub tcp: Option<Box<TcpStats>>,
    /// Extension: when the SYN-ACK arrived (connect end), for waterfalls.
    #[serde(skip)]
    pub(crate) connected_at: Option<Ts>,
    /// Its last packet (not serialised: `duration_ms` says it).
    #[serde(skip)]
    pub end: Ts,
}

/// Who talked to whom on a connection, and how it was seen.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoints {
    pub(crate) id: u64,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub(crate) source: Source,
}

impl Connection {
    /// A connection from `first` to `end` with nothing else known yet.
    pub(crate) fn new(e: &Endpoints, first: Ts, end: Ts) -> Connection {
        Connection {
            id: e.id,
            ts: first,
            client: e.client,
            server: e.server,
            source: e.source,
            tls: None,
            connect_ms: None,
            bytes_up: 0,
            bytes_down: 0,
            duration_ms: end.ms_since(first),
            error: None,
            server_name: None,
            protocol: "none",
            via: None,
            target: None,
            syns: 0,
            unreachable: None,
            upstream: None,
            tcp: None,
            connected_at: None,
            end,
        }
    }
}

/// How long an exchange took (the NDJSON `timing` object).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct Timing {
    /// First request byte → first response byte.
    pub ttfb_ms: Option<f64>,
    /// First request byte → last response byte.
    pub total_ms: Option<f64>,
    /// Extension: the connection phases this exchange paid for (the first request on a
    /// connection pays them; a request on a reused connection shows 0). `null` when unseen.
    pub(crate) dns_ms: Option<f64>,
    pub(crate) connect_ms: Option<f64>,
    pub(crate) tls_ms: Option<f64>,
    /// Extension: first response byte → last response byte.
    pub(crate) transfer_ms: Option<f64>,
    /// Extension: the exchange ran on a connection an earlier exchange had opened.
    pub reused: bool,
    /// Extension: its connection's round trip (null when not measured).
    pub rtt_ms: Option<f64>,
    /// Extension: the server's own time: time to first byte less the leg of the round trip
    /// between the observer and the server (null when either is unknown).
    pub server_ms: Option<f64>,
}

impl Timing {
    /// The timing of `ex` from its timestamps and setup; `reused` says whether an
    /// earlier exchange opened its connection (then the phases are 0: nothing was paid).
    pub(crate) fn measure(ex: &Exchange, reused: bool, path: Option<PathRtt>) -> Timing {
        let phase = |v: Option<f64>| if reused { Some(0.0) } else { v };
        Timing {
            ttfb_ms: ex.first_byte_at.map(|t| t.ms_since(ex.ts)),
            total_ms: ex.last_byte_at.map(|t| t.ms_since(ex.ts)),
            dns_ms: phase(ex.setup.dns_ms),
            connect_ms: phase(ex.setup.connect_ms),
            tls_ms: phase(ex.setup.tls_ms),
            transfer_ms: match (ex.first_byte_at, ex.last_byte_at) {
                (Some(f), Some(l)) => Some(l.ms_since(f).max(0.0)),
                _ => None,
            },
            reused,
            rtt_ms: path.map(|p| p.rtt_ms),
            server_ms: path.zip(ex.first_byte_at).map(|(p, t)| {
                ((t.ms_since(ex.ts) - p.server_leg_ms).max(0.0) * 1000.0).round() / 1000.0
            }),
        }
    }
}

/// One HTTP request and its response: the `exchange` event.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Exchange {
    /// The exchange's id (hash events and redirects name it).
    pub id: u64,
    /// The id of its connection.
    pub connection: u64,
    /// The request's first byte.
    pub ts: Ts,
    /// Where it was seen.
    pub source: Source,
    /// The client's address.
    pub client: Option<SocketAddr>,
    /// The server's address (an HTTP proxy's for a proxied request).
    pub server: Option<SocketAddr>,
    /// The request method.
    pub method: Option<String>,
    /// The absolute URL as the client asked for it (password redacted unless asked).
    pub url: Option<String>,
    /// `HTTP/1.1`, `HTTP/2`, ...
    pub http_version: Option<String>,
    /// The response status; null when no response arrived.
    pub status: Option<u16>,
    /// What went wrong (`no-response`, `reset`, `truncated`, `malformed: ...`).
    pub error: Option<String>,
    /// Request body bytes.
    pub req_bytes: u64,
    /// Response body bytes.
    pub resp_bytes: u64,
    /// Extension: bytes of its request or response on the wire but not in the capture (a
    /// snap length that cut a head, lost segments), as far as they were known when it was
    /// told; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_bytes: u64,
    /// How long it took.
    pub timing: Timing,
    /// What the go command asked for (the `go` object).
    pub go: GoRequest,
    /// Extension: the request's User-Agent (tells Go versions apart, docs/goproxy-protocol.md §8.9).
    pub user_agent: Option<String>,
    /// Extension: `Location` of a redirect.
    pub location: Option<String>,
    /// Extension: the response's `Content-Type`.
    pub content_type: Option<String>,
    /// Extension: this request followed a redirect answered to that exchange.
    pub redirect_of: Option<u64>,
    /// Extension: the request went through the HTTP proxy at this address (a CONNECT
    /// tunnel, or an absolute-form request like `GET http://host/...`).
    pub via: Option<SocketAddr>,
    /// Extension: a `Proxy-Authenticate` challenge in the response (407).
    pub proxy_authenticate: Option<String>,
    /// Extension: the request's `Authorization`, as its scheme and (for Basic) the user
    /// name — never the password or token (`Basic alice`, `Bearer`); null when none was
    /// sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// Connection setup paid by this request (only the first request on a connection).
    #[serde(skip)]
    pub setup: Setup,
    /// What the body said, for the module model (hashes, lookup records); not serialised.
    #[serde(skip)]
    pub body: BodyInfo,
    /// First and last response byte, for waterfalls.
    #[serde(skip)]
    pub first_byte_at: Option<Ts>,
    /// Last response byte (not serialised: `timing.total_ms` says it).
    #[serde(skip)]
    pub last_byte_at: Option<Ts>,
}

/// Time spent before the request could be sent: DNS, TCP connect, TLS handshake.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Setup {
    /// The DNS lookup of the server's name.
    pub dns_ms: Option<f64>,
    /// TCP connect (SYN → SYN-ACK, or the proxy's CONNECT).
    pub connect_ms: Option<f64>,
    /// The TLS handshake.
    pub tls_ms: Option<f64>,
    /// Extension: the connection's round trip as measured so far (each exchange is told
    /// the one known when it was answered).
    pub(crate) path: Option<PathRtt>,
}

impl Setup {
    /// The phases as a stream source (the MITM) timed them; the round trip is derived
    /// from them by the decoder.
    pub fn phases(dns_ms: Option<f64>, connect_ms: Option<f64>, tls_ms: Option<f64>) -> Setup {
        Setup {
            dns_ms,
            connect_ms,
            tls_ms,
            path: None,
        }
    }
}

/// A connection's round trip and the part of it between the observer and the server (the
/// whole of it when the observer is the client: the MITM's own dial).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PathRtt {
    pub(crate) rtt_ms: f64,
    pub(crate) server_leg_ms: f64,
}

/// Facts taken from a response body while it streamed past.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyInfo {
    /// `h1:` hash of a `.zip` (dirhash over its files) or a `.mod` (as `go.mod`), when the
    /// whole body was seen.
    pub h1: Option<String>,
    /// Small text bodies kept whole (checksum DB lookups, `.info`, `@v/list`), capped.
    pub text: Option<String>,
    /// Why no hash could be computed, when one was wanted.
    pub hash_error: Option<String>,
}

/// A DNS answer (or a query never answered): the `dns` event.
#[derive(Serialize, Clone, Debug)]
pub struct DnsAnswer {
    pub(crate) ts: Ts,
    pub(crate) client: SocketAddr,
    /// The resolver's address.
    pub server: SocketAddr,
    /// The name asked for.
    pub name: String,
    /// The query type (`A`, `AAAA`, ...).
    pub qtype: &'static str,
    /// The response code (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED); null when the
    /// query was never answered.
    pub rcode: Option<u8>,
    /// The addresses in the answer.
    pub addresses: Vec<std::net::IpAddr>,
    /// Query → answer; for a query never answered, how long the capture waited.
    pub duration_ms: Option<f64>,
    /// Extension: `no-answer` for a query the capture never saw answered.
    pub error: Option<&'static str>,
}

/// Extension: the `h1:` of a `.zip` exchange, computed off the decoding thread; it
/// follows its exchange event.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ZipHash {
    /// The `.zip` exchange hashed.
    pub exchange: u64,
    /// Its `h1:` hash, when the whole zip was read.
    pub h1: Option<String>,
    /// Why there is no hash (the body was incomplete, not a zip, too large, ...).
    pub error: Option<String>,
    /// Where the `h1` came from when not computed from these bytes here: under `run`,
    /// [`H1_FROM_MODULE_CACHE`]. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h1_from: Option<&'static str>,
}

/// A `hash` event's `h1_from` under `run`: the go command saved a zip with exactly these
/// bytes (a BLAKE3 hash of both), and this is the `h1:` it computed and saved beside it.
pub const H1_FROM_MODULE_CACHE: &str = "module-cache";

/// One event of the stream.
#[derive(Serialize, Clone, Debug)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A connection ended.
    Connection(Connection),
    /// An exchange was answered (or given up on).
    Exchange(Box<Exchange>),
    /// A DNS answer (or an unanswered query).
    Dns(DnsAnswer),
    /// A zip's hash arrived from the hashing threads.
    Hash(ZipHash),
}

/// What an `Authorization` header may show: its scheme, and for Basic the user name. The
/// password and any token are dropped here, before anything is kept.
pub fn authorization_summary(value: &str) -> String {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    // Views sanitise what they print; here only the length is bounded.
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).take(64).collect() };
    let scheme = clean(scheme);
    if !scheme.eq_ignore_ascii_case("basic") {
        return scheme;
    }
    use base64::Engine as _;
    let user = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|cred| cred.split_once(':').map(|(u, _)| u.to_string()));
    match user {
        Some(u) => format!("{scheme} {}", clean(&u)),
        None => format!("{scheme} (undecodable)"),
    }
}

#[cfg(test)]
mod authorization_tests {
    #[test]
    fn keeps_the_user_never_the_password() {
        // "alice:s3cret"
        let s = super::authorization_summary("Basic YWxpY2U6czNjcmV0");
        assert_eq!(s, "Basic alice");
        assert_eq!(super::authorization_summary("Bearer abc.def"), "Bearer");
        assert_eq!(
            super::authorization_summary("Basic !!"),
            "Basic (undecodable)"
        );
    }
}
