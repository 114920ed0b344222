//! The explicit proxy (`--mitm`, `run`): what a client asks of it decides the handling.
//! CONNECT goes to the tunnel (TLS intercepted, ALPN mirrored), an absolute-form
//! `http://` request to the plain forwarder; anything else is answered 400.

use super::accept;
use super::guard;
use super::head::{self, Head};
use super::plain;
use super::proxy::{Proxy, Target};
use super::tunnel;
use gomodwatch_wire::vocab::Ts;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Serves one client of the explicit proxy (the handler `accept::serve` runs for it).
pub(crate) async fn handle(p: Arc<Proxy>, client: TcpStream, peer: SocketAddr) {
    let p = &*p;
    let start = Ts::now();
    let Some((r, raw)) = accept::first_request(p, client).await else {
        return;
    };
    match head::parse(&raw) {
        Some(Head::Request { method, target, .. }) if method == "CONNECT" => {
            let (client, rest) = r.into_parts();
            let Some((host, port)) = authority(&target) else {
                let why = format!("CONNECT needs host:port, not {target:?}");
                return accept::bad_request(p, client, &why).await;
            };
            // A client speaks TLS only after our 200: nothing may be pending here.
            if !rest.is_empty() {
                let why = "bytes were sent after the CONNECT before it was answered";
                return accept::bad_request(p, client, why).await;
            }
            let t = Target {
                id: p.next_id(),
                start,
                peer,
                host,
                port,
            };
            tunnel::run(p, client, t).await;
        }
        Some(Head::Request { target, .. }) if target.starts_with("http://") => {
            plain::run(p, r, peer, raw).await;
        }
        // An origin-form request (a browser pointed at the proxy port), https://, ...
        _ => {
            let (client, _) = r.into_parts();
            accept::bad_request(p, client, guard::NOT_PROXY).await;
        }
    }
}

/// `host:port` of a CONNECT (IPv6 in brackets).
pub(crate) fn authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port.parse().ok()?))
}
