//! How a mode fails, which decides the exit status (main.rs).

use std::io;

/// A mode's failure: the line the user sees and the exit status it gives.
pub enum Failure {
    /// Bad usage or unreadable/corrupt input: exit status 2.
    Input(String),
    /// Anything else: exit status 1.
    Runtime(String),
    /// Output closed by the reader (`| head`): stop quietly.
    Quiet,
    /// Exit with this status (`run`: the child's), with a line to say first if any.
    Exit(u8, Option<String>),
}

/// A failure to write the output: quiet when the reader went away (`| head`).
pub(super) fn output_error(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::Quiet
    } else {
        Failure::Runtime(format!("writing output: {e}"))
    }
}
