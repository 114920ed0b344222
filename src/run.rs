//! From the command line to a running pipeline: pick the source (file or live
//! interfaces), the view (TUI, NDJSON, report), open files, drop privileges, handle signals.

use crate::cli::Cli;
use gomodwatch::decode::app::DecodeConfig;
use gomodwatch::decode::Decoder;
use gomodwatch::export::har::HarWriter;
use gomodwatch::export::ndjson::NdjsonWriter;
use gomodwatch::export::report;
use gomodwatch::gomod::goproxy::{self, ChainSource, GoproxyList};
use gomodwatch::gomod::hook::{GoHook, GoHookConfig};
use gomodwatch::gomod::sumdb::SumTable;
use gomodwatch::pipeline::{self, FileSource, Finished, LiveSource, Outputs, Status};
use gomodwatch::session::{Session, SessionConfig};
use gomodwatch::source::file::CaptureFile;
use gomodwatch::source::live::{self, LiveConfig, LiveStats, Merger};
use gomodwatch::source::mitm;
use gomodwatch::source::privdrop;
use gomodwatch::source::writer::{CaptureWriter, IfaceDesc};
use gomodwatch::ui::{self, Tui};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

pub enum Failure {
    /// Bad usage or unreadable/corrupt input: exit status 2.
    Input(String),
    /// Anything else: exit status 1.
    Runtime(String),
    /// Output closed by the reader (`| head`): stop quietly.
    Quiet,
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

fn session_config(cli: &Cli) -> Result<SessionConfig, Failure> {
    let gosum = match &cli.gosum {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Input(format!("{}: {e}", p.display())))?;
            SumTable::parse(&text)
        }
        None => std::fs::read_to_string("go.sum")
            .map(|t| SumTable::parse(&t))
            .unwrap_or_default(),
    };
    if !cli.slo.is_finite() || cli.slo <= 0.0 {
        return Err(Failure::Input(
            "--slo must be a positive number of milliseconds".into(),
        ));
    }
    Ok(SessionConfig {
        goproxy: cli
            .goproxy
            .as_deref()
            .map(|l| GoproxyList::parse(l, ChainSource::Flag)),
        slo_ms: cli.slo,
        gosum,
        log_capacity: 0,
    })
}

fn decode_env(cli: &Cli, config: &SessionConfig) -> Decoder {
    let hook = GoHook::new(GoHookConfig {
        proxy_bases: config
            .goproxy
            .as_ref()
            .map(GoproxyList::proxy_bases)
            .unwrap_or_default(),
        live: !cli.interfaces.is_empty(),
        no_hash: cli.no_hash,
    });
    Decoder::new(
        DecodeConfig {
            show_credentials: cli.show_credentials,
        },
        Box::new(hook),
    )
}

pub fn main(cli: Cli) -> Result<(), Failure> {
    if cli.list_interfaces {
        let lines = live::list_devices().map_err(|e| Failure::Runtime(e.to_string()))?;
        for l in lines {
            println!("{l}");
        }
        return Ok(());
    }
    if cli.print_ca {
        return print_ca(&cli);
    }
    if cli.mitm.is_some() {
        return run_mitm(cli);
    }
    if !cli.interfaces.is_empty() {
        return run_live(cli);
    }
    if cli.read.is_some() {
        return run_file(cli);
    }
    Err(Failure::Input(
        "nothing to do: give -r FILE to replay a capture or -i IFACE to capture live (see --help)"
            .to_string(),
    ))
}

/// `--json` and `--report` say; otherwise the TUI on a terminal, the report elsewhere.
fn view_of(cli: &Cli) -> View {
    if cli.json {
        View::Json
    } else if cli.report || !io::stdout().is_terminal() {
        View::Report
    } else {
        View::Tui
    }
}

