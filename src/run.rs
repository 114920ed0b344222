//! Wiring: a source feeds the decoder, events feed the session and the chosen views.

use crate::cli::Cli;
use gomodwatch::capture::file::CaptureFile;
use gomodwatch::decode::Decoder;
use gomodwatch::event::Event;
use gomodwatch::export::har::HarWriter;
use gomodwatch::export::ndjson::NdjsonWriter;
use gomodwatch::export::report;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::gomod::sumdb::SumTable;
use gomodwatch::proto::DecodeEnv;
use gomodwatch::session::{Session, SessionConfig, SourceCounts};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::Path;

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
pub fn create_output(path: &Path, force: bool) -> Result<File, Failure> {
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
}

/// Everything downstream of the decoder.
struct Views {
    session: Session,
    json: Option<NdjsonWriter<io::StdoutLock<'static>>>,
    har: Option<HarWriter<BufWriter<File>>>,
}

impl Views {
    fn event(&mut self, ev: Event) -> Result<(), Failure> {
        self.session.apply(&ev);
        if let (Some(har), Event::Exchange(ex)) = (&mut self.har, &ev) {
            har.entry(ex)
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?;
        }
        if let Some(out) = &mut self.json {
            out.write(&ev).map_err(output_error)?;
        }
        Ok(())
    }

    fn finish(mut self, view: View, source: &str, counts: SourceCounts) -> Result<(), Failure> {
        if let Some(har) = self.har.take() {
            har.finish()
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?;
        }
        let modules = self.session.modules();
        let summary = self.session.summary(counts, &modules);
        match view {
            View::Json => {
                let out = self.json.as_mut().expect("json view has a writer");
                for m in &modules {
                    out.write(m).map_err(output_error)?;
                }
                out.write(&summary).map_err(output_error)?;
            }
            View::Report => {
                let text = report::render(&report::ReportInput {
                    source,
                    session: &self.session,
                    modules: &modules,
                    summary: &summary,
                });
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes()).map_err(output_error)?;
                out.flush().map_err(output_error)?;
            }
        }
        Ok(())
    }
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

pub fn main(cli: Cli) -> Result<(), Failure> {
    let Some(path) = cli.read.clone() else {
        return Err(Failure::Input(
            "nothing to do: give -r FILE to replay a capture (see --help)".to_string(),
        ));
    };
    let view = if cli.json { View::Json } else { View::Report };
    let config = session_config(&cli)?;
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let f =
            File::open(&path).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        Box::new(f)
    };
    let mut file =
        CaptureFile::new(input).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    let env = DecodeEnv {
        proxy_bases: config
            .goproxy
            .as_ref()
            .map(GoproxyList::proxy_bases)
            .unwrap_or_default(),
        show_credentials: cli.show_credentials,
    };
    let har = match &cli.har {
        Some(p) => Some(
            HarWriter::new(BufWriter::new(create_output(p, cli.force)?))
                .map_err(|e| Failure::Runtime(format!("writing HAR: {e}")))?,
        ),
        None => None,
    };
    let mut views = Views {
        session: Session::new(config),
        json: (view == View::Json).then(|| NdjsonWriter::new(io::stdout().lock())),
        har,
    };
    let mut decoder = Decoder::new(env);
    let damage = loop {
        match file.next_packet() {
            Ok(Some(pkt)) => {
                decoder.packet(&pkt);
                for ev in decoder.drain() {
                    views.event(ev)?;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    decoder.finish();
    for ev in decoder.drain() {
        views.event(ev)?;
    }
    let st = decoder.stats();
    let counts = SourceCounts {
        packets: st.packets,
        bytes: st.bytes,
        dropped: file.dropped(),
        gaps: st.gaps,
    };
    views.finish(view, &path.display().to_string(), counts)?;
    match damage {
        Some(e) => Err(Failure::Input(format!("{}: {e}", path.display()))),
        None => Ok(()),
    }
}
