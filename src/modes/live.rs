//! `-i IFACE ...`: live capture, and `-D`.

use super::environment;
use super::failure::Failure;
use super::output::create_output;
use super::setup::{Run, View};
use super::signals::Signals;
use crate::cli::Cli;
use gomodwatch::source::capture::LiveCapture;
use gomodwatch::source::live::{self, LiveConfig};
use gomodwatch::source::privdrop;
use gomodwatch::source::writer::{CaptureWriter, IfaceDesc};
use std::io::BufWriter;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) fn list_interfaces() -> Result<(), Failure> {
    let lines = live::list_devices().map_err(|e| Failure::Runtime(e.to_string()))?;
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

pub(crate) fn run(cli: &Cli, interfaces: &[String]) -> Result<(), Failure> {
    let opts = &cli.live;
    // Everything that needs root happens first: open the interfaces and the output files.
    let opened = live::open_all(&LiveConfig {
        interfaces: interfaces.to_vec(),
        filter: opts.filter.clone(),
        snaplen: opts.snaplen,
    })
    .map_err(|e| match e {
        // A wrong name or filter is bad usage; anything else (permissions) is a runtime
        // failure.
        live::LiveError::NoSuchDevice { .. } | live::LiveError::Filter { .. } => {
            Failure::Input(e.to_string())
        }
        _ => Failure::Runtime(e.to_string()),
    })?;
    let target =
        privdrop::target(opts.user.as_deref()).map_err(|e| Failure::Input(e.to_string()))?;
    let pcap_file = opts
        .write
        .as_deref()
        .map(|p| create_output(p, cli.view.force))
        .transpose()?;
    let names: Vec<String> = opened.iter().map(|o| o.name.clone()).collect();
    let mut setup = Run::new(cli, names.join(", "))?;
    if let Some(id) = target {
        for f in pcap_file.iter().chain(setup.files()) {
            privdrop::chown(f, id);
        }
        privdrop::drop_to(id).map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    // Now unprivileged: ask the user's go command which GOPROXY is in effect.
    if setup.config.goproxy.is_none() {
        setup.config.goproxy = environment::user_goproxy();
    }
    if setup.config.go_env.is_none() {
        setup.config.go_env = environment::user_go_env();
    }
    // The go command runs from the same environment: its proxy settings are ours.
    setup.config.proxy_env = Some(environment::proxy_env());
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
    let links: Vec<String> = opened
        .iter()
        .map(|o| format!("{} ({})", o.name, o.link.name()))
        .collect();
    let (mut capture, mut src) = LiveCapture::start(opened, writer);
    let signals = Signals::install(&setup)?;
    signals.on_signal(capture.interrupter());
    // Like tcpdump: say what is being captured (stderr, so --json stays clean). Tests wait
    // for this line before they start traffic.
    if setup.view != View::Tui {
        eprintln!(
            "gomodwatch: listening on {}, snapshot length {}{}{}",
            links.join(", "),
            opts.snaplen,
            setup.metrics_note(),
            if setup.view == View::Report {
                "; Ctrl-C stops and prints the report"
            } else {
                ""
            }
        );
    }
    // Without a TUI, the pump runs until every capture thread has ended (Ctrl-C makes them
    // end), so the last packets are decoded before the summary; the TUI stops at once.
    let never = AtomicBool::new(false);
    let until = if setup.view == View::Tui {
        &*signals.stop
    } else {
        &never
    };
    let stats = capture.stats.clone();
    let fin = setup.pump(cli, &mut src, true, until);
    drop(src);
    let stopped = capture.stop();
    fin?;
    stopped.map_err(|e| Failure::Runtime(e.to_string()))?;
    let unwritten = stats.unwritten.load(Ordering::Relaxed);
    if unwritten > 0 {
        eprintln!("gomodwatch: {unwritten} packets could not be written to the -w file in time");
    }
    Ok(())
}
