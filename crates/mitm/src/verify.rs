//! Upstream certificate verification that remembers who issued a chain it rejected. The
//! check itself is rustls's WebPKI verifier over the system roots plus `--upstream-ca`,
//! never loosened; this wrapper only keeps the issuer's name of a failed chain, so the user
//! is told "issued by CN=Corp Inspection CA" (a TLS-inspecting proxy on the path) rather
//! than only "unknown issuer".

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, Mutex};

/// One connection's verifier: the shared WebPKI verifier and the slot for the issuer.
#[derive(Debug)]
pub(crate) struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    issuer: Mutex<Option<String>>,
}

impl Recording {
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>) -> Arc<Recording> {
        Arc::new(Recording {
            inner,
            issuer: Mutex::new(None),
        })
    }

    /// The issuer of the chain that failed to verify, if one did.
    pub(crate) fn issuer(&self) -> Option<String> {
        self.issuer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The issuer's distinguished name of the top-most certificate the server sent (the one
/// that should chain to a trusted root), or of the leaf when it sent only that.
pub(crate) fn chain_issuer(
    end_entity: &[u8],
    intermediates: &[CertificateDer<'_>],
) -> Option<String> {
    let top = intermediates.last().map_or(end_entity, |c| c.as_ref());
    let (_, cert) = x509_parser::parse_x509_certificate(top).ok()?;
    let name = cert.issuer().to_string();
    (!name.is_empty()).then_some(name)
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if r.is_err() {
            *self.issuer.lock().unwrap_or_else(|p| p.into_inner()) =
                chain_issuer(end_entity, intermediates);
        }
        r
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
