//! Reaching the real server from the proxy, timed phase by phase (DNS, TCP connect, TLS),
//! directly or through an upstream HTTP proxy (`--upstream-proxy`, CONNECT with Basic
//! credentials), with the server's certificate always verified: against the system's
//! roots, plus any CA the user adds (`--upstream-ca`, for a corporate proxy or a private
//! Athens). There is no switch to turn verification off.

use super::dial;
use super::guard::SelfAddr;
use super::head::{self, Head};
use super::limits::{Shown, Timeouts};
use super::trust::Trust;
use base64::Engine;
use gomodwatch_wire::vocab::Upstream;
use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How reaching a server is bounded: the phases' timeouts, and gomodwatch's own address,
/// which is never connected to (that loop would hold descriptors until none is left).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reach {
    pub(crate) timeouts: Timeouts,
    pub(crate) me: SelfAddr,
}

/// Why an upstream proxy URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlError {
    /// Not a URL at all.
    #[error("not a proxy URL like http://host:3128 ({0})")]
    NotAUrl(url::ParseError),
    /// A scheme other than http.
    #[error("only http:// upstream proxies are supported, not {0}://")]
    Scheme(String),
    /// A URL without a host.
    #[error("the proxy URL has no host")]
    NoHost,
}

/// `--upstream-proxy http://[user:password@]host:port`.
#[derive(Debug, Clone)]
pub struct UpstreamProxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Basic base64(user:password)`, when the URL has credentials.
    pub(crate) auth: Option<String>,
    /// The URL without its password, for messages and events.
    pub shown: String,
}

impl UpstreamProxy {
    /// Reads `--upstream-proxy URL` (`http://[user:password@]host:port`).
    pub fn parse(s: &str) -> Result<UpstreamProxy, ProxyUrlError> {
        let u = url::Url::parse(s).map_err(ProxyUrlError::NotAUrl)?;
        if u.scheme() != "http" {
            return Err(ProxyUrlError::Scheme(u.scheme().to_string()));
        }
        let host = u
            .host_str()
            .ok_or(ProxyUrlError::NoHost)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = u.port_or_known_default().unwrap_or(80);
        let user = percent(u.username());
        let auth = (!user.is_empty()).then(|| {
            let pass = percent(u.password().unwrap_or(""));
            let creds = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            format!("Basic {creds}")
        });
        Ok(UpstreamProxy {
            shown: format!("http://{}:{port}", u.host_str().unwrap_or(&host)),
            host,
            port,
            auth,
        })
    }
}

/// Percent-decoding of a URL's user or password (`%40` → `@`; `+` stays `+`).
fn percent(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How long each phase of reaching the server took.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timing {
    pub(crate) dns_ms: Option<f64>,
    pub(crate) connect_ms: Option<f64>,
    /// When more than one address was tried: which, and what each did (the connection
    /// event's `upstream` on a connection that succeeded after a fallback).
    pub(crate) detour: Option<Box<Upstream>>,
}

/// Why the server could not be reached, with the phase it failed in.
#[derive(Debug)]
pub(crate) enum ConnectError {
    Dns(String),
    Refused(String),
    Connect(String),
    Tls {
        message: String,
        /// Who issued the chain that did not verify.
        issuer: Option<String>,
    },
    /// The upstream proxy answered CONNECT with something other than 2xx.
    Proxy {
        proxy: String,
        status: u16,
        reason: String,
        realm: Option<String>,
    },
    /// The upstream proxy itself could not be reached.
    ProxyUnreachable {
        proxy: String,
        error: String,
    },
    /// The local CA's name constraints (`ca init --permit`) do not cover this host:
    /// intercepting it would only hand the client a certificate it must reject.
    NotPermitted {
        host: String,
        permit: Vec<String>,
    },
    /// A phase took longer than its `--mitm-timeouts` entry.
    Timeout {
        phase: Phase,
        after: Duration,
    },
    /// The target is gomodwatch's own listening address.
    Loop(SocketAddr),
}

/// The phases of reaching a server that have a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Dns,
    Connect,
    Tls,
    /// After the request was forwarded, before the first byte of the response.
    FirstByte,
}

