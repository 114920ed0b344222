//! What the decoder hands a hashing thread about one zip download.

#[derive(Debug)]
pub(crate) enum Job {
    Start {
        id: u64,
        module: Option<String>,
        version: Option<String>,
    },
    Data {
        id: u64,
        bytes: Vec<u8>,
    },
    /// The body ended; `complete` is false when bytes were missing.
    End {
        id: u64,
        complete: bool,
    },
}