fn outputs(view: View, mut config: SessionConfig, har: Option<File>) -> Result<Outputs, Failure> {
    if view == View::Tui {
        config.log_capacity = ui::LOG_CAPACITY;
    }
    let har = match har {
        Some(f) => Some(
            HarWriter::new(BufWriter::new(f))
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?,
        ),
        None => None,
    };
    Ok(Outputs {
        session: Session::new(config),
        json: (view == View::Json)
            .then(|| NdjsonWriter::new(Box::new(io::stdout().lock()) as Box<dyn Write>)),
        har,
    })
}

/// Runs the pipeline with the TUI as front end when that is the view, else without one.
fn pump_in_view(
    view: View,
    src: &mut dyn pipeline::PacketSource,
    decoder: &mut Decoder,
    out: &mut Outputs,
    stop: &AtomicBool,
    status: &mut Status,
) -> Result<Finished, Failure> {
    let fin = if view == View::Tui {
        let mut tui = Tui::start().map_err(|e| Failure::Runtime(format!("terminal: {e}")))?;
        let fin = pipeline::pump(src, decoder, out, Some(&mut tui), stop, status);
        // Dropping the TUI gives the terminal back before anything is printed.
        drop(tui);
        fin
    } else {
        pipeline::pump(src, decoder, out, None, stop, status)
    };
    fin.map_err(output_error)
}

fn run_file(cli: Cli) -> Result<(), Failure> {
    let path = cli.read.clone().expect("checked by caller");
    let name = path.display().to_string();
    let view = view_of(&cli);
    let config = session_config(&cli)?;
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(&path).map_err(|e| Failure::Input(format!("{name}: {e}")))?)
    };
    let file = CaptureFile::new(input).map_err(|e| Failure::Input(format!("{name}: {e}")))?;
    let har = cli
        .har
        .as_deref()
        .map(|p| create_output(p, cli.force))
        .transpose()?;
    let env = decode_env(&cli, &config);
    let mut out = outputs(view, config, har)?;
    let mut src = FileSource::new(file, cli.realtime);
    let mut decoder = env;
    let stop = Arc::new(AtomicBool::new(false));
    let mut status = Status {
        source: name.clone(),
        ..Default::default()
    };
    if view == View::Tui {
        // The TUI reads keys in raw mode (Ctrl-C is a key there); SIGTERM still ends it.
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::Relaxed));
    }
    let fin = pump_in_view(view, &mut src, &mut decoder, &mut out, &stop, &mut status)?;
    finish(out, view, &name, &fin)?;
    match fin.damage {
        Some(e) => Err(Failure::Input(format!("{name}: {e}"))),
        None => Ok(()),
    }
}

/// Closes the HAR file and writes the module events, the summary or the report.
fn finish(mut out: Outputs, view: View, source: &str, fin: &Finished) -> Result<(), Failure> {
    if let Some(har) = out.har.take() {
        har.finish()
            .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?;
    }
    if view == View::Tui {
        return Ok(());
    }
    let modules = out.session.modules();
    let summary = out.session.summary(fin.counts, &modules);
    match view {
        View::Tui => {}
        View::Json => {
            let json = out.json.as_mut().expect("json view has a writer");
            for m in &modules {
                json.write(m).map_err(output_error)?;
            }
            json.write(&summary).map_err(output_error)?;
        }
        View::Report => {
            let text = report::render(&report::ReportInput {
                source,
                session: &out.session,
                modules: &modules,
                summary: &summary,
            });
            let mut stdout = io::stdout().lock();
            stdout.write_all(text.as_bytes()).map_err(output_error)?;
            stdout.flush().map_err(output_error)?;
        }
    }
    Ok(())
}

