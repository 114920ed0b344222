//! One direction of a connection: its frame state machine (bytes may arrive split
//! anywhere) and header block assembly ([`Cx`], over the direction's [`Side`] and what
//! both directions share). What complete frames mean for the streams is in `pairing`.
//!
//! Buffering is limited to a partial frame header, the payload of a frame
//! whose contents we need whole (header block fragments, SETTINGS,
//! RST_STREAM, GOAWAY; each capped), and one header block awaiting its
//! CONTINUATIONs. DATA payloads are never buffered: each piece is reported
//! as a slice of the chunk it arrived in.

use super::event::Event;
use super::frames::{self, FrameHeader, FRAME_HEADER_LEN, PREFACE};
use super::hpack::HpackDir;
use super::limits::{Counters, Limits};
use super::streams::{Lookup, Streams};
use crate::vocab::{Dir, Ts};

/// SETTINGS payload bytes kept (1365 entries: far more than the 6 defined).
const SETTINGS_KEEP: usize = 8190;
/// GOAWAY debug data reported.
const GOAWAY_DEBUG_KEEP: usize = 256;
/// A collect buffer grown beyond this is freed after use, so one large
/// header block doesn't pin its memory for the connection's lifetime.
const BUF_RETAIN: usize = 16 << 10;

/// One direction's decoding state.
pub(crate) struct Side {
    pub(crate) dir: Dir,
    pub(crate) phase: Phase,
    /// Timestamp of the first byte of the current frame.
    pub(crate) frame_ts: Ts,
    /// Payload of the frame being collected.
    pub(crate) buf: Vec<u8>,
    /// A header block waiting for CONTINUATION frames.
    pub(crate) block: Option<PendingBlock>,
    /// No frame header read yet: the first frame must be SETTINGS.
    first: bool,
    pub(crate) hpack: HpackDir,
}

pub(crate) struct PendingBlock {
    pub(crate) stream: u32,
    pub(crate) ts: Ts,
    pub(crate) end_stream: bool,
    pub(crate) push: bool,
    pub(crate) bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
pub(crate) enum Phase {
    /// Matching the client preface (Up only).
    Preface {
        matched: usize,
    },
    /// Reading a 9-byte frame header.
    Header {
        buf: [u8; FRAME_HEADER_LEN],
        have: usize,
    },
    /// Buffering a payload: `left` bytes still to come, of which the first
    /// `keep` bytes of the payload are kept (the rest is dropped).
    Collect {
        hdr: FrameHeader,
        left: usize,
        keep: usize,
    },
    /// Passing a DATA payload through. `pad` is `None` until the pad length
    /// octet of a PADDED frame is read; `left` counts data and padding.
    Data {
        hdr: FrameHeader,
        pad: Option<usize>,
        left: usize,
    },
    /// Skipping a payload we don't need.
    Skip {
        left: usize,
    },
    Broken,
}

impl Side {
    pub(crate) fn new(dir: Dir, limits: &Limits) -> Side {
        Side {
            dir,
            phase: match dir {
                Dir::Up => Phase::Preface { matched: 0 },
                Dir::Down => Phase::Header {
                    buf: [0; FRAME_HEADER_LEN],
                    have: 0,
                },
            },
            frame_ts: Ts(0),
            buf: Vec::new(),
            block: None,
            first: true,
            hpack: HpackDir::new(limits.max_dynamic_table),
        }
    }
}

/// Payload bytes (data and padding) of the DATA frame being read, once its pad length
/// is known: what a gap may cover without losing frame sync.
pub(crate) fn payload_room(phase: Phase) -> Option<usize> {
    match phase {
        Phase::Data {
            pad: Some(_), left, ..
        } => Some(left),
        _ => None,
    }
}

const NEXT_HEADER: Phase = Phase::Header {
    buf: [0; FRAME_HEADER_LEN],
    have: 0,
};

pub(crate) type Out<'o, 'a> = &'o mut dyn FnMut(Event<'a>);

/// Everything one direction's decoding touches, borrowed apart.
pub(crate) struct Cx<'c> {
    pub(crate) me: &'c mut Side,
    pub(crate) other: &'c mut Side,
    pub(crate) streams: &'c mut Streams,
    pub(crate) counters: &'c mut Counters,
    pub(crate) limits: &'c Limits,
}

