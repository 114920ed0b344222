//! The command line (CONTRACT.md): tcpdump's flags where they exist.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gomodwatch",
    version,
    about = "Watch Go module downloads on the wire: which proxy served each module, \
             who was asked first, what the checksum database said, and where the time went.",
    after_help = "Examples:\n  gomodwatch -r captures/fallback-404-go127.pcap --json\n  \
                  sudo gomodwatch -i lo -i eth0\n  tcpdump -w - -i any | gomodwatch -r - --report"
)]
pub struct Cli {
    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,

    /// No TUI: NDJSON events on stdout, diagnostics on stderr.
    #[arg(long, conflicts_with = "report")]
    pub json: bool,

    /// No TUI: a human-readable summary on stdout.
    #[arg(long)]
    pub report: bool,

    /// Known GOPROXY list (same syntax as GOPROXY), to find proxy base URLs.
    #[arg(long, value_name = "LIST")]
    pub goproxy: Option<String>,

    /// Keep passwords in URLs and Authorization headers instead of redacting them.
    #[arg(long)]
    pub show_credentials: bool,
}
