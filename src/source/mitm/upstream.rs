//! Reaching the real server from the proxy, timed phase by phase (DNS, TCP connect, TLS),
//! with its certificate always verified: against the system's roots, plus any CA the user
//! adds (`--upstream-ca`, for a corporate proxy or a private Athens). There is no switch to
//! turn verification off.

use rustls::pki_types::ServerName;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
        if n == 0 {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
    }
    if roots.is_empty() {
        return Err(
            "no trusted root certificates found (install ca-certificates, or give --upstream-ca)"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The decoder reads HTTP/1.1; ask the server for it.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// How long each phase of reaching the server took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
}

pub struct Connected {
    pub stream: TlsStream<TcpStream>,
    pub server: SocketAddr,
    pub timing: Timing,
    pub version: Option<String>,
    pub alpn: Option<String>,
}

/// Why the server could not be reached, with the phase it failed in.
#[derive(Debug)]
pub enum ConnectError {
    Dns(String),
    Refused(String),
    Connect(String),
    Tls(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Dns(e) => write!(f, "DNS lookup failed: {e}"),
            ConnectError::Refused(e) => write!(f, "connection refused: {e}"),
            ConnectError::Connect(e) => write!(f, "connect failed: {e}"),
            ConnectError::Tls(e) => write!(
                f,
                "TLS handshake failed (certificate verification is never skipped): {e}"
            ),
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_micros() as f64 / 1000.0
}

pub async fn connect(
    host: &str,
    port: u16,
    tls: &TlsConnector,
) -> Result<Connected, (Option<SocketAddr>, ConnectError)> {
    let mut timing = Timing::default();
    let t = Instant::now();
    let addrs: Vec<SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let found = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| (None, ConnectError::Dns(e.to_string())))?
                .collect();
            timing.dns_ms = Some(ms(t));
            found
        }
    };
    let mut last = None;
    let mut tcp = None;
    for addr in &addrs {
        let t = Instant::now();
        match TcpStream::connect(addr).await {
            Ok(s) => {
                timing.connect_ms = Some(ms(t));
                tcp = Some((s, *addr));
                break;
            }
            Err(e) => last = Some((*addr, e)),
        }
    }
    let Some((tcp, server)) = tcp else {
        return Err(match last {
            Some((a, e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                (Some(a), ConnectError::Refused(e.to_string()))
            }
            Some((a, e)) => (Some(a), ConnectError::Connect(e.to_string())),
            None => (None, ConnectError::Dns("no addresses".into())),
        });
    };
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| (Some(server), ConnectError::Tls(e.to_string())))?;
    let t = Instant::now();
    let stream = tls
        .connect(name, tcp)
        .await
        .map_err(|e| (Some(server), ConnectError::Tls(e.to_string())))?;
    timing.tls_ms = Some(ms(t));
    let (_, conn) = stream.get_ref();
    let version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    });
    let alpn = conn
        .alpn_protocol()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    Ok(Connected {
        stream,
        server,
        timing,
        version,
        alpn,
    })
}
