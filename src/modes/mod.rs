//! What each mode does, and what they share: the session's configuration, the views
//! (sinks), output files that are never overwritten unasked, and one signal handler.

mod ca;
mod ca_trust;
mod live;
mod mitm;
mod replay;
mod run;
mod run_env;
mod transparent_rules;

use crate::cli::{Cli, Mode};
use gomodwatch::export::har::HarWriter;
use gomodwatch::export::metrics::{Metrics, MetricsServer, MetricsSink};
use gomodwatch::export::ndjson::{NdjsonFile, NdjsonWriter};
use gomodwatch::export::push;
use gomodwatch::export::report::Report;
use gomodwatch::export::rotate::RotatingFile;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::gomod::hook::GoHookConfig;
use gomodwatch::gomod::sumdb::SumTable;
use gomodwatch::pipeline::{self, Finished, Outputs};
use gomodwatch::session::{Session, SessionConfig, Sink};
use gomodwatch::source::PacketSource;
use gomodwatch::ui::{self, Tui};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub enum Failure {
    /// Bad usage or unreadable/corrupt input: exit status 2.
    Input(String),
    /// Anything else: exit status 1.
    Runtime(String),
    /// Output closed by the reader (`| head`): stop quietly.
    Quiet,
    /// Exit with this status (`run`: the child's), with a line to say first if any.
    Exit(u8, Option<String>),
}

pub fn run(cli: &Cli) -> Result<(), Failure> {
    match cli.mode() {
        Some(Mode::Run(args)) => run::run(cli, args),
        Some(Mode::Ca(args)) => ca::run(args),
        Some(Mode::ListInterfaces) => live::list_interfaces(),
        Some(Mode::PrintCa) => mitm::print_ca(cli),
        Some(Mode::Mitm(addr)) => mitm::run(cli, addr),
        Some(Mode::Live(ifaces)) => live::run(cli, ifaces),
        Some(Mode::Replay(path)) => replay::run(cli, path),
        None => Err(Failure::Input(
            "nothing to do: give -r FILE to replay a capture or -i IFACE to capture live (see \
             --help)"
                .into(),
        )),
    }
}

fn output_error(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::Quiet
    } else {
        Failure::Runtime(format!("writing output: {e}"))
    }
}

/// Creates an output file, refusing to replace one that exists unless forced.
fn create_output(path: &Path, force: bool) -> Result<File, Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    opts.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            Failure::Input(format!(
                "{} exists; not overwriting it (use --force)",
                path.display()
            ))
        } else {
            Failure::Input(format!("{}: {e}", path.display()))
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Json,
    Report,
    Tui,
    /// `--daemon`: nothing on stdout.
    Headless,
    /// `run --tui`: the TUI once the child has exited (the flag says when).
    TuiAfter,
}

/// `--json` and `--report` say; otherwise the TUI on a terminal, the report elsewhere.
fn view_of(cli: &Cli) -> View {
    if cli.fleet.daemon {
        View::Headless
    } else if cli.view.json {
        View::Json
    } else if cli.view.report || !io::stdout().is_terminal() {
        View::Report
    } else {
        View::Tui
    }
}

/// Reads an NSS key log for `--tls-keylog`; one without any TLS 1.3 secret is an error
/// (a TLS 1.2 `CLIENT_RANDOM` log cannot decrypt anything here).
fn load_keylog(path: &Path) -> Result<Arc<gomodwatch::decode::tls::decrypt::KeyLog>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    let (log, used) = gomodwatch::decode::tls::decrypt::KeyLog::parse(&text);
    if used == 0 {
        return Err(Failure::Input(format!(
            "{}: no TLS 1.3 secrets (CLIENT_TRAFFIC_SECRET_0 …) in it; TLS 1.2 key logs are not supported",
            path.display()
        )));
    }
    Ok(Arc::new(log))
}

