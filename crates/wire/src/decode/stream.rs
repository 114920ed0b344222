//! Connections that arrive as plaintext chunks (the MITM proxy) rather than as packets:
//! no TCP to reassemble, the same codecs and events.

use super::app::App;
use super::context::Close;
use super::http2::Http2;
use super::reassembly::Chunk;
use super::shared::{ConnMeta, Core};
use crate::vocab::{
    ConnError, Connection, Dir, Event, Setup, Source, StreamEvent, TlsInfo, Ts, Upstream,
};
use std::net::SocketAddr;

/// A proxied connection being decoded.
struct Stream {
    meta: ConnMeta,
    host: String,
    tls: Option<Box<TlsInfo>>,
    upstream: Option<Box<Upstream>>,
    first: Ts,
    last: Ts,
    bytes: [u64; 2],
    fin: [bool; 2],
    app: App,
}

#[derive(Default)]
pub(super) struct Streams {
    open: ahash::AHashMap<u64, Stream>,
}

impl Streams {
    pub(super) fn event(&mut self, ev: StreamEvent, core: &mut Core) {
        match ev {
            StreamEvent::Open {
                id,
                ts,
                client,
                server,
                host,
                scheme,
                tls,
                setup,
                upstream,
            } => {
                core.stats.connections += 1;
                core.last_ts = core.last_ts.max(ts);
                let mut setup = setup;
                setup.path = mitm_path(setup.connect_ms, upstream.as_deref());
                let meta = ConnMeta {
                    id,
                    client,
                    server,
                    scheme,
                    source: Source::Mitm,
                    setup,
                };
                // The proxy saw what both ends agreed on (ALPN): no need to guess.
                let h2 = tls.as_ref().and_then(|t| t.alpn_selected.as_deref()) == Some("h2");
                let app = if h2 {
                    App::Http2(Box::<Http2>::default())
                } else {
                    App::Http(Box::default())
                };
                self.open.insert(
                    id,
                    Stream {
                        meta,
                        host,
                        tls,
                        upstream,
                        first: ts,
                        last: ts,
                        bytes: [0, 0],
                        fin: [false, false],
                        app,
                    },
                );
            }
            StreamEvent::Data { id, dir, ts, bytes } => {
                let Some(s) = self.open.get_mut(&id) else {
                    return;
                };
                core.stats.bytes += bytes.len() as u64;
                core.last_ts = core.last_ts.max(ts);
                s.last = ts;
                s.bytes[dir as usize] += bytes.len() as u64;
                let mut ctx = core.ctx(&s.meta);
                s.app
                    .chunk(dir, Chunk::Data(ts, &bytes, None), false, &mut ctx);
            }
            StreamEvent::Gap { id, dir, ts, len } => {
                let Some(s) = self.open.get_mut(&id) else {
                    return;
                };
                core.stats.gaps += 1;
                s.bytes[dir as usize] += len;
                let mut ctx = core.ctx(&s.meta);
                s.app.chunk(dir, Chunk::Gap(ts, len), false, &mut ctx);
            }
            StreamEvent::Fin { id, dir, ts } => {
                let Some(s) = self.open.get_mut(&id) else {
                    return;
                };
                s.fin[dir as usize] = true;
                s.last = ts;
                let mut ctx = core.ctx(&s.meta);
                s.app.chunk(dir, Chunk::Fin(ts), false, &mut ctx);
            }
            StreamEvent::End { id, ts, error } => {
                if let Some(mut s) = self.open.remove(&id) {
                    end(&mut s, ts, error, core);
                }
            }
            StreamEvent::Failed {
                id,
                ts,
                end,
                client,
                server,
                host,
                error,
                message,
                upstream,
            } => {
                core.stats.connections += 1;
                core.notices.push(format!("{host}: {message}"));
                let meta = ConnMeta {
                    id,
                    client,
                    server: server.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
                    scheme: "https",
                    source: Source::Mitm,
                    setup: Setup::default(),
                };
                let mut c = Connection::new(&(&meta).into(), ts, end);
                c.error = Some(error);
                c.server_name = Some(host);
                c.protocol = if error == ConnError::Proxy {
                    "none"
                } else {
                    "tls"
                };
                c.upstream = Some(Box::new(upstream));
                core.out.push(Event::Connection(c));
            }
        }
    }

    /// The input is over: streams still open end as truncated.
    pub(super) fn finish(&mut self, ts: Ts, core: &mut Core) {
        let mut open: Vec<u64> = self.open.keys().copied().collect();
        open.sort_unstable();
        for id in open {
            if let Some(mut s) = self.open.remove(&id) {
                end(&mut s, ts, Some(ConnError::Truncated), core);
            }
        }
    }
}

fn end(s: &mut Stream, ts: Ts, error: Option<ConnError>, core: &mut Core) {
    let finished = s.fin[Dir::Up as usize] && s.fin[Dir::Down as usize];
    let mut ctx = core.ctx(&s.meta);
    if !finished {
        let how = if error == Some(ConnError::Reset) {
            Close::Reset
        } else {
            Close::Cut
        };
        s.app.close(how, ts, &mut ctx);
    }
    core.stats.exchanges = core.next_exchange;
    core.count_h2(&s.app);
    let mut c = Connection::new(&(&s.meta).into(), s.first, s.last.max(ts));
    c.tls = s.tls.clone();
    c.connect_ms = s.meta.setup.connect_ms;
    c.bytes_up = s.bytes[Dir::Up as usize];
    c.bytes_down = s.bytes[Dir::Down as usize];
    c.error = if finished { None } else { error };
    c.server_name = Some(s.host.clone());
    c.protocol = s.app.protocol();
    c.upstream = s.upstream.take();
    core.out.push(Event::Connection(c));
}

/// The upstream leg's round trip as the MITM's dial timed it: its connect is one SYN →
/// SYN-ACK, and the MITM is the client, so all of it lies towards the server. When the dial
/// tried several addresses, the one that connected timed it (the whole phase includes the
/// Happy Eyeballs delay).
fn mitm_path(
    connect_ms: Option<f64>,
    upstream: Option<&crate::vocab::Upstream>,
) -> Option<crate::vocab::event::PathRtt> {
    let won = upstream
        .and_then(|u| u.tried.iter().find(|t| t.outcome == "connected"))
        .map(|t| t.ms);
    let ms = won.or(connect_ms)?;
    Some(crate::vocab::event::PathRtt {
        rtt_ms: ms,
        server_leg_ms: ms,
    })
}

#[cfg(test)]
mod tests {
    use super::mitm_path;
    use crate::vocab::event::{Tried, Upstream};

    #[test]
    fn the_mitm_times_the_upstream_leg_by_the_address_that_connected() {
        let p = mitm_path(Some(12.5), None).unwrap();
        assert_eq!((p.rtt_ms, p.server_leg_ms), (12.5, 12.5));
        assert!(mitm_path(None, None).is_none());
        // Happy Eyeballs: the phase holds the 300 ms wait; the IPv4 connect took 4 ms.
        let tried = |address: &str, outcome, start_ms, ms| Tried {
            address: address.parse().unwrap(),
            outcome,
            start_ms,
            ms,
            error: None,
        };
        let up = Upstream {
            tried: vec![
                tried("[2001:db8::1]:443", "abandoned", 0.0, 304.0),
                tried("127.0.0.1:443", "connected", 300.0, 4.0),
            ],
            ..Default::default()
        };
        let p = mitm_path(Some(304.0), Some(&up)).unwrap();
        assert_eq!(p.rtt_ms, 4.0);
    }
}
