//! The command line: parse flags into a mode, run it, map errors to exit codes
//! (0 success; 2 bad usage or unreadable/corrupt input; 1 other runtime failure).

mod cli;
mod modes;

use clap::Parser;
use modes::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Some(why) = cli.misplaced_flag() {
        use clap::CommandFactory;
        cli::Cli::command()
            .error(clap::error::ErrorKind::MissingRequiredArgument, why)
            .exit();
    }
    match modes::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("gomodwatch: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("gomodwatch: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Quiet) => ExitCode::SUCCESS,
        Err(Failure::Exit(code, msg)) => {
            if let Some(m) = msg {
                eprintln!("gomodwatch: {m}");
            }
            ExitCode::from(code)
        }
    }
}
