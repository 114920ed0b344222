//! Open-stream bookkeeping: which streams are open, what each side has sent,
//! and a bounded memory of recently closed or refused streams so that their
//! late frames (in flight when a RST_STREAM crossed them) are ignored rather
//! than taken for new streams. Closed streams are otherwise forgotten.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::vocab::Dir;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stream {
    /// The client's request header block was seen.
    pub(crate) request: bool,
    /// The server's final (non-1xx) response header block was seen.
    pub(crate) response: bool,
    pub(crate) up_ended: bool,
    pub(crate) down_ended: bool,
}

impl Stream {
    /// Whether `dir`'s next header block is trailers rather than a head.
    pub(crate) fn head_seen(&self, dir: Dir) -> bool {
        match dir {
            Dir::Up => self.request,
            Dir::Down => self.response,
        }
    }
}

pub enum Lookup {
    Open,
    /// Closed, reset or refused recently: ignore its frames.
    Gone,
    /// Never seen.
    New,
}

pub(crate) struct Streams {
    open: HashMap<u32, Stream>,
    max_open: usize,
    gone: HashSet<u32>,
    gone_order: VecDeque<u32>,
}

impl Streams {
    pub(crate) fn new(max_open: usize) -> Streams {
        Streams {
            open: HashMap::new(),
            max_open,
            gone: HashSet::new(),
            gone_order: VecDeque::new(),
        }
    }

    pub(crate) fn lookup(&self, id: u32) -> Lookup {
        if self.open.contains_key(&id) {
            Lookup::Open
        } else if self.gone.contains(&id) {
            Lookup::Gone
        } else {
            Lookup::New
        }
    }

    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut Stream> {
        self.open.get_mut(&id)
    }

    /// Open a stream; `false` (and the id remembered as gone) when the
    /// table is full.
    pub(crate) fn open(&mut self, id: u32) -> bool {
        if self.open.len() >= self.max_open {
            self.forget(id);
            return false;
        }
        self.open.insert(id, Stream::default());
        true
    }

    /// Remove a stream and remember its id for a while (as many ids as
    /// streams may be open: enough for the frames still in flight).
    pub(crate) fn forget(&mut self, id: u32) {
        self.open.remove(&id);
        if self.gone.insert(id) {
            self.gone_order.push_back(id);
        }
        while self.gone_order.len() > self.max_open.max(16) {
            if let Some(old) = self.gone_order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }

    /// Close the stream if both sides have ended it.
    pub(crate) fn close_if_done(&mut self, id: u32) {
        if self
            .open
            .get(&id)
            .is_some_and(|s| s.up_ended && s.down_ended)
        {
            self.forget(id);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    /// Remove every open stream, in id order.
    pub(crate) fn drain_sorted(&mut self) -> Vec<(u32, Stream)> {
        let mut v: Vec<_> = self.open.drain().collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_forgetful() {
        let mut s = Streams::new(2);
        assert!(s.open(1) && s.open(3));
        assert!(!s.open(5));
        assert!(matches!(s.lookup(5), Lookup::Gone));
        s.get_mut(1).unwrap().up_ended = true;
        s.close_if_done(1);
        assert!(matches!(s.lookup(1), Lookup::Open));
        s.get_mut(1).unwrap().down_ended = true;
        s.close_if_done(1);
        assert!(matches!(s.lookup(1), Lookup::Gone));
        for id in (101..1000).step_by(2) {
            s.forget(id);
        }
        assert!(s.gone.len() <= 16 && s.gone_order.len() <= 16);
        assert!(matches!(s.lookup(1), Lookup::New));
        assert_eq!(s.drain_sorted().len(), 1);
    }
}
