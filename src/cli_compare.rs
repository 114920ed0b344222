//! `gomodwatch compare`'s command line (docs/CONTRACT.md): the candidates, the rounds, and
//! what is passed on to each `run`.

use clap::Args;
use gomodwatch::source::mitm::upstream::UpstreamProxy;
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
    gomodwatch compare --goproxy https://proxy.golang.org --goproxy https://goproxy.cn \\\n      \
    --runs 3 -- go mod download\n  \
    gomodwatch compare --goproxy https://athens.corp,direct --goproxy https://proxy.golang.org \\\n      \
    --json -- go mod download -x")]
pub(crate) struct CompareArgs {
    /// A candidate GOPROXY list (same syntax as GOPROXY); give two or more.
    #[arg(long = "goproxy", value_name = "LIST", required = true, value_parser = parse_goproxy)]
    pub(crate) goproxy: Vec<String>,

    /// Runs per candidate, interleaved (A B A B ...).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) runs: u32,

    /// One NDJSON line per candidate (its summary) on stdout instead of the table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Where the MITM CA lives (created on first use) [default: ~/.config/gomodwatch].
    #[arg(long, value_name = "DIR")]
    pub(crate) ca_dir: Option<PathBuf>,

    /// Also trust this CA (PEM) for upstream servers.
    #[arg(long, value_name = "FILE")]
    pub(crate) upstream_ca: Option<PathBuf>,

    /// Reach every server through this HTTP proxy [default: HTTPS_PROXY from the environment].
    #[arg(long, value_name = "URL", value_parser = parse_upstream)]
    pub(crate) upstream_proxy: Option<String>,

    /// The command and its arguments (put `--` before it).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub(crate) command: Vec<OsString>,
}

/// A candidate GOPROXY: not empty, no spaces or control characters (it is put in the
/// command's environment as it is).
fn parse_goproxy(s: &str) -> Result<String, &'static str> {
    let ok = !s.trim().is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.split([',', '|']).all(|e| !e.is_empty());
    if ok {
        Ok(s.to_string())
    } else {
        Err("must be a GOPROXY list like https://proxy.golang.org,direct")
    }
}

/// An upstream proxy URL as `run` takes it, kept as given (it is handed to each run).
fn parse_upstream(s: &str) -> Result<String, String> {
    UpstreamProxy::parse(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}
