//! The command line (docs/CONTRACT.md): tcpdump's flags where they exist. Values are
//! checked by clap's value parsers, so a bad `--slo`, `-s` or `--mitm` address is a usage
//! error (exit 2) before anything starts; [`Cli::mode`] says what to run.

pub(crate) use crate::cli_compare::CompareArgs;
use clap::{Args, Parser, Subcommand};
use gomodwatch::source::live::DEFAULT_SNAPLEN;
use gomodwatch::source::mitm::limits::{Timeouts, MAX_CLIENTS};
use gomodwatch::source::mitm::upstream::UpstreamProxy;
use std::ffi::OsString;
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
        tcpdump -i any -w - 'tcp or udp port 53 or icmp or icmp6' | gomodwatch -r - --report\n  \
        gomodwatch run -- go mod download -x                       (a command through the MITM)\n  \
        gomodwatch ca init --permit proxy.golang.org,sum.golang.org",
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Set by `run` when the child is the go command: the go environment comes from it
    /// (`run_env::go_env`), so the one on PATH is not asked as for `--mitm`.
    #[arg(skip)]
    pub(crate) go_env_from_child: bool,

    /// Capture live on this interface; repeat for several (merged in time order).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "read"
    )]
    pub(crate) interfaces: Vec<String>,

    /// Run an intercepting HTTPS proxy (default 127.0.0.1:8080) and decode what goes
    /// through it. Point the go command at it with HTTPS_PROXY and trust the CA.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080",
          value_parser = parse_addr, conflicts_with_all = ["read", "interfaces"])]
    pub(crate) mitm: Option<SocketAddr>,

    #[command(flatten)]
    pub(crate) mitm_opts: MitmOpts,

    /// Print the MITM CA certificate (creating it if needed) and how to trust it, and exit.
    #[arg(long)]
    pub(crate) print_ca: bool,

    /// With --mitm: take connections the OS redirected to ADDR (iptables REDIRECT) instead
    /// of proxy requests; the server is the original destination, its name the TLS SNI.
    #[arg(long, requires = "mitm")]
    pub(crate) transparent: bool,

    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub(crate) read: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) live: LiveOpts,

    /// List the capture interfaces and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub(crate) list_interfaces: bool,

    /// Replay a file at the pace it was recorded (default: as fast as possible).
    #[arg(long, requires = "read")]
    pub(crate) realtime: bool,

    #[command(flatten)]
    pub(crate) view: ViewOpts,

    #[command(flatten)]
    pub(crate) model: ModelOpts,

    #[command(flatten)]
    pub(crate) fleet: FleetOpts,
}

/// Subcommands (the flags above stay the way to capture, replay and proxy).
#[derive(Subcommand, Debug, Clone)]
pub(crate) enum Command {
    /// Run COMMAND with its HTTPS traffic through the MITM (a free loopback port, the CA
    /// trusted for the child alone), then show what it did. The exit status is COMMAND's.
    Run(Box<RunArgs>),
    /// Run COMMAND (through `run`) once per candidate GOPROXY, each time with a fresh
    /// module cache, N times interleaved, and compare them side by side: wall clock
    /// (median, p95), the time budget, per-module differences, failures.
    Compare(Box<CompareArgs>),
    /// The MITM certificate authority: create it, show it, trust it system-wide.
    Ca(CaArgs),
    /// Print shell completions for SHELL (packages install them; see contrib/).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these options.
    Man,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    gomodwatch run -- go mod download -x\n  \
    gomodwatch run --json --har dl.har -- go build ./...\n  \
    HTTPS_PROXY=http://corp:3128 gomodwatch run --report -- go get example.com/m@latest")]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) certs: MitmCerts<true>,

    #[command(flatten)]
    pub(crate) view: ViewOpts,

    #[command(flatten)]
    pub(crate) model: ModelOpts,

    #[command(flatten)]
    pub(crate) fleet: FleetOpts,

