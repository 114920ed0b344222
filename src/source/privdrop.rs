//! Dropping root once the capture handles are open: packet decoding — parsing whatever
//! the network sends — never runs with privileges. The target is `-Z USER`, else the user
//! who ran sudo (`SUDO_UID`/`SUDO_GID`). Plain root without either stays root, as there is
//! nobody to return to.

use std::ffi::CString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PrivError {
    #[error("no user named {0}")]
    NoUser(String),
    #[error("dropping privileges to uid {uid}: {err}")]
    Failed { uid: u32, err: std::io::Error },
}

/// Whom to become, if anyone: `-Z USER`, or the sudo caller. `None` when not root.
pub fn target(user: Option<&str>) -> Result<Option<Identity>, PrivError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    if let Some(name) = user {
        return lookup_user(name).map(Some);
    }
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    Ok(match (env("SUDO_UID"), env("SUDO_GID")) {
        (Some(uid), Some(gid)) if uid != 0 => Some(Identity { uid, gid }),
        _ => None,
    })
}

fn lookup_user(name: &str) -> Result<Identity, PrivError> {
    if let Ok(uid) = name.parse::<u32>() {
        return Ok(Identity { uid, gid: uid });
    }
    let c = CString::new(name).map_err(|_| PrivError::NoUser(name.to_string()))?;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; getpwnam_r writes into pwd/buf only.
    let rc =
        unsafe { libc::getpwnam_r(c.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return Err(PrivError::NoUser(name.to_string()));
    }
    Ok(Identity {
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    })
}

/// Hands a file we created as root to the user we are about to become.
pub fn chown(file: &std::fs::File, id: Identity) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; failure only leaves the file owned by root.
    unsafe {
        libc::fchown(file.as_raw_fd(), id.uid, id.gid);
    }
}

/// Becomes `id` for good: supplementary groups, then gid, then uid (in that order, or the
/// later calls are no longer allowed).
pub fn drop_to(id: Identity) -> Result<(), PrivError> {
    let fail = || PrivError::Failed {
        uid: id.uid,
        err: std::io::Error::last_os_error(),
    };
    // SAFETY: plain system calls with valid arguments.
    unsafe {
        let groups = [id.gid as libc::gid_t];
        if libc::setgroups(1, groups.as_ptr()) != 0 {
            return Err(fail());
        }
        if set_gid(id.gid) != 0 {
            return Err(fail());
        }
        if set_uid(id.uid) != 0 {
            return Err(fail());
        }
        // Make sure it cannot be undone.
        if id.uid != 0 && libc::setuid(0) == 0 {
            return Err(PrivError::Failed {
                uid: id.uid,
                err: std::io::Error::other("could regain root after dropping it"),
            });
        }
    }
    Ok(())
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd"
))]
unsafe fn set_gid(gid: u32) -> i32 {
    libc::setresgid(gid, gid, gid)
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd"
))]
unsafe fn set_uid(uid: u32) -> i32 {
    libc::setresuid(uid, uid, uid)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd"
)))]
unsafe fn set_gid(gid: u32) -> i32 {
    libc::setgid(gid)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd"
)))]
unsafe fn set_uid(uid: u32) -> i32 {
    libc::setuid(uid)
}
