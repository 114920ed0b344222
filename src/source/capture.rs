//! A running live capture: one thread per interface feeding the decoder through the merge,
//! and, with `-w`, a writer thread that puts every captured packet into a file in the
//! same time order. Stopping it wakes the capture threads (an idle TPACKET_V3 read may
//! never time out by itself) and waits for the writer to flush.

use super::live::{self, LiveStats, Opened};
use super::merge::{Merger, Next};
use super::writer::CaptureWriter;
use super::LiveSource;
use pcap::BreakLoop;
use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the `-w` file reaches the disk: a Ctrl-C (or a crash) leaves a readable file.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

pub struct LiveCapture {
    threads: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    wake: Vec<BreakLoop>,
    /// A second set of wake-ups, for whoever interrupts the capture (a signal handler).
    interrupt: Option<Vec<BreakLoop>>,
    stop: Arc<AtomicBool>,
    pub stats: Arc<LiveStats>,
}

impl LiveCapture {
    /// Starts capturing on `opened`; `write` also records every packet. Returns the
    /// capture and the source the pipeline reads.
    pub fn start(
        mut opened: Vec<Opened>,
        write: Option<CaptureWriter<BufWriter<File>>>,
    ) -> (LiveCapture, LiveSource) {
        let names: Vec<String> = opened.iter().map(|o| o.name.clone()).collect();
        let wake = opened.iter_mut().map(|o| o.breaker()).collect();
        let interrupt = Some(opened.iter_mut().map(|o| o.breaker()).collect());
        let stats = Arc::new(LiveStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::sync_channel(live::CHANNEL_BATCHES);
        let (wtx, writer) = match write {
            Some(w) => {
                let (wtx, wrx) = mpsc::sync_channel(live::CHANNEL_BATCHES);
                let interfaces = names.len();
                let handle = std::thread::Builder::new()
                    .name("capture-writer".into())
                    .spawn(move || write_merged(w, Merger::new(wrx, interfaces)))
                    .expect("spawn the capture writer");
                (Some(wtx), Some(handle))
            }
            None => (None, None),
        };
        let threads = live::spawn(opened, tx, wtx, stats.clone(), stop.clone());
        let source = LiveSource {
            merger: Merger::new(rx, names.len()),
            stats: stats.clone(),
            names,
        };
        let capture = LiveCapture {
            threads,
            writer,
            wake,
            interrupt,
            stop,
            stats,
        };
        (capture, source)
    }

    /// What stops the capture from another thread (a signal handler): the capture
    /// threads end, and with them the source, so the last packets are still decoded.
    pub fn interrupter(&mut self) -> impl Fn() + Send + Sync + 'static {
        let stop = self.stop.clone();
        let wake = self.interrupt.take().unwrap_or_default();
        move || {
            stop.store(true, Ordering::Relaxed);
            for b in &wake {
                b.breakloop();
            }
        }
    }

    /// Stops the capture threads and waits for them and for the writer.
    pub fn stop(self) -> Result<(), WriteError> {
        self.stop.store(true, Ordering::Relaxed);
        for b in &self.wake {
            b.breakloop();
        }
        for t in self.threads {
            let _ = t.join();
        }
        match self.writer.map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(WriteError::Io(e)),
            Some(Err(_)) => Err(WriteError::Crashed),
        }
    }
}

/// Why the `-w` file could not be written to its end.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Writing failed.
    #[error("writing capture: {0}")]
    Io(io::Error),
    /// The writer thread panicked.
    #[error("the capture writer crashed")]
    Crashed,
}

/// The writer thread: every captured packet, merged across interfaces in time order like
/// the decoder sees them.
fn write_merged(mut w: CaptureWriter<BufWriter<File>>, mut merger: Merger) -> io::Result<()> {
    let mut flushed = Instant::now();
    loop {
        match merger.next(FLUSH_EVERY) {
            Next::Packet => {
                if let Some(p) = merger.packet() {
                    w.packet(p.iface, p.ts, p.wire_len, p.data)?;
                }
            }
            Next::Idle => {}
            Next::End => break,
        }
        if flushed.elapsed() >= FLUSH_EVERY {
            w.flush()?;
            flushed = Instant::now();
        }
    }
    w.flush()
}
