//! A run being set up ([`Run`]): what it reads, how it judges, where it shows; and the
//! views it can show in ([`View`]). [`Run::pump`] runs a source through the decoder into
//! the views.

use super::config::{add_keylog, load_keylog, session_config};
use super::failure::{output_error, Failure};
use super::output::create_output;
use crate::cli::Cli;
use gomodwatch::decode::tls::decrypt::KeyLog;
use gomodwatch::export::har::HarWriter;
use gomodwatch::export::metrics::{Metrics, MetricsServer, MetricsSink};
use gomodwatch::export::ndjson::{NdjsonFile, NdjsonWriter};
use gomodwatch::export::push;
use gomodwatch::export::report::{Report, ReportNote};
use gomodwatch::export::rotate::RotatingFile;
use gomodwatch::gomod::goproxy::GoproxyList;
use gomodwatch::gomod::hook::{GoHookConfig, ModuleCache};
use gomodwatch::pipeline::{self, Finished, Outputs};
use gomodwatch::session::{Control, Session, SessionConfig, Sink};
use gomodwatch::source::PacketSource;
use gomodwatch::ui::{self, Tui};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a run shows what it saw.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
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

/// A run being set up: what it reads, how it judges, where it shows.
pub(super) struct Run {
    pub(super) view: View,
    pub(super) config: SessionConfig,
    /// The `--har` file, opened before privileges are dropped.
    pub(super) har: Option<File>,
    /// The `--output` file, likewise.
    pub(super) output: Option<RotatingFile>,
    /// The metrics, when served (`--metrics`, bound before privileges are dropped) or
    /// pushed at the end (`--push-metrics`).
    pub(super) metrics: Option<Arc<Metrics>>,
    /// Where the metrics are served.
    pub(super) metrics_addr: Option<std::net::SocketAddr>,
    /// Raised by SIGHUP in daemon mode: reopen the output file.
    pub(super) reopen: Arc<AtomicBool>,
    /// Shown in the status bar and the report.
    pub(super) name: String,
    /// Small hashing buffers (MITM: the proxy's memory is bounded).
    pub(super) lean: bool,
    /// `run` with a go command: its module cache (run_cache.rs).
    pub(super) module_cache: Option<Arc<dyn ModuleCache>>,
    /// `run --tui`: raised when the child has exited and the terminal is free.
    pub(super) tui_after: Arc<AtomicBool>,
    /// Replay: the key log that the file's Decryption Secrets Blocks fill as they are read
    /// (`--tls-keylog`'s secrets are added to it).
    pub(super) in_band_secrets: Option<Arc<KeyLog>>,
    /// What the report says beyond the traffic (`run`: a trust failure's cause).
    pub(super) report_note: Option<ReportNote>,
}

impl Run {
    pub(super) fn new(cli: &Cli, name: String) -> Result<Run, Failure> {
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
            module_cache: None,
            in_band_secrets: None,
            tui_after: Arc::default(),
            report_note: None,
        })
    }

    /// "; metrics at http://ADDR/metrics" for the line that says the run started.
    pub(super) fn metrics_note(&self) -> String {
        self.metrics_addr
            .map(|a| format!("; metrics at http://{a}/metrics"))
            .unwrap_or_default()
    }

    /// Files opened before privileges are dropped, to hand to the unprivileged user.
    pub(super) fn files(&self) -> impl Iterator<Item = &File> {
        self.har
            .iter()
            .chain(self.output.as_ref().map(RotatingFile::get_ref))
    }

    /// Runs `src` to its end through the decoder into the views; prints the report or
    /// the final NDJSON lines.
    pub(super) fn pump(
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
            module_cache: self.module_cache,
        };
        let keylog = match (&cli.model.tls_keylog, self.in_band_secrets) {
            (Some(p), Some(log)) => Some(add_keylog(log, p)?),
            (Some(p), None) => Some(load_keylog(p)?),
            (None, log) => log,
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
            View::Report => sinks.push(Box::new(Report::with_note(
                io::stdout().lock(),
                self.report_note,
            ))),
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
            push::push(url, &cli.fleet.push_job, m).map_err(|e| Failure::Runtime(e.to_string()))?;
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

    fn turn(&mut self, session: &Session) -> Control {
        if self.tui.is_none() {
            if !self.when.load(Ordering::Relaxed) {
                return Control::Continue;
            }
            match Tui::start() {
                Ok(t) => self.tui = Some(Box::new(t)),
                Err(e) => {
                    eprintln!("gomodwatch: terminal: {e}");
                    return Control::Quit;
                }
            }
        }
        self.tui.as_mut().map_or(Control::Quit, |t| t.turn(session))
    }

    fn paused(&self) -> bool {
        self.tui.as_ref().is_some_and(|t| t.paused())
    }
}
