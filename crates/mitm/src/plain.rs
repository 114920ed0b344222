//! Plain HTTP through the proxy, for `HTTP_PROXY` users: absolute-form requests
//! (`GET http://host/path HTTP/1.1`) are forwarded (origin-form to the server, or as they
//! are to an upstream proxy, with its credentials), responses are relayed back, and the
//! client's connection is kept alive across requests. Each server connection is its own
//! decoded connection; what the decoder is shown is exactly what the client sent and what
//! the server answered.

use super::guard;
use super::head::{self, Body, Head, Reader};
use super::proxy::{Proxy, Target};
use super::tap::{DirTap, EndTap};
use super::upstream::{self, ConnectError, Phase};
use gomodwatch_wire::vocab::event::Setup;
use gomodwatch_wire::vocab::{ConnError, StreamEvent, Ts};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// One server connection in use.
struct Server {
    key: (String, u16),
    io: Reader<TcpStream>,
    up: DirTap,
    down: DirTap,
    end: EndTap,
}

impl Server {
    fn end(self, error: Option<ConnError>) {
        let ts = Ts::now();
        // A connection given up on is not finished: the decoder keeps its error, and the
        // request left without a response ends as "no-response".
        if error.is_none() {
            self.up.fin(ts);
            self.down.fin(ts);
        }
        self.end.end(ts, error);
    }
}

/// Serves a client whose first request head (`first`) was already read.
pub(crate) async fn run(
    p: &Proxy,
    mut client: Reader<TcpStream>,
    peer: SocketAddr,
    first: Vec<u8>,
) {
    let mut server: Option<Server> = None;
    let mut next = Some(first);
    loop {
        let raw = match next.take() {
            Some(h) => h,
            None => match tokio::time::timeout(p.reach.timeouts.idle, client.head()).await {
                Ok(Ok(h)) => h,
                _ => break,
            },
        };
        let Some(Head::Request {
            method,
            target,
            headers,
        }) = head::parse(&raw)
        else {
            break;
        };
        let Some((host, port, origin)) = split_target(&target) else {
            let text = guard::answer("400 Bad Request", guard::NOT_PROXY, "");
            let _ = client.get_mut().write_all(text.as_bytes()).await;
            break;
        };
        let key = (host.clone(), port);
        if server.as_ref().is_some_and(|s| s.key != key) {
            if let Some(s) = server.take() {
                s.end(None);
            }
        }
        if server.is_none() {
            match open(p, peer, &host, port).await {
                Ok(s) => server = Some(s),
                Err(Unreachable(answer)) => {
                    let _ = client.get_mut().write_all(answer.as_bytes()).await;
                    break;
                }
            }
        }
        let Some(s) = server.as_mut() else { break };
        let ok = exchange(p, &mut client, s, &raw, &method, &origin, &headers).await;
        match ok {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let error = if e.kind() == std::io::ErrorKind::TimedOut {
                    ConnError::Timeout
                } else {
                    ConnError::Reset
                };
                if let Some(s) = server.take() {
                    s.end(Some(error));
                }
                return;
            }
        }
    }
    if let Some(s) = server.take() {
        s.end(None);
    }
}

/// `http://host[:port]/path?q` → (host, port, `/path?q`).
pub(super) fn split_target(target: &str) -> Option<(String, u16, String)> {
    let u = url::Url::parse(target).ok()?;
    if u.scheme() != "http" {
        return None;
    }
    let host = u
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = u.port_or_known_default()?;
    let mut origin = u.path().to_string();
    if let Some(q) = u.query() {
        origin.push('?');
        origin.push_str(q);
    }
    Some((host, port, origin))
}

/// The server could not be reached (the event is told): the answer the client gets
/// instead, a 502.
struct Unreachable(String);

/// Connects (timed) to the server, or to the upstream proxy that will forward for us.
async fn open(p: &Proxy, peer: SocketAddr, host: &str, port: u16) -> Result<Server, Unreachable> {
    let id = p.next_id();
    let start = Ts::now();
    let (h, pt) = match &p.route {
        Some(r) => (r.host.as_str(), r.port),
        None => (host, port),
    };
    let t = Target {
        id,
        start,
        peer,
        host: host.to_string(),
        port,
    };
    let tcp = match upstream::tcp(h, pt, None, &p.reach).await {
        Ok(c) => c,
        Err((server, e)) => {
            let e = match &p.route {
                Some(_) if matches!(e, ConnectError::Timeout { .. } | ConnectError::Loop(_)) => e,
                Some(r) => ConnectError::ProxyUnreachable {
                    proxy: r.shown.clone(),
                    error: e.to_string(),
                },
                None => e,
            };
            p.failed(&t, server, &e);
            return Err(Unreachable(super::tunnel::bad_gateway(&t, &e)));
        }
    };
    let (up, down, end) = p.tap.open(
        id,
        StreamEvent::Open {
            id,
            ts: start,
            client: peer,
            server: tcp.server,
            host: host.to_string(),
            scheme: "http",
            tls: None,
            setup: Setup::phases(tcp.timing.dns_ms, tcp.timing.connect_ms, None),
            upstream: tcp.timing.detour,
        },
        false,
    );
    Ok(Server {
        key: (host.to_string(), port),
        io: Reader::new(tcp.stream),
        up,
        down,
        end,
    })
}

