//! HTTP/1.1 message body framing: Content-Length, chunked, or until the connection closes.
//! Bodies are never kept: payload bytes are handed to a sink as they pass.

/// How a message body is delimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`: this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`, and where in it the reader is.
    Chunked(ChunkState),
    /// Until the connection closes (a response without a length).
    UntilClose,
}

/// Where a chunked body's reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkState {
    /// Reading a `size[;ext]` line.
    Size,
    /// Inside chunk data, this many bytes to go.
    Data(u64),
    /// After chunk data: the CRLF that ends it.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
}

/// A chunk-size or trailer line longer than this is not HTTP.
const MAX_LINE: usize = 8192;

/// What one call of [`BodyReader::feed`] did: bytes used from the front of the input,
/// where the payload among them is (at most one piece per call), and whether the body
/// is complete.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fed {
    pub(crate) used: usize,
    pub(crate) payload: std::ops::Range<usize>,
    pub(crate) done: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed chunked encoding")]
pub(crate) struct FramingError;

/// What a gap did to the body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GapEffect {
    /// The missing bytes were body payload; framing is intact.
    Absorbed,
    /// The gap swallowed framing (a chunk header, or more than the rest of the body):
    /// the parser must resynchronise.
    Lost,
}

#[derive(Debug)]
pub(crate) struct BodyReader {
    framing: Framing,
    line: Vec<u8>,
}

impl BodyReader {
    pub(crate) fn new(framing: Framing) -> Self {
        BodyReader {
            framing,
            line: Vec::new(),
        }
    }

    /// Bytes held in the line buffer (a chunk-size or trailer line split across reads).
    pub(crate) fn buffered(&self) -> usize {
        self.line.capacity()
    }

    #[cfg(test)]
    pub(crate) fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Consumes body bytes from the front of `data`. Stops after one piece of payload,
    /// so the caller can hand it on without copying.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<Fed, FramingError> {
        match &mut self.framing {
            Framing::Length(left) => {
                let take = (*left).min(data.len() as u64) as usize;
                *left -= take as u64;
                Ok(Fed {
                    used: take,
                    payload: 0..take,
                    done: *left == 0,
                })
            }
            Framing::UntilClose => Ok(Fed {
                used: data.len(),
                payload: 0..data.len(),
                done: false,
            }),
            Framing::Chunked(_) => self.feed_chunked(data),
        }
    }

    fn feed_chunked(&mut self, data: &[u8]) -> Result<Fed, FramingError> {
        let more = |used, payload| {
            Ok(Fed {
                used,
                payload,
                done: false,
            })
        };
        let mut i = 0;
        while i < data.len() {
            let Framing::Chunked(state) = &mut self.framing else {
                unreachable!()
            };
            match *state {
                ChunkState::Data(left) => {
                    let take = left.min((data.len() - i) as u64) as usize;
                    *state = if left == take as u64 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take as u64)
                    };
                    return more(i + take, i..i + take);
                }
                ChunkState::DataEnd => {
                    match data[i] {
                        b'\r' => {}
                        b'\n' => *state = ChunkState::Size,
                        _ => return Err(FramingError),
                    }
                    i += 1;
                }
                ChunkState::Size | ChunkState::Trailer => {
                    let Some(nl) = memchr::memchr(b'\n', &data[i..]) else {
                        self.push_line(&data[i..])?;
                        return more(data.len(), 0..0);
                    };
                    let in_trailer = *state == ChunkState::Trailer;
                    self.push_line(&data[i..i + nl])?;
                    i += nl + 1;
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    let Framing::Chunked(state) = &mut self.framing else {
                        unreachable!()
                    };
                    if in_trailer {
                        if line.is_empty() {
                            return Ok(Fed {
                                used: i,
                                payload: 0..0,
                                done: true,
                            });
                        }
                    } else {
                        let size = parse_chunk_size(line)?;
                        *state = if size == 0 {
                            ChunkState::Trailer
                        } else {
                            ChunkState::Data(size)
                        };
                    }
                }
            }
        }
        more(i, 0..0)
    }

    fn push_line(&mut self, part: &[u8]) -> Result<(), FramingError> {
        if self.line.len() + part.len() > MAX_LINE {
            return Err(FramingError);
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    /// `len` bytes of this body's stream are missing.
    pub(crate) fn gap(&mut self, len: u64) -> GapEffect {
        match &mut self.framing {
            Framing::Length(left) if len < *left => {
                *left -= len;
                GapEffect::Absorbed
            }
            Framing::Chunked(ChunkState::Data(left)) if len < *left => {
                *left -= len;
                GapEffect::Absorbed
            }
            Framing::UntilClose => GapEffect::Absorbed,
            _ => GapEffect::Lost,
        }
    }

    /// The sender closed its side: a close-delimited body ends cleanly here.
    pub(crate) fn ends_at_close(&self) -> bool {
        self.framing == Framing::UntilClose
    }
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, FramingError> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let hex = std::str::from_utf8(&line[..end])
        .map_err(|_| FramingError)?
        .trim();
    if hex.is_empty() || hex.len() > 15 {
        return Err(FramingError);
    }
    u64::from_str_radix(hex, 16).map_err(|_| FramingError)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns (payload, bytes consumed, done).
    fn run(framing: Framing, input: &[u8], step: usize) -> (Vec<u8>, usize, bool) {
        let mut r = BodyReader::new(framing);
        let mut body = Vec::new();
        let mut used = 0;
        for piece in input.chunks(step) {
            let mut off = 0;
            while off < piece.len() {
                let fed = r.feed(&piece[off..]).unwrap();
                body.extend_from_slice(&piece[off..][fed.payload]);
                off += fed.used;
                if fed.done {
                    return (body, used + off, true);
                }
            }
            used += piece.len();
        }
        (body, used, false)
    }

    #[test]
    fn content_length_stops_at_its_end() {
        assert_eq!(
            run(Framing::Length(3), b"abcGET", 100),
            (b"abc".to_vec(), 3, true)
        );
    }

    #[test]
    fn chunked_any_split() {
        let wire = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (body, used, done) = run(Framing::Chunked(ChunkState::Size), wire, step);
            assert_eq!(body, b"Wikipedia", "step {step}");
            assert!(done);
            assert_eq!(&wire[used..], b"NEXT", "step {step}");
        }
    }

    #[test]
    fn chunked_rejects_garbage() {
        let mut r = BodyReader::new(Framing::Chunked(ChunkState::Size));
        assert_eq!(r.feed(b"zz\r\n"), Err(FramingError));
    }

    #[test]
    fn gaps_inside_payload_are_absorbed() {
        let mut r = BodyReader::new(Framing::Length(10));
        assert_eq!(r.gap(4), GapEffect::Absorbed);
        assert_eq!(r.framing(), &Framing::Length(6));
        assert_eq!(r.gap(6), GapEffect::Lost);
    }
}
