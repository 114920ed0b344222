//! Transparent interception (`--mitm ADDR --transparent`): the OS redirects connections to
//! the proxy (iptables `REDIRECT`), so they arrive without a CONNECT. The server is the
//! connection's original destination, which netfilter keeps for the socket
//! (`SO_ORIGINAL_DST`, `IP6T_SO_ORIGINAL_DST`); its name is the SNI of the ClientHello,
//! read anyway to mirror ALPN. From there it is a CONNECT tunnel like any other.
//!
//! Linux only for now: macOS's pf keeps the original destination behind `DIOCNATLOOK` on
//! /dev/pf, which is not implemented.

use super::proxy::{Proxy, Target};
use super::tunnel;
use super::upstream;
use gomodwatch_wire::vocab::Ts;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Whether transparent mode can work on this platform (`StartError::Transparent` says
/// why not).
pub(crate) fn supported() -> bool {
    cfg!(target_os = "linux")
}

/// Serves one redirected connection (the handler `accept::serve` runs for it, behind the
/// same front door as the explicit proxy: client cap, descriptor budget, backoff).
pub(crate) async fn handle(p: Arc<Proxy>, client: TcpStream, peer: SocketAddr) {
    let p = &*p;
    let start = Ts::now();
    let Ok(dst) = original_dst(&client) else {
        return;
    };
    // Not redirected (someone connected to the proxy's own address): relaying it would
    // connect back to ourselves.
    if client.local_addr().is_ok_and(|l| l == dst) {
        return;
    }
    let t = Target {
        id: p.next_id(),
        start,
        peer,
        host: dst.ip().to_string(),
        port: dst.port(),
    };
    let tcp = match upstream::tcp(&t.host, t.port, p.route.as_ref(), &p.reach).await {
        Ok(c) => c,
        Err((server, e)) => {
            // No CONNECT to answer: the client sees its connection close.
            p.failed(&t, server, &e);
            return;
        }
    };
    tunnel::intercept(p, client, t, tcp, true).await;
}

/// netfilter's `SO_ORIGINAL_DST` (IPv4) and `IP6T_SO_ORIGINAL_DST` (IPv6): both 80.
#[cfg(target_os = "linux")]
const ORIGINAL_DST: libc::c_int = 80;

/// Where the client meant to connect before the REDIRECT.
#[cfg(target_os = "linux")]
pub(crate) fn original_dst(s: &TcpStream) -> std::io::Result<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::os::fd::AsRawFd;
    let fd = s.as_raw_fd();
    let v4 = match s.local_addr()? {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    };
    if v4 {
        // SAFETY: a zeroed sockaddr_in is valid; getsockopt writes at most `len` bytes.
        let mut a: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_IP,
                ORIGINAL_DST,
                (&mut a as *mut libc::sockaddr_in).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
        Ok(SocketAddr::from((ip, u16::from_be(a.sin_port))))
    } else {
        // SAFETY: as above, for sockaddr_in6.
        let mut a: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_IPV6,
                ORIGINAL_DST,
                (&mut a as *mut libc::sockaddr_in6).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
        Ok(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
    }
}

/// Never reached: `--transparent` is refused at start where it is not `supported`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn original_dst(_: &TcpStream) -> std::io::Result<SocketAddr> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "transparent interception needs Linux's SO_ORIGINAL_DST",
    ))
}