/// One request and its response; `Ok(false)` when the connection must close after it.
async fn exchange(
    p: &Proxy,
    client: &mut Reader<TcpStream>,
    s: &mut Server,
    raw: &[u8],
    method: &str,
    origin: &str,
    headers: &[(String, String)],
) -> std::io::Result<bool> {
    // The decoder sees the request as the client sent it (absolute-form: the URL).
    s.up.data(Ts::now(), raw).await;
    let fwd = forwarded_head(p, method, origin, raw, headers);
    s.io.get_mut().write_all(&fwd).await?;
    let req_body = head::request_body(headers);
    let idle = p.reach.timeouts.idle;
    copy_body(client, s.io.get_mut(), req_body, &mut s.up, idle).await?;
    let mut keep = !wants_close(headers);
    let first_byte = p.reach.timeouts.first_byte;
    loop {
        let Ok(rh) = tokio::time::timeout(first_byte, s.io.head()).await else {
            // Answered, not dropped: the client (and the NDJSON) learn why.
            let e = ConnectError::Timeout {
                phase: Phase::FirstByte,
                after: first_byte,
            };
            let body = format!("gomodwatch: {}:{} sent no response: {e}", s.key.0, s.key.1);
            let text = guard::answer(e.status(), &body, "");
            let _ = client.get_mut().write_all(text.as_bytes()).await;
            return Err(std::io::ErrorKind::TimedOut.into());
        };
        let rh = rh?;
        s.down.data(Ts::now(), &rh).await;
        client.get_mut().write_all(&rh).await?;
        let Some(Head::Response {
            status, headers, ..
        }) = head::parse(&rh)
        else {
            return Ok(false);
        };
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let body = head::response_body(status, method == "HEAD", &headers);
        let (sio, down) = (&mut s.io, &mut s.down);
        copy_body(sio, client.get_mut(), body, down, idle).await?;
        keep &= !wants_close(&headers) && body != Body::Close && status != 101;
        return Ok(keep);
    }
}

fn wants_close(headers: &[(String, String)]) -> bool {
    head::header(headers, "connection").is_some_and(|v| v.to_ascii_lowercase().contains("close"))
}

/// The head sent on: origin-form to a server, absolute-form (with the upstream proxy's
/// credentials) to an upstream proxy; the client's own proxy headers are not passed on.
fn forwarded_head(
    p: &Proxy,
    method: &str,
    origin: &str,
    raw: &[u8],
    headers: &[(String, String)],
) -> Vec<u8> {
    let first_line_end = memchr::memmem::find(raw, b"\r\n").unwrap_or(raw.len());
    let version = raw
        .get(..first_line_end)
        .and_then(|l| l.rsplit(|&b| b == b' ').next())
        .unwrap_or(b"HTTP/1.1");
    let mut out = Vec::with_capacity(raw.len() + 64);
    match &p.route {
        Some(r) => {
            out.extend_from_slice(raw.get(..first_line_end).unwrap_or_default());
            out.extend_from_slice(b"\r\n");
            if let Some(auth) = &r.auth {
                out.extend_from_slice(format!("Proxy-Authorization: {auth}\r\n").as_bytes());
            }
        }
        None => {
            out.extend_from_slice(format!("{method} {origin} ").as_bytes());
            out.extend_from_slice(version);
            out.extend_from_slice(b"\r\n");
        }
    }
    for (n, v) in headers {
        if n == "proxy-connection" || n == "proxy-authorization" {
            continue;
        }
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Copies a message body as it is framed, tapping it; a body that stalls for `idle` is
/// given up (`TimedOut`).
async fn copy_body<R, W>(
    from: &mut Reader<R>,
    to: &mut W,
    body: Body,
    tap: &mut DirTap,
    idle: Duration,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    async fn pass(bytes: Vec<u8>, tap: &mut DirTap) -> Vec<u8> {
        tap.data(Ts::now(), &bytes).await;
        bytes
    }
    match body {
        Body::None => Ok(()),
        Body::Length(n) => copy_n(from, to, n, tap, idle).await,
        Body::Close => loop {
            let b = stall(idle, from.some(32 << 10)).await?;
            if b.is_empty() {
                return to.shutdown().await;
            }
            to.write_all(&pass(b, tap).await).await?;
        },
        Body::Chunked => loop {
            let line = stall(idle, from.line()).await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.split([';', '\r', '\n']).next())
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
                .ok_or_else(|| std::io::Error::other("bad chunk size"))?;
            to.write_all(&pass(line, tap).await).await?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let l = stall(idle, from.line()).await?;
                    let end = l == b"\r\n" || l == b"\n";
                    to.write_all(&pass(l, tap).await).await?;
                    if end {
                        return Ok(());
                    }
                }
            }
            // The data and its CRLF.
            copy_n(from, to, size + 2, tap, idle).await?;
        },
    }
}

/// A read that gets nothing for `idle` fails with `TimedOut`.
async fn stall<T>(
    idle: Duration,
    read: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(idle, read)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

async fn copy_n<R, W>(
    from: &mut Reader<R>,
    to: &mut W,
    mut n: u64,
    tap: &mut DirTap,
    idle: Duration,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    while n > 0 {
        let b = stall(idle, from.some(n.min(32 << 10) as usize)).await?;
        if b.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        n -= b.len() as u64;
        tap.data(Ts::now(), &b).await;
        to.write_all(&b).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_targets_split() {
        assert_eq!(
            split_target("http://goproxy.test:3000/m/@v/list?x=1"),
            Some(("goproxy.test".into(), 3000, "/m/@v/list?x=1".into()))
        );
        assert_eq!(
            split_target("http://[::1]/a"),
            Some(("::1".into(), 80, "/a".into()))
        );
        assert_eq!(split_target("/relative"), None);
        assert_eq!(split_target("https://h/x"), None);
    }
}
