//! The command line: parse flags, pick source and sink, map errors to exit codes
//! (0 success; 2 bad usage or unreadable/corrupt input; 1 other runtime failure).

mod cli;
mod run;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run::main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(run::Failure::Input(msg)) => {
            eprintln!("gomodwatch: {msg}");
            ExitCode::from(2)
        }
        Err(run::Failure::Runtime(msg)) => {
            eprintln!("gomodwatch: {msg}");
            ExitCode::from(1)
        }
        Err(run::Failure::Quiet) => ExitCode::SUCCESS,
    }
}
