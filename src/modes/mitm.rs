//! `--mitm [ADDR]`: the intercepting HTTPS proxy, and `--print-ca`.

use super::{Failure, Run, Signals};
use crate::cli::Cli;
use gomodwatch::gomod::goproxy;
use gomodwatch::source::{mitm, MitmSource};
use std::net::SocketAddr;
use std::path::PathBuf;

pub(super) fn ca_dir(cli: &Cli) -> PathBuf {
    cli.mitm_opts
        .ca_dir
        .clone()
        .unwrap_or_else(mitm::ca::default_dir)
}

pub fn print_ca(cli: &Cli) -> Result<(), Failure> {
    let ca =
        mitm::ca::Ca::load_or_create(&ca_dir(cli)).map_err(|e| Failure::Runtime(e.to_string()))?;
    let pem = std::fs::read_to_string(&ca.cert_path)
        .map_err(|e| Failure::Runtime(format!("{}: {e}", ca.cert_path.display())))?;
    print!("{pem}");
    eprintln!(
        "gomodwatch: CA certificate {path}\n  the go command alone:  SSL_CERT_FILE={path} HTTPS_PROXY=http://127.0.0.1:8080 go ...\n  \
         Debian/Ubuntu:         sudo cp {path} /usr/local/share/ca-certificates/gomodwatch.crt && sudo update-ca-certificates\n  \
         macOS:                 sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {path}\n  \
         (details: certs/README.md)",
        path = ca.cert_path.display()
    );
    Ok(())
}

pub fn run(cli: &Cli, addr: SocketAddr) -> Result<(), Failure> {
    let keylog = cli
        .mitm_opts
        .keylog
        .as_deref()
        .map(|p| mitm::keylog::KeyLogFile::create(p, cli.view.force))
        .transpose()
        .map_err(Failure::Input)?;
    let mitm = mitm::Mitm::start(mitm::MitmConfig {
        addr,
        ca_dir: ca_dir(cli),
        upstream_ca: cli.mitm_opts.upstream_ca.clone(),
        upstream_proxy: cli.mitm_opts.upstream_proxy.clone(),
        keylog,
        transparent: cli.transparent,
        timeouts: cli.mitm_opts.mitm_timeouts.unwrap_or_default(),
        max_clients: cli.mitm_opts.mitm_max_clients as usize,
    })
    .map_err(Failure::Runtime)?;
    let mut setup = Run::new(cli, format!("MITM {}", mitm.addr))?;
    setup.lean = true;
    if setup.config.goproxy.is_none() {
        setup.config.goproxy = goproxy::from_go_env();
    }
    // The go command runs from the same environment: its proxy settings are ours.
    setup.config.proxy_env = Some(gomodwatch::session::ProxyEnv::from_env());
    if setup.view != super::View::Tui && cli.transparent {
        eprintln!(
            "gomodwatch: transparent MITM listening on {addr}; CA {ca}{metrics}",
            addr = mitm.addr,
            ca = mitm.ca_path.display(),
            metrics = setup.metrics_note(),
        );
    } else if setup.view != super::View::Tui {
        eprintln!(
            "gomodwatch: MITM proxy listening on {addr}; CA {ca}{metrics}\n  run: HTTPS_PROXY=http://{addr} HTTP_PROXY=http://{addr} SSL_CERT_FILE={ca} go mod download ...{stop}",
            addr = mitm.addr,
            ca = mitm.ca_path.display(),
            metrics = setup.metrics_note(),
            stop = if setup.view == super::View::Report { "\n  Ctrl-C stops and prints the report" } else { "" },
        );
    }
    // After the "listening" line: who else can use the proxy, a client cap lowered.
    for w in &mitm.warnings {
        eprintln!("gomodwatch: {w}");
    }
    if cli.transparent {
        eprint!("{}", super::transparent_rules::text(mitm.addr));
    }
    let signals = Signals::install(&setup)?;
    let mut src = MitmSource { mitm };
    // Live: the decoder never waits for the zip hashing threads (a hash that cannot keep
    // up is given up and said), and the proxy never waits for the decoder.
    setup.pump(cli, &mut src, true, &signals.stop)?;
    Ok(())
}
