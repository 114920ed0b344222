//! Whether `run`'s trust bundle reaches the child's TLS verification. `run` trusts
//! gomodwatch's CA for the child with SSL_CERT_FILE. The go command reads that variable
//! on Linux and the other Unixes, but on macOS and Windows crypto/x509 verifies with the
//! platform (the keychain, the Windows store) and only Go 1.27 made SSL_CERT_FILE
//! override it (`SystemCertPool`'s doc in Go 1.27). So with an older go there, every
//! HTTPS request through the MITM fails on trust unless the CA is in the platform store;
//! this module decides that (a pure function of the OS and `go env GOVERSION`, tested
//! for each pair) and words what `run` says before starting and, when it failed on
//! trust, in the report.

/// The operating system the child runs on (this one: `run`'s child is local).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Os {
    Linux,
    MacOS,
    Windows,
    /// The BSDs and other Unixes: crypto/x509 reads SSL_CERT_FILE there too.
    OtherUnix,
}

impl Os {
    pub(crate) fn this() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOS
        } else if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "linux") {
            Os::Linux
        } else {
            Os::OtherUnix
        }
    }

    fn name(self) -> &'static str {
        match self {
            Os::Linux => "Linux",
            Os::MacOS => "macOS",
            Os::Windows => "Windows",
            Os::OtherUnix => "this system",
        }
    }
}

/// A go release, major.minor (`go1.26.1` is 1.26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GoVersion(pub(crate) u32, pub(crate) u32);

/// The first release whose crypto/x509 lets SSL_CERT_FILE override the platform verifier.
const READS_SSL_CERT_FILE_EVERYWHERE: GoVersion = GoVersion(1, 27);

impl GoVersion {
    /// `go env GOVERSION`: `go1.26.1`, `go1.27rc1`, `go1.21.0-bigcorp`, or a development
    /// build's `devel go1.28-0123abcd Tue ...`. None for anything else.
    pub(crate) fn parse(s: &str) -> Option<GoVersion> {
        let at = s.find("go1.")?;
        let rest = &s[at + 2..];
        let mut parts = rest.splitn(3, |c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        Some(GoVersion(major, minor))
    }
}

/// How the child comes to trust gomodwatch's CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// SSL_CERT_FILE, as `run` sets it: nothing to do.
    Bundle,
    /// The platform's store only: this go ignores SSL_CERT_FILE.
    PlatformOnly(GoVersion),
    /// Maybe the platform's store only: the OS is one where go before 1.27 ignores
    /// SSL_CERT_FILE, and which go the command runs is unknown (not a go command, or its
    /// `go env` failed).
    Unknown,
}

/// The decision: what the child's go on this OS reads.
pub(crate) fn decide(os: Os, go: Option<GoVersion>) -> Trust {
    match (os, go) {
        (Os::Linux | Os::OtherUnix, _) => Trust::Bundle,
        (Os::MacOS | Os::Windows, Some(v)) if v >= READS_SSL_CERT_FILE_EVERYWHERE => Trust::Bundle,
        (Os::MacOS | Os::Windows, Some(v)) => Trust::PlatformOnly(v),
        (Os::MacOS | Os::Windows, None) => Trust::Unknown,
    }
}

/// The commands that put the CA in the platform store for the run and take it out after.
/// `ca_dir` is `--ca-dir` when given (the commands must name the same CA).
pub(crate) fn route(os: Os, ca_dir: Option<&str>) -> (String, String) {
    let dir = ca_dir
        .map(|d| format!(" --ca-dir {}", super::ca_trust::shell(&[d.to_string()])))
        .unwrap_or_default();
    match os {
        // The login keychain needs no sudo and is this user's alone; `untrust` with the
        // same keychain removes exactly what `trust` added (ca_trust.rs).
        Os::MacOS => (
            format!("gomodwatch ca trust --apply --keychain login{dir}"),
            format!("gomodwatch ca untrust --apply --keychain login{dir}"),
        ),
        // `ca trust` has no Windows store: certutil's user store, which needs no admin.
        _ => (
            "certutil -user -addstore Root CA.pem (CA.pem: `gomodwatch ca path`)".to_string(),
            "certutil -user -delstore Root \"gomodwatch local CA\"".to_string(),
        ),
    }
}

fn store(os: Os) -> &'static str {
    match os {
        Os::MacOS => "the keychain",
        _ => "the system certificate store",
    }
}

/// What `run` says before starting the child, when the bundle may not be read.
pub(crate) fn before_start(os: Os, trust: Trust, ca_dir: Option<&str>) -> Option<String> {
    let (add, remove) = route(os, ca_dir);
    let who = match trust {
        Trust::Bundle => return None,
        Trust::PlatformOnly(GoVersion(a, b)) => format!("go{a}.{b} on {}", os.name()),
        Trust::Unknown => format!(
            "if the command runs go older than 1.27 on {}, it",
            os.name()
        ),
    };
    Some(format!(
        "{who} verifies certificates with {} and does not read SSL_CERT_FILE (Go 1.27 does), so \
         it will not trust gomodwatch's CA unless {} holds it: trust it there for the run with \
         `{add}`, and afterwards `{remove}`",
        store(os),
        store(os)
    ))
}