impl ConnectError {
    /// The status the client is answered with: 504 when gomodwatch gave up waiting, 508
    /// for a loop, else 502.
    pub(crate) fn status(&self) -> &'static str {
        match self {
            ConnectError::Timeout { .. } => "504 Gateway Timeout",
            ConnectError::Loop(_) => "508 Loop Detected",
            _ => "502 Bad Gateway",
        }
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Dns(e) => write!(f, "DNS lookup failed: {e}"),
            ConnectError::Refused(e) => write!(f, "connection refused: {e}"),
            ConnectError::Connect(e) => write!(f, "connect failed: {e}"),
            ConnectError::Tls {
                message,
                issuer: Some(issuer),
            } => write!(
                f,
                "TLS handshake failed: {message}; the certificate was issued by \"{issuer}\", \
                 which this machine does not trust (a TLS-inspecting proxy on the path? give \
                 its CA with --upstream-ca; verification is never skipped)"
            ),
            ConnectError::Tls {
                message,
                issuer: None,
            } => write!(
                f,
                "TLS handshake failed (certificate verification is never skipped): {message}"
            ),
            ConnectError::Proxy {
                proxy,
                status,
                reason,
                realm,
            } => {
                write!(
                    f,
                    "upstream proxy {proxy} refused the CONNECT: {status} {reason}"
                )?;
                if let Some(r) = realm {
                    write!(f, " (realm \"{r}\")")?;
                }
                if *status == 407 {
                    write!(
                        f,
                        "; give credentials as --upstream-proxy http://user:password@host:port"
                    )?;
                }
                Ok(())
            }
            ConnectError::ProxyUnreachable { proxy, error } => {
                write!(f, "upstream proxy {proxy} unreachable: {error}")
            }
            ConnectError::NotPermitted { host, permit } => write!(
                f,
                "not intercepting {host}: gomodwatch's CA may only certify {} (its name \
                 constraints)",
                permit.join(", ")
            ),
            ConnectError::Timeout { phase, after } => {
                let (what, key) = match phase {
                    Phase::Dns => ("the DNS lookup", "connect"),
                    Phase::Connect => ("connecting", "connect"),
                    Phase::Tls => ("the TLS handshake", "tls"),
                    Phase::FirstByte => ("the response (no first byte)", "first-byte"),
                };
                write!(
                    f,
                    "{what} timed out after {} (--mitm-timeouts {key}=)",
                    Shown(*after)
                )
            }
            ConnectError::Loop(addr) => write!(
                f,
                "{addr} is gomodwatch's own proxy address: a request to it would loop back into gomodwatch"
            ),
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_micros() as f64 / 1000.0
}

/// A TCP connection to the server (or to the upstream proxy, tunnelled to the server).
pub(crate) struct Tcp {
    pub(crate) stream: TcpStream,
    /// The server's address (the upstream proxy's, when going through one).
    pub(crate) server: SocketAddr,
    pub(crate) timing: Timing,
}

pub(crate) type Failure = (Option<SocketAddr>, ConnectError);

