//! Whom the proxy trusts upstream: the system's roots plus `--upstream-ca`, verified by
//! rustls's WebPKI verifier (never loosened), and where both legs' TLS secrets go
//! (`--keylog`).

use super::verify::Recording;
use rustls::client::WebPkiServerVerifier;
use std::path::Path;
use std::sync::Arc;

/// Why the proxy cannot set up whom it trusts upstream.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// `--upstream-ca` cannot be read.
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    /// A certificate in it cannot be used.
    #[error("{0}: {1}")]
    Certificate(String, rustls::Error),
    /// It holds no PEM certificate.
    #[error("{0}: no PEM certificate in it")]
    NoCertificate(String),
    /// Nothing to trust at all.
    #[error("no trusted root certificates found (install ca-certificates, or give --upstream-ca)")]
    NoRoots,
    /// rustls refused the roots.
    #[error("{0}")]
    Verifier(rustls::client::VerifierBuilderError),
    /// rustls refused the protocol versions.
    #[error("{0}")]
    Tls(rustls::Error),
}

/// Who the proxy trusts upstream, and where it writes TLS secrets.
pub(crate) struct Trust {
    verifier: Arc<WebPkiServerVerifier>,
    base: Arc<rustls::ClientConfig>,
}

impl Trust {
    pub(crate) fn new(
        extra_ca: Option<&Path>,
        keylog: Option<Arc<dyn rustls::KeyLog>>,
    ) -> Result<Trust, TrustError> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = extra_ca {
            let shown = || path.display().to_string();
            let pem = std::fs::read(path).map_err(|e| TrustError::Read(shown(), e))?;
            let mut n = 0;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
                roots
                    .add(cert)
                    .map_err(|e| TrustError::Certificate(shown(), e))?;
                n += 1;
            }
            if n == 0 {
                return Err(TrustError::NoCertificate(shown()));
            }
        }
        if roots.is_empty() {
            return Err(TrustError::NoRoots);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(TrustError::Verifier)?;
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TrustError::Tls)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        if let Some(k) = keylog {
            cfg.key_log = k;
        }
        Ok(Trust {
            verifier,
            base: Arc::new(cfg),
        })
    }

    /// A client config offering `alpn` (the client's own offer, mirrored), with a
    /// verifier that remembers the issuer of a chain it rejects.
    pub(crate) fn config(&self, alpn: Vec<Vec<u8>>) -> (Arc<rustls::ClientConfig>, Arc<Recording>) {
        let rec = Recording::new(self.verifier.clone());
        let mut cfg = (*self.base).clone();
        cfg.alpn_protocols = alpn;
        cfg.dangerous().set_certificate_verifier(rec.clone());
        (Arc::new(cfg), rec)
    }
}
