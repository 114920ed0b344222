//! The MITM's own failures as problems: an upstream certificate from an issuer this
//! machine does not trust (a TLS-inspecting proxy), an upstream proxy that refused or is
//! down, a name the CA may not certify (`--permit`), a client that refused gomodwatch's
//! certificate, a server that never answered. The go command sees only a 502/504 from
//! gomodwatch; these say why.

use super::go_run::MitmCause;
use super::model::Session;
use super::network::MitmFailure;
use crate::gomod::cause::Cause;
use crate::gomod::verdict::{Problem, Severity};
use gomodwatch_wire::vocab::ConnError;

impl Session {
    pub(super) fn mitm_problems(&self, out: &mut Vec<Problem>) {
        for (host, (n, message)) in &self.network.mitm_fallbacks {
            out.push(
                Problem {
                    severity: Severity::Warning,
                    text: format!(
                        "gomodwatch's MITM reached {host} only after a fallback ({n} \
                         connection{}): {message}; the go command's own dialer does the same, \
                         so each new connection costs that wait — fix the route of the address \
                         that did not answer, or its DNS record",
                        if *n == 1 { "" } else { "s" }
                    ),
                    ..Default::default()
                }
                .caused(Cause::Timeout, "connect", host.clone()),
            );
        }
        for ((host, message), f) in &self.network.mitm_failures {
            let n = if f.count == 1 {
                "once".to_string()
            } else {
                format!("{} times", f.count)
            };
            let (cause, step) = cause_of(f, message);
            out.push(
                Problem {
                    severity: Severity::Error,
                    text: format!(
                        "gomodwatch's MITM could not serve {host} ({n}; the go command got a \
                         502/504 from it): {message}"
                    ),
                    proxy: f.upstream.proxy.clone(),
                    ..Default::default()
                }
                .caused(cause, step, host.clone()),
            );
        }
    }
}

impl Session {
    pub(super) fn mitm_cause(&self, host: &str) -> Option<MitmCause> {
        let bare = super::go_run::without_port;
        self.network
            .mitm_failures
            .iter()
            .find(|((h, _), _)| h == host || bare(h) == bare(host))
            .map(|((h, message), f)| {
                let (cause, step) = cause_of(f, message);
                MitmCause {
                    cause,
                    step,
                    host: h.clone(),
                    message: message.clone(),
                }
            })
    }
}

/// The cause class and step of a MITM failure.
fn cause_of(f: &MitmFailure, message: &str) -> (Cause, &'static str) {
    match f.error {
        ConnError::Proxy if f.upstream.proxy_status == Some(407) => (Cause::Credentials, "tunnel"),
        ConnError::Proxy => (Cause::Proxy, "tunnel"),
        ConnError::Tls if message.starts_with("not intercepting") => (Cause::Tls, "tls"),
        ConnError::Tls => (Cause::TlsTrust, "tls"),
        ConnError::Refused => (Cause::Refused, "connect"),
        ConnError::Timeout => (Cause::Hang, "response"),
        _ if message.starts_with("DNS lookup failed") => (Cause::Dns, "dns"),
        _ => (Cause::Timeout, "connect"),
    }
}
