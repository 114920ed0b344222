//! What gomodwatch learns from the environment it runs in: the go command's own
//! configuration (`go env -json`: the user's go for live capture and MITM, the child's go
//! under `run`), `--go-env` files, and the proxy variables. The model is told the
//! results; it never runs a process or reads the environment itself.

use super::failure::Failure;
use gomodwatch::gomod::goenv::{GoEnv, VARS};
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::session::ProxyEnv;
use std::ffi::OsStr;

/// The first set of `HTTPS_PROXY`/`https_proxy` (uppercase wins, as in the go command).
pub(super) fn env_var(upper: &str) -> Option<String> {
    std::env::var(upper)
        .ok()
        .or_else(|| std::env::var(upper.to_ascii_lowercase()).ok())
        .filter(|v| !v.is_empty())
}

/// `HTTPS_PROXY` and `HTTP_PROXY` as the go command sees them when it runs from the same
/// environment (live capture and MITM).
pub(super) fn proxy_env() -> ProxyEnv {
    ProxyEnv {
        https_proxy: env_var("HTTPS_PROXY"),
        http_proxy: env_var("HTTP_PROXY"),
    }
}

/// What `go env -json VARS...` prints, run as `go` with `env` added to this process's
/// environment; `None` when it cannot be run or fails.
pub(super) fn go_env_output(
    go: &OsStr,
    vars: &[&str],
    env: &[(String, String)],
) -> Option<Vec<u8>> {
    let out = std::process::Command::new(go)
        .arg("env")
        .arg("-json")
        .args(vars)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// The user's GOPROXY, from the go command on PATH.
pub(super) fn user_goproxy() -> Option<GoproxyList> {
    let out = go_env_output(OsStr::new("go"), &["GOPROXY"], &[])?;
    let v: serde_json::Value = serde_json::from_slice(&out).ok()?;
    let list = v.get("GOPROXY")?.as_str()?;
    Some(GoproxyList::parse(list, ChainSource::GoEnv))
}

/// The user's go environment ([`VARS`]), from the go command on PATH, as live capture and
/// MITM ask it: the go command runs from the same environment.
pub(super) fn user_go_env() -> Option<GoEnv> {
    let out = go_env_output(OsStr::new("go"), &VARS, &[])?;
    GoEnv::from_json(&String::from_utf8_lossy(&out)).ok()
}

/// One `--go-env` argument: `KEY=VALUE`, or a file holding `go env -json` output.
pub(super) fn add_go_env_arg(env: &mut GoEnv, arg: &str) -> Result<(), Failure> {
    if env.set_assignment(arg) {
        return Ok(());
    }
    let text = std::fs::read_to_string(arg).map_err(|e| {
        Failure::Input(format!(
            "--go-env {arg}: neither KEY=VALUE with KEY one of {} nor a readable `go env -json` file ({e})",
            VARS.join(", ")
        ))
    })?;
    let other =
        GoEnv::from_json(&text).map_err(|e| Failure::Input(format!("--go-env {arg}: {e}")))?;
    env.extend(other);
    Ok(())
}
