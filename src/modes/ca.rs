//! `gomodwatch ca init|path|show|trust|untrust`: the MITM's certificate authority.

use super::ca_trust::{self, Platform};
use super::failure::Failure;
use crate::cli::{CaAction, CaArgs, Keychain};
use gomodwatch::source::mitm::ca::{self, Ca, Init};
use std::path::{Path, PathBuf};

pub(crate) fn run(args: &CaArgs) -> Result<(), Failure> {
    let dir = args.ca_dir.clone().unwrap_or_else(ca::default_dir);
    let rt = |e: ca::CaError| Failure::Runtime(e.to_string());
    match &args.action {
        CaAction::Init { permit } => {
            match Ca::init(&dir, permit).map_err(rt)? {
                Init::Created(ca) => println!(
                    "created {} (key {}, mode 0600){}",
                    ca.cert_path.display(),
                    dir.join("ca.key").display(),
                    permits(&ca)
                ),
                Init::Existing(ca) => println!(
                    "a CA already exists: {} (kept as it is){}",
                    ca.cert_path.display(),
                    permits(&ca)
                ),
            }
            Ok(())
        }
        CaAction::Path => {
            let ca = Ca::load(&dir).map_err(rt)?;
            println!("{}", ca.cert_path.display());
            Ok(())
        }
        CaAction::Show => {
            let ca = Ca::load(&dir).map_err(rt)?;
            print!("{}", read(&ca.cert_path)?);
            eprintln!(
                "gomodwatch: {}{}",
                ca.cert_path.display(),
                match &ca.permit {
                    Some(p) => format!("; may certify only {} (name constraints)", p.join(", ")),
                    None => "; may certify any name (no name constraints)".into(),
                }
            );
            Ok(())
        }
        CaAction::Trust { apply, keychain } => trust(&dir, *apply, *keychain, true),
        CaAction::Untrust { apply, keychain } => trust(&dir, *apply, *keychain, false),
    }
}

fn permits(ca: &Ca) -> String {
    match &ca.permit {
        Some(p) => format!("; it may certify only {}", p.join(", ")),
        None => String::new(),
    }
}

fn read(p: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(p).map_err(|e| Failure::Runtime(format!("{}: {e}", p.display())))
}

fn trust(dir: &Path, apply: bool, keychain: Keychain, add: bool) -> Result<(), Failure> {
    let platform = ca_trust::detect().ok_or_else(|| {
        Failure::Runtime(
            "no known trust store here (looked for update-ca-certificates, update-ca-trust, \
             macOS's security): add ca.pem to it by hand (certs/README.md)"
                .into(),
        )
    })?;
    let cert_path: PathBuf = if add {
        Ca::load(dir)
            .map_err(|e| Failure::Runtime(e.to_string()))?
            .cert_path
    } else {
        dir.join("ca.pem")
    };
    let cert = cert_path.to_string_lossy().into_owned();
    let home = std::env::var("HOME").unwrap_or_default();
    let steps = if add {
        ca_trust::trust(platform, &cert, keychain, &home)
    } else {
        ca_trust::untrust(platform, &cert, keychain, &home)
    };
    // Never replace or remove an anchor file that is not this CA: it is someone else's.
    let guard = ca_trust::anchor(platform)
        .map(|a| guard_anchor(Path::new(a), &cert_path, add))
        .unwrap_or(Ok(()));
    let system = platform != Platform::MacOs || keychain == Keychain::System;
    if !apply {
        println!(
            "# {} gomodwatch's CA {} ({}); run these{}, or again with --apply:",
            if add { "trust" } else { "stop trusting" },
            cert,
            match platform {
                Platform::Debian => "Debian/Ubuntu",
                Platform::Fedora => "Fedora/RHEL",
                Platform::MacOs => "macOS",
            },
            if system { " as root (sudo)" } else { "" }
        );
        for s in &steps {
            println!("{}", ca_trust::shell(s));
        }
        if let Err(Failure::Runtime(why)) = &guard {
            println!("# careful: {why}");
        }
        if platform == Platform::MacOs && add {
            println!(
                "# note: the go command before Go 1.27 ignores SSL_CERT_FILE on macOS and uses \
                 only the keychains, so this is what makes it trust gomodwatch"
            );
        }
        return Ok(());
    }
    guard?;
    // SAFETY: geteuid has no preconditions.
    if system && unsafe { libc::geteuid() } != 0 {
        return Err(Failure::Runtime(
            "the system trust store needs root: run it with sudo (or without --apply to see the \
             commands)"
                .into(),
        ));
    }
    for s in &steps {
        eprintln!("+ {}", ca_trust::shell(s));
        let st = std::process::Command::new(&s[0])
            .args(&s[1..])
            .status()
            .map_err(|e| Failure::Runtime(format!("{}: {e}", s[0])))?;
        if !st.success() {
            return Err(Failure::Runtime(format!(
                "{} failed ({st})",
                ca_trust::shell(s)
            )));
        }
    }
    Ok(())
}

/// `trust` does not overwrite a different certificate at the anchor path, and `untrust`
/// does not remove one: only this CA's own file is added or removed.
fn guard_anchor(anchor: &Path, cert: &Path, add: bool) -> Result<(), Failure> {
    let Ok(there) = std::fs::read(anchor) else {
        return Ok(());
    };
    let ours = std::fs::read(cert).unwrap_or_default();
    if there == ours {
        return Ok(());
    }
    Err(Failure::Runtime(format!(
        "{} exists and is not this CA ({}): not {} it",
        anchor.display(),
        cert.display(),
        if add { "overwriting" } else { "removing" }
    )))
}
