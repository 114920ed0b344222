//! The session's configuration from the flags and the files they name: go.sum, the go
//! command's environment (`--go-env`, or `go env` for MITM), the GOPROXY chain, this
//! machine's root CAs; and the key log of `--tls-keylog`.

use super::environment;
use super::failure::Failure;
use crate::cli::Cli;
use gomodwatch::decode::tls::decrypt::KeyLog;
use gomodwatch::gomod::goenv::GoEnv;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::gomod::sumdb::SumTable;
use gomodwatch::session::SessionConfig;
use std::path::Path;
use std::sync::Arc;

/// Reads an NSS key log for `--tls-keylog`; one without any secret gomodwatch uses (TLS 1.3
/// traffic secrets, TLS 1.2 `CLIENT_RANDOM`) is an error.
pub(super) fn load_keylog(path: &Path) -> Result<Arc<KeyLog>, Failure> {
    add_keylog(Arc::new(KeyLog::default()), path)
}

/// Adds the secrets of the key log at `path` to `log` (which a capture's own secrets may
/// fill too).
pub(super) fn add_keylog(log: Arc<KeyLog>, path: &Path) -> Result<Arc<KeyLog>, Failure> {
    let text =
        std::fs::read(path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    if log.add(&String::from_utf8_lossy(&text)).total() == 0 {
        return Err(Failure::Input(format!(
            "{}: no TLS secrets in it (CLIENT_RANDOM, CLIENT_TRAFFIC_SECRET_0 …: an NSS key log as SSLKEYLOGFILE writes)",
            path.display()
        )));
    }
    Ok(log)
}

/// What the session is told: the flags, go.sum, the go command's environment.
pub(super) fn session_config(cli: &Cli) -> Result<SessionConfig, Failure> {
    let gosum = match &cli.model.gosum {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Input(format!("{}: {e}", p.display())))?;
            SumTable::parse(&text)
        }
        None => std::fs::read_to_string("go.sum")
            .map(|t| SumTable::parse(&t))
            .unwrap_or_default(),
    };
    let go_env = if cli.model.go_env.is_empty() {
        // MITM runs as the user whose go command it serves: its `go env` is theirs (live
        // capture asks after dropping privileges, modes/live.rs). Under `run` the child's
        // go is asked instead (modes/run.rs): asking PATH's go too cost every run 25 ms.
        (cli.mitm.is_some() && !cli.go_env_from_child)
            .then(environment::user_go_env)
            .flatten()
    } else {
        let mut env = GoEnv::default();
        for arg in &cli.model.go_env {
            environment::add_go_env_arg(&mut env, arg)?;
        }
        Some(env)
    };
    // GOPROXY given with --go-env is the chain, unless --goproxy says otherwise.
    let env_chain = go_env
        .as_ref()
        .filter(|e| !e.get("GOPROXY").is_empty())
        .map(|e| GoproxyList::parse(e.goproxy(), ChainSource::GoEnv));
    Ok(SessionConfig {
        goproxy: cli
            .model
            .goproxy
            .as_deref()
            .map(|l| GoproxyList::parse(l, ChainSource::Flag))
            .or(env_chain),
        go_env,
        go_run: None,
        slo_ms: cli.model.slo,
        gosum,
        log_capacity: 0,
        proxy_env: None,
        trusted_roots: Some(Arc::new(SystemRoots::default())),
        max_modules: usize::try_from(cli.fleet.max_modules).unwrap_or(usize::MAX),
    })
}

/// The root CAs of this machine's store: a certificate chain that ends elsewhere was issued
/// by a private CA (a TLS-inspecting proxy's, a company's). Read on first use.
#[derive(Default)]
struct SystemRoots {
    subjects: std::sync::OnceLock<std::collections::BTreeSet<String>>,
}

impl gomodwatch::session::TrustedRoots for SystemRoots {
    fn contains(&self, subject: &str) -> Option<bool> {
        let subjects = self.subjects.get_or_init(|| {
            rustls_native_certs::load_native_certs()
                .certs
                .iter()
                .filter_map(|der| x509_parser::parse_x509_certificate(der).ok())
                .map(|(_, cert)| cert.subject().to_string())
                .collect()
        });
        (!subjects.is_empty()).then(|| subjects.contains(subject))
    }
}
