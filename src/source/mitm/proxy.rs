//! The intercepting proxy: accepts CONNECT, reaches the real server (verified), presents a
//! certificate from the local CA to the client, then relays bytes both ways while handing
//! a copy of every plaintext chunk, stamped on arrival, to the decoder. The decoder is the
//! same one that reads captures, so MITM traffic becomes the same events.

use super::ca::Ca;
use super::upstream::{self, ConnectError};
use crate::vocab::event::{ConnError, Setup, TlsInfo};
use crate::vocab::time::Ts;
use crate::vocab::Dir;
use crate::vocab::StreamEvent;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::Sender;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A CONNECT request head larger than this is not a proxy request.
const MAX_HEAD: usize = 16 << 10;

pub struct Proxy {
    pub ca: Arc<Ca>,
    pub upstream: TlsConnector,
    pub events: Sender<StreamEvent>,
    next_id: AtomicU64,
}

impl Proxy {
    pub fn new(
        ca: Arc<Ca>,
        upstream: Arc<rustls::ClientConfig>,
        events: Sender<StreamEvent>,
    ) -> Self {
        Proxy {
            ca,
            upstream: TlsConnector::from(upstream),
            events,
            // Ids far from the capture decoder's own flow ids.
            next_id: AtomicU64::new(1 << 40),
        }
    }

    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        // Accept errors are mostly transient (EMFILE/ENFILE when out of descriptors,
        // ECONNABORTED): back off instead of retrying in a tight loop that burns a core.
        let mut backoff = std::time::Duration::from_millis(5);
        loop {
            let (client, peer) = match listener.accept().await {
                Ok(c) => {
                    backoff = std::time::Duration::from_millis(5);
                    c
                }
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(1));
                    continue;
                }
            };
            let _ = client.set_nodelay(true);
            let me = self.clone();
            tokio::spawn(async move { me.handle(client, peer).await });
        }
    }

    async fn send(&self, ev: StreamEvent) {
        let _ = self.events.send(ev).await;
    }

    async fn handle(&self, mut client: TcpStream, peer: SocketAddr) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let start = Ts::now();
        let Some((host, port)) = read_connect(&mut client).await else {
            return;
        };
        let up = match upstream::connect(&host, port, &self.upstream).await {
            Ok(c) => c,
            Err((server, e)) => {
                let error = match e {
                    ConnectError::Refused(_) => ConnError::Refused,
                    ConnectError::Tls(_) => ConnError::Tls,
                    _ => ConnError::NoAnswer,
                };
                let body = format!("gomodwatch could not reach {host}:{port}: {e}\n");
                let _ = client
                    .write_all(
                        format!(
                            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
                self.send(StreamEvent::Failed {
                    id,
                    ts: start,
                    end: Ts::now(),
                    client: peer,
                    server,
                    host,
                    error,
                    message: e.to_string(),
                })
                .await;
                return;
            }
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        let resolver = Arc::new(HostCert {
            ca: self.ca.clone(),
            host: host.clone(),
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let Ok(builder) = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        else {
            return;
        };
        let mut cfg = builder.with_no_client_auth().with_cert_resolver(resolver);
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let downstream = match TlsAcceptor::from(Arc::new(cfg)).accept(client).await {
            Ok(s) => s,
            Err(e) => {
                // Usually: the client does not trust our CA yet.
                self.send(StreamEvent::Failed {
                    id,
                    ts: start,
                    end: Ts::now(),
                    client: peer,
                    server: Some(up.server),
                    host,
                    error: ConnError::Tls,
                    message: format!(
                        "the client refused gomodwatch's certificate ({e}): trust the CA (gomodwatch --print-ca)"
                    ),
                })
                .await;
                return;
            }
        };
        let t = up.timing;
        self.send(StreamEvent::Open {
            id,
            ts: start,
            client: peer,
            server: up.server,
            host: host.clone(),
            tls: Box::new(TlsInfo {
                sni: Some(host),
                alpn: vec!["http/1.1".into()],
                alpn_selected: up.alpn.clone(),
                version: up.version.clone(),
                handshake_ms: t.tls_ms,
                ..Default::default()
            }),
            setup: Setup {
                dns_ms: t.dns_ms,
                connect_ms: t.connect_ms,
                tls_ms: t.tls_ms,
            },
        })
        .await;
        let (cr, cw) = tokio::io::split(downstream);
        let (ur, uw) = tokio::io::split(up.stream);
        let up_task = relay(cr, uw, Dir::Up, id, self.events.clone());
        let down_task = relay(ur, cw, Dir::Down, id, self.events.clone());
        let (a, b) = tokio::join!(up_task, down_task);
        let error = match (a, b) {
            (Ok(()), Ok(())) => None,
            _ => Some(ConnError::Reset),
        };
        self.send(StreamEvent::End {
            id,
            ts: Ts::now(),
            error,
        })
        .await;
    }
}

/// Copies one direction, handing every chunk to the decoder as it passes.
async fn relay<R, W>(
    mut from: R,
    mut to: W,
    dir: Dir,
    id: u64,
    events: Sender<StreamEvent>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(n) => n,
            // Most TLS peers (the go command included) close without close_notify: that
            // is an end of stream, not a reset.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => {
                let _ = to.shutdown().await;
                return Err(e);
            }
        };
        let ts = Ts::now();
        if n == 0 {
            let _ = to.shutdown().await;
            let _ = events.send(StreamEvent::Fin { id, dir, ts }).await;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        // Back-pressure: if the decoder is behind, the relay waits rather than lose bytes.
        let _ = events
            .send(StreamEvent::Data {
                id,
                dir,
                ts,
                bytes: buf[..n].to_vec(),
            })
            .await;
    }
}

/// Reads `CONNECT host:port HTTP/1.1` and its headers. Anything else gets a short answer
/// saying what this proxy is for.
async fn read_connect(client: &mut TcpStream) -> Option<(String, u16)> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        let n = client.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if memchr::memmem::find(&head, b"\r\n\r\n").is_some() {
            break;
        }
        if head.len() > MAX_HEAD {
            return None;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(&head).ok()?;
    let target = req.path.unwrap_or("");
    if !parsed.is_complete() || req.method != Some("CONNECT") {
        let body = "gomodwatch --mitm intercepts HTTPS (set HTTPS_PROXY); plain http:// traffic is fully visible to capture mode (gomodwatch -i IFACE)\n";
        let _ = client
            .write_all(
                format!(
                    "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        return None;
    }
    let (host, port) = target.rsplit_once(':')?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Some((host, port.parse().ok()?))
}

/// Presents the CA-signed certificate for the host the client asked for (its SNI, else the
/// CONNECT target, which covers IP addresses).
#[derive(Debug)]
struct HostCert {
    ca: Arc<Ca>,
    host: String,
}

impl ResolvesServerCert for HostCert {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name().unwrap_or(&self.host);
        self.ca.leaf(name).ok()
    }
}