fn session_config(cli: &Cli) -> Result<SessionConfig, Failure> {
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
        // capture asks after dropping privileges, modes/live.rs).
        cli.mitm
            .is_some()
            .then(gomodwatch::gomod::goenv::GoEnv::from_go_command)
            .flatten()
    } else {
        let mut env = gomodwatch::gomod::goenv::GoEnv::default();
        for arg in &cli.model.go_env {
            env.add_arg(arg).map_err(Failure::Input)?;
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

/// A run being set up: what it reads, how it judges, where it shows.
struct Run {
    view: View,
    config: SessionConfig,
    /// The `--har` file, opened before privileges are dropped.
    har: Option<File>,
    /// The `--output` file, likewise.
    output: Option<RotatingFile>,
    /// The metrics, when served (`--metrics`, bound before privileges are dropped) or
    /// pushed at the end (`--push-metrics`).
    metrics: Option<Arc<Metrics>>,
    /// Where the metrics are served.
    metrics_addr: Option<std::net::SocketAddr>,
    /// Raised by SIGHUP in daemon mode: reopen the output file.
    reopen: Arc<AtomicBool>,
    /// Shown in the status bar and the report.
    name: String,
    /// Small hashing buffers (MITM: the proxy's memory is bounded).
    lean: bool,
    /// `run --tui`: raised when the child has exited and the terminal is free.
    tui_after: Arc<AtomicBool>,
}

impl Run {
    fn new(cli: &Cli, name: String) -> Result<Run, Failure> {
        let fleet = &cli.fleet;
        if fleet.daemon && fleet.output.is_none() && fleet.metrics.is_none() {
            return Err(Failure::Input(
                "--daemon writes nowhere without --output FILE or --metrics ADDR".into(),
            ));
        }
        let output = fleet
            .output
            .as_deref()
            .map(|p| {
                RotatingFile::open(p, fleet.rotate_size, fleet.rotate_keep)
                    .map_err(|e| Failure::Input(format!("{}: {e}", p.display())))
            })
            .transpose()?;
        let metrics = (fleet.metrics.is_some() || fleet.push_metrics.is_some())
            .then(|| Metrics::new(cli.model.slo));
        let mut metrics_addr = None;
        if let (Some(addr), Some(m)) = (fleet.metrics, &metrics) {
            let server = MetricsServer::start(addr, m.clone())
                .map_err(|e| Failure::Runtime(format!("metrics on {addr}: {e}")))?;
            if !server.addr.ip().is_loopback() {
                eprintln!(
                    "gomodwatch: warning: metrics are served beyond loopback on {} (anyone who                      can reach it sees which proxies this machine uses)",
                    server.addr
                );
            }
            metrics_addr = Some(server.addr);
        }
        Ok(Run {
            view: view_of(cli),
            config: session_config(cli)?,
            har: cli
                .view
                .har
                .as_deref()
                .map(|p| create_output(p, cli.view.force))
                .transpose()?,
            output,
            metrics,
            metrics_addr,
            reopen: Arc::default(),
            name,
            lean: false,
            tui_after: Arc::default(),
        })
    }

    /// "; metrics at http://ADDR/metrics" for the line that says the run started.
    fn metrics_note(&self) -> String {
        self.metrics_addr
            .map(|a| format!("; metrics at http://{a}/metrics"))
            .unwrap_or_default()
    }

    /// Files opened before privileges are dropped, to hand to the unprivileged user.
    fn files(&self) -> impl Iterator<Item = &File> {
        self.har
            .iter()
            .chain(self.output.as_ref().map(RotatingFile::get_ref))
    }

    /// Runs `src` to its end through the decoder into the views; prints the report or
    /// the final NDJSON lines.
    fn pump(
        self,
        cli: &Cli,
        src: &mut dyn PacketSource,
        live: bool,
        stop: &AtomicBool,
    ) -> Result<Finished, Failure> {
        let mut config = self.config;
        let hook = GoHookConfig {
            proxy_bases: config
                .goproxy
                .as_ref()
                .map(GoproxyList::proxy_bases)
                .unwrap_or_default(),
            live,
            no_hash: cli.model.no_hash,
            lean: self.lean,
        };
        let keylog = match &cli.model.tls_keylog {
            Some(p) => Some(load_keylog(p)?),
            None => None,
        };
        let mut decoder = pipeline::go_decoder(
            gomodwatch::decode::DecodeConfig {
                show_credentials: cli.view.show_credentials,
                keylog,
            },
            hook,
        );
        if matches!(self.view, View::Tui | View::TuiAfter) {
            config.log_capacity = ui::LOG_CAPACITY;
        }
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if let Some(f) = self.har {
            let har = HarWriter::new(BufWriter::new(f))
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?;
            sinks.push(Box::new(har));
        }
        if let Some(f) = self.output {
            sinks.push(Box::new(NdjsonFile::new(f, self.reopen.clone())));
        }
        if let Some(m) = &self.metrics {
            sinks.push(Box::new(MetricsSink::new(m.clone())));
        }
        match self.view {
            View::Json => sinks.push(Box::new(NdjsonWriter::new(io::stdout().lock()))),
            View::Report => sinks.push(Box::new(Report::new(io::stdout().lock()))),
            View::Tui => {
                let tui = Tui::start().map_err(|e| Failure::Runtime(format!("terminal: {e}")))?;
                sinks.push(Box::new(tui));
            }
            View::TuiAfter => sinks.push(Box::new(LateTui {
                when: self.tui_after.clone(),
                tui: None,
            })),
            View::Headless => {}
        }
        let mut session = Session::new(config);
        session.source.name = self.name;
        let mut out = Outputs { session, sinks };
        let fin = pipeline::pump(src, &mut decoder, &mut out, stop);
        // Dropping the TUI gives the terminal back before anything else is printed.
        drop(out);
        let fin = fin.map_err(output_error)?;
        // Whatever the mode, the run's metrics go to the pushgateway once it is over.
        if let (Some(url), Some(m)) = (&cli.fleet.push_metrics, &self.metrics) {
            push::push(url, &cli.fleet.push_job, m).map_err(Failure::Runtime)?;
        }
        Ok(fin)
    }
}

/// The TUI, started only when `when` is raised (`run --tui`: the child had the terminal
/// until then). It draws from the session, so starting late loses nothing.
struct LateTui {
    when: Arc<AtomicBool>,
    tui: Option<Box<dyn Sink>>,
}

impl Sink for LateTui {
    fn interactive(&self) -> bool {
        true
    }

    fn turn(&mut self, session: &Session) -> gomodwatch::session::Control {
        if self.tui.is_none() {
            if !self.when.load(Ordering::Relaxed) {
                return gomodwatch::session::Control::Continue;
            }
            match Tui::start() {
                Ok(t) => self.tui = Some(Box::new(t)),
                Err(e) => {
                    eprintln!("gomodwatch: terminal: {e}");
                    return gomodwatch::session::Control::Quit;
                }
            }
        }
        self.tui
            .as_mut()
            .map_or(gomodwatch::session::Control::Quit, |t| t.turn(session))
    }

    fn paused(&self) -> bool {
        self.tui.as_ref().is_some_and(|t| t.paused())
    }
}

/// Something to do when the user interrupts the run.
type Action = Box<dyn Fn() + Send + Sync>;

/// What SIGINT (Ctrl-C), SIGTERM and SIGHUP do: one handler thread for the whole program,
/// installed once. Modes add what must happen (waking capture threads) to the stop flag
/// every mode has. SIGHUP stops too (the terminal went away), except for a daemon, where
/// it asks for the output file to be opened again (after logrotate moved it).
#[derive(Clone)]
struct Signals {
    stop: Arc<AtomicBool>,
    actions: Arc<Mutex<Vec<Action>>>,
}

impl Signals {
    fn install(run: &Run) -> Result<Signals, Failure> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let s = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            actions: Arc::default(),
        };
        let mut incoming = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
        let handler = s.clone();
        let reopen = (run.view == View::Headless).then(|| run.reopen.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                // This runs on its own thread, not in the signal handler itself, so taking
                // a lock and waking threads is safe here.
                for sig in incoming.forever() {
                    if let (SIGHUP, Some(r)) = (sig, &reopen) {
                        r.store(true, Ordering::Relaxed);
                        continue;
                    }
                    handler.stop.store(true, Ordering::Relaxed);
                    let actions = handler.actions.lock().unwrap_or_else(|p| p.into_inner());
                    for a in actions.iter() {
                        a();
                    }
                }
            })
            .map_err(|e| Failure::Runtime(format!("starting the signal thread: {e}")))?;
        Ok(s)
    }

    fn on_signal(&self, action: impl Fn() + Send + Sync + 'static) {
        self.actions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(action));
    }
}
