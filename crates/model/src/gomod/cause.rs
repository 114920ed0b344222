//! Why the go command failed (or paid), in the classes its own error lines fall into
//! (docs/GO-ERRORS.md): the `cause` of a problem and of a module. One vocabulary for
//! module verdicts, network problems and the MITM's own failures, so a script (or the
//! matrix test, tests/matrix.rs) can compare gomodwatch's judgement with what the go
//! command said without reading sentences.

use serde::Serialize;

/// A cause class. The names are the NDJSON's (`"cause": "refused"`).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The connection was refused (RST, or ICMP unreachable from the host).
    Refused,
    /// Nothing answered the connection (`dial tcp ...: i/o timeout`).
    Timeout,
    /// A server accepted the request and never answered (the go command has no response
    /// timeout: it waits).
    Hang,
    /// A name did not resolve.
    Dns,
    /// The go command did not trust the server's certificate.
    TlsTrust,
    /// Another TLS failure (an alert, a handshake cut short, plain HTTP on a TLS port).
    Tls,
    /// The connection was reset or closed before the answer was complete.
    Reset,
    /// 404/410 everywhere: the module or version does not exist where it was asked for.
    NotFound,
    /// A 4xx other than 404/410 and the credential statuses.
    #[serde(rename = "http-4xx")]
    Http4xx,
    /// A 5xx.
    #[serde(rename = "http-5xx")]
    Http5xx,
    /// 401/403/407: credentials missing or refused.
    Credentials,
    /// The answer was 200 but not what the go command can use (an HTML page for `.info`,
    /// a zip that is not a module zip).
    InvalidResponse,
    /// A hash differs from go.sum's or the checksum database's.
    Checksum,
    /// An HTTP proxy (HTTPS_PROXY) refused or failed the tunnel.
    Proxy,
    /// The capture (or the MITM's tap) lost what would tell.
    Capture,
    /// The configuration forbids the step (`GOPROXY=off`).
    Disabled,
}

impl Cause {
    /// The class of an HTTP status the go command does not fall back from with `,`.
    pub fn of_status(status: u16) -> Cause {
        match status {
            401 | 403 | 407 => Cause::Credentials,
            404 | 410 => Cause::NotFound,
            500..=599 => Cause::Http5xx,
            _ => Cause::Http4xx,
        }
    }

    /// The class of a transport error as the decoders name it (`refused`, `reset`, ...).
    pub fn of_error(error: &str) -> Option<Cause> {
        Some(match error {
            "refused" => Cause::Refused,
            "reset" | "incomplete" | "truncated" => Cause::Reset,
            "no-response" => Cause::Hang,
            "timeout" | "no-answer" => Cause::Timeout,
            INVALID_RESPONSE => Cause::InvalidResponse,
            "one-way" => Cause::Capture,
            _ => return None,
        })
    }

    /// The NDJSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Refused => "refused",
            Cause::Timeout => "timeout",
            Cause::Hang => "hang",
            Cause::Dns => "dns",
            Cause::TlsTrust => "tls-trust",
            Cause::Tls => "tls",
            Cause::Reset => "reset",
            Cause::NotFound => "not-found",
            Cause::Http4xx => "http-4xx",
            Cause::Http5xx => "http-5xx",
            Cause::Credentials => "credentials",
            Cause::InvalidResponse => "invalid-response",
            Cause::Checksum => "checksum",
            Cause::Proxy => "proxy",
            Cause::Capture => "capture",
            Cause::Disabled => "disabled",
        }
    }
}

/// An attempt's `error` when a 200 answer's body is not what the go command can use.
pub const INVALID_RESPONSE: &str = "invalid-response";

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde names are the ones `as_str` gives (the contract lists them once).
    #[test]
    fn serde_names_match_as_str() {
        for c in [
            Cause::Refused,
            Cause::Timeout,
            Cause::Hang,
            Cause::Dns,
            Cause::TlsTrust,
            Cause::Tls,
            Cause::Reset,
            Cause::NotFound,
            Cause::Http4xx,
            Cause::Http5xx,
            Cause::Credentials,
            Cause::InvalidResponse,
            Cause::Checksum,
            Cause::Proxy,
            Cause::Capture,
            Cause::Disabled,
        ] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Cause::of_status(401), Cause::Credentials);
        assert_eq!(Cause::of_status(502), Cause::Http5xx);
        assert_eq!(Cause::of_status(429), Cause::Http4xx);
    }
}
