//! Connections that arrive as plaintext chunks (the MITM proxy) rather than as packets:
//! no TCP to reassemble, the same codecs and events.

use super::app::{App, Close};
use super::reassembly::Chunk;
use super::{ConnMeta, Core};
use crate::vocab::{ConnError, Connection, Dir, Event, Setup, Source, StreamEvent, TlsInfo, Ts};
use std::net::SocketAddr;

/// A proxied connection being decoded.
struct Stream {
    meta: ConnMeta,
    host: String,
    tls: Box<TlsInfo>,
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
                tls,
                setup,
            } => {
                core.stats.connections += 1;
                core.last_ts = core.last_ts.max(ts);
                let meta = ConnMeta {
                    id,
                    client,
                    server,
                    scheme: "https",
                    source: Source::Mitm,
                    setup,
                };
                self.open.insert(
                    id,
                    Stream {
                        meta,
                        host,
                        tls,
                        first: ts,
                        last: ts,
                        bytes: [0, 0],
                        fin: [false, false],
                        app: App::Http(Box::default()),
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
                c.protocol = "tls";
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
    let mut c = Connection::new(&(&s.meta).into(), s.first, s.last.max(ts));
    c.tls = Some(s.tls.clone());
    c.connect_ms = s.meta.setup.connect_ms;
    c.bytes_up = s.bytes[Dir::Up as usize];
    c.bytes_down = s.bytes[Dir::Down as usize];
    c.error = if finished { None } else { error };
    c.server_name = Some(s.host.clone());
    c.protocol = "http1";
    core.out.push(Event::Connection(c));
}
