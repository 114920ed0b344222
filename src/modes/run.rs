//! `gomodwatch run [OPTIONS] -- COMMAND [ARGS...]`: the MITM on a free loopback port, the
//! command run with HTTPS_PROXY/HTTP_PROXY pointing at it and a trust bundle holding
//! gomodwatch's CA (SSL_CERT_FILE, GIT_SSL_CAINFO) — for the child alone — and the views
//! fed until it exits. The child keeps its terminal (stdin, stdout, stderr), so there is
//! no TUI: the report (or NDJSON) comes after it. The exit status is the child's.

use super::environment;
use super::failure::Failure;
use super::run_cache;
use super::run_env::{self, Bundle};
use super::run_trust;
use super::setup::{Run, View};
use super::signals::Signals;
use crate::cli::{Cli, RunArgs};
use gomodwatch::gomod::cause::Cause;
use gomodwatch::gomod::gosaid::GoRun;
use gomodwatch::source::capture::LiveCapture;
use gomodwatch::source::file::FileError;
use gomodwatch::source::live::{self, LiveConfig};
use gomodwatch::source::merge::Next;
use gomodwatch::source::platform::{self, Os};
use gomodwatch::source::{LiveSource, MitmSource, PacketSource, Pull};
use gomodwatch::vocab::Ts;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) fn run(base: &Cli, args: &RunArgs) -> Result<(), Failure> {
    let upstream = match &args.certs.upstream_proxy {
        Some(u) => Some(u.clone()),
        None => run_env::upstream_from_env()?,
    };
    let mut cli = args.as_cli(base, upstream);
    let program = args.command[0].clone();
    cli.go_env_from_child = run_env::is_go(&program);
    let mitm = super::mitm::start(&cli, cli.mitm.unwrap_or(([127, 0, 0, 1], 0).into()), false)?;
    for w in &mitm.warnings {
        eprintln!("gomodwatch: {w}");
    }
    let bundle = Bundle::write(&mitm.ca_path)?;
    // Only these change for the child; NO_PROXY passes through as it is, so the hosts it
    // names still go direct, as the go command would send them.
    let proxy = format!("http://{}", mitm.addr);
    let bundle_path = bundle.path.to_string_lossy().into_owned();
    let env: Vec<(String, String)> = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .map(|k| (k.to_string(), proxy.clone()))
        .chain(
            ["SSL_CERT_FILE", "GIT_SSL_CAINFO"]
                .iter()
                .map(|k| (k.to_string(), bundle_path.clone())),
        )
        .collect();

    let mut setup = Run::new(&cli, format!("run {}", program.to_string_lossy()))?;
    setup.lean = true;
    // The child owns the terminal while it runs: the report comes after it, or the TUI
    // when asked for (--tui), also after it.
    if args.tui {
        setup.view = View::TuiAfter;
    } else if setup.view == View::Tui {
        setup.view = View::Report;
    }
    let goenv = run_env::is_go(&program)
        .then(|| run_env::go_env(&program, &env))
        .flatten();
    if setup.config.goproxy.is_none() {
        setup.config.goproxy = goenv.as_ref().and_then(run_env::chain);
    }
    setup.module_cache = goenv.as_ref().and_then(run_cache::of_go_env);
    // The child's own `go env` is what decides what goes direct and what is verified.
    if let (Some(g), true) = (&goenv, cli.model.go_env.is_empty()) {
        let mut env = gomodwatch::gomod::goenv::GoEnv::default();
        for (k, v) in g {
            env.set(k, v);
        }
        setup.config.go_env = Some(env);
    }
    // Whether the child's go reads SSL_CERT_FILE at all (macOS/Windows before Go 1.27 do
    // not): said before it starts, and in the report when it then failed on trust.
    let os = run_trust::Os::this();
    let trust = run_trust::decide(
        os,
        goenv
            .as_ref()
            .and_then(|g| g.get("GOVERSION"))
            .and_then(|v| run_trust::GoVersion::parse(v)),
    );
    let ca_dir = args
        .certs
        .ca_dir
        .as_ref()
        .map(|d| d.to_string_lossy().into_owned());
    if let Some(why) = run_trust::before_start(os, trust, ca_dir.as_deref()) {
        eprintln!("gomodwatch: {why}");
    }
    // What the go command would have used without us: now our upstream.
    setup.config.proxy_env = Some(environment::proxy_env());
    if let Some(g) = &goenv {
        let shown: Vec<String> = run_env::GO_VARS
            .iter()
            .filter_map(|k| {
                g.get(*k).filter(|v| !v.is_empty()).map(|v| {
                    // GOPROXY may carry user:password@: never on the terminal.
                    format!("{k}={}", run_env::redact_list(v))
                })
            })
            .collect();
        eprintln!("gomodwatch: go env: {}", shown.join(" "));
    }
    let lo = loopback_capture(&setup);
    eprintln!(
        "gomodwatch: running {} through the MITM on {}{}",
        program.to_string_lossy(),
        mitm.addr,
        match &cli.mitm_opts.certs.upstream_proxy {
            Some(u) => format!(" (upstream proxy {})", u.shown),
            None => String::new(),
        }
    );
    let signals = Signals::install(&setup)?;
    // The go command is the oracle: its error lines and exit status go to the verdicts.
    let child_args: Vec<String> = args.command[1..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let go_run = Arc::new(GoRun::new(&child_args));
    setup.config.go_run = Some(go_run.clone());
    let trust_note = {
        let go_run = go_run.clone();
        move || {
            let failed = go_run
                .all()
                .iter()
                .filter(|s| s.cause == Some(Cause::TlsTrust))
                .count();
            run_trust::after_failure(os, trust, ca_dir.as_deref(), failed)
        }
    };
    let report = setup.view == View::Report;
    if report {
        setup.report_note = Some(Box::new(trust_note.clone()));
    }
    // The budget's wall clock is the child's lifetime, on the MITM's clock.
    go_run.started(Ts::now());
    let mut child = Command::new(&program)
        .args(&args.command[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            // As a shell says it: 127 for a command that is not there, 126 for one that
            // cannot be run.
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            Failure::Exit(
                code,
                Some(format!("cannot run {}: {e}", program.to_string_lossy())),
            )
        })?;
    let stderr_tee = child.stderr.take().map(|e| tee_stderr(e, go_run.clone()));
    // SIGTERM (or SIGINT from `kill`, not the terminal) reaches only us: pass it on, and
    // keep reading until the child is gone so its last exchanges are told.
    let pid = child.id() as i32;
    signals.on_signal(move || {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    });
    let status = Arc::new(Mutex::new(None));
    let (capture, lo_src) = match lo {
        Some((c, s)) => (Some(c), Some(s)),
        None => (None, None),
    };
    let mut src = RunSource {
        mitm: MitmSource { mitm },
        lo: lo_src,
        child,
        status: status.clone(),
        go_run: go_run.clone(),
        exited: None,
        last: Instant::now(),
        settled_at: Ts(i64::MAX),
        tui_after: setup.tui_after.clone(),
    };
    let never = AtomicBool::new(false);
    let fin = setup.pump(&cli, &mut src, true, &never);
    drop(src);
    if let Some(c) = capture {
        let _ = c.stop();
    }
    drop(bundle);
    if let Some(t) = stderr_tee {
        let _ = t.join();
    }
    fin?;
    // The report said it; the other views have no place for it.
    if !report {
        if let Some(why) = trust_note() {
            eprintln!("gomodwatch: {why}");
        }
    }
    let st = status.lock().unwrap_or_else(|p| p.into_inner()).take();
    match st.map(exit_code) {
        Some(0) | None => Ok(()),
        Some(code) => Err(Failure::Exit(code, None)),
    }
}

/// The child's exit status as a shell reports it (128+N for a signal).
fn exit_code(st: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(sig)) => (128 + sig).min(255) as u8,
        _ => 1,
    }
}

