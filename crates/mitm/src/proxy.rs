//! The intercepting proxy's state, shared by every client's task (`Proxy`): the CA and
//! the TLS settings of both legs, the upstream route, the tap, the bounds; what a client
//! asked to reach (`Target`), and how a failure to reach it is told. Clients come in
//! through `accept.rs`, which hands each to a handler: `explicit.rs` (CONNECT and
//! absolute-form `http://` requests) or `transparent.rs` (redirected connections).
//! Everything the proxy learns reaches the decoder through the tap, which never slows a
//! transfer down.

use super::ca::Ca;
use super::limits::GuardStats;
use super::tap::Tap;
use super::trust::Trust;
use super::upstream::{ConnectError, Phase, Reach, UpstreamProxy};
use gomodwatch_wire::vocab::event::Upstream;
use gomodwatch_wire::vocab::{ConnError, StreamEvent, Ts};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a CONNECT asked for.
pub(crate) struct Target {
    pub(crate) id: u64,
    pub(crate) start: Ts,
    pub(crate) peer: SocketAddr,
    pub(crate) host: String,
    pub(crate) port: u16,
}

pub(crate) struct Proxy {
    pub(crate) ca: Arc<Ca>,
    pub(crate) trust: Trust,
    /// `--upstream-proxy`: every server is reached through it.
    pub(crate) route: Option<UpstreamProxy>,
    /// `--keylog`: where both legs' TLS secrets go.
    pub(crate) keylog: Option<Arc<dyn rustls::KeyLog>>,
    pub(crate) tap: Tap,
    /// Timeouts, and our own address (never connected to).
    pub(crate) reach: Reach,
    /// Clients served at once at most.
    pub(crate) max_clients: usize,
    /// What was turned away (see `accept` and `guard`).
    pub(crate) guard: Arc<GuardStats>,
    next_id: AtomicU64,
}

/// The limits a proxy runs within (`--mitm-timeouts`, `--mitm-max-clients`).
pub(crate) struct Bounds {
    pub(crate) reach: Reach,
    pub(crate) max_clients: usize,
    pub(crate) guard: Arc<GuardStats>,
}