impl Cx<'_> {
    /// Consume a prefix of `data` (at least one byte unless `data` is empty)
    /// and return its length.
    pub(crate) fn step<'a>(&mut self, ts: Ts, data: &'a [u8], out: Out<'_, 'a>) -> usize {
        match self.me.phase {
            Phase::Broken => {
                self.counters.bytes_skipped += data.len() as u64;
                data.len()
            }
            Phase::Preface { matched } => {
                let want = PREFACE.get(matched..).unwrap_or_default();
                let n = want.len().min(data.len());
                if data.get(..n) != want.get(..n) {
                    self.broken(ts, "no client connection preface".into(), out);
                    return 0;
                }
                self.me.phase = if matched + n == PREFACE.len() {
                    NEXT_HEADER
                } else {
                    Phase::Preface {
                        matched: matched + n,
                    }
                };
                n
            }
            Phase::Header { mut buf, have } => {
                if have == 0 {
                    self.me.frame_ts = ts;
                }
                let n = FRAME_HEADER_LEN.saturating_sub(have).min(data.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(have..have + n), data.get(..n)) {
                    dst.copy_from_slice(src);
                }
                if have + n == FRAME_HEADER_LEN {
                    self.begin_frame(FrameHeader::parse(&buf), ts, out);
                } else {
                    self.me.phase = Phase::Header {
                        buf,
                        have: have + n,
                    };
                }
                n
            }
            Phase::Skip { left } => {
                let n = left.min(data.len());
                self.me.phase = if n == left {
                    NEXT_HEADER
                } else {
                    Phase::Skip {
                        left: left.saturating_sub(n),
                    }
                };
                n
            }
            Phase::Collect { hdr, left, keep } => self.collect(hdr, left, keep, ts, data, out),
            Phase::Data { hdr, pad, left } => self.data(hdr, pad, left, ts, data, out),
        }
    }

    /// A frame header is complete: validate it and choose how to read the
    /// payload.
    fn begin_frame(&mut self, hdr: FrameHeader, ts: Ts, out: Out<'_, '_>) {
        self.counters.frames += 1;
        self.me.phase = NEXT_HEADER;
        if hdr.len > self.limits.max_frame {
            self.counters.frames_too_large += 1;
            let reason = format!(
                "frame of {} bytes above the {} limit",
                hdr.len, self.limits.max_frame
            );
            return self.broken(ts, reason, out);
        }
        if std::mem::take(&mut self.me.first) && hdr.kind != frames::SETTINGS {
            // Both prefaces end in (server: are) a SETTINGS frame (RFC 9113
            // §3.4); anything else is not HTTP/2, or not its start.
            return self.broken(
                ts,
                format!("first frame is type {}, not SETTINGS", hdr.kind),
                out,
            );
        }
        if let Some(b) = &self.me.block {
            if hdr.kind != frames::CONTINUATION || hdr.stream != b.stream {
                let reason = format!(
                    "frame type {} on stream {} where CONTINUATION of stream {} was due",
                    hdr.kind, hdr.stream, b.stream
                );
                return self.broken(ts, reason, out);
            }
        }
        let skip = Phase::Skip { left: hdr.len };
        self.me.phase = match hdr.kind {
            frames::DATA => {
                if hdr.stream == 0 {
                    return self.broken(ts, "DATA on stream 0".into(), out);
                }
                if !matches!(self.streams.lookup(hdr.stream), Lookup::Open) {
                    self.counters.ignored_frames += 1;
                }
                let pad = if hdr.has(frames::FLAG_PADDED) {
                    None
                } else {
                    Some(0)
                };
                if hdr.len == 0 {
                    if pad.is_none() {
                        self.counters.malformed_frames += 1;
                        return;
                    }
                    return self.data_ended(hdr, ts, out);
                }
                Phase::Data {
                    hdr,
                    pad,
                    left: hdr.len,
                }
            }
            frames::HEADERS | frames::PUSH_PROMISE | frames::CONTINUATION => {
                if hdr.stream == 0 {
                    return self.broken(
                        ts,
                        format!("header block frame type {} on stream 0", hdr.kind),
                        out,
                    );
                }
                if hdr.kind == frames::CONTINUATION && self.me.block.is_none() {
                    return self.broken(ts, "CONTINUATION without HEADERS".into(), out);
                }
                let pending = self.me.block.as_ref().map_or(0, |b| b.bytes.len());
                if pending.saturating_add(hdr.len) > self.limits.max_header_block {
                    self.counters.header_blocks_too_large += 1;
                    let reason = format!(
                        "header block above the {} byte limit",
                        self.limits.max_header_block
                    );
                    return self.broken(ts, reason, out);
                }
                Phase::Collect {
                    hdr,
                    left: hdr.len,
                    keep: hdr.len,
                }
            }
            frames::SETTINGS => Phase::Collect {
                hdr,
                left: hdr.len,
                keep: hdr.len.min(SETTINGS_KEEP),
            },
            frames::RST_STREAM => Phase::Collect {
                hdr,
                left: hdr.len,
                keep: hdr.len.min(4),
            },
            frames::GOAWAY => Phase::Collect {
                hdr,
                left: hdr.len,
                keep: hdr.len.min(8 + GOAWAY_DEBUG_KEEP),
            },
            frames::PRIORITY | frames::PING | frames::WINDOW_UPDATE => skip,
            _ => {
                self.counters.unknown_frames += 1;
                skip
            }
        };
        // Empty payloads are complete already.
        match self.me.phase {
            Phase::Collect { left: 0, .. } => {
                self.me.phase = NEXT_HEADER;
                self.frame_done(hdr, &[], ts, out);
            }
            Phase::Skip { left: 0 } => self.me.phase = NEXT_HEADER,
            _ => {}
        }
    }

    /// Buffer a payload we need whole; with the whole payload in this chunk
    /// and nothing buffered, use it in place.
    fn collect(
        &mut self,
        hdr: FrameHeader,
        left: usize,
        keep: usize,
        ts: Ts,
        data: &[u8],
        out: Out<'_, '_>,
    ) -> usize {
        let n = left.min(data.len());
        if left == hdr.len && n == left {
            self.me.phase = NEXT_HEADER;
            self.frame_done(hdr, data.get(..keep).unwrap_or_default(), ts, out);
            return n;
        }
        let have = hdr.len.saturating_sub(left);
        let take = keep.saturating_sub(have).min(n);
        self.me
            .buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        if n < left {
            self.me.phase = Phase::Collect {
                hdr,
                left: left.saturating_sub(n),
                keep,
            };
            return n;
        }
        self.me.phase = NEXT_HEADER;
        let payload = std::mem::take(&mut self.me.buf);
        self.frame_done(hdr, &payload, ts, out);
        if payload.capacity() <= BUF_RETAIN && !matches!(self.me.phase, Phase::Broken) {
            self.me.buf = payload;
            self.me.buf.clear();
        }
        n
    }

    /// Pass a piece of DATA payload through.
    fn data<'a>(
        &mut self,
        hdr: FrameHeader,
        pad: Option<usize>,
        left: usize,
        ts: Ts,
        data: &'a [u8],
        out: Out<'_, 'a>,
    ) -> usize {
        let Some(pad) = pad else {
            // The pad length octet.
            let p = usize::from(data.first().copied().unwrap_or_default());
            let left = left.saturating_sub(1);
            if p > left {
                // Framing still holds: skip the frame.
                self.counters.malformed_frames += 1;
                self.me.phase = if left == 0 {
                    NEXT_HEADER
                } else {
                    Phase::Skip { left }
                };
                return 1;
            }
            self.me.phase = Phase::Data {
                hdr,
                pad: Some(p),
                left,
            };
            if left == p {
                self.data_ended(hdr, ts, out);
                self.me.phase = if left == 0 {
                    NEXT_HEADER
                } else {
                    Phase::Skip { left }
                };
            }
            return 1;
        };
        let data_left = left.saturating_sub(pad);
        let n = data_left.min(data.len());
        let left = left.saturating_sub(n);
        self.me.phase = if left == 0 {
            NEXT_HEADER
        } else {
            Phase::Data {
                hdr,
                pad: Some(pad),
                left,
            }
        };
        let last = n == data_left;
        if matches!(self.streams.lookup(hdr.stream), Lookup::Open) {
            let end_stream = last && hdr.has(frames::FLAG_END_STREAM);
            self.counters.data_bytes += n as u64;
            let piece = data.get(..n).unwrap_or_default();
            out(Event::Data {
                stream: hdr.stream,
                dir: self.me.dir,
                ts,
                data: piece,
                end_stream,
            });
            if end_stream {
                self.end_stream(hdr.stream);
            }
        }
        if last && left > 0 {
            // Only padding remains.
            self.me.phase = Phase::Skip { left };
        }
        n
    }

    /// A gap of `n` bytes inside the DATA payload being read: the data (and padding)
    /// it covers is passed over and reported as missing. False, with nothing changed,
    /// when the gap reaches beyond the payload (or no payload is being read).
    pub(crate) fn data_gap(&mut self, ts: Ts, n: u64, out: Out<'_, '_>) -> bool {
        let Phase::Data {
            hdr,
            pad: Some(pad),
            left,
        } = self.me.phase
        else {
            return false;
        };
        let Some(n) = usize::try_from(n).ok().filter(|&n| n <= left) else {
            return false;
        };
        let data_left = left.saturating_sub(pad);
        let missed = n.min(data_left);
        let left = left - n;
        self.me.phase = if left == 0 {
            NEXT_HEADER
        } else if left <= pad {
            Phase::Skip { left }
        } else {
            Phase::Data {
                hdr,
                pad: Some(pad),
                left,
            }
        };
        if missed > 0 && matches!(self.streams.lookup(hdr.stream), Lookup::Open) {
            let end_stream = missed == data_left && hdr.has(frames::FLAG_END_STREAM);
            self.counters.data_bytes_missed += missed as u64;
            out(Event::DataGap {
                stream: hdr.stream,
                dir: self.me.dir,
                ts,
                len: missed as u64,
                end_stream,
            });
            if end_stream {
                self.end_stream(hdr.stream);
            }
        }
        true
    }

    /// Give up on this direction.
    pub(crate) fn broken(&mut self, ts: Ts, reason: String, out: Out<'_, '_>) {
        self.me.phase = Phase::Broken;
        self.me.block = None;
        self.me.buf = Vec::new();
        self.counters.broken += 1;
        out(Event::Broken {
            dir: self.me.dir,
            ts,
            reason,
        });
    }
}
