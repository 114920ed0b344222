//! What the frames mean: header blocks decoded and paired with their
//! streams (request, response, informational, trailers), END_STREAM and
//! RST_STREAM bookkeeping, SETTINGS (for HPACK table bounds) and GOAWAY.
//! The byte-level state machine that delivers these frames is in `conn`.

use super::event::Event;
use super::frames::{self, FrameHeader};
use super::hpack::Block;
use super::side::{Cx, Out, PendingBlock};
use super::streams::Lookup;
use crate::vocab::{Dir, Ts};

impl Cx<'_> {
    /// A DATA frame without data bytes (empty or all padding): only its
    /// END_STREAM flag matters.
    pub(crate) fn data_ended(&mut self, hdr: FrameHeader, ts: Ts, out: Out<'_, '_>) {
        if hdr.has(frames::FLAG_END_STREAM)
            && matches!(self.streams.lookup(hdr.stream), Lookup::Open)
        {
            out(Event::Data {
                stream: hdr.stream,
                dir: self.me.dir,
                ts,
                data: &[],
                end_stream: true,
            });
            self.end_stream(hdr.stream);
        }
    }

    /// Record END_STREAM from this side and forget the stream once both
    /// sides have ended it.
    pub(crate) fn end_stream(&mut self, id: u32) {
        if let Some(s) = self.streams.get_mut(id) {
            match self.me.dir {
                Dir::Up => s.up_ended = true,
                Dir::Down => s.down_ended = true,
            }
        }
        self.streams.close_if_done(id);
    }

    /// A collected frame's (kept) payload is complete.
    pub(crate) fn frame_done(&mut self, hdr: FrameHeader, p: &[u8], ts: Ts, out: Out<'_, '_>) {
        match hdr.kind {
            frames::HEADERS | frames::PUSH_PROMISE => {
                let push = hdr.kind == frames::PUSH_PROMISE;
                if push {
                    self.counters.push_promises += 1;
                }
                let Some(frag) = frames::block_fragment(&hdr, p) else {
                    return self.broken(ts, format!("bad padding in frame type {}", hdr.kind), out);
                };
                let end_stream = !push && hdr.has(frames::FLAG_END_STREAM);
                if hdr.has(frames::FLAG_END_HEADERS) {
                    self.header_block(hdr.stream, self.me.frame_ts, end_stream, push, frag, out);
                } else {
                    let bytes = frag.to_vec();
                    self.me.block = Some(PendingBlock {
                        stream: hdr.stream,
                        ts: self.me.frame_ts,
                        end_stream,
                        push,
                        bytes,
                    });
                }
            }
            frames::CONTINUATION => {
                if let Some(b) = self.me.block.as_mut() {
                    b.bytes.extend_from_slice(p);
                }
                if hdr.has(frames::FLAG_END_HEADERS) {
                    if let Some(b) = self.me.block.take() {
                        self.header_block(b.stream, b.ts, b.end_stream, b.push, &b.bytes, out);
                    }
                }
            }
            frames::SETTINGS => self.settings(hdr, p),
            frames::RST_STREAM => self.rst_stream(hdr, p, ts, out),
            frames::GOAWAY => self.goaway(hdr, p, ts, out),
            _ => {}
        }
    }

    pub(crate) fn settings(&mut self, hdr: FrameHeader, p: &[u8]) {
        if hdr.stream != 0 || hdr.len % 6 != 0 || hdr.len > p.len() {
            self.counters.malformed_frames += 1;
        }
        if hdr.has(frames::FLAG_ACK) {
            // Acknowledges the other side's SETTINGS, which bound *our*
            // encoder's table.
            self.me.hpack.peer_settings_ack();
            return;
        }
        // Our SETTINGS bound the other side's encoder. The last value of a
        // repeated parameter wins (RFC 9113 §6.5.3: processed in order).
        let size = frames::settings(p)
            .filter(|&(id, _)| id == frames::SETTINGS_HEADER_TABLE_SIZE)
            .map(|(_, v)| v)
            .last();
        self.other.hpack.peer_settings(size);
    }

    pub(crate) fn rst_stream(&mut self, hdr: FrameHeader, p: &[u8], ts: Ts, out: Out<'_, '_>) {
        let Some(code) = frames::be32(p, 0).filter(|_| hdr.len == 4 && hdr.stream != 0) else {
            self.counters.malformed_frames += 1;
            return;
        };
        match self.streams.lookup(hdr.stream) {
            Lookup::Gone => self.counters.ignored_frames += 1,
            // A reset of a stream we never saw (its opening was lost or its
            // direction broke) is still worth reporting.
            Lookup::Open | Lookup::New => {
                out(Event::Reset {
                    stream: hdr.stream,
                    dir: self.me.dir,
                    ts,
                    code,
                });
                self.streams.forget(hdr.stream);
            }
        }
    }

    pub(crate) fn goaway(&mut self, hdr: FrameHeader, p: &[u8], ts: Ts, out: Out<'_, '_>) {
        let (Some(last), Some(code)) = (frames::be32(p, 0), frames::be32(p, 4)) else {
            self.counters.malformed_frames += 1;
            return;
        };
        if hdr.stream != 0 {
            self.counters.malformed_frames += 1;
        }
        let debug = String::from_utf8_lossy(p.get(8..).unwrap_or_default()).into_owned();
        out(Event::GoAway {
            dir: self.me.dir,
            ts,
            last_stream: last & 0x7fff_ffff,
            code,
            debug,
        });
    }

    /// A complete header block: decode it (always, to keep HPACK in sync)
    /// and report it against its stream.
    pub(crate) fn header_block(
        &mut self,
        stream: u32,
        ts: Ts,
        end_stream: bool,
        push: bool,
        bytes: &[u8],
        out: Out<'_, '_>,
    ) {
        self.counters.header_blocks += 1;
        let block = match self.me.hpack.decode(bytes, self.limits.max_header_list) {
            Ok(b) => b,
            Err(e) => return self.broken(ts, format!("HPACK: {e}"), out),
        };
        if block.over_setting {
            self.counters.hpack_size_over_setting += 1;
        }
        if push {
            return;
        }
        let dir = self.me.dir;
        match self.streams.lookup(stream) {
            Lookup::Open => {}
            Lookup::Gone => {
                self.counters.ignored_frames += 1;
                return;
            }
            // Streams are opened by the client on odd ids. A response on an
            // odd id we haven't seen (its request was lost or its direction
            // broke) opens the stream too; even ids are pushed streams.
            Lookup::New if stream % 2 == 0 => {
                self.counters.ignored_frames += 1;
                return;
            }
            Lookup::New => {
                if !self.streams.open(stream) {
                    self.counters.streams_dropped += 1;
                    return out(Event::Dropped {
                        stream,
                        dir,
                        ts,
                        reason: "too many open streams",
                    });
                }
                self.counters.streams_opened += 1;
            }
        }
        if block.too_large {
            self.counters.header_lists_too_large += 1;
            self.streams.forget(stream);
            return out(Event::Dropped {
                stream,
                dir,
                ts,
                reason: "header list too large",
            });
        }
        let Some(s) = self.streams.get_mut(stream) else {
            return;
        };
        if s.head_seen(dir) {
            out(Event::Trailers {
                stream,
                dir,
                ts,
                end_stream,
            });
        } else if dir == Dir::Up {
            s.request = true;
            out(request(stream, ts, end_stream, block));
        } else {
            let (status, headers) = split_status(block);
            if (100..200).contains(&status) {
                out(Event::Informational { stream, ts, status });
            } else {
                s.response = true;
                out(Event::Response {
                    stream,
                    ts,
                    status,
                    headers,
                    end_stream,
                });
            }
        }
        if end_stream {
            self.end_stream(stream);
        }
    }
}

fn request(stream: u32, ts: Ts, end_stream: bool, block: Block) -> Event<'static> {
    let (mut method, mut scheme, mut authority, mut path) =
        (String::new(), String::new(), String::new(), String::new());
    let mut headers = Vec::with_capacity(block.fields.len());
    for (name, value) in block.fields {
        match name.as_str() {
            ":method" => method = value,
            ":scheme" => scheme = value,
            ":authority" => authority = value,
            ":path" => path = value,
            // Unknown pseudo-headers (e.g. :protocol) are dropped.
            n if n.starts_with(':') => {}
            _ => headers.push((name, value)),
        }
    }
    Event::Request {
        stream,
        ts,
        method,
        scheme,
        authority,
        path,
        headers,
        end_stream,
    }
}

fn split_status(block: Block) -> (u16, Vec<(String, String)>) {
    let mut status = 0;
    let mut headers = Vec::with_capacity(block.fields.len());
    for (name, value) in block.fields {
        if name == ":status" {
            status = value.parse().unwrap_or(0);
        } else if !name.starts_with(':') {
            headers.push((name, value));
        }
    }
    (status, headers)
}
