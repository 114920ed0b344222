//! Several interfaces' packets as one stream in capture-time order.

use super::live::{Batch, Message};
use crate::vocab::{Packet, Ts};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Merges the interfaces' batches into one stream in time order. Each interface is in
/// order by itself; a packet is released once every other live interface has something
/// queued or has told (watermark) that nothing earlier is coming — or, as a last resort
/// for an interface that went silent, once it has waited `HOLD`.
pub struct Merger {
    rx: Receiver<Message>,
    queues: Vec<Queue>,
    pub(crate) ended: Vec<(u32, Option<String>)>,
    current: Option<(Arc<Batch>, usize)>,
}

const HOLD: Duration = Duration::from_millis(1000);

#[derive(Default)]
struct Queue {
    batches: std::collections::VecDeque<(Arc<Batch>, Instant)>,
    cursor: usize,
    done: bool,
    /// Everything this interface captured up to here has been received.
    seen_upto: Ts,
}

/// What `Merger::next` produced.
pub enum Next {
    /// A packet is ready: read it with `Merger::packet`.
    Packet,
    /// Nothing arrived within the wait; do housekeeping and ask again.
    Idle,
    /// Every interface has ended.
    End,
}

impl Merger {
    pub(crate) fn new(rx: Receiver<Message>, interfaces: usize) -> Self {
        Merger {
            rx,
            queues: (0..interfaces).map(|_| Queue::default()).collect(),
            ended: Vec::new(),
            current: None,
        }
    }

    fn accept(&mut self, m: Message) {
        match m {
            // Nothing to release (a capture thread never sends one; it would be read past).
            Message::Batch(b) if b.packets.is_empty() => {}
            Message::Batch(b) => {
                let q = &mut self.queues[b.iface as usize];
                if let Some(last) = b.packets.last() {
                    q.seen_upto = q.seen_upto.max(last.ts);
                }
                q.batches.push_back((b, Instant::now()));
            }
            Message::Watermark { iface, upto } => {
                let q = &mut self.queues[iface as usize];
                q.seen_upto = q.seen_upto.max(upto);
            }
            Message::Ended { iface, error } => {
                self.queues[iface as usize].done = true;
                self.ended.push((iface, error));
            }
        }
    }

    /// Waits up to `wait` for the next packet.
    pub fn next(&mut self, wait: Duration) -> Next {
        let deadline = Instant::now() + wait;
        loop {
            while let Ok(m) = self.rx.try_recv() {
                self.accept(m);
            }
            if let Some(i) = self.pick() {
                let q = &mut self.queues[i];
                let (b, _) = q.batches.front().expect("picked a non-empty queue").clone();
                let idx = q.cursor;
                q.cursor += 1;
                if q.cursor >= b.packets.len() {
                    q.batches.pop_front();
                    q.cursor = 0;
                }
                self.current = Some((b, idx));
                return Next::Packet;
            }
            if self.queues.iter().all(|q| q.done && q.batches.is_empty()) {
                return Next::End;
            }
            let now = Instant::now();
            if now >= deadline {
                return Next::Idle;
            }
            let step = (deadline - now).min(HOLD / 2);
            match self.rx.recv_timeout(step) {
                Ok(m) => self.accept(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    for q in &mut self.queues {
                        q.done = true;
                    }
                }
            }
        }
    }

    /// Every packet stamped up to `t` has been received and released: each interface has
    /// ended, or has sent something stamped later or said (watermark) that nothing earlier
    /// is coming, and nothing is queued. Asked after `next` came back idle.
    pub fn caught_up(&self, t: Ts) -> bool {
        self.queues
            .iter()
            .all(|q| q.batches.is_empty() && (q.done || q.seen_upto >= t))
    }

    /// The queue whose head packet is earliest, if it may be released now.
    fn pick(&self) -> Option<usize> {
        let heads: Vec<(usize, Ts, Instant)> = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(i, q)| {
                let (b, at) = q.batches.front()?;
                Some((i, b.packets[q.cursor].ts, *at))
            })
            .collect();
        let (i, ts, arrived) = *heads.iter().min_by_key(|(_, ts, _)| *ts)?;
        // Every other interface has either something queued (later, since this is the
        // earliest head), or said it has nothing before this packet, or has ended.
        let safe = self
            .queues
            .iter()
            .all(|q| q.done || !q.batches.is_empty() || q.seen_upto >= ts);
        (safe || arrived.elapsed() >= HOLD).then_some(i)
    }

    /// The packet `next` announced.
    pub fn packet(&self) -> Option<Packet<'_>> {
        let (b, i) = self.current.as_ref()?;
        let m = b.packets[*i];
        let data = &b.data[m.offset as usize..(m.offset + m.caplen) as usize];
        Some(Packet {
            ts: m.ts,
            link: b.link,
            iface: b.iface,
            wire_len: m.wire_len,
            data,
        })
    }
}

#[cfg(test)]
mod tests;