/// Passes the child's stderr through to ours line by line, as it comes (the user sees it
/// as if the child had the terminal), and gives each line to the verdicts.
fn tee_stderr(from: ChildStderr, run: Arc<GoRun>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        let mut out = std::io::stderr();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let _ = out.write_all(&line);
                    let _ = out.flush();
                    run.line(&String::from_utf8_lossy(&line));
                }
            }
        }
    })
}

/// The go command never proxies a GOPROXY on loopback: say so, and capture loopback for
/// those ports when this process may (root or CAP_NET_RAW).
fn loopback_capture(setup: &Run) -> Option<(LiveCapture, LiveSource)> {
    let list = setup.config.goproxy.as_ref()?;
    let entries = run_env::loopback_entries(list);
    if entries.is_empty() {
        return None;
    }
    let urls: Vec<&str> = entries.iter().map(|(u, _)| u.as_str()).collect();
    eprintln!(
        "gomodwatch: GOPROXY entry {} is on loopback, which the go command never sends through \
         a proxy: the MITM will not see it",
        urls.join(", ")
    );
    let mut ports: Vec<u16> = entries.iter().map(|(_, p)| *p).collect();
    ports.sort_unstable();
    ports.dedup();
    let filter = ports
        .iter()
        .map(|p| format!("tcp port {p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let lo = platform::loopback_interface(Os::current());
    let opened = live::open_all(&LiveConfig {
        interfaces: vec![lo.into()],
        filter: Some(filter),
        snaplen: live::DEFAULT_SNAPLEN,
    });
    match opened {
        Ok(o) => {
            eprintln!(
                "gomodwatch: capturing loopback ({lo}) for it instead (https there stays opaque)"
            );
            Some(LiveCapture::start(o, None))
        }
        Err(e) => {
            eprintln!(
                "gomodwatch: cannot capture loopback ({e}); to see it, run gomodwatch as root or \
                 {}, or use a name for the proxy (an /etc/hosts entry) so it goes through the \
                 MITM",
                platform::capture_without_root(Os::current())
            );
            None
        }
    }
}

/// With a loopback capture, the packets stamped up to this long after the child's exit are
/// waited for (the server's side of the connections the child's exit closed): not a quiet
/// time on this thread's clock, which a starved capture thread could outlast (an answer
/// then looked like a hang), but the capture's own word that it has them all.
const SETTLE: Duration = Duration::from_millis(50);
/// How long nothing may come before a connection the child left open is not waited for.
const QUIET: Duration = Duration::from_millis(400);
/// The longest the views wait for the last events once the child is gone.
const LINGER_MAX: Duration = Duration::from_secs(3);
/// Once the child has exited, how often the MITM's count is looked at.
const EXITED_POLL: Duration = Duration::from_millis(1);

/// The MITM's events (and a loopback capture's packets) until the child has exited and
/// nothing more has arrived for a moment.
struct RunSource {
    mitm: MitmSource,
    lo: Option<LiveSource>,
    child: Child,
    status: Arc<Mutex<Option<ExitStatus>>>,
    go_run: Arc<GoRun>,
    exited: Option<Instant>,
    /// The child's exit as packets are stamped, plus `SETTLE`: what a loopback capture
    /// must have delivered before the end.
    settled_at: Ts,
    last: Instant,
    /// Raised when the child has exited: the terminal is free for the TUI.
    tui_after: Arc<std::sync::atomic::AtomicBool>,
}

impl PacketSource for RunSource {
    fn pull(&mut self, wait: Duration) -> Result<Pull<'_>, FileError> {
        if self.exited.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                *self.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(st);
                self.go_run.exited(i32::from(exit_code(st)));
                self.go_run.ended(Ts::now());
                self.exited = Some(Instant::now());
                self.settled_at = Ts(Ts::now().0 + SETTLE.as_nanos() as i64);
                self.tui_after
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        // Through the MITM alone, its own count says when the child's last connection has
        // been told in full: no need to wait for quiet (that wait was 0.4 s of every `run`,
        // 10 % of a four-second `go mod download`). A loopback capture must also have
        // delivered every packet stamped up to `settled_at` (`Merger::caught_up`).
        let mitm_quiet = self.exited.is_some() && self.mitm.mitm.quiet();
        let quiet = mitm_quiet && self.lo.is_none();
        let wait = match (self.exited, &self.lo) {
            // End now rather than after a pull's whole wait: the MITM polls its queue for
            // all of `wait` while events have just flowed, and they always have when the
            // child exits (25 ms of every run).
            (Some(_), None) if quiet => return Ok(Pull::End),
            // The child is gone: look at `quiet` again soon.
            (Some(_), None) => wait.min(EXITED_POLL),
            (_, Some(_)) => wait / 2,
            (None, None) => wait,
        };
        match self.mitm.pull(wait)? {
            Pull::Idle | Pull::End => {}
            p => {
                self.last = Instant::now();
                return Ok(p);
            }
        }
        if self
            .lo
            .as_mut()
            .is_some_and(|l| matches!(l.merger.next(wait), Next::Packet))
        {
            self.last = Instant::now();
            let lo = self.lo.as_ref().map(|l| l.merger.packet());
            return Ok(match lo.flatten() {
                Some(p) => Pull::Packet(p),
                None => Pull::Idle,
            });
        }
        if let Some(at) = self.exited {
            // A connection still served after the child is gone (a process it left
            // behind): its end is not waited for once nothing has come for a while.
            let done = mitm_quiet || at.max(self.last).elapsed() >= QUIET;
            // Here the capture came back idle: whatever it had is released.
            let caught_up = self
                .lo
                .as_ref()
                .is_none_or(|l| l.merger.caught_up(self.settled_at));
            if (done && caught_up) || at.elapsed() >= LINGER_MAX {
                return Ok(Pull::End);
            }
        }
        Ok(Pull::Idle)
    }

    fn dropped(&self) -> u64 {
        self.mitm.dropped() + self.lo.as_ref().map_or(0, |l| l.dropped())
    }

    // The MITM's refusals and cap, as for --mitm: the run is a MITM run.
    fn refused(&self) -> Option<u64> {
        self.mitm.refused()
    }

    fn relay_waits(&self) -> Option<u64> {
        self.mitm.relay_waits()
    }

    fn client_limit(&self) -> Option<u64> {
        self.mitm.client_limit()
    }

    fn notices(&mut self) -> Vec<String> {
        let mut n = self.mitm.notices();
        if let Some(l) = &mut self.lo {
            n.extend(l.notices());
        }
        n
    }
}
