//! gomodwatch's wire layer: the vocabulary every layer shares (`vocab`), the capture-file
//! reader and writer (`file`, `writer`), and the decoders that turn packets or a proxy's
//! plaintext into events (`decode`). Nothing here knows about Go modules, a terminal, an
//! async runtime or libpcap.

#![warn(missing_docs)]

pub mod decode;
pub mod file;
pub mod vocab;
pub mod writer;
