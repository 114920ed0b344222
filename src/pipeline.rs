//! The one loop every mode runs: pull packets from a source, decode them, hand the events
//! to the session and the outputs, and give a front end (the TUI) regular turns. The same
//! code serves a replayed file and a live capture; only the source differs.

use crate::decode::Decoder;
use crate::export::har::HarWriter;
use crate::export::ndjson::NdjsonWriter;
use crate::session::{Session, SourceCounts};
use crate::source::file::CaptureFile;
use crate::source::live::{LiveStats, Merger, Next};
use crate::vocab::event::Event;
use crate::vocab::Packet;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a source had for us.
pub enum Pull<'a> {
    Packet(Packet<'a>),
    /// Plaintext from a proxy (MITM mode).
    Stream(Box<crate::vocab::StreamEvent>),
    /// Nothing right now (live capture is quiet).
    Idle,
    /// No more packets.
    End,
}

pub trait PacketSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, String>;
    /// Packets lost before they reached the decoder.
    fn dropped(&self) -> u64;
    /// Messages worth showing (an interface went away, ...), taken once.
    fn notices(&mut self) -> Vec<String> {
        Vec::new()
    }
}

pub struct FileSource<R: Read> {
    pub file: CaptureFile<R>,
    /// With `--realtime`: play packets at their recorded pace.
    pace: Option<Pace>,
}

struct Pace {
    first_packet: Option<crate::vocab::time::Ts>,
    started: Instant,
    /// A packet read ahead of its time, copied out of the reader's buffer.
    held: Option<Held>,
    /// The held packet was handed out; drop it on the next pull.
    released: bool,
}

struct Held {
    ts: crate::vocab::time::Ts,
    link: crate::vocab::LinkType,
    iface: u32,
    wire_len: u32,
    data: Vec<u8>,
}

impl<R: Read> FileSource<R> {
    pub fn new(file: CaptureFile<R>, realtime: bool) -> Self {
        FileSource {
            file,
            pace: realtime.then(|| Pace {
                first_packet: None,
                started: Instant::now(),
                held: None,
                released: false,
            }),
        }
    }
}

impl<R: Read> PacketSource for FileSource<R> {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, String> {
        let Some(pace) = &mut self.pace else {
            return match self.file.next_packet() {
                Ok(Some(p)) => Ok(Pull::Packet(p)),
                Ok(None) => Ok(Pull::End),
                Err(e) => Err(e.to_string()),
            };
        };
        if pace.released {
            pace.held = None;
            pace.released = false;
        }
        if pace.held.is_none() {
            match self.file.next_packet() {
                Ok(Some(p)) => {
                    pace.held = Some(Held {
                        ts: p.ts,
                        link: p.link,
                        iface: p.iface,
                        wire_len: p.wire_len,
                        data: p.data.to_vec(),
                    })
                }
                Ok(None) => return Ok(Pull::End),
                Err(e) => return Err(e.to_string()),
            }
        }
        let h = pace.held.as_ref().expect("held above");
        let first = *pace.first_packet.get_or_insert(h.ts);
        let due = Duration::from_nanos((h.ts.0 - first.0).max(0) as u64);
        let now = pace.started.elapsed();
        if due > now {
            std::thread::sleep((due - now).min(wait));
            if due > pace.started.elapsed() {
                return Ok(Pull::Idle);
            }
        }
        pace.released = true;
        Ok(Pull::Packet(Packet {
            ts: h.ts,
            link: h.link,
            iface: h.iface,
            wire_len: h.wire_len,
            data: &h.data,
        }))
    }

    fn dropped(&self) -> u64 {
        self.file.dropped()
    }
}

/// A live capture: the merged batches of every interface.
pub struct LiveSource {
    pub merger: Merger,
    pub stats: Arc<LiveStats>,
    pub names: Vec<String>,
}

impl PacketSource for LiveSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, String> {
        Ok(match self.merger.next(wait) {
            Next::Packet => match self.merger.packet() {
                Some(p) => Pull::Packet(p),
                None => Pull::Idle,
            },
            Next::Idle => Pull::Idle,
            Next::End => Pull::End,
        })
    }

    fn dropped(&self) -> u64 {
        self.stats.dropped()
    }

    fn notices(&mut self) -> Vec<String> {
        self.merger
            .ended
            .drain(..)
            .filter_map(|(i, err)| {
                let name = self.names.get(i as usize).cloned().unwrap_or_default();
                err.map(|e| format!("capture on {name} ended: {e}"))
            })
            .collect()
    }
}