/// What the report says when the run failed on trust (`failed` of the go command's
/// module errors were certificate errors) and the bundle may not have been read.
pub(crate) fn after_failure(
    os: Os,
    trust: Trust,
    ca_dir: Option<&str>,
    failed: usize,
) -> Option<String> {
    if failed == 0 {
        return None;
    }
    let (add, remove) = route(os, ca_dir);
    let errors = if failed == 1 {
        "1 certificate error".to_string()
    } else {
        format!("{failed} certificate errors")
    };
    let why = match trust {
        Trust::Bundle => return None,
        Trust::PlatformOnly(GoVersion(a, b)) => format!(
            "this was the cause: go{a}.{b} on {} does not read SSL_CERT_FILE, so it did not \
             trust gomodwatch's CA",
            os.name()
        ),
        Trust::Unknown => format!(
            "probably the cause: a go older than 1.27 on {} does not read SSL_CERT_FILE, so it \
             does not trust gomodwatch's CA",
            os.name()
        ),
    };
    Some(format!(
        "the go command reported {errors}; {why}. Trust the CA in {} for the run (`{add}`), run \
         again, then `{remove}`",
        store(os)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OSES: [Os; 4] = [Os::Linux, Os::MacOS, Os::Windows, Os::OtherUnix];

    #[test]
    fn versions_as_go_env_prints_them() {
        assert_eq!(GoVersion::parse("go1.26.1"), Some(GoVersion(1, 26)));
        assert_eq!(GoVersion::parse("go1.27rc1"), Some(GoVersion(1, 27)));
        assert_eq!(GoVersion::parse("go1.27"), Some(GoVersion(1, 27)));
        assert_eq!(GoVersion::parse("go1.21.0-bigcorp"), Some(GoVersion(1, 21)));
        assert_eq!(
            GoVersion::parse("devel go1.28-0123abcd Tue Dec 1 2026"),
            Some(GoVersion(1, 28))
        );
        assert_eq!(GoVersion::parse("go1.9"), Some(GoVersion(1, 9)));
        assert_eq!(GoVersion::parse("go1.100.2"), Some(GoVersion(1, 100)));
        assert_eq!(GoVersion::parse(""), None);
        assert_eq!(GoVersion::parse("go"), None);
        assert_eq!(GoVersion::parse("devel"), None);
        // Ordered as numbers, not as text: 1.9 < 1.26 < 1.100.
        assert!(GoVersion(1, 9) < GoVersion(1, 26));
        assert!(GoVersion(1, 26) < GoVersion(1, 100));
    }

    /// Every OS × every go version that matters: before the change, at it, after it,
    /// the oldest, a far future one, and unknown.
    #[test]
    fn decision_for_every_os_and_version() {
        let versions = [
            (Some(GoVersion(1, 9)), false),
            (Some(GoVersion(1, 21)), false),
            (Some(GoVersion(1, 26)), false),
            (Some(GoVersion(1, 27)), true),
            (Some(GoVersion(1, 28)), true),
            (Some(GoVersion(1, 100)), true),
            (Some(GoVersion(2, 0)), true),
            (None, false),
        ];
        for os in OSES {
            for (v, reads) in versions {
                let got = decide(os, v);
                let want = match os {
                    Os::Linux | Os::OtherUnix => Trust::Bundle,
                    Os::MacOS | Os::Windows => match v {
                        None => Trust::Unknown,
                        Some(_) if reads => Trust::Bundle,
                        Some(v) => Trust::PlatformOnly(v),
                    },
                };
                assert_eq!(got, want, "{os:?} {v:?}");
                // Said before starting exactly when the bundle may not be read.
                let said = before_start(os, got, None);
                assert_eq!(said.is_some(), want != Trust::Bundle, "{os:?} {v:?}");
            }
        }
    }

    #[test]
    fn macos_before_127_is_told_the_keychain_route() {
        let t = decide(Os::MacOS, GoVersion::parse("go1.26.1"));
        assert_eq!(
            before_start(Os::MacOS, t, None).unwrap(),
            "go1.26 on macOS verifies certificates with the keychain and does not read \
             SSL_CERT_FILE (Go 1.27 does), so it will not trust gomodwatch's CA unless the \
             keychain holds it: trust it there for the run with `gomodwatch ca trust --apply \
             --keychain login`, and afterwards `gomodwatch ca untrust --apply --keychain login`"
        );
        assert_eq!(
            after_failure(Os::MacOS, t, Some("/Users/a/my ca"), 3).unwrap(),
            "the go command reported 3 certificate errors; this was the cause: go1.26 on macOS \
             does not read SSL_CERT_FILE, so it did not trust gomodwatch's CA. Trust the CA in \
             the keychain for the run (`gomodwatch ca trust --apply --keychain login --ca-dir \
             '/Users/a/my ca'`), run again, then `gomodwatch ca untrust --apply --keychain login \
             --ca-dir '/Users/a/my ca'`"
        );
        assert!(after_failure(Os::MacOS, t, None, 1)
            .unwrap()
            .starts_with("the go command reported 1 certificate error;"));
    }

    #[test]
    fn nothing_said_when_the_bundle_is_read_or_nothing_failed() {
        for os in OSES {
            let t = decide(os, Some(GoVersion(1, 27)));
            assert_eq!(after_failure(os, t, None, 5), None, "{os:?}");
        }
        assert_eq!(
            after_failure(Os::Linux, decide(Os::Linux, None), None, 5),
            None
        );
        let old = decide(Os::MacOS, Some(GoVersion(1, 20)));
        assert_eq!(after_failure(Os::MacOS, old, None, 0), None);
        // Unknown go on macOS: said as a likelihood, not as the cause.
        let unknown = after_failure(Os::MacOS, Trust::Unknown, None, 2).unwrap();
        assert!(unknown.contains("probably the cause"), "{unknown}");
        let windows = before_start(
            Os::Windows,
            decide(Os::Windows, Some(GoVersion(1, 26))),
            None,
        );
        assert!(windows.unwrap().contains("certutil -user -addstore Root"));
    }
}
