//! What `run` gives the child and learns from its environment: the proxy variables and a
//! private trust bundle (for the child alone: nothing global changes), the upstream proxy
//! the user already had, and the go command's own configuration (`go env -json`, run with
//! the child's environment, so GOFLAGS, GOENV and the go/env file count as they will).

use super::environment::{env_var, go_env_output};
use super::failure::Failure;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::source::mitm::upstream::UpstreamProxy;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The go settings `run` reads (docs/goproxy-protocol.md §1: what decides the chain).
pub use gomodwatch::gomod::goenv::VARS as GO_VARS;

/// The user's `HTTPS_PROXY` as the upstream proxy (a bare `host:port` means http, as for
/// the go command). Credentials are kept for the CONNECT and redacted everywhere shown.
pub(crate) fn upstream_from_env() -> Result<Option<UpstreamProxy>, Failure> {
    let Some(v) = env_var("HTTPS_PROXY") else {
        return Ok(None);
    };
    let url = if v.contains("://") {
        v.clone()
    } else {
        format!("http://{v}")
    };
    UpstreamProxy::parse(&url).map(Some).map_err(|e| {
        Failure::Input(format!(
            "HTTPS_PROXY={}: {e} (give --upstream-proxy http://host:port instead)",
            gomodwatch::vocab::url::redact_password(&v)
        ))
    })
}

/// Whether `program` is the go command (`go`, or a path to one).
pub(crate) fn is_go(program: &OsStr) -> bool {
    Path::new(program)
        .file_name()
        .is_some_and(|n| n == "go" || n == "go.exe")
}

/// `go env -json` for [`GO_VARS`], GOVERSION (which decides whether the child reads
/// SSL_CERT_FILE: run_trust.rs) and GOMODCACHE (where it saves zips: run_cache.rs), with
/// the same binary and environment the child gets.
pub(crate) fn go_env(go: &OsStr, env: &[(String, String)]) -> Option<BTreeMap<String, String>> {
    let mut vars = GO_VARS.to_vec();
    vars.push("GOVERSION");
    vars.push("GOMODCACHE");
    serde_json::from_slice(&go_env_output(go, &vars, env)?).ok()
}

/// The GOPROXY chain from `go env`.
pub(crate) fn chain(goenv: &BTreeMap<String, String>) -> Option<GoproxyList> {
    goenv
        .get("GOPROXY")
        .map(|v| GoproxyList::parse(v, ChainSource::GoEnv))
}

/// Entries of the chain the go command will not send through a proxy: on loopback or
/// named `localhost` (net/http's `useProxy`). (url, port)
pub(crate) fn loopback_entries(list: &GoproxyList) -> Vec<(String, u16)> {
    list.entries
        .iter()
        .filter_map(|e| {
            let u = url::Url::parse(&e.url).ok()?;
            let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']');
            let lo = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            lo.then(|| (e.url.clone(), u.port_or_known_default().unwrap_or(80)))
        })
        .collect()
}

/// A private directory holding the trust bundle; removed when dropped.
pub(crate) struct Bundle {
    dir: PathBuf,
    pub(crate) path: PathBuf,
}

impl Bundle {
    /// The roots the child would have trusted (its SSL_CERT_FILE, else the system's) and
    /// gomodwatch's CA, in a file only this user can read.
    pub(crate) fn write(ca: &Path) -> Result<Bundle, Failure> {
        let fail = |what: &Path, e: std::io::Error| {
            Failure::Runtime(format!("trust bundle {}: {e}", what.display()))
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("gomodwatch-run-{}-{nanos:x}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&dir).map_err(|e| fail(&dir, e))?;
        let bundle = Bundle {
            path: dir.join("bundle.pem"),
            dir,
        };
        let mut text = match std::env::var_os("SSL_CERT_FILE") {
            Some(f) => std::fs::read_to_string(&f).map_err(|e| fail(Path::new(&f), e))?,
            None => system_roots_pem(),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&std::fs::read_to_string(ca).map_err(|e| fail(ca, e))?);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&bundle.path).map_err(|e| fail(&bundle.path, e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| fail(&bundle.path, e))?;
        Ok(bundle)
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The system's root CAs as PEM.
fn system_roots_pem() -> String {
    use base64::Engine;
    let mut out = String::new();
    for der in rustls_native_certs::load_native_certs().certs {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// A GOPROXY-style list with every entry's password replaced (`a,b|c`: each entry on its
/// own, the separators kept; an entry with its separator attached would not parse as a URL
/// and would be shown as written).
pub(super) fn redact_list(list: &str) -> String {
    let mut out = String::with_capacity(list.len());
    let mut rest = list;
    while let Some(i) = rest.find([',', '|']) {
        out.push_str(&gomodwatch_wire::vocab::url::redact_password(&rest[..i]));
        out.push_str(&rest[i..=i]);
        rest = &rest[i + 1..];
    }
    out.push_str(&gomodwatch_wire::vocab::url::redact_password(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_goproxy_entries_are_found() {
        let l = GoproxyList::parse(
            "http://127.0.0.1:3000,https://localhost:3443|https://goproxy.test:3443,http://[::1]:81,direct",
            ChainSource::Flag,
        );
        let lo: Vec<u16> = loopback_entries(&l).into_iter().map(|(_, p)| p).collect();
        assert_eq!(lo, [3000, 3443, 81]);
        assert!(is_go(OsStr::new("/usr/lib/go-1.19/bin/go")));
        assert!(is_go(OsStr::new("go")));
        assert!(!is_go(OsStr::new("gofmt")));
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_list;

    #[test]
    fn every_entry_of_a_list_is_redacted() {
        assert_eq!(
            redact_list("http://u:pw1@a:3000,https://v:pw2@b|direct"),
            "http://u:xxxxx@a:3000,https://v:xxxxx@b|direct"
        );
        assert_eq!(redact_list("off"), "off");
        assert_eq!(redact_list(""), "");
    }
}