    /// Open the TUI once COMMAND has exited (it has the terminal until then) instead of
    /// printing the report.
    #[arg(long, conflicts_with_all = ["json", "report", "daemon"])]
    pub(crate) tui: bool,

    /// The command and its arguments (put `--` before it).
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub(crate) command: Vec<OsString>,
}

/// The MITM's certificates and route to servers: options of `--mitm` (`MitmCerts<false>`,
/// in [`MitmOpts`]) and of `run` (`MitmCerts<true>`). The two differ only in their help
/// words and in `--mitm`'s requiring `--mitm`, chosen by `RUN` when the program is built.
/// (`mut_arg` on `Cli` did the same when it started: about 56 000 instructions, clap moving
/// its `Command` around, on every start; 2 % of replaying a small capture.) Under `run`,
/// HTTPS_PROXY in the environment is the upstream proxy unless `--upstream-proxy` says
/// otherwise.
#[derive(Args, Debug, Clone)]
pub(crate) struct MitmCerts<const RUN: bool> {
    /// Where the MITM CA lives (created on first use) [default: ~/.config/gomodwatch].
    #[arg(long, value_name = "DIR")]
    pub(crate) ca_dir: Option<PathBuf>,

    #[arg(long, value_name = "FILE", help = if RUN {
        "Also trust this CA (PEM) for upstream servers"
    } else {
        "Also trust this CA (PEM) for upstream servers (a private proxy or a corporate one). \
         Upstream certificates are always verified"
    })]
    pub(crate) upstream_ca: Option<PathBuf>,

    #[arg(long, value_name = "URL", value_parser = UpstreamProxy::parse,
          requires = mitm_unless_run(RUN), help = if RUN {
        "Reach every server through this HTTP proxy [default: HTTPS_PROXY from the environment]"
    } else {
        "Reach every server through this HTTP proxy (http://[user:password@]host:port): \
         CONNECT for https, forwarded requests for http"
    })]
    pub(crate) upstream_proxy: Option<UpstreamProxy>,

    #[arg(long, value_name = "FILE", requires = mitm_unless_run(RUN), help = if RUN {
        "Write both legs' TLS secrets to FILE (NSS key log format, owner-only)"
    } else {
        "Write the TLS secrets of both legs (client and server side) to FILE in the NSS key \
         log format, for Wireshark (owner-only; refuses to overwrite without --force)"
    })]
    pub(crate) keylog: Option<PathBuf>,
}

/// `requires = "mitm"` for `--mitm`'s options; nothing for `run`'s.
fn mitm_unless_run(run: bool) -> clap::builder::Resettable<clap::Id> {
    if run {
        clap::builder::Resettable::Reset
    } else {
        clap::builder::Resettable::Value(clap::Id::from("mitm"))
    }
}

