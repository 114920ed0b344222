//! `gomodwatch completions SHELL` and `gomodwatch man`: shell completions and the man page,
//! generated from the clap definition (cli.rs) so they never drift from the options.
//! Packages install what these print (contrib/deb.sh, contrib/gomodwatch.rb).

use super::failure::{output_error, Failure};
use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

pub(super) fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gomodwatch", &mut out);
    write(&out)
}

pub(super) fn man() -> Result<(), Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(output_error)?;
    write(&out)
}

fn write(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(output_error)
}
