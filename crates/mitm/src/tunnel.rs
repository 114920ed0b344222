//! A CONNECT tunnel, intercepted. The order matters for ALPN: the server is reached over
//! TCP first (so a DNS or connect failure is still a 502 to the CONNECT), then the client's
//! ClientHello is read, the server's TLS handshake offers the same SNI and the same ALPN
//! list, and the client's handshake is finished selecting what the server selected (the
//! protocol, and the cipher suite and TLS version when the client offered them). Both
//! ends then speak the protocol they would have spoken without gomodwatch (HTTP/2 for the
//! go command), and the bytes are relayed unchanged while the plaintext is tapped.
//!
//! When the server's TLS fails (a certificate that does not verify), the client has already
//! been told 200: its handshake is finished with HTTP/1.1 and its request is answered with
//! a 502 whose body says what failed and who issued the rejected certificate.
//!
//! Every wait is bounded (`--mitm-timeouts`): connecting, both handshakes, the client's
//! first bytes, the server's first byte of each response and silence on both sides (see
//! `watch`).

use super::guard;
use super::head::Reader;
use super::proxy::{mirrored_suite, Proxy, Target};
use super::upstream::{self, ConnectError};
use super::watch::{self, Fire, Side, Watch};
use gomodwatch_wire::vocab::event::{Setup, TlsInfo};
use gomodwatch_wire::vocab::{StreamEvent, Ts};
use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::LazyConfigAcceptor;

