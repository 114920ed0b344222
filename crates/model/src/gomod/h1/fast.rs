//! Whole-entry inflate with libdeflate, for zip entries whose compressed bytes and inflated
//! output both fit in memory.
//!
//! libdeflate decodes a whole deflate stream in one call, with no streaming state to keep,
//! and does it faster than zlib-rs's streaming inflate; it cannot take its input in pieces.
//! The safe `libdeflater` crate wraps only the call that needs the exact compressed length,
//! which a module zip does not give before the entry (the go command writes sizes in a data
//! descriptor after it): `libdeflate_deflate_decompress_ex` finds the stream's end itself and
//! says how many bytes it used, so it is called here through `libdeflate-sys` (the same
//! project's bindings). libdeflate succeeds only when the stream ended inside the bytes given
//! (it never counts the zeros it pads a short input with as data), so a cut entry is an error,
//! never a wrong hash.

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_deflate_decompress_ex,
    libdeflate_free_decompressor, libdeflate_result_LIBDEFLATE_SUCCESS,
};
use std::cell::RefCell;

/// The largest inflated entry decoded whole: larger ones stream through zlib-rs. The buffer's
/// pages are touched only as far as the largest entry decoded so far. Measured on the bench
/// captures (benches/README.md, issue 31): 512 KiB, 1 MiB and 4 MiB took the same CPU, and
/// 512 KiB 1.1 MiB less peak RSS than 4 MiB.
pub(crate) const MAX_OUT: usize = 512 << 10;

/// What one whole-entry inflate gave.
pub(crate) enum Inflated {
    /// The stream ended after `used` input bytes; its output is passed to the callback.
    Done { used: usize },
    /// The output would be larger than [`MAX_OUT`].
    TooBig,
    /// Not a complete deflate stream in the bytes given: cut short, or corrupt.
    Bad,
}

/// A libdeflate decompressor and the output buffer, one per thread: every hasher on a
/// hashing thread runs on it in turn, so they share them.
struct Whole {
    d: *mut libdeflate_decompressor,
    out: Vec<u8>,
}

impl Drop for Whole {
    fn drop(&mut self) {
        // SAFETY: `d` came from libdeflate_alloc_decompressor and is freed once, here.
        unsafe { libdeflate_free_decompressor(self.d) }
    }
}

thread_local! {
    static WHOLE: RefCell<Option<Whole>> = const { RefCell::new(None) };
}

/// Inflates the deflate stream at the start of `input` (what follows it is ignored) and
/// hands its output to `f`.
pub(crate) fn inflate(input: &[u8], f: impl FnOnce(&[u8])) -> Inflated {
    WHOLE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            // SAFETY: no arguments; a null result (out of memory) is checked below.
            let d = unsafe { libdeflate_alloc_decompressor() };
            if d.is_null() {
                return Inflated::TooBig; // streamed instead: zlib-rs needs no such state
            }
            *slot = Some(Whole {
                d,
                out: vec![0; MAX_OUT],
            });
        }
        let Some(w) = slot.as_mut() else {
            return Inflated::TooBig;
        };
        let (mut used, mut produced) = (0usize, 0usize);
        // SAFETY: `input` and `w.out` are valid for the lengths given; libdeflate writes at
        // most `w.out.len()` bytes and sets the two counts; `w.d` is a live decompressor used
        // by this thread only.
        let r = unsafe {
            libdeflate_deflate_decompress_ex(
                w.d,
                input.as_ptr().cast(),
                input.len(),
                w.out.as_mut_ptr().cast(),
                w.out.len(),
                &mut used,
                &mut produced,
            )
        };
        if r == libdeflate_result_LIBDEFLATE_SUCCESS {
            f(&w.out[..produced.min(w.out.len())]);
            Inflated::Done {
                used: used.min(input.len()),
            }
        } else if r == libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
            Inflated::TooBig
        } else {
            Inflated::Bad
        }
    })
}

/// The end of a deflated entry, found from the data descriptor the go command writes after
/// it (signature, CRC-32, compressed and uncompressed size): `(compressed, uncompressed)`
/// sizes, when a signature at offset `n` of `bytes` is followed by a descriptor whose
/// compressed size is `n`. Only a hint of when to try, and of the output's size: libdeflate
/// finds the stream's real end. `from`: where to start looking (bytes before it were
/// looked through already); returns also where to look from next time.
pub(crate) fn descriptor(bytes: &[u8], from: usize) -> (Option<(usize, u64)>, usize) {
    const SIG: [u8; 4] = 0x0807_4b50u32.to_le_bytes();
    let mut at = from;
    while let Some(i) = memchr::memmem::find(&bytes[at.min(bytes.len())..], &SIG) {
        let n = at + i;
        let Some(d) = bytes.get(n + 4..n + 16) else {
            return (None, n); // the descriptor is not all here yet
        };
        let csize = u32::from_le_bytes([d[4], d[5], d[6], d[7]]) as usize;
        if csize == n {
            let usize_ = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
            return (Some((n, u64::from(usize_))), n);
        }
        at = n + 1;
    }
    (None, bytes.len().saturating_sub(15).max(from))
}
