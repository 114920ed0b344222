//! `--mitm [ADDR]`: the intercepting HTTPS proxy, and `--print-ca`.

use super::environment;
use super::failure::Failure;
use super::output::create_private;
use super::setup::{Run, View};
use super::signals::Signals;
use super::transparent_rules;
use crate::cli::Cli;
use gomodwatch::source::{mitm, MitmSource};
use std::net::SocketAddr;
use std::path::PathBuf;

fn ca_dir(cli: &Cli) -> PathBuf {
    cli.mitm_opts
        .certs
        .ca_dir
        .clone()
        .unwrap_or_else(mitm::ca::default_dir)
}

pub(crate) fn print_ca(cli: &Cli) -> Result<(), Failure> {
    let ca =
        mitm::ca::Ca::load_or_create(&ca_dir(cli)).map_err(|e| Failure::Runtime(e.to_string()))?;
    let pem = std::fs::read_to_string(&ca.cert_path)
        .map_err(|e| Failure::Runtime(format!("{}: {e}", ca.cert_path.display())))?;
    print!("{pem}");
    // The same commands `ca trust` prints for this system (one place says them: ca_trust.rs).
    let path = ca.cert_path.display().to_string();
    let system = match super::ca_trust::detect() {
        Some(p) => {
            let home = std::env::var("HOME").unwrap_or_default();
            let cmds: Vec<String> =
                super::ca_trust::trust(p, &path, crate::cli::Keychain::System, &home)
                    .iter()
                    .map(|c| format!("sudo {}", super::ca_trust::shell(c)))
                    .collect();
            format!(
                "{}\n  (`gomodwatch ca trust --apply` runs them; `ca untrust --apply` undoes them)",
                cmds.join(" && ")
            )
        }
        None => "see `gomodwatch ca trust`".into(),
    };
    eprintln!(
        "gomodwatch: CA certificate {path}\n  the go command alone:  SSL_CERT_FILE={path} \
         HTTPS_PROXY=http://127.0.0.1:8080 go ...\n  \
         (macOS and Windows before Go 1.27 ignore SSL_CERT_FILE: there, `gomodwatch ca trust \
         --apply --keychain login`)\n  \
         system-wide here:      {system}\n  \
         (details: certs/README.md)"
    );
    Ok(())
}

/// Starts the proxy on `addr` as the flags say (`--mitm`, and `run`'s own on loopback).
pub(super) fn start(cli: &Cli, addr: SocketAddr, transparent: bool) -> Result<mitm::Mitm, Failure> {
    let keylog = cli
        .mitm_opts
        .certs
        .keylog
        .as_deref()
        .map(|p| create_private(p, cli.view.force).map(mitm::keylog::KeyLogFile::new))
        .transpose()?;
    mitm::Mitm::start(mitm::MitmConfig {
        addr,
        ca_dir: ca_dir(cli),
        upstream_ca: cli.mitm_opts.certs.upstream_ca.clone(),
        upstream_proxy: cli.mitm_opts.certs.upstream_proxy.clone(),
        keylog,
        transparent,
        timeouts: cli.mitm_opts.mitm_timeouts.unwrap_or_default(),
        max_clients: cli.mitm_opts.mitm_max_clients as usize,
    })
    .map_err(|e| Failure::Runtime(e.to_string()))
}

pub(crate) fn run(cli: &Cli, addr: SocketAddr) -> Result<(), Failure> {
    let mitm = start(cli, addr, cli.transparent)?;
    let mut setup = Run::new(cli, format!("MITM {}", mitm.addr))?;
    setup.lean = true;
    if setup.config.goproxy.is_none() {
        setup.config.goproxy = environment::user_goproxy();
    }
    // The go command runs from the same environment: its proxy settings are ours.
    setup.config.proxy_env = Some(environment::proxy_env());
    if setup.view != View::Tui && cli.transparent {
        eprintln!(
            "gomodwatch: transparent MITM listening on {addr}; CA {ca}{metrics}",
            addr = mitm.addr,
            ca = mitm.ca_path.display(),
            metrics = setup.metrics_note(),
        );
    } else if setup.view != View::Tui {
        eprintln!(
            "gomodwatch: MITM proxy listening on {addr}; CA {ca}{metrics}\n  run: HTTPS_PROXY=http://{addr} HTTP_PROXY=http://{addr} SSL_CERT_FILE={ca} go mod download ...{stop}",
            addr = mitm.addr,
            ca = mitm.ca_path.display(),
            metrics = setup.metrics_note(),
            stop = if setup.view == View::Report { "\n  Ctrl-C stops and prints the report" } else { "" },
        );
    }
    // After the "listening" line: who else can use the proxy, a client cap lowered.
    for w in &mitm.warnings {
        eprintln!("gomodwatch: {w}");
    }
    if cli.transparent {
        eprint!("{}", transparent_rules::text(mitm.addr));
    }
    let signals = Signals::install(&setup)?;
    let mut src = MitmSource { mitm };
    // Live, lean: the decoder waits for the zip hashing threads and the proxy for the
    // decoder, within the tap's bound (gomod/hashpool/policy.rs, mitm/tap.rs).
    setup.pump(cli, &mut src, true, &signals.stop)?;
    Ok(())
}
