//! The intercepting proxy: accepts clients, reads what they ask of the proxy, and hands
//! CONNECT to the tunnel (TLS intercepted, ALPN mirrored) and absolute-form `http://`
//! requests to the plain forwarder. Everything it learns reaches the decoder through the
//! tap, which never slows a transfer down.

use super::ca::Ca;
use super::head::{self, Head, Reader};
use super::tap::Tap;
use super::tunnel::{self, Target};
use super::upstream::{ConnectError, Trust, UpstreamProxy};
use crate::vocab::event::Upstream;
use crate::vocab::{ConnError, StreamEvent, Ts};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

pub struct Proxy {
    pub ca: Arc<Ca>,
    pub trust: Trust,
    /// `--upstream-proxy`: every server is reached through it.
    pub route: Option<UpstreamProxy>,
    /// `--keylog`: where both legs' TLS secrets go.
    pub keylog: Option<Arc<dyn rustls::KeyLog>>,
    pub tap: Tap,
    next_id: AtomicU64,
}

impl Proxy {
    pub fn new(
        ca: Arc<Ca>,
        trust: Trust,
        route: Option<UpstreamProxy>,
        keylog: Option<Arc<dyn rustls::KeyLog>>,
        tap: Tap,
    ) -> Self {
        Proxy {
            ca,
            trust,
            route,
            keylog,
            tap,
            // Ids far from the capture decoder's own flow ids.
            next_id: AtomicU64::new(1 << 40),
        }
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
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

    async fn handle(&self, client: TcpStream, peer: SocketAddr) {
        let start = Ts::now();
        let mut r = Reader::new(client);
        let Ok(Ok(raw)) = tokio::time::timeout(std::time::Duration::from_secs(30), r.head()).await
        else {
            return;
        };
        match head::parse(&raw) {
            Some(Head::Request { method, target, .. }) if method == "CONNECT" => {
                let (client, rest) = r.into_parts();
                let Some((host, port)) = authority(&target) else {
                    return;
                };
                // A client speaks TLS only after our 200: nothing may be pending here.
                if !rest.is_empty() {
                    return;
                }
                let t = Target {
                    id: self.next_id(),
                    start,
                    peer,
                    host,
                    port,
                };
                tunnel::run(self, client, t).await;
            }
            Some(Head::Request { target, .. }) if target.starts_with("http://") => {
                super::plain::run(self, r, peer, raw).await;
            }
            _ => {
                let body = "gomodwatch --mitm is a proxy: set HTTPS_PROXY (and HTTP_PROXY) to it\n";
                let _ = r
                    .get_mut()
                    .write_all(
                        format!(
                            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            }
        }
    }

    /// The server could not be reached: a connection event with the error and its details.
    pub async fn failed(&self, t: &Target, server: Option<SocketAddr>, e: &ConnectError) {
        let error = match e {
            ConnectError::Refused(_) => ConnError::Refused,
            ConnectError::Tls { .. } | ConnectError::NotPermitted { .. } => ConnError::Tls,
            ConnectError::Proxy { .. } | ConnectError::ProxyUnreachable { .. } => ConnError::Proxy,
            ConnectError::Dns(_) | ConnectError::Connect(_) => ConnError::NoAnswer,
        };
        let mut upstream = Upstream {
            message: Some(e.to_string()),
            proxy: self.route.as_ref().map(|r| r.shown.clone()),
            ..Default::default()
        };
        match e {
            ConnectError::Tls { issuer, .. } => upstream.issuer = issuer.clone(),
            ConnectError::Proxy { status, realm, .. } => {
                upstream.proxy_status = Some(*status);
                upstream.proxy_realm = realm.clone();
            }
            _ => {}
        }
        self.tap
            .control(StreamEvent::Failed {
                id: t.id,
                ts: t.start,
                end: Ts::now(),
                client: t.peer,
                server,
                host: t.host.clone(),
                error,
                message: e.to_string(),
                upstream,
            })
            .await;
    }

    /// The client side's TLS: a certificate for `host` from the local CA, the given ALPN.
    /// (`None` only if the crypto provider rejected its own default versions.)
    pub fn server_config(
        &self,
        host: &str,
        alpn: Vec<Vec<u8>>,
    ) -> Option<Arc<rustls::ServerConfig>> {
        let resolver = Arc::new(HostCert {
            ca: self.ca.clone(),
            host: host.to_string(),
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?;
        let mut cfg = builder.with_no_client_auth().with_cert_resolver(resolver);
        cfg.alpn_protocols = alpn;
        if let Some(k) = &self.keylog {
            cfg.key_log = k.clone();
        }
        Some(Arc::new(cfg))
    }
}

/// `host:port` of a CONNECT (IPv6 in brackets).
pub(super) fn authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port.parse().ok()?))
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
