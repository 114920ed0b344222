//! The proxy's answers to what it will not serve, and the checks behind them: a request
//! for gomodwatch's own address (a loop that would eat descriptors until none is left),
//! bytes that are not a proxy request (garbage, a TLS ClientHello sent straight to the
//! proxy port), a client that never says what it wants, one client too many. Each gets a
//! prompt, one-line answer and a clean close, never a socket held open.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A canned answer: the status line and a one-line text body.
pub(crate) fn answer(status: &str, body: &str, extra_headers: &str) -> String {
    let body = format!("{body}\n");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

pub(crate) const NOT_PROXY: &str = "gomodwatch --mitm is a proxy: send it CONNECT host:port, or absolute-form http:// requests (set HTTPS_PROXY and HTTP_PROXY to http://ADDR)";

/// Why the bytes a client sent are not a request this proxy serves.
pub(crate) fn not_a_request(first: &[u8]) -> Option<&'static str> {
    // A TLS record (22 = handshake): the client was told https://ADDR as its proxy.
    if first.first() == Some(&0x16) {
        return Some("gomodwatch --mitm is an http:// proxy, but a TLS handshake was sent to it: use HTTPS_PROXY=http://ADDR (not https://)");
    }
    let mut hs = [httparse::EMPTY_HEADER; 100];
    match httparse::Request::new(&mut hs).parse(first) {
        Err(_) => Some("not an HTTP request"),
        // Partial, or complete (the caller judges the request itself).
        Ok(_) => None,
    }
}

/// Writes `text`, closes the write side and reads what the client still sends for a
/// moment, so the close is a FIN the client can read the answer before, not a reset that
/// destroys it (closing with unread bytes pending sends RST).
pub(crate) async fn answer_and_close(mut s: TcpStream, text: &str) {
    let linger = Duration::from_secs(1);
    if tokio::time::timeout(linger * 5, s.write_all(text.as_bytes()))
        .await
        .is_err()
    {
        return;
    }
    let _ = s.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut left = 64usize << 10;
        while left > 0 {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(linger, drain).await;
}

/// The same without waiting (from the accept loop, which must not stall on one client):
/// whatever the client already sent is read first so the close is not a reset.
pub(crate) fn answer_now(s: &TcpStream, text: &str) {
    let mut buf = [0u8; 4096];
    for _ in 0..16 {
        match s.try_read(&mut buf) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = s.try_write(text.as_bytes());
}

/// gomodwatch's own listening address, to refuse requests that would come back to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SelfAddr {
    pub(crate) listen: SocketAddr,
}

impl SelfAddr {
    /// Whether connecting to `to` reaches this proxy's listener (any alias of it: the
    /// bound address, loopback or a local interface address when bound to all of them,
    /// and the unspecified address, which a connect sends to the local host).
    pub(crate) fn is_self(&self, to: SocketAddr) -> bool {
        if to.port() != self.listen.port() {
            return false;
        }
        let ip = to.ip().to_canonical();
        let me = self.listen.ip().to_canonical();
        if ip == me || ip.is_unspecified() {
            return true;
        }
        me.is_unspecified() && (ip.is_loopback() || local_ips().contains(&ip))
    }
}

/// Addresses of this machine's interfaces.
fn local_ips() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a list we free below with freeifaddrs; each entry's
    // address is read only when non-null and of the family it says it is.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut cur = head;
        while !cur.is_null() {
            let a = (*cur).ifa_addr;
            if !a.is_null() {
                match i32::from((*a).sa_family) {
                    libc::AF_INET => {
                        let sin = &*(a as *const libc::sockaddr_in);
                        out.push(IpAddr::from(
                            u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                        ));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(a as *const libc::sockaddr_in6);
                        out.push(IpAddr::from(sin6.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(head);
    }
    out
}

/// Whether a client gets the details of a failure: only on this machine. A remote client
/// of a proxy listening beyond loopback must not learn which ports of which hosts refuse
/// connections and which speak something other than TLS (a port scanner's question);
/// the NDJSON keeps the details for the user.
pub(crate) fn detailed_for(peer: SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback()
}

/// The warning for a listener beyond loopback.
pub(crate) fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().to_canonical().is_loopback() {
        return None;
    }
    let who = if addr.ip().is_unspecified() {
        "anyone who can reach this machine".to_string()
    } else {
        format!("anyone who can reach {}", addr.ip())
    };
    Some(format!(
        "warning: the MITM proxy listens on {addr}: {who} on port {port} can use it as a proxy and make this machine connect to any host and port (their answers keep failure details to themselves, which stay in gomodwatch's output); listen on 127.0.0.1 unless that is meant",
        port = addr.port()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn own_address_in_every_alias() {
        let lo = SelfAddr {
            listen: a("127.0.0.1:8080"),
        };
        assert!(lo.is_self(a("127.0.0.1:8080")));
        assert!(lo.is_self(a("0.0.0.0:8080")));
        assert!(lo.is_self(a("[::ffff:127.0.0.1]:8080")));
        assert!(!lo.is_self(a("127.0.0.1:8081")));
        // Bound to 127.0.0.1 only: 127.0.0.2 is not us.
        assert!(!lo.is_self(a("127.0.0.2:8080")));
        let any = SelfAddr {
            listen: a("0.0.0.0:8080"),
        };
        assert!(any.is_self(a("127.0.0.2:8080")));
        assert!(any.is_self(a("[::1]:8080")));
        assert!(!any.is_self(a("192.0.2.1:8080")));
    }

    #[test]
    fn what_is_not_a_request() {
        assert!(not_a_request(b"\x16\x03\x01\x02\x00\x01").is_some());
        assert!(not_a_request(b"\x00\x01garbage\r\n\r\n").is_some());
        assert!(not_a_request(b"hello world\r\n\r\n").is_some());
        assert!(not_a_request(b"CONNECT h:443 HTTP/1.1\r\n").is_none());
        assert!(not_a_request(b"CONN").is_none());
        assert!(not_a_request(b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n").is_none());
    }

    #[test]
    fn exposure() {
        assert!(exposure_warning(a("127.0.0.1:8080")).is_none());
        assert!(exposure_warning(a("[::1]:8080")).is_none());
        let w = exposure_warning(a("0.0.0.0:8080")).unwrap();
        assert!(w.contains("0.0.0.0:8080: anyone who can reach this machine on port 8080"));
    }
}
