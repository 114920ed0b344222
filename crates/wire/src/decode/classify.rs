//! Which protocol a connection speaks, from the first bytes of both directions, decided
//! again as more arrive while it is unknown: a first segment of one byte (`0x16`, `G`) is
//! not enough to call TLS or HTTP/1, and a server that speaks first (an HTTP/2 server's
//! SETTINGS before the client's preface) is held until the client's bytes say what it is.

use super::http1;
use super::http2;
use super::tls::Tls;

/// Bytes held per direction while undecided; past this the connection is not a protocol
/// read here.
pub(crate) const MAX_HELD: usize = 16 << 10;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Tls,
    Http2,
    Http1,
    /// Not enough yet: hold the bytes and look again.
    Wait,
    Opaque,
}

/// The HTTP/2 client preface: its first bytes are enough to tell, but fewer may be a start.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Decides from the client's (`up`) and the server's (`down`) first bytes.
pub(crate) fn classify(up: &[u8], down: &[u8]) -> Verdict {
    if !up.is_empty() {
        if Tls::detect(up) {
            return Verdict::Tls;
        }
        if http2::looks_like_preface(up) {
            return Verdict::Http2;
        }
        if http1::looks_like_request(up) {
            return Verdict::Http1;
        }
        if could_still_be(up) && up.len() < MAX_HELD {
            return Verdict::Wait;
        }
    }
    if http1::looks_like_response(down) {
        return Verdict::Http1;
    }
    if up.is_empty() && down.len() < MAX_HELD {
        // The server spoke first: what the client says decides.
        return Verdict::Wait;
    }
    Verdict::Opaque
}

/// Could these first client bytes grow into a TLS record, the preface or a request line?
fn could_still_be(up: &[u8]) -> bool {
    let tls = up.len() < 3 && up[0] == 22 && up.get(1).is_none_or(|v| *v == 3);
    let preface = up.len() < 4 && PREFACE.starts_with(up);
    // A method is at most 7 capitals, then a space.
    let method = up.len() < 8 && up.iter().all(u8::is_ascii_uppercase);
    tls || preface || method
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_first_bytes_wait_for_more() {
        assert_eq!(classify(&[22], &[]), Verdict::Wait);
        assert_eq!(classify(&[22, 3], &[]), Verdict::Wait);
        assert_eq!(classify(&[22, 3, 3], &[]), Verdict::Tls);
        assert_eq!(classify(b"G", &[]), Verdict::Wait);
        assert_eq!(classify(b"GET ", &[]), Verdict::Http1);
        assert_eq!(classify(b"PR", &[]), Verdict::Wait);
        assert_eq!(classify(b"PRI ", &[]), Verdict::Http2);
        assert_eq!(classify(b"SSH-2.0-OpenSSH\r\n", &[]), Verdict::Opaque);
        assert_eq!(classify(&[0], &[]), Verdict::Opaque);
    }

    #[test]
    fn a_server_that_speaks_first_waits_for_the_client() {
        // An HTTP/2 server's SETTINGS frame.
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];
        assert_eq!(classify(&[], &settings), Verdict::Wait);
        assert_eq!(classify(PREFACE, &settings), Verdict::Http2);
        assert_eq!(classify(&[], b"HTTP/1.1 200 OK\r\n"), Verdict::Http1);
        assert_eq!(classify(&[], &vec![0; MAX_HELD]), Verdict::Opaque);
    }
}