impl MitmCerts<true> {
    /// `run`'s options as those of a `--mitm` run, with this upstream proxy.
    fn for_mitm(&self, upstream_proxy: Option<UpstreamProxy>) -> MitmCerts<false> {
        MitmCerts {
            ca_dir: self.ca_dir.clone(),
            upstream_ca: self.upstream_ca.clone(),
            upstream_proxy,
            keylog: self.keylog.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub(crate) struct CaArgs {
    /// Where the CA lives [default: ~/.config/gomodwatch].
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) ca_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) action: CaAction,
}

#[derive(Subcommand, Debug, Clone)]
pub(crate) enum CaAction {
    /// Create the CA (key mode 0600); an existing one is kept as it is.
    Init {
        /// Only these DNS names (and their subdomains) may be certified: X.509 name
        /// constraints, so a leaf for any other name is refused by clients.
        #[arg(long, value_name = "NAMES", value_delimiter = ',', value_parser = parse_dns_name)]
        permit: Vec<String>,
    },
    /// Print the path of the CA certificate.
    Path,
    /// Print the CA certificate (PEM) and what it permits.
    Show,
    /// Print the commands that trust the CA system-wide on this platform; --apply runs them.
    /// On macOS with Go before 1.27 this is how the go command trusts gomodwatch (it ignores
    /// SSL_CERT_FILE there): `--apply --keychain login` needs no sudo.
    Trust {
        /// Run the commands as printed (root for the system store).
        #[arg(long)]
        apply: bool,
        /// macOS: the keychain (system needs sudo; login is this user's).
        #[arg(long, value_enum, default_value = "system")]
        keychain: Keychain,
    },
    /// Print (or with --apply run) the commands that undo `trust`.
    Untrust {
        /// Run the commands as printed.
        #[arg(long)]
        apply: bool,
        /// macOS: the keychain `trust` used.
        #[arg(long, value_enum, default_value = "system")]
        keychain: Keychain,
    },
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keychain {
    System,
    Login,
}

/// Running unattended: metrics, a pushgateway, a daemon writing a rotating file.
#[derive(Args, Debug, Clone)]
pub(crate) struct FleetOpts {
    /// Serve Prometheus metrics at http://ADDR/metrics (PORT alone means 127.0.0.1:PORT).
    #[arg(long, value_name = "ADDR", value_parser = parse_metrics_addr)]
    pub(crate) metrics: Option<SocketAddr>,

    /// At the end of the run, push the metrics to this Prometheus Pushgateway
    /// (PUT URL/metrics/job/NAME); a failed push is exit status 1.
    #[arg(long, value_name = "URL", value_parser = parse_push_url)]
    pub(crate) push_metrics: Option<String>,

    /// The job name for --push-metrics.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "gomodwatch",
        requires = "push_metrics"
    )]
    pub(crate) push_job: String,

    /// Headless: no TUI, no report, nothing on stdout; events go to --output, metrics to
    /// --metrics. SIGHUP reopens the output file; SIGTERM/SIGINT write the summary and exit 0.
    #[arg(long, conflicts_with_all = ["json", "report"])]
    pub(crate) daemon: bool,

    /// Also write the NDJSON events to FILE (appended to, never truncated).
    #[arg(long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Rotate --output past this size (BYTES, or with a k/M/G suffix): FILE becomes FILE.1,
    /// FILE.1 becomes FILE.2, and so on.
    #[arg(long, value_name = "BYTES", requires = "output", value_parser = parse_size)]
    pub(crate) rotate_size: Option<u64>,

    /// Rotated files kept (FILE.1 … FILE.N); the oldest beyond is removed.
    #[arg(long, value_name = "N", default_value_t = 5, requires = "output")]
    pub(crate) rotate_keep: u32,

    /// Module versions kept in full; past it the least recently active are folded into
    /// counts (still counted in the summary, their module events written when folded).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_modules: u64,
}

/// Live capture.
#[derive(Args, Debug, Clone)]
pub(crate) struct LiveOpts {
    /// BPF capture filter (tcpdump syntax) [default: TCP, DNS and ICMP destination-unreachable,
    /// VLAN-tagged or not].
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub(crate) filter: Option<String>,

    /// Also write the captured packets to FILE (pcap; pcapng for several interfaces).
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        requires = "interfaces"
    )]
    pub(crate) write: Option<PathBuf>,

    /// Snap length: bytes kept per packet.
    #[arg(
        short = 's',
        long = "snaplen",
        value_name = "BYTES",
        default_value_t = DEFAULT_SNAPLEN,
        value_parser = clap::value_parser!(i32).range(64..)
    )]
    pub(crate) snaplen: i32,

    /// After opening the capture, run as USER [default: the user who ran sudo].
    #[arg(short = 'Z', long = "user", value_name = "USER")]
    pub(crate) user: Option<String>,
}

/// The MITM proxy's options.
#[derive(Args, Debug, Clone)]
pub(crate) struct MitmOpts {
    #[command(flatten)]
    pub(crate) certs: MitmCerts<false>,

