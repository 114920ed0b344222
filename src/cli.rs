//! The command line (docs/CONTRACT.md): tcpdump's flags where they exist. Values are
//! checked by clap's value parsers, so a bad `--slo`, `-s` or `--mitm` address is a usage
//! error (exit 2) before anything starts; [`Cli::mode`] says what to run.

use clap::{Args, Parser};
use gomodwatch::source::mitm::upstream::UpstreamProxy;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "gomodwatch",
    version,
    about = "Watch Go module downloads on the wire: which proxy served each module, \
             who was asked first, what the checksum database said, and where the time went.",
    after_help = "Examples:\n  \
        gomodwatch -r captures/fallback-404-go127.pcap             (TUI, or a report when piped)\n  \
        gomodwatch -r capture.pcapng --json | jq 'select(.type==\"module\")'\n  \
        sudo gomodwatch -i lo -i eth0 --report\n  \
        tcpdump -i any -w - 'tcp or udp port 53' | gomodwatch -r - --report"
)]
pub struct Cli {
    /// Capture live on this interface; repeat for several (merged in time order).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "read"
    )]
    pub interfaces: Vec<String>,

    /// Run an intercepting HTTPS proxy (default 127.0.0.1:8080) and decode what goes
    /// through it. Point the go command at it with HTTPS_PROXY and trust the CA.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080",
          value_parser = parse_addr, conflicts_with_all = ["read", "interfaces"])]
    pub mitm: Option<SocketAddr>,

    #[command(flatten)]
    pub mitm_opts: MitmOpts,

    /// Print the MITM CA certificate (creating it if needed) and how to trust it, and exit.
    #[arg(long)]
    pub print_ca: bool,

    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,

    #[command(flatten)]
    pub live: LiveOpts,

    /// List the capture interfaces and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Replay a file at the pace it was recorded (default: as fast as possible).
    #[arg(long, requires = "read")]
    pub realtime: bool,

    #[command(flatten)]
    pub view: ViewOpts,

    #[command(flatten)]
    pub model: ModelOpts,
}

/// Live capture.
#[derive(Args, Debug, Clone)]
pub struct LiveOpts {
    /// BPF capture filter (tcpdump syntax) [default: TCP and DNS, VLAN-tagged or not].
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,

    /// Also write the captured packets to FILE (pcap; pcapng for several interfaces).
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        requires = "interfaces"
    )]
    pub write: Option<PathBuf>,

    /// Snap length: bytes kept per packet.
    #[arg(
        short = 's',
        long = "snaplen",
        value_name = "BYTES",
        default_value_t = 262_144,
        value_parser = clap::value_parser!(i32).range(64..)
    )]
    pub snaplen: i32,

    /// After opening the capture, run as USER [default: the user who ran sudo].
    #[arg(short = 'Z', long = "user", value_name = "USER")]
    pub user: Option<String>,
}

/// The MITM proxy's certificates.
#[derive(Args, Debug, Clone)]
pub struct MitmOpts {
    /// Where the MITM CA lives (created on first use) [default: ~/.config/gomodwatch].
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,

    /// Also trust this CA (PEM) for upstream servers (a private proxy or a corporate one).
    /// Upstream certificates are always verified.
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,

    /// Reach every server through this HTTP proxy (http://[user:password@]host:port):
    /// CONNECT for https, forwarded requests for http.
    #[arg(long, value_name = "URL", requires = "mitm", value_parser = parse_upstream_proxy)]
    pub upstream_proxy: Option<UpstreamProxy>,

    /// Write the TLS secrets of both legs (client and server side) to FILE in the NSS
    /// key log format, for Wireshark (owner-only; refuses to overwrite without --force).
    #[arg(long, value_name = "FILE", requires = "mitm")]
    pub keylog: Option<PathBuf>,
}

/// Which views, and files they write.
#[derive(Args, Debug, Clone)]
pub struct ViewOpts {
    /// No TUI: NDJSON events on stdout, diagnostics on stderr.
    #[arg(long, conflicts_with = "report")]
    pub json: bool,

    /// No TUI: a human-readable summary on stdout (the default when stdout is not a terminal).
    #[arg(long)]
    pub report: bool,

    /// Also write the exchanges as HAR 1.2 to FILE (refuses to overwrite without --force).
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,

    /// Overwrite files given to -w, --har or --keylog if they exist.
    #[arg(long)]
    pub force: bool,

    /// Keep passwords in URLs instead of redacting them in every view and export.
    #[arg(long)]
    pub show_credentials: bool,
}

/// How the traffic is judged.
#[derive(Args, Debug, Clone)]
pub struct ModelOpts {
    /// The GOPROXY list in effect (same syntax as GOPROXY). Default: `go env` for live
    /// capture; inferred from the traffic for a file, which may come from another machine.
    #[arg(long, value_name = "LIST")]
    pub goproxy: Option<String>,

    /// go.sum to check downloaded hashes against [default: ./go.sum when present].
    #[arg(long, value_name = "FILE")]
    pub gosum: Option<PathBuf>,

    /// Time to first byte (ms) above which a proxy is reported as slow.
    #[arg(long, value_name = "MS", default_value_t = 80.0, value_parser = parse_slo)]
    pub slo: f64,

    /// Do not compute the h1: hash of downloaded zips (faster on huge captures; no
    /// checksum verdicts for zips).
    #[arg(long)]
    pub no_hash: bool,
}

/// What to run.
pub enum Mode<'a> {
    ListInterfaces,
    PrintCa,
    Mitm(SocketAddr),
    Live(&'a [String]),
    Replay(&'a PathBuf),
}

impl Cli {
    pub fn mode(&self) -> Option<Mode<'_>> {
        if self.list_interfaces {
            Some(Mode::ListInterfaces)
        } else if self.print_ca {
            Some(Mode::PrintCa)
        } else if let Some(addr) = self.mitm {
            Some(Mode::Mitm(addr))
        } else if !self.interfaces.is_empty() {
            Some(Mode::Live(&self.interfaces))
        } else {
            self.read.as_ref().map(Mode::Replay)
        }
    }
}

fn parse_slo(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err("must be a positive number of milliseconds".into()),
    }
}

fn parse_upstream_proxy(s: &str) -> Result<UpstreamProxy, String> {
    UpstreamProxy::parse(s)
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| "not an address like 127.0.0.1:8080".to_string())
}
