//! HPACK glue: one `loona_hpack` decoder per direction, the header list
//! limit, and the SETTINGS_HEADER_TABLE_SIZE bookkeeping that tells how big
//! the encoder's table may legally be.
//!
//! Who bounds whom (RFC 9113 §6.5.2, RFC 7541 §4.2): the table size the
//! *client's encoder* may use is the one the *server* advertised, and vice
//! versa. The decoder's table only changes size through the "dynamic table
//! size update" instructions at the start of a header block, so that is what
//! we apply (capped by our limit); the SETTINGS values only tell whether an
//! update is within what was advertised, and we are lenient about it: an
//! update above the advertised size but within our cap is accepted and
//! counted, since an observer must follow what the encoder actually did.

use std::cell::RefCell;
use std::collections::VecDeque;

use loona_hpack::decoder::DecoderError;
use loona_hpack::huffman::{HuffmanDecoder, HuffmanDecoderError};

/// The table size both ends start with (RFC 9113 §6.5.2).
pub(crate) const INITIAL_TABLE_SIZE: usize = 4096;

/// SETTINGS frames not yet acknowledged that we remember per direction; a
/// peer sending more without ACKs only makes us forget the oldest.
const MAX_PENDING_SETTINGS: usize = 16;

/// A decoded header block.
pub(crate) struct Block {
    /// Every field in order, pseudo-headers included; empty when `too_large`.
    pub(crate) fields: Vec<(String, String)>,
    /// The decoded list exceeded the header list limit (HPACK state was
    /// still updated, so the connection stays in sync).
    pub(crate) too_large: bool,
    /// The block resized the table above what the peer had advertised.
    pub(crate) over_setting: bool,
}

/// The advertised bound for one encoder: the acknowledged value and the
/// values of SETTINGS frames still waiting for their ACK (`None` for a
/// SETTINGS frame that doesn't carry HEADER_TABLE_SIZE).
struct TableBound {
    acked: usize,
    pending: VecDeque<Option<usize>>,
}

impl TableBound {
    /// Until the ACK is seen, the encoder may have applied either the old
    /// or the new value: allow the larger (the observer can't tell when the
    /// encoder saw the SETTINGS relative to the blocks it sends).
    fn allowed(&self) -> usize {
        self.pending
            .iter()
            .flatten()
            .fold(self.acked, |a, &v| a.max(v))
    }
}

pub(crate) struct HpackDir {
    dec: loona_hpack::Decoder<'static>,
    cap: usize,
    bound: TableBound,
    /// The rewritten block (reused; at most 8/5 of the block plus a few
    /// bytes per string, since Huffman codes are at least 5 bits).
    raw: Vec<u8>,
}

thread_local! {
    /// loona-hpack builds a fresh Huffman decoding table (a HashMap of 257
    /// codes) for *every* Huffman-coded string, ~50 us each: a block of
    /// tiny Huffman strings would decode at ~0.1 MB/s. So we decode the
    /// strings ourselves with one reused instance of the crate's own
    /// `HuffmanDecoder` (built once per thread: it is stateless between
    /// calls but its `decode` takes `&mut self`) and hand the decoder a
    /// block of raw literals, which yields the same fields and table state.
    static HUFFMAN: RefCell<HuffmanDecoder> = RefCell::new(HuffmanDecoder::new());
}

/// Above this, the rewrite buffer is freed after use.
const RAW_RETAIN: usize = 16 << 10;

impl HpackDir {
    /// `cap` is our hard limit on the table size; it is raised to the
    /// protocol's initial 4096 since every encoder may use that much without
    /// announcing it, and a smaller table would silently mis-decode.
    pub(crate) fn new(cap: usize) -> HpackDir {
        let cap = cap.max(INITIAL_TABLE_SIZE);
        let mut dec = loona_hpack::Decoder::new();
        dec.set_max_allowed_table_size(cap);
        HpackDir {
            dec,
            cap,
            bound: TableBound {
                acked: INITIAL_TABLE_SIZE,
                pending: VecDeque::new(),
            },
            raw: Vec::new(),
        }
    }

    /// The peer (decoder side) sent a SETTINGS frame.
    pub(crate) fn peer_settings(&mut self, header_table_size: Option<u32>) {
        if self.bound.pending.len() >= MAX_PENDING_SETTINGS {
            self.peer_settings_ack();
        }
        let v = header_table_size.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        self.bound.pending.push_back(v);
    }

    /// The encoder side acknowledged the oldest outstanding SETTINGS frame.
    pub(crate) fn peer_settings_ack(&mut self) {
        if let Some(Some(v)) = self.bound.pending.pop_front() {
            self.bound.acked = v;
        }
    }

