//! The command line: parse flags into a mode, run it, map errors to exit codes
//! (0 success; 2 bad usage or unreadable/corrupt input; 1 other runtime failure).

mod cli;
mod cli_compare;
mod modes;
mod usage;

use clap::Parser;
use modes::Failure;
use std::process::ExitCode;

/// glibc hands the free top of a thread's heap back to the kernel as soon as 128 KiB of it
/// are free. The MITM relay's 64 KiB chunks are allocated on its thread and freed on the
/// decoder's and the hashers', so heaps grew and shrank all the time and every chunk was
/// faulted in afresh: up to 17 000 page faults per 144 MB relayed, about a tenth of the
/// proxy's CPU (benches/README.md). Keeping up to 4 MiB free per heap ends that; peak RSS,
/// the memory target, is not raised by it (what is kept was resident at the peak anyway).
///
/// Setting it also fixes glibc's mmap threshold at 128 KiB (no longer raised as large blocks
/// are freed): every allocation from 128 KiB up is its own mmap, every growth an mremap,
/// every free a munmap. The hot paths therefore allocate nothing that large per item: zip
/// bytes travel in recycled 64 KiB chunks and a speculating download keeps its chunks
/// (gomod/hashpool/chunks.rs); before that, a hashed replay made ~650 mmaps, ~600 munmaps
/// and ~180 mremaps per 300 MB (issue 31, benches/README.md).
fn keep_freed_memory_for_reuse() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
    }
}

/// A usage error in one line, exit status 2; `--help` and `--version` as clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match usage::one_line(&e, &args) {
        Some(line) => {
            eprintln!("gomodwatch: {line}");
            ExitCode::from(2)
        }
        None => e.exit(),
    }
}

fn main() -> ExitCode {
    keep_freed_memory_for_reuse();
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    if let Some(why) = cli.misplaced_flag() {
        use clap::CommandFactory;
        return usage_error(
            cli::Cli::command().error(clap::error::ErrorKind::MissingRequiredArgument, why),
        );
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
