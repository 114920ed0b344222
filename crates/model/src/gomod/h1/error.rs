//! Why a zip has no `h1:`.

/// The start of a hash error that is the zip's own fault: the go command would refuse the
/// zip too (it is not a zip, an entry cannot be inflated, it is too large). Every other
/// hash error is a limit of the observer (a body not seen in full, a layout the streaming
/// hasher cannot follow) and says nothing about the zip.
pub(crate) const INVALID_ZIP: &str = "not a valid module zip: ";

/// Why a zip has no `h1:`; the text is its hash event's `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The zip itself is unusable: the go command would refuse it too.
    #[error("{prefix}{0}", prefix = INVALID_ZIP)]
    InvalidZip(String),
    /// Bytes of the body went missing, or it was cut short.
    #[error("the body was not seen in full")]
    Incomplete,
    /// A layout the streaming hasher cannot follow.
    #[error("cannot hash a stored zip entry of unknown length while streaming")]
    Unstreamable,
    /// Live: the hashing threads could not keep up, and the hash was given up.
    #[error("hashing fell behind")]
    FellBehind,
    /// Its bytes, queued in the hashing threads' spill file, could not be read back.
    #[error("its bytes could not be read back from the hashing spill file")]
    SpillUnreadable,
    /// Past the memory budget: a download whose bytes differ from the one hashed, too big
    /// to keep for hashing on its own.
    #[error(
        "its bytes differ from an earlier download of this version, and it was too big to \
         keep for hashing again"
    )]
    DiffersFromEarlier,
    /// `run`: the bytes seen matched the zip the go command saved up to a point, and that
    /// file, needed again to hash them, could not be read again (removed or changed since).
    #[error(
        "the zip the go command saved, whose first bytes these were, could not be read again \
         to hash them"
    )]
    SavedZipUnreadable,
}

/// Why the zip itself is unusable, if a hash error says so (see [`INVALID_ZIP`]).
pub(crate) fn invalid_zip_reason(error: &str) -> Option<&str> {
    error.strip_prefix(INVALID_ZIP)
}