    /// Decode one complete header block. `max_list` bounds the decoded list
    /// as SETTINGS_MAX_HEADER_LIST_SIZE counts it (name + value + 32 per
    /// field). Errors are HPACK decoding errors: the direction's HPACK state
    /// is lost after one.
    pub(crate) fn decode(&mut self, block: &[u8], max_list: usize) -> Result<Block, HpackError> {
        let (updates, consumed) = leading_size_updates(block);
        let allowed = self.bound.allowed();
        let over_setting = updates.iter().any(|&u| u > allowed);
        if let Some(&u) = updates.iter().find(|&&u| u > self.cap) {
            return Err(HpackError::TableSizeUpdate {
                update: u,
                cap: self.cap,
            });
        }
        let mut out = Block {
            fields: Vec::new(),
            too_large: false,
            over_setting,
        };
        if consumed == block.len() && !updates.is_empty() {
            // A block made only of size updates: valid HPACK (an empty field
            // list), but loona-hpack rejects a block that *ends* in an
            // update, so apply them here. Each is <= cap (checked above), so
            // `set_max_table_size`'s assertion holds.
            for u in updates {
                self.dec.set_max_table_size(u);
            }
            return Ok(out);
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let rewritten = Self::dehuffman(block, &mut raw);
        let mut size = 0usize;
        let fields = &mut out.fields;
        let too_large = &mut out.too_large;
        let res = rewritten.and_then(|()| {
            self.dec
                .decode_with_cb(&raw, |name, value| {
                    size = size.saturating_add(name.len() + value.len() + 32);
                    if size > max_list {
                        // Keep decoding for the table's sake, but stop storing.
                        *too_large = true;
                        fields.clear();
                        fields.shrink_to_fit();
                    } else {
                        let n = String::from_utf8_lossy(&name).to_ascii_lowercase();
                        fields.push((n, String::from_utf8_lossy(&value).into_owned()));
                    }
                })
                .map_err(HpackError::Decoder)
        });
        if raw.capacity() <= RAW_RETAIN {
            self.raw = raw;
        }
        res.map(|()| out)
    }

    /// Copy `block` into `raw` with every Huffman-coded string literal
    /// (RFC 7541 §5.2) replaced by its decoded octets (H bit clear). The
    /// field representations (§6) are walked only far enough to find the
    /// strings; indices are checked later by the real decoder.
    fn dehuffman(block: &[u8], raw: &mut Vec<u8>) -> Result<(), HpackError> {
        let mut at = 0;
        while let Some(&first) = block.get(at) {
            // (prefix bits of the leading integer, is it a literal field)
            let (prefix, literal) = match first {
                0x80..=0xff => (7, false), // indexed field
                0x40..=0x7f => (6, true),  // literal, incremental indexing
                0x20..=0x3f => (5, false), // dynamic table size update
                _ => (4, true),            // literal without / never indexed
            };
            let rest = block.get(at..).unwrap_or_default();
            let (index, n) = integer(rest, prefix).ok_or(HpackError::MalformedInteger)?;
            raw.extend_from_slice(rest.get(..n).unwrap_or_default());
            at += n;
            if literal {
                // A new name (index 0) is a string before the value.
                for _ in 0..if index == 0 { 2 } else { 1 } {
                    at = string(block, at, raw)?;
                }
            }
        }
        Ok(())
    }
}

/// Copy (decoding if Huffman-coded) the string literal at `at`; return
/// the offset after it.
fn string(block: &[u8], at: usize, raw: &mut Vec<u8>) -> Result<usize, HpackError> {
    let rest = block.get(at..).unwrap_or_default();
    let first = *rest.first().ok_or(HpackError::TruncatedString)?;
    let (len, n) = integer(rest, 7).ok_or(HpackError::MalformedStringLength)?;
    let data = rest
        .get(n..n.saturating_add(len))
        .ok_or(HpackError::TruncatedString)?;
    if first & 0x80 == 0 {
        raw.extend_from_slice(rest.get(..n + len).unwrap_or_default());
    } else {
        let decoded = HUFFMAN
            .with(|h| h.borrow_mut().decode(data))
            .map_err(HpackError::Huffman)?;
        put_integer(raw, 0, 7, decoded.len());
        raw.extend_from_slice(&decoded);
    }
    Ok(at + n + len)
}

/// Why a header block could not be decoded (the direction's HPACK state is lost after one).
#[derive(Debug, thiserror::Error)]
pub(crate) enum HpackError {
    /// A table size update above what this decoder allows.
    #[error("dynamic table size update {update} above the limit {cap}")]
    TableSizeUpdate { update: usize, cap: usize },
    #[error("malformed integer")]
    MalformedInteger,
    #[error("malformed string length")]
    MalformedStringLength,
    #[error("truncated string literal")]
    TruncatedString,
    #[error("Huffman: {0}")]
    Huffman(HuffmanDecoderError),
    /// The decoder's own verdict (a bad index, ...).
    #[error("{0}")]
    Decoder(DecoderError),
}

/// Append an HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first`
/// holds the pattern bits above the prefix.
fn put_integer(out: &mut Vec<u8>, first: u8, prefix: u32, v: usize) {
    let max = (1usize << prefix) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    let mut v = v - max;
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The dynamic table size updates at the start of a block (RFC 7541 §6.3,
/// only allowed there by §4.2), and how many bytes they take. An update
/// whose integer is malformed ends the scan; the real decoder reports it.
fn leading_size_updates(block: &[u8]) -> (Vec<usize>, usize) {
    let mut at = 0;
    let mut out = Vec::new();
    while let Some(&b) = block.get(at) {
        if b & 0xe0 != 0x20 {
            break;
        }
        match integer(block.get(at..).unwrap_or_default(), 5) {
            Some((v, n)) => {
                out.push(v);
                at += n;
            }
            None => break,
        }
    }
    (out, at)
}

/// An HPACK integer with an N-bit prefix (RFC 7541 §5.1), limited to 5
/// octets like the decoder; (value, octets used).
fn integer(buf: &[u8], prefix: u32) -> Option<(usize, usize)> {
    let mask = (1usize << prefix) - 1;
    let mut v = usize::from(*buf.first()?) & mask;
    if v < mask {
        return Some((v, 1));
    }
    for (i, &b) in buf.iter().enumerate().skip(1).take(4) {
        v = v.checked_add(usize::from(b & 0x7f) << (7 * (i - 1)))?;
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