pub(crate) async fn run(p: &Proxy, mut client: TcpStream, t: Target) {
    if let Some(e) = not_permitted(p, &t.host) {
        p.failed(&t, None, &e);
        let body = format!("{e}");
        let _ = client
            .write_all(guard::answer("403 Forbidden", &body, "").as_bytes())
            .await;
        return;
    }
    let tcp = match upstream::tcp(&t.host, t.port, p.route.as_ref(), &p.reach).await {
        Ok(c) => c,
        Err((server, e)) => {
            p.failed(&t, server, &e);
            let _ = client.write_all(bad_gateway(&t, &e).as_bytes()).await;
            return;
        }
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    intercept(p, client, t, tcp, false).await;
}

/// The CA's name constraints leave `host` out: say so rather than mint a leaf the client
/// must reject.
pub(crate) fn not_permitted(p: &Proxy, host: &str) -> Option<ConnectError> {
    (!p.ca.permits(host)).then(|| ConnectError::NotPermitted {
        host: host.to_string(),
        permit: p.ca.permit.clone().unwrap_or_default(),
    })
}

/// The client's TLS, once the server is reached over TCP: read its ClientHello, shake
/// hands with the server offering the same SNI and ALPN, finish the client's handshake
/// with what the server chose, and relay. `host_from_sni`: the client never named the
/// server (transparent mode), so the SNI is its name.
pub(crate) async fn intercept(
    p: &Proxy,
    client: TcpStream,
    mut t: Target,
    tcp: upstream::Tcp,
    host_from_sni: bool,
) {
    // How long a client may take to send its ClientHello or its first request.
    let client_timeout = p.reach.timeouts.head;
    let acceptor = LazyConfigAcceptor::new(Acceptor::default(), upstream::wire(client));
    // Not TLS inside the tunnel (or nothing at all): there is nothing to intercept.
    let Ok(Ok(hs)) = timeout(client_timeout, acceptor).await else {
        return;
    };
    let hello = hs.client_hello();
    let sni = hello.server_name().map(str::to_string);
    let offer: Vec<Vec<u8>> = hello
        .alpn()
        .map(|a| a.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let client_suites = hello.cipher_suites().to_vec();
    if host_from_sni {
        if let Some(n) = &sni {
            t.host = n.clone();
        }
    }
    let name = sni.clone().unwrap_or_else(|| t.host.clone());
    if let Some(e) = not_permitted(p, &name) {
        // The client sees its connection close: no certificate it could accept exists.
        p.failed(&t, Some(tcp.server), &e);
        return;
    }
    let tls_timeout = p.reach.timeouts.tls;
    let up = match upstream::tls(tcp.stream, &name, offer.clone(), &p.trust, tls_timeout).await {
        Ok(up) => up,
        Err(e) => {
            p.failed(&t, Some(tcp.server), &e);
            answer_failure(p, hs, &t, &offer, &e).await;
            return;
        }
    };
    let suite = mirrored_suite(up.suite, &client_suites);
    let Some(cfg) = p.server_config(&t.host, up.alpn.iter().cloned().collect(), suite) else {
        return;
    };
    let down = match timeout(client_timeout, hs.into_stream(cfg)).await {
        Ok(Ok(s)) => s,
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            // Usually: the client does not trust our CA yet.
            let e = ConnectError::Tls {
                message: format!(
                    "the client refused gomodwatch's certificate ({why}): trust the CA (gomodwatch --print-ca)"
                ),
                issuer: None,
            };
            p.failed(&t, Some(tcp.server), &e);
            return;
        }
    };
    let alpn_text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
    let client_alpn = down.get_ref().1.alpn_protocol().map(alpn_text);
    let timing = tcp.timing;
    let h2 = up.alpn.as_deref() == Some(b"h2".as_slice());
    let (up_tap, down_tap, end_tap) = p.tap.open(
        t.id,
        StreamEvent::Open {
            id: t.id,
            ts: t.start,
            client: t.peer,
            server: tcp.server,
            host: t.host.clone(),
            scheme: "https",
            tls: Some(Box::new(TlsInfo {
                sni,
                alpn: offer.iter().map(|a| alpn_text(a)).collect(),
                alpn_selected: up.alpn.as_deref().map(alpn_text),
                alpn_selected_client: client_alpn,
                version: up.version.clone(),
                handshake_ms: Some(up.tls_ms),
                ..Default::default()
            })),
            setup: Setup::phases(timing.dns_ms, timing.connect_ms, Some(up.tls_ms)),
            upstream: timing.detour,
        },
        h2,
    );
    let w = Watch::new(p.reach.timeouts, h2, format!("{}:{}", t.host, t.port));
    let (cr, cw) = tokio::io::split(down);
    let (ur, uw) = tokio::io::split(up.stream);
    let relays = async {
        tokio::join!(
            watch::relay(cr, uw, up_tap, Side::Up, &w),
            watch::relay(ur, cw, down_tap, Side::Down, &w)
        )
    };
    tokio::pin!(relays);
    // When the watch fires, the relays see it, answer and close; they are awaited to the end.
    let (a, b) = tokio::select! {
        r = &mut relays => r,
        _ = w.dog() => relays.await,
    };
    let error = match w.fired() {
        Some(Fire::FirstByte) => Some(gomodwatch_wire::vocab::ConnError::Timeout),
        Some(Fire::Idle) => None,
        None => (a.is_err() || b.is_err()).then_some(gomodwatch_wire::vocab::ConnError::Reset),
    };
    end_tap.end(Ts::now(), error);
}

/// The 502 that answers a CONNECT whose server could not be reached.
/// A client beyond loopback gets neither the details nor a status that tells a refused
/// port from a filtered one (see `guard::detailed_for`).
pub(crate) fn bad_gateway(t: &Target, e: &ConnectError) -> String {
    let target = format!("{}:{}", t.host, t.port);
    if matches!(e, ConnectError::Loop(_)) {
        return guard::answer(e.status(), &format!("gomodwatch: {e}"), "");
    }
    if guard::detailed_for(t.peer) {
        let body = format!("gomodwatch could not reach {target}: {e}");
        return guard::answer(e.status(), &body, "");
    }
    let body =
        format!("gomodwatch could not reach {target} (the details are in gomodwatch's output)");
    guard::answer("502 Bad Gateway", &body, "")
}

/// The server's TLS failed after the client was told 200: finish the client's handshake
/// (HTTP/1.1, which every client offering ALPN here also speaks) and answer its request
/// with the 502 saying why.
async fn answer_failure<IO>(
    p: &Proxy,
    hs: tokio_rustls::StartHandshake<IO>,
    t: &Target,
    offer: &[Vec<u8>],
    e: &ConnectError,
) where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let h1 = offer.is_empty() || offer.iter().any(|a| a == b"http/1.1");
    if !h1 {
        // An HTTP/2-only client: it will see the connection close.
        return;
    }
    let alpn = if offer.is_empty() {
        vec![]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let Some(cfg) = p.server_config(&t.host, alpn, None) else {
        return;
    };
    let limit = p.reach.timeouts.head;
    let Ok(Ok(down)) = timeout(limit, hs.into_stream(cfg)).await else {
        return;
    };
    let mut r = Reader::new(down);
    if let Ok(Ok(_)) = timeout(limit, r.head()).await {
        let s = r.get_mut();
        let _ = s.write_all(bad_gateway(t, e).as_bytes()).await;
        let _ = s.shutdown().await;
    }
}