impl Proxy {
    pub(crate) fn new(
        ca: Arc<Ca>,
        trust: Trust,
        route: Option<UpstreamProxy>,
        keylog: Option<Arc<dyn rustls::KeyLog>>,
        tap: Tap,
        bounds: Bounds,
    ) -> Self {
        Proxy {
            ca,
            trust,
            route,
            keylog,
            tap,
            reach: bounds.reach,
            max_clients: bounds.max_clients,
            guard: bounds.guard,
            // Ids far from the capture decoder's own flow ids.
            next_id: AtomicU64::new(1 << 40),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The server could not be reached: a connection event with the error and its details.
    pub(crate) fn failed(&self, t: &Target, server: Option<SocketAddr>, e: &ConnectError) {
        let error = match e {
            ConnectError::Refused(_) => ConnError::Refused,
            ConnectError::Tls { .. } | ConnectError::NotPermitted { .. } => ConnError::Tls,
            ConnectError::Proxy { .. } | ConnectError::ProxyUnreachable { .. } => ConnError::Proxy,
            ConnectError::Dns(_) | ConnectError::Connect(_) => ConnError::NoAnswer,
            ConnectError::Timeout { phase, .. } => match phase {
                Phase::Dns | Phase::Connect => ConnError::NoAnswer,
                Phase::Tls => ConnError::Tls,
                Phase::FirstByte => ConnError::Timeout,
            },
            ConnectError::Loop(_) => {
                GuardStats::bump(&self.guard.loops);
                ConnError::Refused
            }
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
        self.tap.failed(StreamEvent::Failed {
            id: t.id,
            ts: t.start,
            end: Ts::now(),
            client: t.peer,
            server,
            host: t.host.clone(),
            error,
            message: e.to_string(),
            upstream,
        });
    }

    /// The client side's TLS: a certificate for `host` from the local CA, the given ALPN,
    /// and, when `suite` is given (the server's choice, which the client offered), that
    /// cipher suite and its protocol version. Mirroring the suite keeps the client on what
    /// it would have negotiated with the server: without it rustls follows the client's
    /// order, and OpenSSL or Go clients put AES-256-GCM first where a Go server picks
    /// AES-128-GCM, so the client and gomodwatch would both pay ~40 % more AES per byte than
    /// the direct path does. (`None` only if the crypto provider rejected the versions.)
    pub(crate) fn server_config(
        &self,
        host: &str,
        alpn: Vec<Vec<u8>>,
        suite: Option<rustls::SupportedCipherSuite>,
    ) -> Option<Arc<rustls::ServerConfig>> {
        let resolver = Arc::new(HostCert {
            ca: self.ca.clone(),
            host: host.to_string(),
        });
        let mut provider = rustls::crypto::ring::default_provider();
        let mirrored_version;
        let versions = match suite {
            Some(s) => {
                provider.cipher_suites.retain(|c| c.suite() != s.suite());
                provider.cipher_suites.insert(0, s);
                mirrored_version = [s.version()];
                &mirrored_version[..]
            }
            None => rustls::DEFAULT_VERSIONS,
        };
        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .ok()?;
        let mut cfg = builder.with_no_client_auth().with_cert_resolver(resolver);
        cfg.alpn_protocols = alpn;
        // Our order (the server's suite first), not the client's.
        cfg.ignore_client_order = suite.is_some();
        if let Some(k) = &self.keylog {
            cfg.key_log = k.clone();
        }
        Some(Arc::new(cfg))
    }
}

/// The server's cipher suite, when the client leg can negotiate it too: the client offered
/// it, and our certificate can sign for it. The CA's leaves are ECDSA, which a TLS 1.2
/// ECDHE_RSA suite cannot use: then its ECDSA twin (same key exchange, same bulk cipher and
/// hash) if the client offered that, so the client still encrypts with the cipher the server
/// chose. `None` leaves the choice to the client's order, as without mirroring (restricting
/// the client to a suite it did not offer would fail the handshake).
pub(crate) fn mirrored_suite(
    server: Option<rustls::SupportedCipherSuite>,
    client_offer: &[rustls::CipherSuite],
) -> Option<rustls::SupportedCipherSuite> {
    let server = server?;
    let servable = |s: &rustls::SupportedCipherSuite| {
        client_offer.contains(&s.suite())
            && s.usable_for_signature_algorithm(super::ca::LEAF_SIGNATURE)
    };
    if servable(&server) {
        return Some(server);
    }
    let twin = ecdsa_twin(server.suite())?;
    rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .find(|s| s.suite() == twin)
        .copied()
        .filter(servable)
}

/// The ECDHE_ECDSA suite that differs from a TLS 1.2 ECDHE_RSA one only in how the server
/// signs.
fn ecdsa_twin(suite: rustls::CipherSuite) -> Option<rustls::CipherSuite> {
    use rustls::CipherSuite as C;
    Some(match suite {
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => {
            C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::ring::cipher_suite::{
        TLS13_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    };

    #[test]
    fn the_servers_suite_is_mirrored_only_when_the_client_can_have_it() {
        let offer = [
            TLS13_AES_128_GCM_SHA256.suite(),
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.suite(),
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.suite(),
        ];
        let tls13 = Some(TLS13_AES_128_GCM_SHA256);
        assert_eq!(mirrored_suite(tls13, &offer), tls13);
        assert_eq!(mirrored_suite(tls13, &offer[1..]), None, "not offered");
        let ecdsa = Some(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        assert_eq!(mirrored_suite(ecdsa, &offer), ecdsa);
        // Our ECDSA leaf cannot serve an RSA suite: its ECDSA twin, when offered.
        let rsa = Some(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
        assert_eq!(mirrored_suite(rsa, &offer), ecdsa);
        let without_twin = [offer[0], offer[2]];
        assert_eq!(mirrored_suite(rsa, &without_twin), None);
        let rsa256 = Some(TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
        assert_eq!(mirrored_suite(rsa256, &offer), None, "twin not offered");
        let offer256 = [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.suite()];
        assert_eq!(
            mirrored_suite(rsa256, &offer256),
            Some(TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
        );
        assert_eq!(mirrored_suite(None, &offer), None);
    }
}