fn run_live(cli: Cli) -> Result<(), Failure> {
    let view = view_of(&cli);
    let mut config = session_config(&cli)?;
    let live_cfg = LiveConfig {
        interfaces: cli.interfaces.clone(),
        filter: cli.filter.clone(),
        snaplen: cli.snaplen,
    };
    if cli.snaplen < 64 {
        return Err(Failure::Input("-s must be at least 64 bytes".into()));
    }
    // Everything that needs root happens first: open the interfaces and the output files.
    let mut opened = live::open_all(&live_cfg).map_err(|e| match e {
        // A wrong name or filter is bad usage; anything else (permissions) is a runtime failure.
        live::LiveError::NoSuchDevice { .. } | live::LiveError::Filter { .. } => {
            Failure::Input(e.to_string())
        }
        _ => Failure::Runtime(e.to_string()),
    })?;
    let target =
        privdrop::target(cli.user.as_deref()).map_err(|e| Failure::Input(e.to_string()))?;
    let pcap_file = cli
        .write
        .as_deref()
        .map(|p| create_output(p, cli.force))
        .transpose()?;
    let har = cli
        .har
        .as_deref()
        .map(|p| create_output(p, cli.force))
        .transpose()?;
    if let Some(id) = target {
        for f in pcap_file.iter().chain(har.iter()) {
            privdrop::chown(f, id);
        }
        privdrop::drop_to(id).map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    // Now unprivileged: ask the user's go command which GOPROXY is in effect.
    if config.goproxy.is_none() {
        config.goproxy = goproxy::from_go_env();
    }
    let names: Vec<String> = opened.iter().map(|o| o.name.clone()).collect();
    let opened_links: Vec<(String, &str)> = opened
        .iter()
        .map(|o| (o.name.clone(), o.link.name()))
        .collect();
    let writer = match pcap_file {
        Some(f) => {
            let descs: Vec<IfaceDesc<'_>> = opened
                .iter()
                .map(|o| IfaceDesc {
                    name: &o.name,
                    link: o.link,
                    snaplen: o.snaplen,
                })
                .collect();
            let w = CaptureWriter::new(BufWriter::with_capacity(1 << 20, f), &descs)
                .map_err(|e| Failure::Runtime(format!("writing capture: {e}")))?;
            Some(w)
        }
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let breakers: Vec<pcap::BreakLoop> = opened.iter_mut().map(|o| o.breaker()).collect();
    // A second set for quitting from the TUI: a blocked read on a quiet interface may
    // never time out (TPACKET_V3), so the threads are woken, not just told.
    let wake: Vec<pcap::BreakLoop> = opened.iter_mut().map(|o| o.breaker()).collect();
    {
        let stop = stop.clone();
        // Runs on ctrlc's own thread, not in the signal handler, so breakloop is safe.
        ctrlc::set_handler(move || {
            stop.store(true, Ordering::Relaxed);
            for b in &breakers {
                b.breakloop();
            }
        })
        .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
    }
    let stats = Arc::new(LiveStats::default());
    let (tx, rx) = mpsc::sync_channel(live::CHANNEL_BATCHES);
    let (wtx, writer_thread) = match writer {
        Some(mut w) => {
            let (wtx, wrx) = mpsc::sync_channel::<live::Message>(live::CHANNEL_BATCHES);
            let interfaces = names.len();
            let handle = std::thread::spawn(move || -> io::Result<()> {
                // The file gets every captured packet, merged across interfaces in time
                // order like the decoder sees them, and reaches the disk at least every
                // 100 ms: a Ctrl-C (or a crash) leaves a readable file.
                let mut merger = Merger::new(wrx, interfaces);
                let mut flushed = std::time::Instant::now();
                loop {
                    match merger.next(std::time::Duration::from_millis(100)) {
                        live::Next::Packet => {
                            if let Some(p) = merger.packet() {
                                w.packet(p.iface, p.ts, p.wire_len, p.data)?;
                            }
                        }
                        live::Next::Idle => {}
                        live::Next::End => break,
                    }
                    if flushed.elapsed() >= std::time::Duration::from_millis(100) {
                        w.flush()?;
                        flushed = std::time::Instant::now();
                    }
                }
                w.flush()
            });
            (Some(wtx), Some(handle))
        }
        None => (None, None),
    };
    let threads = live::spawn(opened, tx, wtx, stats.clone(), stop.clone());
    let env = decode_env(&cli, &config);
    let mut out = outputs(view, config, har)?;
    let mut src = LiveSource {
        merger: Merger::new(rx, names.len()),
        stats: stats.clone(),
        names: names.clone(),
    };
    let mut decoder = env;
    let mut status = Status {
        source: names.join(", "),
        ..Default::default()
    };
    // Like tcpdump: say what is being captured (stderr, so --json stays clean). Tests wait
    // for this line before they start traffic.
    let links: Vec<String> = opened_links
        .iter()
        .map(|(n, l)| format!("{n} ({l})"))
        .collect();
    if view != View::Tui {
        eprintln!(
            "gomodwatch: listening on {}, snapshot length {}{}",
            links.join(", "),
            cli.snaplen,
            if view == View::Report {
                "; Ctrl-C stops and prints the report"
            } else {
                ""
            }
        );
    }
    // Without a TUI, `pump` runs until every capture thread has ended (Ctrl-C makes them
    // end), so the last packets are decoded before the summary; the TUI stops at once.
    let never = AtomicBool::new(false);
    let until = if view == View::Tui { &*stop } else { &never };
    let fin = pump_in_view(view, &mut src, &mut decoder, &mut out, until, &mut status)?;
    stop.store(true, Ordering::Relaxed);
    for b in &wake {
        b.breakloop();
    }
    for t in threads {
        let _ = t.join();
    }
    drop(src);
    if let Some(h) = writer_thread {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Failure::Runtime(format!("writing capture: {e}"))),
            Err(_) => return Err(Failure::Runtime("the capture writer crashed".into())),
        }
    }
    let unwritten = stats.unwritten.load(Ordering::Relaxed);
    if unwritten > 0 {
        eprintln!("gomodwatch: {unwritten} packets could not be written to the -w file in time");
    }
    finish(out, view, &names.join(", "), &fin)
}