    /// MITM timeouts, KEY=DURATION[,...] (units ms, s, m, h); keys not given keep their
    /// defaults: head=10s (the client's request to the proxy), idle=90s (nothing said by
    /// either side), connect=10s (DNS + TCP to the server), tls=10s (the server's
    /// handshake), first-byte=300s (a forwarded request's response).
    #[arg(long, value_name = "KEY=DURATION,...", requires = "mitm", value_parser = Timeouts::parse)]
    pub(crate) mitm_timeouts: Option<Timeouts>,

    /// MITM: clients served at once; past it a client is answered 503 at once (lowered
    /// to fit the descriptor limit, with a warning).
    #[arg(long, value_name = "N", requires = "mitm", default_value_t = MAX_CLIENTS as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) mitm_max_clients: u32,
}

/// Which views, and files they write.
#[derive(Args, Debug, Clone)]
pub(crate) struct ViewOpts {
    /// No TUI: NDJSON events on stdout, diagnostics on stderr.
    #[arg(long, conflicts_with = "report")]
    pub(crate) json: bool,

    /// No TUI: a human-readable summary on stdout (the default when stdout is not a terminal).
    #[arg(long)]
    pub(crate) report: bool,

    /// Also write the exchanges as HAR 1.2 to FILE (refuses to overwrite without --force).
    #[arg(long, value_name = "FILE")]
    pub(crate) har: Option<PathBuf>,

    /// Overwrite files given to -w, --har or --keylog if they exist.
    #[arg(long)]
    pub(crate) force: bool,

    /// Keep passwords in URLs instead of redacting them in every view and export.
    #[arg(long)]
    pub(crate) show_credentials: bool,
}

/// How the traffic is judged.
#[derive(Args, Debug, Clone)]
pub(crate) struct ModelOpts {
    /// The GOPROXY list in effect (same syntax as GOPROXY). Default: `go env` for live
    /// capture; inferred from the traffic for a file, which may come from another machine.
    #[arg(long, value_name = "LIST")]
    pub(crate) goproxy: Option<String>,

    /// The go command's environment, to name the rule that sent a module direct or past
    /// the checksum database: KEY=VALUE (GOPROXY, GOPRIVATE, GONOPROXY, GONOSUMDB,
    /// GOINSECURE, GOSUMDB, GOFLAGS), or a file of `go env -json` output; repeat.
    /// Default: `go env` for live capture and MITM; unknown for a file.
    #[arg(long = "go-env", value_name = "KEY=VALUE|FILE")]
    pub(crate) go_env: Vec<String>,

    /// Decrypt TLS 1.3 connections with the secrets in FILE (NSS key log format, as
    /// SSLKEYLOGFILE writes it; read once at the start): their HTTP is decoded like
    /// cleartext, e.g. git's requests to a code host.
    #[arg(long = "tls-keylog", value_name = "FILE")]
    pub(crate) tls_keylog: Option<PathBuf>,

    /// go.sum to check downloaded hashes against [default: ./go.sum when present].
    #[arg(long, value_name = "FILE")]
    pub(crate) gosum: Option<PathBuf>,

    /// Time to first byte (ms) above which a proxy is reported as slow.
    #[arg(long, value_name = "MS", default_value_t = 80.0, value_parser = parse_slo)]
    pub(crate) slo: f64,

    /// Do not compute the h1: hash of downloaded zips (faster on huge captures; no
    /// checksum verdicts for zips).
    #[arg(long)]
    pub(crate) no_hash: bool,
}

