//! `-r FILE`: replay a pcap or pcapng file ("-" for standard input).

use super::failure::Failure;
use super::setup::Run;
use super::signals::Signals;
use crate::cli::Cli;
use gomodwatch::decode::tls::decrypt::KeyLog;
use gomodwatch::source::file::CaptureFile;
use gomodwatch::source::FileSource;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

pub(crate) fn run(cli: &Cli, path: &Path) -> Result<(), Failure> {
    let name = path.display().to_string();
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(|e| Failure::Input(format!("{name}: {e}")))?)
    };
    let mut file = CaptureFile::new(input).map_err(|e| Failure::Input(format!("{name}: {e}")))?;
    let mut setup = Run::new(cli, name.clone())?;
    // TLS secrets embedded in the file (pcapng Decryption Secrets Blocks) decrypt the
    // connections after them, with those of --tls-keylog.
    let secrets = Arc::new(KeyLog::default());
    let sink = secrets.clone();
    file.on_secrets(Box::new(move |text| {
        sink.add(&String::from_utf8_lossy(text));
    }));
    setup.in_band_secrets = Some(secrets);
    let note = setup.metrics_note();
    if !note.is_empty() {
        eprintln!("gomodwatch: replaying {name}{note}");
    }
    let signals = Signals::install(&setup)?;
    let mut src = FileSource::new(file, cli.realtime);
    let fin = setup.pump(cli, &mut src, false, &signals.stop)?;
    match fin.damage {
        Some(e) => Err(Failure::Input(format!("{name}: {e}"))),
        None => Ok(()),
    }
}
