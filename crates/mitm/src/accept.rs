//! The front door: accepting clients within the cap and the descriptor budget, and
//! reading what each asks of the proxy within the head timeout. A client past the cap is
//! answered 503 at once; one that sends what is not a proxy request is answered 400 as
//! soon as that is clear (the first bytes of a TLS ClientHello, a byte no request line
//! has), not after the head timeout; one that says nothing gets 408 when it runs out.

use super::guard::{self, answer, answer_and_close, answer_now};
use super::head::Reader;
use super::limits::{GuardStats, Shown};
use super::proxy::Proxy;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Accepts clients for as long as the proxy runs; each one admitted is served by
/// `handle` on a task of its own (`explicit::handle`, `transparent::handle`).
pub(crate) async fn serve<H, F>(p: Arc<Proxy>, listener: TcpListener, handle: H)
where
    H: Fn(Arc<Proxy>, TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let cap = Arc::new(Semaphore::new(p.max_clients));
    let mut spare = spare();
    // Accept errors are mostly transient (EMFILE/ENFILE when out of descriptors,
    // ECONNABORTED): back off instead of retrying in a tight loop that burns a core.
    let mut backoff = Duration::from_millis(5);
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(c) => {
                backoff = Duration::from_millis(5);
                c
            }
            Err(e) => {
                GuardStats::bump(&p.guard.accept_errors);
                if out_of_descriptors(&e) && spare.take().is_some() {
                    // The spare descriptor is free for a moment: take the client that is
                    // waiting and tell it, rather than leave it hanging in the backlog.
                    let waiting =
                        tokio::time::timeout(Duration::from_millis(20), listener.accept());
                    if let Ok(Ok((c, _))) = waiting.await {
                        GuardStats::bump(&p.guard.refused);
                        answer_now(&c, &busy("no file descriptor is left"));
                    }
                    spare = self::spare();
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = cap.clone().try_acquire_owned() else {
            GuardStats::bump(&p.guard.refused);
            let why = format!(
                "{} clients are being served, the most --mitm-max-clients allows",
                p.max_clients
            );
            answer_now(&client, &busy(&why));
            continue;
        };
        let _ = client.set_nodelay(true);
        let served = handle(p.clone(), client, peer);
        let guard = p.guard.clone();
        GuardStats::bump(&guard.serving);
        tokio::spawn(async move {
            served.await;
            guard
                .serving
                .fetch_sub(1, std::sync::atomic::Ordering::Release);
            drop(permit);
        });
    }
}

/// A descriptor held in reserve, given up when accept() runs out of them.
fn spare() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

fn busy(why: &str) -> String {
    answer(
        "503 Service Unavailable",
        &format!("gomodwatch: too busy ({why}); try again"),
        "Retry-After: 1\r\n",
    )
}

/// The client's first request head, or `None` when it was answered (400, 408) or left.
pub(crate) async fn first_request(
    p: &Proxy,
    client: TcpStream,
) -> Option<(Reader<TcpStream>, Vec<u8>)> {
    let mut r = Reader::new(client);
    let limit = p.reach.timeouts.head;
    let read = tokio::time::timeout(limit, r.head_checked(guard::not_a_request)).await;
    let refusal = match read {
        Ok(Ok(raw)) => return Some((r, raw)),
        // Gone before a request began: nothing to answer.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
        Ok(Err(e)) => {
            GuardStats::bump(&p.guard.bad_requests);
            let text = if e.kind() == std::io::ErrorKind::InvalidData {
                e.to_string()
            } else {
                format!("{}: {e}", guard::NOT_PROXY)
            };
            answer("400 Bad Request", &text, "")
        }
        Err(_) => {
            GuardStats::bump(&p.guard.head_timeouts);
            let text = format!(
                "gomodwatch: no proxy request arrived within {} (--mitm-timeouts head=)",
                Shown(limit)
            );
            answer("408 Request Timeout", &text, "")
        }
    };
    let (client, _) = r.into_parts();
    answer_and_close(client, &refusal).await;
    None
}

/// Answers 400 (a request this proxy does not serve) and closes.
pub(crate) async fn bad_request(p: &Proxy, client: TcpStream, why: &str) {
    GuardStats::bump(&p.guard.bad_requests);
    answer_and_close(client, &answer("400 Bad Request", why, "")).await;
}
