//! A capture file as a source, optionally played at its recorded pace (`--realtime`, for
//! watching a replay in the TUI).

use super::pull::{PacketSource, Pull};
use crate::vocab::{LinkType, Packet, Ts};
use gomodwatch_wire::file::{CaptureFile, FileError};
use std::io::Read;
use std::time::{Duration, Instant};

pub struct FileSource<R: Read> {
    pub(crate) file: CaptureFile<R>,
    /// With `--realtime`: play packets at their recorded pace.
    pace: Option<Pace>,
    /// Damage entries already told as notices.
    damage_told: usize,
    /// Interfaces already looked at for an unsupported link type.
    ifaces_told: usize,
}

struct Pace {
    first_packet: Option<Ts>,
    started: Instant,
    /// A packet read ahead of its time, copied out of the reader's buffer.
    held: Option<Held>,
    /// The held packet was handed out; drop it on the next pull.
    released: bool,
}

struct Held {
    ts: Ts,
    link: LinkType,
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
            damage_told: 0,
            ifaces_told: 0,
        }
    }
}

impl<R: Read> PacketSource for FileSource<R> {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, FileError> {
        let Some(pace) = &mut self.pace else {
            return match self.file.next_packet() {
                Ok(Some(p)) => Ok(Pull::Packet(p)),
                Ok(None) => Ok(Pull::End),
                Err(e) => Err(e),
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
                Err(e) => return Err(e),
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

    fn skipped_bytes(&self) -> u64 {
        self.file.skipped_bytes()
    }

    fn skipped_packets(&self) -> u64 {
        self.file.skipped_packets()
    }

    fn notices(&mut self) -> Vec<String> {
        let ifaces = self.file.interfaces();
        let mut out: Vec<String> = ifaces
            .iter()
            .enumerate()
            .skip(self.ifaces_told)
            .filter_map(|(n, i)| {
                let why = i.unsupported.as_ref()?;
                let name = i
                    .name
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let why = why.to_string();
                let why = why.split(';').next().unwrap_or_default();
                Some(format!(
                    "interface {n}{name}: {why}; its packets are skipped (summary.skipped_packets)"
                ))
            })
            .collect();
        self.ifaces_told = ifaces.len();
        let damage = self.file.damage();
        let new = damage.get(self.damage_told..).unwrap_or_default();
        self.damage_told = damage.len();
        out.extend(new.iter().map(|d| {
            format!(
                "skipped {} bytes of damage at byte {} ({}); reading on after it",
                d.skipped, d.offset, d.what
            )
        }));
        out
    }
}