/// Resolves and connects (timed), each address in turn.
async fn dial(
    host: &str,
    port: u16,
    timing: &mut Timing,
    reach: &Reach,
) -> Result<(TcpStream, SocketAddr), Failure> {
    // One budget for the lookup and every address tried.
    let limit = reach.timeouts.connect;
    let deadline = tokio::time::Instant::now() + limit;
    let t = Instant::now();
    let addrs: Vec<SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let timeout = ConnectError::Timeout {
                phase: Phase::Dns,
                after: limit,
            };
            let found = tokio::time::timeout_at(deadline, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| (None, timeout))?
                .map_err(|e| (None, ConnectError::Dns(e.to_string())))?
                .collect();
            timing.dns_ms = Some(ms(t));
            found
        }
    };
    // Checked before connecting: a connection to ourselves would be accepted by our own
    // listener and wait on itself.
    if let Some(a) = addrs.iter().find(|a| reach.me.is_self(**a)) {
        return Err((Some(*a), ConnectError::Loop(*a)));
    }
    let t = tokio::time::Instant::now();
    let log = dial::Log::default();
    let won = dial::parallel(&addrs, deadline, dial::FALLBACK_DELAY, &log).await;
    let attempts = log.finish();
    // The whole connect phase: what a fallback cost is in it.
    timing.connect_ms = Some(t.elapsed().as_micros() as f64 / 1000.0);
    timing.detour = dial::account(&attempts).map(|message| {
        Box::new(Upstream {
            message: Some(message),
            tried: dial::tried(&attempts, t),
            ..Default::default()
        })
    });
    if let Some(s) = won {
        let _ = s.set_nodelay(true);
        let server = s.peer_addr().unwrap_or(addrs[0]);
        return Ok((s, server));
    }
    // As Go says it: the first error of the addresses tried first; a timeout when the
    // deadline ran out.
    let also = timing
        .detour
        .as_ref()
        .and_then(|d| d.message.clone())
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let first = attempts.first();
    let addr = first.map(|a| a.addr);
    let timed_out = tokio::time::Instant::now() >= deadline;
    Err(match first.and_then(|a| a.end.clone()).map(|e| e.1) {
        _ if timed_out => (
            addr,
            ConnectError::Timeout {
                phase: Phase::Connect,
                after: limit,
            },
        ),
        Some(dial::Outcome::Refused(e)) => (addr, ConnectError::Refused(format!("{e}{also}"))),
        Some(dial::Outcome::Error(e)) => (addr, ConnectError::Connect(format!("{e}{also}"))),
        Some(dial::Outcome::NoAnswer(d)) => (
            addr,
            ConnectError::Connect(format!(
                "no answer within {} (its share of --mitm-timeouts connect={}){also}",
                Shown(d),
                Shown(limit)
            )),
        ),
        _ => (addr, ConnectError::Dns("no addresses".into())),
    })
}

/// TCP to `host:port`, directly or through `proxy`'s CONNECT (whose round trip counts
/// as connecting: it is what reaching the server cost).
pub(crate) async fn tcp(
    host: &str,
    port: u16,
    proxy: Option<&UpstreamProxy>,
    reach: &Reach,
) -> Result<Tcp, Failure> {
    let mut timing = Timing::default();
    let Some(p) = proxy else {
        let (stream, server) = dial(host, port, &mut timing, reach).await?;
        return Ok(Tcp {
            stream,
            server,
            timing,
        });
    };
    let unreachable = |(a, e): Failure| match e {
        // Said as they are: the user must see a timeout or a loop for what it is.
        ConnectError::Timeout { .. } | ConnectError::Loop(_) => (a, e),
        e => (
            a,
            ConnectError::ProxyUnreachable {
                proxy: p.shown.clone(),
                error: e.to_string(),
            },
        ),
    };
    let t = Instant::now();
    let (mut stream, server) = dial(&p.host, p.port, &mut timing, reach)
        .await
        .map_err(unreachable)?;
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = &p.auth {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    let fail = |e: std::io::Error| {
        (
            Some(server),
            ConnectError::ProxyUnreachable {
                proxy: p.shown.clone(),
                error: e.to_string(),
            },
        )
    };
    stream.write_all(req.as_bytes()).await.map_err(fail)?;
    let mut reader = head::Reader::new(stream);
    let answer = tokio::time::timeout(reach.timeouts.connect, reader.head())
        .await
        .map_err(|_| fail(std::io::ErrorKind::TimedOut.into()))?
        .map_err(fail)?;
    let Some(Head::Response {
        status,
        reason,
        headers,
        ..
    }) = head::parse(&answer)
    else {
        return Err(fail(std::io::Error::other("not an HTTP answer to CONNECT")));
    };
    if !(200..300).contains(&status) {
        let realm = head::header(&headers, "proxy-authenticate").and_then(realm_of);
        return Err((
            Some(server),
            ConnectError::Proxy {
                proxy: p.shown.clone(),
                status,
                reason,
                realm,
            },
        ));
    }
    // Through a proxy, DNS and connect are the proxy's; the CONNECT's round trip is part
    // of connecting to the server.
    timing.connect_ms = Some(ms(t) - timing.dns_ms.unwrap_or(0.0));
    let (stream, rest) = reader.into_parts();
    if !rest.is_empty() {
        // Nothing may follow a 2xx to CONNECT before the client speaks.
        return Err(fail(std::io::Error::other(
            "bytes after the CONNECT answer",
        )));
    }
    Ok(Tcp {
        stream,
        server,
        timing,
    })
}

/// `realm="corp"` of a `Proxy-Authenticate: Basic realm="corp"`.
fn realm_of(v: &str) -> Option<String> {
    let at = v.to_ascii_lowercase().find("realm=")?;
    let rest = v.get(at + 6..)?;
    let r = match rest.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => rest.split([',', ' ']).next()?,
    };
    Some(r.chars().filter(|c| !c.is_control()).take(100).collect())
}

