//! What each mode does (`live`, `replay`, `mitm`, `run`, `compare`, `ca`), and what they share: a
//! run being set up with its session configuration and views (`setup`, `config`), output
//! files that are never overwritten unasked (`output`), what the environment says
//! (`environment`), one signal handler (`signals`), and how a mode fails (`failure`).

mod ca;
mod ca_trust;
mod compare;
mod compare_tally;
mod config;
mod environment;
mod failure;
mod generate;
mod live;
mod mitm;
mod output;
mod replay;
mod run;
mod run_cache;
mod run_env;
mod run_trust;
mod setup;
mod signals;
mod transparent_rules;

pub use failure::Failure;

use crate::cli::{Cli, Mode};

/// Runs the mode the command line asks for.
pub(crate) fn run(cli: &Cli) -> Result<(), Failure> {
    match cli.mode() {
        Some(Mode::Run(args)) => run::run(cli, args),
        Some(Mode::Compare(args)) => compare::run(args),
        Some(Mode::Ca(args)) => ca::run(args),
        Some(Mode::Completions(shell)) => generate::completions(shell),
        Some(Mode::Man) => generate::man(),
        Some(Mode::ListInterfaces) => live::list_interfaces(),
        Some(Mode::PrintCa) => mitm::print_ca(cli),
        Some(Mode::Mitm(addr)) => mitm::run(cli, addr),
        Some(Mode::Live(ifaces)) => live::run(cli, ifaces),
        Some(Mode::Replay(path)) => replay::run(cli, path),
        None => Err(Failure::Input(
            "nothing to do: give -r FILE to replay a capture or -i IFACE to capture live (see \
             --help)"
                .into(),
        )),
    }
}