/// What to run.
pub(crate) enum Mode<'a> {
    Run(&'a RunArgs),
    Compare(&'a CompareArgs),
    Ca(&'a CaArgs),
    Completions(clap_complete::Shell),
    Man,
    ListInterfaces,
    PrintCa,
    Mitm(SocketAddr),
    Live(&'a [String]),
    Replay(&'a PathBuf),
}

impl Cli {
    /// A flag given without the mode it belongs to: clap's `requires` is not enforced on
    /// these flags here (flattened groups beside a subcommand), so it is checked once more.
    pub(crate) fn misplaced_flag(&self) -> Option<String> {
        if self.command.is_some() {
            return None;
        }
        let needs_mitm = [
            ("--transparent", self.transparent),
            (
                "--upstream-proxy",
                self.mitm_opts.certs.upstream_proxy.is_some(),
            ),
            ("--keylog", self.mitm_opts.certs.keylog.is_some()),
            ("--mitm-timeouts", self.mitm_opts.mitm_timeouts.is_some()),
        ];
        if self.mitm.is_none() {
            if let Some((flag, _)) = needs_mitm.iter().find(|(_, given)| *given) {
                return Some(format!("{flag} needs --mitm"));
            }
        }
        if self.realtime && self.read.is_none() {
            return Some("--realtime needs -r FILE".into());
        }
        None
    }

    pub(crate) fn mode(&self) -> Option<Mode<'_>> {
        if let Some(c) = &self.command {
            return Some(match c {
                Command::Run(r) => Mode::Run(r),
                Command::Compare(c) => Mode::Compare(c),
                Command::Ca(c) => Mode::Ca(c),
                Command::Completions { shell } => Mode::Completions(*shell),
                Command::Man => Mode::Man,
            });
        }
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

impl RunArgs {
    /// The flags of a `--mitm` run with `run`'s options in them: every mode reads a `Cli`.
    pub(crate) fn as_cli(&self, base: &Cli, upstream_proxy: Option<UpstreamProxy>) -> Cli {
        let mut c = base.clone();
        c.command = None;
        c.mitm = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        c.mitm_opts.certs = self.certs.for_mitm(upstream_proxy);
        c.view = self.view.clone();
        c.model = self.model.clone();
        c.fleet = self.fleet.clone();
        c
    }
}

/// A flag's value that cannot be used; the text is what clap shows after the flag.
#[derive(Debug, thiserror::Error)]
enum BadValue {
    #[error("{0:?} is not a DNS name like proxy.golang.org")]
    DnsName(String),
    #[error("must be a positive number of milliseconds")]
    Slo,
    #[error("not an address like 127.0.0.1:8080")]
    Addr,
    #[error("not an address like 127.0.0.1:9464 (or a port)")]
    MetricsAddr,
    #[error("not an http(s) URL like http://pushgateway:9091")]
    PushUrl,
    #[error("too large")]
    SizeTooLarge,
    #[error("must be a positive number of bytes (k, M, G suffixes allowed)")]
    Size,
}

/// A DNS name for a name constraint: letters, digits, '-' and '.', no wildcard.
fn parse_dns_name(s: &str) -> Result<String, BadValue> {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(s)
    } else {
        Err(BadValue::DnsName(s))
    }
}

fn parse_slo(s: &str) -> Result<f64, BadValue> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(BadValue::Slo),
    }
}

fn parse_addr(s: &str) -> Result<SocketAddr, BadValue> {
    s.parse().map_err(|_| BadValue::Addr)
}

/// `PORT`, `:PORT` or `HOST:PORT`; without a host, loopback.
fn parse_metrics_addr(s: &str) -> Result<SocketAddr, BadValue> {
    let port_only = s.strip_prefix(':').unwrap_or(s);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| BadValue::MetricsAddr)
}

fn parse_push_url(s: &str) -> Result<String, BadValue> {
    match url::Url::parse(s) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
            Ok(s.to_string())
        }
        _ => Err(BadValue::PushUrl),
    }
}

/// Bytes, with an optional k, M or G (powers of 1024).
fn parse_size(s: &str) -> Result<u64, BadValue> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 => n.checked_mul(mult).ok_or(BadValue::SizeTooLarge),
        _ => Err(BadValue::Size),
    }
}