/// A socket under TLS, read ahead: rustls reads into a buffer no bigger than one record,
/// so each 16 KiB record cost a recv call (and the window-update ACK it may send); with
/// this, one call takes in what has arrived (benches/mitm.sh (c): recv calls per 144 MB
/// halved, 9 400 -> 4 600). 32 KiB per direction per tunnel, allocated once. Writes pass
/// straight through.
pub(crate) type Wire = BufReader<TcpStream>;
const READ_AHEAD: usize = 32 << 10;

pub(crate) fn wire(tcp: TcpStream) -> Wire {
    BufReader::with_capacity(READ_AHEAD, tcp)
}

pub(crate) struct Tls {
    pub(crate) stream: TlsStream<Wire>,
    pub(crate) tls_ms: f64,
    pub(crate) version: Option<String>,
    /// The protocol the server selected from the client's (mirrored) offer.
    pub(crate) alpn: Option<Vec<u8>>,
    /// The cipher suite the server chose (mirrored to the client when it offered it).
    pub(crate) suite: Option<rustls::SupportedCipherSuite>,
}

/// The TLS handshake with the server, naming it `name` (the client's SNI, or the CONNECT
/// host) and offering `alpn` (the client's offer).
pub(crate) async fn tls(
    tcp: TcpStream,
    name: &str,
    alpn: Vec<Vec<u8>>,
    trust: &Trust,
    limit: Duration,
) -> Result<Tls, ConnectError> {
    let (cfg, rec) = trust.config(alpn);
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| ConnectError::Tls {
        message: e.to_string(),
        issuer: None,
    })?;
    let t = Instant::now();
    let hs = TlsConnector::from(cfg).connect(server_name, wire(tcp));
    let stream = match tokio::time::timeout(limit, hs).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(ConnectError::Tls {
                message: e.to_string(),
                issuer: rec.issuer(),
            })
        }
        Err(_) => {
            return Err(ConnectError::Timeout {
                phase: Phase::Tls,
                after: limit,
            })
        }
    };
    let tls_ms = ms(t);
    let (_, conn) = stream.get_ref();
    let version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    });
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    let suite = conn.negotiated_cipher_suite();
    Ok(Tls {
        stream,
        tls_ms,
        version,
        alpn,
        suite,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_and_realms() {
        let p = UpstreamProxy::parse("http://al%40ice:s3cr%3At@10.0.0.1:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("10.0.0.1", 3128));
        let creds = base64::engine::general_purpose::STANDARD.encode("al@ice:s3cr:t");
        assert_eq!(p.auth, Some(format!("Basic {creds}")));
        assert_eq!(p.shown, "http://10.0.0.1:3128");
        assert!(UpstreamProxy::parse("socks5://h:1080").is_err());
        assert_eq!(UpstreamProxy::parse("http://h").unwrap().port, 80);
        assert_eq!(
            realm_of("Basic realm=\"corp proxy\""),
            Some("corp proxy".into())
        );
        assert_eq!(realm_of("Basic realm=x, charset=UTF-8"), Some("x".into()));
        assert_eq!(realm_of("Negotiate"), None);
    }
}
