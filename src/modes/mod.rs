//! What each mode does, and what they share: the session's configuration, the views
//! (sinks), output files that are never overwritten unasked, and one signal handler.

mod live;
mod mitm;
mod replay;

use crate::cli::{Cli, Mode};
use gomodwatch::export::har::HarWriter;
use gomodwatch::export::ndjson::NdjsonWriter;
use gomodwatch::export::report::Report;
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
}

pub fn run(cli: &Cli) -> Result<(), Failure> {
    match cli.mode() {
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
}

/// `--json` and `--report` say; otherwise the TUI on a terminal, the report elsewhere.
fn view_of(cli: &Cli) -> View {
    if cli.view.json {
        View::Json
    } else if cli.view.report || !io::stdout().is_terminal() {
        View::Report
    } else {
        View::Tui
    }
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
    Ok(SessionConfig {
        goproxy: cli
            .model
            .goproxy
            .as_deref()
            .map(|l| GoproxyList::parse(l, ChainSource::Flag)),
        slo_ms: cli.model.slo,
        gosum,
        log_capacity: 0,
    })
}

/// A run being set up: what it reads, how it judges, where it shows.
struct Run {
    view: View,
    config: SessionConfig,
    /// The `--har` file, opened before privileges are dropped.
    har: Option<File>,
    /// Shown in the status bar and the report.
    name: String,
    /// Small hashing buffers (MITM: the proxy's memory is bounded).
    lean: bool,
}

impl Run {
    fn new(cli: &Cli, name: String) -> Result<Run, Failure> {
        Ok(Run {
            view: view_of(cli),
            config: session_config(cli)?,
            har: cli
                .view
                .har
                .as_deref()
                .map(|p| create_output(p, cli.view.force))
                .transpose()?,
            name,
            lean: false,
        })
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
        let mut decoder = pipeline::go_decoder(cli.view.show_credentials, hook);
        if self.view == View::Tui {
            config.log_capacity = ui::LOG_CAPACITY;
        }
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if let Some(f) = self.har {
            let har = HarWriter::new(BufWriter::new(f))
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?;
            sinks.push(Box::new(har));
        }
        match self.view {
            View::Json => sinks.push(Box::new(NdjsonWriter::new(io::stdout().lock()))),
            View::Report => sinks.push(Box::new(Report::new(io::stdout().lock()))),
            View::Tui => {
                let tui = Tui::start().map_err(|e| Failure::Runtime(format!("terminal: {e}")))?;
                sinks.push(Box::new(tui));
            }
        }
        let mut session = Session::new(config);
        session.source.name = self.name;
        let mut out = Outputs { session, sinks };
        let fin = pipeline::pump(src, &mut decoder, &mut out, stop);
        // Dropping the TUI gives the terminal back before anything else is printed.
        drop(out);
        fin.map_err(output_error)
    }
}

/// Something to do when the user interrupts the run.
type Action = Box<dyn Fn() + Send + Sync>;

/// What Ctrl-C (and SIGTERM) does: one handler for the whole program, installed once.
/// Modes add what must happen (waking capture threads) to the stop flag every mode has.
#[derive(Clone)]
struct Signals {
    stop: Arc<AtomicBool>,
    actions: Arc<Mutex<Vec<Action>>>,
}

impl Signals {
    fn install() -> Result<Signals, Failure> {
        let s = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            actions: Arc::default(),
        };
        let handler = s.clone();
        ctrlc::set_handler(move || {
            handler.stop.store(true, Ordering::Relaxed);
            // ctrlc runs this on its own thread, not in the signal handler itself, so
            // taking a lock and waking threads is safe here.
            let actions = handler.actions.lock().unwrap_or_else(|p| p.into_inner());
            for a in actions.iter() {
                a();
            }
        })
        .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
        Ok(s)
    }

    fn on_signal(&self, action: impl Fn() + Send + Sync + 'static) {
        self.actions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(action));
    }
}
