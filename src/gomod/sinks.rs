//! What happens to a response body as it streams past: usually nothing but counting; for
//! the few bodies the module model reads (checksum DB lookups, `.info`, `@v/list`) a
//! capped copy; for `.mod` and `.zip` an `h1:` hash computed on the fly.

use crate::gomod::classify::Kind;
use crate::gomod::h1::ModHasher;
use crate::gomod::hashpool::{HashPool, Job, CHUNK};
use crate::vocab::event::BodyInfo;

/// Text bodies larger than this are not kept (a lookup record is a few hundred bytes).
const TEXT_CAP: usize = 64 << 10;

pub enum BodySink {
    Discard,
    Text {
        buf: Vec<u8>,
        overflow: bool,
    },
    Mod(ModHasher),
    /// Handed to the hashing thread in chunks; the `h1:` comes back as a `hash` event.
    Zip(Box<ZipJob>),
}

pub struct ZipJob {
    id: u64,
    module: Option<String>,
    version: Option<String>,
    buf: Vec<u8>,
    started: bool,
    /// A chunk could not be handed over (live capture, hashing fell behind).
    lost: bool,
}

impl BodySink {
    /// The sink a response to a request of this kind deserves.
    pub fn for_request(req: &crate::gomod::classify::GoRequest, exchange: u64) -> BodySink {
        match req.kind {
            Kind::Zip => BodySink::Zip(Box::new(ZipJob {
                id: exchange,
                module: req.module.clone(),
                version: req.version.clone(),
                buf: Vec::new(),
                started: false,
                lost: false,
            })),
            kind => Self::for_kind(kind),
        }
    }

    /// The sink without zip hashing.
    pub fn for_kind(kind: Kind) -> BodySink {
        match kind {
            Kind::SumdbLookup | Kind::Info | Kind::List | Kind::Latest => BodySink::Text {
                buf: Vec::new(),
                overflow: false,
            },
            Kind::Mod => BodySink::Mod(ModHasher::default()),
            _ => BodySink::Discard,
        }
    }

    pub fn feed(&mut self, data: &[u8], pool: &mut HashPool) {
        match self {
            BodySink::Discard => {}
            BodySink::Text { buf, overflow } => {
                if buf.len() + data.len() > TEXT_CAP {
                    *overflow = true;
                } else if !*overflow {
                    buf.extend_from_slice(data);
                }
            }
            BodySink::Mod(h) => h.update(data),
            BodySink::Zip(z) => z.feed(data, pool),
        }
    }

    /// The body ended; `complete` is false when bytes were missing or it was cut short.
    pub fn finish(self, complete: bool, pool: &mut HashPool) -> BodyInfo {
        match self {
            BodySink::Discard => BodyInfo::default(),
            BodySink::Text { buf, overflow } => BodyInfo {
                text: (complete && !overflow).then(|| String::from_utf8_lossy(&buf).into_owned()),
                ..Default::default()
            },
            BodySink::Mod(h) if complete => BodyInfo {
                h1: Some(h.finish()),
                ..Default::default()
            },
            BodySink::Zip(z) => {
                z.end(complete, pool);
                BodyInfo::default()
            }
            BodySink::Mod(_) => BodyInfo {
                hash_error: Some("the body was not seen in full".into()),
                ..Default::default()
            },
        }
    }
}

impl ZipJob {
    fn feed(&mut self, data: &[u8], pool: &mut HashPool) {
        if self.lost {
            return;
        }
        if !self.started {
            self.started = true;
            self.lost = !pool.send(Job::Start {
                id: self.id,
                module: self.module.take(),
                version: self.version.take(),
            });
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush(pool);
        }
    }

    fn flush(&mut self, pool: &mut HashPool) {
        let bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        if !self.lost && !bytes.is_empty() {
            self.lost = !pool.send(Job::Data { id: self.id, bytes });
        }
    }

    fn end(mut self, complete: bool, pool: &mut HashPool) {
        if !self.started {
            return;
        }
        self.flush(pool);
        // A lost chunk makes the hash meaningless; the End still tells the worker to drop it.
        let complete = complete && !self.lost;
        pool.send(Job::End {
            id: self.id,
            complete,
        });
    }
}
