//! `gomodwatch ca trust|untrust`: the exact commands that add gomodwatch's CA to the
//! system's trust store (and take it out again) on this platform. They are printed; with
//! `--apply` they are run as printed. `untrust` undoes exactly what `trust` does: one file
//! in the local anchors directory, or one certificate in one keychain.

use crate::cli::Keychain;
use gomodwatch::source::platform::Os;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    MacOs,
    /// update-ca-certificates (Debian, Ubuntu).
    Debian,
    /// update-ca-trust (Fedora, RHEL).
    Fedora,
}

/// Where `trust` puts the certificate on Linux.
pub(crate) const DEBIAN_ANCHOR: &str = "/usr/local/share/ca-certificates/gomodwatch.crt";
pub(crate) const FEDORA_ANCHOR: &str = "/etc/pki/ca-trust/source/anchors/gomodwatch.pem";
const SYSTEM_KEYCHAIN: &str = "/Library/Keychains/System.keychain";
/// The CA's common name (`ca.rs`), which `security delete-certificate -c` looks for.
const CA_NAME: &str = "gomodwatch local CA";

pub(crate) fn detect() -> Option<Platform> {
    detect_on(Os::current(), |p| Path::new(p).exists())
}

/// The trust store on `os`, given which files exist: the keychain on macOS, else the tool
/// that rebuilds the system bundle.
fn detect_on(os: Os, exists: impl Fn(&str) -> bool) -> Option<Platform> {
    if os == Os::MacOs {
        Some(Platform::MacOs)
    } else if exists("/usr/sbin/update-ca-certificates") {
        Some(Platform::Debian)
    } else if exists("/usr/bin/update-ca-trust") {
        Some(Platform::Fedora)
    } else {
        None
    }
}

/// The system anchor file `trust` writes on Linux.
pub(crate) fn anchor(p: Platform) -> Option<&'static str> {
    match p {
        Platform::Debian => Some(DEBIAN_ANCHOR),
        Platform::Fedora => Some(FEDORA_ANCHOR),
        Platform::MacOs => None,
    }
}

fn keychain_path(k: Keychain, home: &str) -> String {
    match k {
        Keychain::System => SYSTEM_KEYCHAIN.to_string(),
        Keychain::Login => format!("{home}/Library/Keychains/login.keychain-db"),
    }
}

fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The commands that trust `cert`.
pub(crate) fn trust(p: Platform, cert: &str, k: Keychain, home: &str) -> Vec<Vec<String>> {
    match p {
        Platform::Debian => vec![
            argv(&["install", "-m", "644", cert, DEBIAN_ANCHOR]),
            argv(&["update-ca-certificates"]),
        ],
        Platform::Fedora => vec![
            argv(&["install", "-m", "644", cert, FEDORA_ANCHOR]),
            argv(&["update-ca-trust", "extract"]),
        ],
        Platform::MacOs => {
            let kc = keychain_path(k, home);
            // -d: the admin trust settings (system-wide), which the System keychain needs.
            let mut v = argv(&["security", "add-trusted-cert"]);
            if k == Keychain::System {
                v.push("-d".into());
            }
            v.extend(argv(&["-r", "trustRoot", "-k", &kc, cert]));
            vec![v]
        }
    }
}

/// The commands that undo [`trust`].
pub(crate) fn untrust(p: Platform, cert: &str, k: Keychain, home: &str) -> Vec<Vec<String>> {
    match p {
        Platform::Debian => vec![
            argv(&["rm", "-f", DEBIAN_ANCHOR]),
            argv(&["update-ca-certificates"]),
        ],
        Platform::Fedora => vec![
            argv(&["rm", "-f", FEDORA_ANCHOR]),
            argv(&["update-ca-trust", "extract"]),
        ],
        Platform::MacOs => {
            let kc = keychain_path(k, home);
            let mut v = argv(&["security", "remove-trusted-cert"]);
            if k == Keychain::System {
                v.push("-d".into());
            }
            v.push(cert.into());
            vec![
                v,
                argv(&["security", "delete-certificate", "-c", CA_NAME, &kc]),
            ]
        }
    }
}

/// A command line as a shell would take it (arguments with spaces quoted).
pub(crate) fn shell(v: &[String]) -> String {
    v.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "/Users/a/.config/gomodwatch/ca.pem";

    fn lines(v: Vec<Vec<String>>) -> Vec<String> {
        v.iter().map(|c| shell(c)).collect()
    }

    #[test]
    fn macos_command_lines() {
        assert_eq!(
            lines(trust(Platform::MacOs, CERT, Keychain::System, "/Users/a")),
            ["security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain /Users/a/.config/gomodwatch/ca.pem"]
        );
        assert_eq!(
            lines(trust(Platform::MacOs, CERT, Keychain::Login, "/Users/a")),
            ["security add-trusted-cert -r trustRoot -k /Users/a/Library/Keychains/login.keychain-db /Users/a/.config/gomodwatch/ca.pem"]
        );
        assert_eq!(
            lines(untrust(Platform::MacOs, CERT, Keychain::System, "/Users/a")),
            [
                "security remove-trusted-cert -d /Users/a/.config/gomodwatch/ca.pem",
                "security delete-certificate -c 'gomodwatch local CA' /Library/Keychains/System.keychain"
            ]
        );
        assert_eq!(
            lines(untrust(Platform::MacOs, CERT, Keychain::Login, "/Users/a")),
            [
                "security remove-trusted-cert /Users/a/.config/gomodwatch/ca.pem",
                "security delete-certificate -c 'gomodwatch local CA' /Users/a/Library/Keychains/login.keychain-db"
            ]
        );
    }

    #[test]
    fn the_trust_store_follows_the_os() {
        let debian = |p: &str| p == "/usr/sbin/update-ca-certificates";
        let fedora = |p: &str| p == "/usr/bin/update-ca-trust";
        // macOS: the keychain, whatever files a Mac happens to have.
        assert_eq!(detect_on(Os::MacOs, |_| true), Some(Platform::MacOs));
        assert_eq!(detect_on(Os::MacOs, |_| false), Some(Platform::MacOs));
        assert_eq!(detect_on(Os::Linux, debian), Some(Platform::Debian));
        assert_eq!(detect_on(Os::Linux, fedora), Some(Platform::Fedora));
        assert_eq!(detect_on(Os::Linux, |_| false), None);
        assert_eq!(detect_on(Os::Other, |_| false), None);
        assert_eq!(anchor(Platform::MacOs), None);
    }

    #[test]
    fn linux_command_lines() {
        let c = "/root/.config/gomodwatch/ca.pem";
        assert_eq!(
            lines(trust(Platform::Debian, c, Keychain::System, "/root")),
            [
                "install -m 644 /root/.config/gomodwatch/ca.pem /usr/local/share/ca-certificates/gomodwatch.crt",
                "update-ca-certificates"
            ]
        );
        assert_eq!(
            lines(untrust(Platform::Fedora, c, Keychain::System, "/root")),
            [
                "rm -f /etc/pki/ca-trust/source/anchors/gomodwatch.pem",
                "update-ca-trust extract"
            ]
        );
    }
}
