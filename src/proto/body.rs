//! What happens to a response body as it streams past: usually nothing but counting; for
//! the few bodies the module model reads (checksum DB lookups, `.info`, `@v/list`) a
//! capped copy; for `.mod` and `.zip` an `h1:` hash computed on the fly.

use crate::event::BodyInfo;
use crate::gomod::classify::Kind;
use crate::gomod::h1::{ModHasher, ZipHasher};

/// Text bodies larger than this are not kept (a lookup record is a few hundred bytes).
const TEXT_CAP: usize = 64 << 10;

pub enum BodySink {
    Discard,
    Text { buf: Vec<u8>, overflow: bool },
    Mod(ModHasher),
    Zip(Box<ZipHasher>),
}

impl BodySink {
    /// The sink a response to a request of this kind deserves.
    pub fn for_kind(kind: Kind) -> BodySink {
        match kind {
            Kind::SumdbLookup | Kind::Info | Kind::List | Kind::Latest => BodySink::Text {
                buf: Vec::new(),
                overflow: false,
            },
            Kind::Mod => BodySink::Mod(ModHasher::default()),
            Kind::Zip => BodySink::Zip(Box::default()),
            _ => BodySink::Discard,
        }
    }

    pub fn feed(&mut self, data: &[u8]) {
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
            BodySink::Zip(z) => z.update(data),
        }
    }

    /// The body ended; `complete` is false when bytes were missing or it was cut short.
    pub fn finish(self, complete: bool) -> BodyInfo {
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
            BodySink::Zip(z) if complete => match z.finish() {
                Ok(h1) => BodyInfo {
                    h1: Some(h1),
                    ..Default::default()
                },
                Err(e) => BodyInfo {
                    hash_error: Some(e),
                    ..Default::default()
                },
            },
            BodySink::Mod(_) | BodySink::Zip(_) => BodyInfo {
                hash_error: Some("the body was not seen in full".into()),
                ..Default::default()
            },
        }
    }
}