/// The MITM proxy as a source.
pub struct MitmSource {
    pub mitm: crate::source::mitm::Mitm,
}

impl PacketSource for MitmSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, String> {
        Ok(match self.mitm.next(wait) {
            Some(ev) => Pull::Stream(Box::new(ev)),
            None => Pull::Idle,
        })
    }

    fn dropped(&self) -> u64 {
        0
    }
}

/// What the front end wants after its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Quit,
}

/// A view that needs regular turns while packets flow (the TUI).
pub trait Frontend {
    /// Called between slices of decoding and while idle. `done` is true once the source
    /// has ended (the front end decides when to quit).
    fn turn(&mut self, session: &Session, status: &Status) -> Control;
    /// Whether decoding should pause (the user pressed `p`).
    fn paused(&self) -> bool {
        false
    }
}

/// Counters for a status bar.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub source: String,
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
    pub gaps: u64,
    pub started: Option<Instant>,
    pub done: bool,
    pub notices: Vec<String>,
}

/// Everything downstream of the decoder.
pub struct Outputs {
    pub session: Session,
    pub json: Option<NdjsonWriter<Box<dyn Write>>>,
    pub har: Option<HarWriter<BufWriter<File>>>,
}

impl Outputs {
    pub fn event(&mut self, ev: Event) -> io::Result<()> {
        self.session.apply(&ev);
        if let (Some(har), Event::Exchange(ex)) = (&mut self.har, &ev) {
            har.entry(ex)?;
        }
        if let Some(out) = &mut self.json {
            out.write(&ev)?;
        }
        Ok(())
    }
}

/// How a run ended.
pub struct Finished {
    /// The source broke (a corrupt file): everything before it was decoded.
    pub damage: Option<String>,
    pub counts: SourceCounts,
    /// The user quit the front end before the source ended.
    pub quit: bool,
}

/// Runs the source to its end (or until `stop`, or the front end quits).
pub fn pump(
    src: &mut dyn PacketSource,
    decoder: &mut Decoder,
    out: &mut Outputs,
    mut ui: Option<&mut dyn Frontend>,
    stop: &AtomicBool,
    status: &mut Status,
) -> io::Result<Finished> {
    const SLICE: Duration = Duration::from_millis(25);
    status.started.get_or_insert_with(Instant::now);
    let mut damage = None;
    let mut quit = false;
    let mut ended = false;
    while !ended {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let paused = ui.as_ref().is_some_and(|u| u.paused());
        let slice_end = Instant::now() + SLICE;
        let mut n = 0u32;
        while !paused && !ended {
            match src.pull(SLICE) {
                Ok(Pull::Packet(p)) => decoder.packet(&p),
                Ok(Pull::Stream(ev)) => decoder.stream(*ev),
                Ok(Pull::Idle) => break,
                Ok(Pull::End) => {
                    ended = true;
                    break;
                }
                Err(e) => {
                    damage = Some(e);
                    ended = true;
                    break;
                }
            }
            for ev in decoder.drain() {
                out.event(ev)?;
            }
            n += 1;
            // Check the clock every 64 packets only: it is cheap, not free.
            if n % 64 == 0 && ui.is_some() && Instant::now() >= slice_end {
                break;
            }
        }
        if ended {
            decoder.finish();
            for ev in decoder.drain() {
                out.event(ev)?;
            }
        }
        let st = decoder.stats();
        status.packets = st.packets;
        status.bytes = st.bytes;
        status.gaps = st.gaps;
        status.dropped = src.dropped();
        out.session.lost = status.dropped + status.gaps;
        status.notices.extend(src.notices());
        status.notices.extend(decoder.notices());
        if ui.is_none() {
            for n in status.notices.drain(..) {
                eprintln!("gomodwatch: {n}");
            }
        }
        if let Some(u) = ui.as_deref_mut() {
            status.done = ended;
            if u.turn(&out.session, status) == Control::Quit {
                quit = true;
                break;
            }
            if paused {
                std::thread::sleep(SLICE);
            }
        }
    }
    if !ended {
        decoder.finish();
        for ev in decoder.drain() {
            out.event(ev)?;
        }
    }
    // A front end keeps showing the final state until the user quits.
    if let (Some(u), false) = (ui, quit) {
        status.done = true;
        while u.turn(&out.session, status) == Control::Continue {
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    let st = decoder.stats();
    out.session.lost = src.dropped() + st.gaps;
    Ok(Finished {
        damage,
        counts: SourceCounts {
            packets: st.packets,
            bytes: st.bytes,
            dropped: src.dropped(),
            gaps: st.gaps,
        },
        quit,
    })
}
