//! Wiring: a source feeds the decoder, events feed the session and the chosen view.

use crate::cli::Cli;
use gomodwatch::capture::file::CaptureFile;
use gomodwatch::decode::Decoder;
use gomodwatch::event::Event;
use gomodwatch::export::ndjson::NdjsonWriter;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::proto::DecodeEnv;
use gomodwatch::session::{Session, SessionConfig, SourceCounts};
use std::io::{self, Read};

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

pub fn main(cli: Cli) -> Result<(), Failure> {
    let Some(path) = cli.read.clone() else {
        return Err(Failure::Input(
            "nothing to do: give -r FILE (see --help)".to_string(),
        ));
    };
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let f = std::fs::File::open(&path)
            .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        Box::new(f)
    };
    let mut file =
        CaptureFile::new(input).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    let env = DecodeEnv {
        proxy_bases: cli.goproxy.as_deref().map(proxy_bases).unwrap_or_default(),
        show_credentials: cli.show_credentials,
    };
    let mut decoder = Decoder::new(env);
    let mut session = Session::new(SessionConfig {
        goproxy: cli
            .goproxy
            .as_deref()
            .map(|l| GoproxyList::parse(l, ChainSource::Flag)),
        ..Default::default()
    });
    let mut out = NdjsonWriter::new(io::stdout().lock());
    let mut emit = |ev: Event, session: &mut Session| -> Result<(), Failure> {
        session.apply(&ev);
        out.write(&ev).map_err(output_error)
    };
    let damage = loop {
        match file.next_packet() {
            Ok(Some(pkt)) => {
                decoder.packet(&pkt);
                for ev in decoder.drain() {
                    emit(ev, &mut session)?;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    decoder.finish();
    for ev in decoder.drain() {
        emit(ev, &mut session)?;
    }
    let st = decoder.stats();
    let counts = SourceCounts {
        packets: st.packets,
        bytes: st.bytes,
        dropped: file.dropped(),
        gaps: st.gaps,
    };
    let modules = session.modules();
    for m in &modules {
        out.write(m).map_err(output_error)?;
    }
    out.write(&session.summary(counts, &modules))
        .map_err(output_error)?;
    match damage {
        Some(e) => Err(Failure::Input(format!("{}: {e}", path.display()))),
        None => Ok(()),
    }
}

/// Base URLs of a GOPROXY list (`,` and `|` separated; `direct` and `off` are not URLs).
fn proxy_bases(list: &str) -> Vec<String> {
    list.split([',', '|'])
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "direct" && *e != "off")
        .map(|e| {
            if e.contains("://") {
                e.to_string()
            } else {
                format!("https://{e}")
            }
        })
        .collect()
}