fn ca_dir(cli: &Cli) -> std::path::PathBuf {
    cli.ca_dir.clone().unwrap_or_else(mitm::ca::default_dir)
}

fn print_ca(cli: &Cli) -> Result<(), Failure> {
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

fn run_mitm(cli: Cli) -> Result<(), Failure> {
    let view = view_of(&cli);
    let mut config = session_config(&cli)?;
    let addr_text = cli.mitm.clone().unwrap_or_default();
    let addr: std::net::SocketAddr = addr_text.parse().map_err(|_| {
        Failure::Input(format!(
            "--mitm {addr_text}: not an address like 127.0.0.1:8080"
        ))
    })?;
    let mitm = mitm::Mitm::start(&mitm::MitmConfig {
        addr,
        ca_dir: ca_dir(&cli),
        upstream_ca: cli.upstream_ca.clone(),
    })
    .map_err(Failure::Runtime)?;
    if config.goproxy.is_none() {
        config.goproxy = goproxy::from_go_env();
    }
    let har = cli
        .har
        .as_deref()
        .map(|p| create_output(p, cli.force))
        .transpose()?;
    let env = decode_env(&cli, &config);
    let mut out = outputs(view, config, har)?;
    let name = format!("MITM {}", mitm.addr);
    if view != View::Tui {
        eprintln!(
            "gomodwatch: MITM proxy listening on {addr}; CA {ca}\n  run: HTTPS_PROXY=http://{addr} SSL_CERT_FILE={ca} go mod download ...{stop}",
            addr = mitm.addr,
            ca = mitm.ca_path.display(),
            stop = if view == View::Report { "\n  Ctrl-C stops and prints the report" } else { "" },
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        ctrlc::set_handler(move || s.store(true, Ordering::Relaxed))
            .map_err(|e| Failure::Runtime(format!("installing the signal handler: {e}")))?;
    }
    let mut src = pipeline::MitmSource { mitm };
    let mut decoder = env;
    let mut status = Status {
        source: name.clone(),
        ..Default::default()
    };
    let fin = pump_in_view(view, &mut src, &mut decoder, &mut out, &stop, &mut status)?;
    finish(out, view, &name, &fin)
}
