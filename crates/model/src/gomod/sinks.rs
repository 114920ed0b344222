//! What happens to a response body as it streams past: for the few bodies the module model
//! reads (checksum DB lookups, `.info`, `@v/list`) a capped copy; for `.mod` an `h1:` hash
//! computed on the fly and a capped copy; for `.zip` chunks handed to the hashing threads.

use super::h1::{HashError, ModHasher};
use super::hashpool::{HashPool, Job, CHUNK};
use gomodwatch_wire::decode::hook::BodySink;
use gomodwatch_wire::vocab::{BodyInfo, GoRequest, Kind};
use std::cell::RefCell;
use std::rc::Rc;

/// Text bodies larger than this are not kept (a lookup record is a few hundred bytes).
const TEXT_CAP: usize = 64 << 10;

/// The hashing threads, shared by every zip being read (the decoder runs on one thread).
pub(crate) type SharedPool = Rc<RefCell<HashPool>>;

/// The sink a 200 answer to a request of this kind deserves (`pool`: hash zips there).
pub(crate) fn for_response(
    go: &GoRequest,
    exchange: u64,
    pool: Option<&SharedPool>,
) -> Option<Box<dyn BodySink>> {
    match go.kind {
        Kind::SumdbLookup | Kind::Info | Kind::List | Kind::Latest | Kind::GoGet => {
            Some(Box::new(Text {
                buf: Vec::new(),
                overflow: false,
            }))
        }
        // A git answer can be a whole pack: its first pkt-lines say what it was
        // (`ls-refs` refs or `fetch` sections, gomod::direct), the rest is only counted.
        Kind::Vcs => Some(Box::new(Head { buf: Vec::new() })),
        Kind::Mod => Some(Box::new(ModSink {
            hasher: ModHasher::default(),
            text: Text {
                buf: Vec::new(),
                overflow: false,
            },
        })),
        Kind::Zip => pool.map(|pool| {
            Box::new(ZipJob {
                id: exchange,
                module: go.module.clone(),
                version: go.version.clone(),
                buf: Vec::new(),
                started: false,
                lost: false,
                pool: pool.clone(),
            }) as Box<dyn BodySink>
        }),
        _ => None,
    }
}

/// The first bytes of a body, whatever its length.
const HEAD_CAP: usize = 4 << 10;

struct Head {
    buf: Vec<u8>,
}

impl BodySink for Head {
    fn feed(&mut self, data: &[u8]) {
        let room = HEAD_CAP.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..room.min(data.len())]);
    }

    fn finish(self: Box<Self>, _complete: bool) -> BodyInfo {
        BodyInfo {
            text: Some(String::from_utf8_lossy(&self.buf).into_owned()),
            ..Default::default()
        }
    }
}

/// A small text body, kept whole.
struct Text {
    buf: Vec<u8>,
    overflow: bool,
}

impl BodySink for Text {
    fn feed(&mut self, data: &[u8]) {
        if self.buf.len() + data.len() > TEXT_CAP {
            self.overflow = true;
        } else if !self.overflow {
            self.buf.extend_from_slice(data);
        }
    }

    fn finish(self: Box<Self>, complete: bool) -> BodyInfo {
        BodyInfo {
            text: (complete && !self.overflow)
                .then(|| String::from_utf8_lossy(&self.buf).into_owned()),
            ..Default::default()
        }
    }
}

/// A `.mod`: its `h1:` computed on the fly, and the text kept (up to the cap) for the
/// module line the go command checks (gomod::validate).
struct ModSink {
    hasher: ModHasher,
    text: Text,
}

impl BodySink for ModSink {
    fn feed(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.text.feed(data);
    }

    fn finish(self: Box<Self>, complete: bool) -> BodyInfo {
        let ModSink { hasher, text } = *self;
        if complete {
            BodyInfo {
                h1: Some(hasher.finish()),
                text: Box::new(text).finish(true).text,
                ..Default::default()
            }
        } else {
            BodyInfo {
                hash_error: Some(HashError::Incomplete.to_string()),
                ..Default::default()
            }
        }
    }
}

/// A zip handed to the hashing thread in chunks; its `h1:` comes back as a `hash` event.
struct ZipJob {
    id: u64,
    module: Option<String>,
    version: Option<String>,
    buf: Vec<u8>,
    started: bool,
    /// A chunk could not be handed over (live capture, hashing fell behind).
    lost: bool,
    pool: SharedPool,
}

impl ZipJob {
    fn flush(&mut self) {
        let bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        if !self.lost && !bytes.is_empty() {
            self.lost = !self
                .pool
                .borrow_mut()
                .send(Job::Data { id: self.id, bytes });
        }
    }
}

impl BodySink for ZipJob {
    fn feed(&mut self, data: &[u8]) {
        if self.lost {
            return;
        }
        if !self.started {
            self.started = true;
            self.lost = !self.pool.borrow_mut().send(Job::Start {
                id: self.id,
                module: self.module.take(),
                version: self.version.take(),
            });
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }

    fn gap(&mut self) {
        // Started even if no byte was fed yet, so the hash event says it was given up.
        self.feed(&[]);
        self.lost = true;
        self.pool.borrow_mut().give_up(self.id);
    }

    fn finish(mut self: Box<Self>, complete: bool) -> BodyInfo {
        if self.started {
            self.flush();
            // A lost chunk makes the hash meaningless; the End still tells the worker to
            // drop it.
            let complete = complete && !self.lost;
            self.pool.borrow_mut().send(Job::End {
                id: self.id,
                complete,
            });
        }
        BodyInfo::default()
    }
}
