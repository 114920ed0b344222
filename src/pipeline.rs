//! The one loop every mode runs: pull packets from a source, decode them, apply the events
//! to the session, hand them to every sink (the views), and give front ends regular turns.
//! The same code serves a replayed file, a live capture and the MITM proxy; only the
//! source differs.

use crate::decode::DecodeConfig;
use crate::decode::Decoder;
use crate::gomod::hook::{GoHook, GoHookConfig};
use crate::present::LimitCounts;
use crate::session::sink::Ending;
use crate::session::{Control, Session, Sink};
use crate::source::{PacketSource, Pull};
use gomodwatch_wire::file::FileError;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a slice of decoding runs before the front end gets a turn.
const SLICE: Duration = Duration::from_millis(25);

/// A decoder whose exchanges are understood as Go module traffic.
pub fn go_decoder(config: DecodeConfig, hook: GoHookConfig) -> Decoder {
    Decoder::new(config, Box::new(GoHook::new(hook)))
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// The source broke (a corrupt file): everything before it was decoded.
    pub damage: Option<FileError>,
}

/// Everything downstream of the decoder: the model and the views.
pub struct Outputs {
    pub session: Session,
    pub sinks: Vec<Box<dyn Sink>>,
}

impl Outputs {
    fn event(&mut self, ev: crate::vocab::Event) -> io::Result<()> {
        self.session.apply(&ev);
        for s in &mut self.sinks {
            s.event(&ev, &self.session)?;
        }
        Ok(())
    }

    fn drain(&mut self, decoder: &mut Decoder) -> io::Result<()> {
        for ev in decoder.drain() {
            self.event(ev)?;
        }
        Ok(())
    }

    fn paused(&self) -> bool {
        self.sinks.iter().any(|s| s.paused())
    }

    fn interactive(&self) -> bool {
        self.sinks.iter().any(|s| s.interactive())
    }

    /// Every sink's turn; `Quit` if any wants to stop.
    fn turn(&mut self) -> Control {
        let mut control = Control::Continue;
        for s in &mut self.sinks {
            if s.turn(&self.session) == Control::Quit {
                control = Control::Quit;
            }
        }
        control
    }

    /// Brings the source's counters and messages into the session. Without a front end
    /// to show them, messages go to stderr at once.
    fn source_status(&mut self, src: &mut dyn PacketSource, decoder: &mut Decoder) {
        let interactive = self.interactive();
        let st = decoder.stats();
        let s = &mut self.session.source;
        s.packets = st.packets;
        s.bytes = st.bytes;
        s.gaps = st.gaps;
        s.snaplen_bytes = st.snaplen_bytes;
        s.malformed = st.malformed;
        s.limits = LimitCounts {
            flows_evicted: st.flows_evicted,
            requests_dropped: st.requests_dropped,
            h2_streams_dropped: st.h2_dropped,
            h2_undecodable: st.h2_broken,
        };
        s.dropped = src.dropped();
        s.skipped_bytes = src.skipped_bytes();
        s.skipped_packets = src.skipped_packets();
        s.mitm_refused = src.refused();
        s.mitm_client_limit = src.client_limit();
        s.mitm_relay_waits = src.relay_waits();
        let mut notices = src.notices();
        notices.extend(decoder.notices());
        if !interactive {
            for n in &notices {
                eprintln!("gomodwatch: {n}");
            }
        }
        s.notices.extend(notices);
        // Keep the newest only: a long run must not grow without bound.
        let excess = s.notices.len().saturating_sub(100);
        s.notices.drain(..excess);
    }
}

/// Runs the source to its end (or until `stop`, or a front end quits), then lets every
/// sink finish.
pub fn pump(
    src: &mut dyn PacketSource,
    decoder: &mut Decoder,
    out: &mut Outputs,
    stop: &AtomicBool,
) -> io::Result<Finished> {
    out.session.source.started.get_or_insert_with(Instant::now);
    let interactive = out.interactive();
    let mut damage = None;
    let mut quit = false;
    let mut ended = false;
    while !ended && !stop.load(Ordering::Relaxed) {
        let paused = out.paused();
        let slice_end = Instant::now() + SLICE;
        let mut n = 0u32;
        while !paused && !ended {
            match src.pull(SLICE) {
                Ok(Pull::Packet(p)) => decoder.packet(&p),
                Ok(Pull::Stream(ev)) => decoder.stream(*ev),
                Ok(Pull::Idle) => {
                    // Nothing came in: hashes may have finished.
                    decoder.poll();
                    out.drain(decoder)?;
                    break;
                }
                Ok(Pull::End) => ended = true,
                Err(e) => {
                    damage = Some(e);
                    ended = true;
                }
            }
            out.drain(decoder)?;
            n += 1;
            // Check the clock every 64 packets only: it is cheap, not free.
            if n % 64 == 0 && interactive && Instant::now() >= slice_end {
                break;
            }
        }
        if ended {
            decoder.finish();
            out.drain(decoder)?;
        }
        out.source_status(src, decoder);
        out.session.source.done = ended;
        if out.turn() == Control::Quit {
            quit = true;
            break;
        }
        if paused {
            std::thread::sleep(SLICE);
        }
    }
    if !ended {
        decoder.finish();
        out.drain(decoder)?;
        out.source_status(src, decoder);
    }
    // A front end keeps showing the final state until the user quits.
    out.session.source.done = true;
    if interactive && !quit {
        while out.turn() == Control::Continue && !stop.load(Ordering::Relaxed) {}
    }
    let end = Ending::new(&out.session);
    for s in &mut out.sinks {
        s.finish(&end)?;
    }
    Ok(Finished { damage })
}
