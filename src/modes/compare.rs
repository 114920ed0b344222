//! `gomodwatch compare --goproxy A --goproxy B [...] [--runs N] -- COMMAND`: COMMAND run
//! through `gomodwatch run --json` (this same binary: its MITM, its verdicts, its time
//! budget) once per candidate GOPROXY, N rounds interleaved (A B A B ...) so a drift of the
//! network or the machine falls on every candidate alike. Each run gets a fresh module
//! cache (GOMODCACHE in a temporary directory, removed after; the user's cache is never
//! touched), so every run downloads everything. The runs' NDJSON is read back and shown
//! side by side (`compare_tally`).

use super::compare_tally::{self, RunResult};
use super::failure::{output_error, Failure};
use crate::cli::CompareArgs;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub(crate) fn run(args: &CompareArgs) -> Result<(), Failure> {
    if args.goproxy.len() < 2 {
        return Err(Failure::Input(
            "compare needs two or more --goproxy candidates (--goproxy A --goproxy B)".into(),
        ));
    }
    let me = std::env::current_exe()
        .map_err(|e| Failure::Runtime(format!("cannot find gomodwatch's own binary: {e}")))?;
    let shown = args
        .command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let stop = Stop::install()?;
    let mut results: Vec<Vec<RunResult>> = vec![Vec::new(); args.goproxy.len()];
    for round in 0..args.runs {
        for (c, goproxy) in args.goproxy.iter().enumerate() {
            let r = one_run(&me, args, goproxy, c, round, &stop)?;
            if stop.asked.load(Ordering::Relaxed) {
                // The run's temporary cache is gone already; nothing half-measured is shown.
                return Err(Failure::Exit(
                    130,
                    Some("compare: interrupted; no comparison written".into()),
                ));
            }
            eprintln!(
                "gomodwatch: compare: {} run {}/{}: {:.2} s, exit {}",
                compare_tally::redact(goproxy),
                round + 1,
                args.runs,
                r.wall_ms / 1000.0,
                r.exit
            );
            results[c].push(r);
        }
    }
    let tallies: Vec<compare_tally::Tally> = args
        .goproxy
        .iter()
        .zip(results)
        .map(|(g, runs)| compare_tally::Tally::new(g, runs))
        .collect();
    let mut out = std::io::stdout().lock();
    let text = if args.json {
        compare_tally::ndjson(&tallies)
    } else {
        compare_tally::table(&shown, args.runs, &tallies)
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// One run of COMMAND with `goproxy`, through `gomodwatch run --json`, in a module cache
/// of its own.
fn one_run(
    me: &Path,
    args: &CompareArgs,
    goproxy: &str,
    candidate: usize,
    round: u32,
    stop: &Stop,
) -> Result<RunResult, Failure> {
    let dir = TempCache::new(candidate, round)?;
    let mut cmd = Command::new(me);
    cmd.args(["run", "--json"]);
    if let Some(d) = &args.ca_dir {
        cmd.arg("--ca-dir").arg(d);
    }
    if let Some(ca) = &args.upstream_ca {
        cmd.arg("--upstream-ca").arg(ca);
    }
    if let Some(p) = &args.upstream_proxy {
        cmd.arg("--upstream-proxy").arg(p);
    }
    cmd.arg("--")
        .args(&args.command)
        .env("GOPROXY", goproxy)
        .env("GOMODCACHE", dir.path.join("modcache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::Runtime(format!("cannot run {}: {e}", me.display())))?;
    stop.child.store(child.id() as i32, Ordering::Relaxed);
    // stderr on a thread of its own, so neither pipe can fill up and stall the child.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    let mut events = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let keep = matches!(v["type"].as_str(), Some("budget" | "module" | "summary"));
                if keep {
                    events.push(v);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| Failure::Runtime(format!("waiting for a run: {e}")))?;
    stop.child.store(0, Ordering::Relaxed);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    drop(dir);
    Ok(RunResult::new(
        round,
        exit_status(status),
        elapsed_ms,
        &events,
        &stderr,
    ))
}

fn exit_status(st: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    }
}

/// A run's module cache: a fresh directory, removed when the run is over (the go command
/// makes its files read-only, so write permission is given back first).
struct TempCache {
    path: PathBuf,
}

impl TempCache {
    fn new(candidate: usize, round: u32) -> Result<TempCache, Failure> {
        let path = std::env::temp_dir().join(format!(
            "gomodwatch-compare-{}-{candidate}-{round}",
            std::process::id()
        ));
        let _ = remove_all(&path);
        std::fs::create_dir_all(&path)
            .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", path.display())))?;
        Ok(TempCache { path })
    }
}

impl Drop for TempCache {
    fn drop(&mut self) {
        if let Err(e) = remove_all(&self.path) {
            eprintln!(
                "gomodwatch: compare: cannot remove {}: {e}",
                self.path.display()
            );
        }
    }
}

/// `rm -rf` of a tree whose directories may be read-only (never following symlinks).
fn remove_all(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
        for entry in std::fs::read_dir(path)? {
            remove_all(&entry?.path())?;
        }
        std::fs::remove_dir(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// SIGINT and SIGTERM: the run under way is told (SIGTERM; from a terminal, Ctrl-C reached
/// it already) and finishes as `run` does, its temporary cache is removed, and compare
/// stops there instead of dying with the cache left behind.
struct Stop {
    asked: Arc<AtomicBool>,
    /// The run under way (0: none).
    child: Arc<AtomicI32>,
}

impl Stop {
    fn install() -> Result<Stop, Failure> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let s = Stop {
            asked: Arc::default(),
            child: Arc::default(),
        };
        let mut incoming = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
            .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
        let (asked, child) = (s.asked.clone(), s.child.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for _ in incoming.forever() {
                    asked.store(true, Ordering::Relaxed);
                    let pid = child.load(Ordering::Relaxed);
                    if pid > 0 {
                        // SAFETY: signalling our own child.
                        unsafe {
                            libc::kill(pid, libc::SIGTERM);
                        }
                    }
                }
            })
            .map_err(|e| Failure::Runtime(format!("starting the signal thread: {e}")))?;
        Ok(s)
    }
}
