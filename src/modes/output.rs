//! Output files (`--har`, `-w`, `--keylog`) are never overwritten unasked.

use super::failure::Failure;
use std::fs::File;
use std::io;
use std::path::Path;

/// Creates an output file, refusing to replace one that exists unless forced.
pub(super) fn create_output(path: &Path, force: bool) -> Result<File, Failure> {
    open(path, force, None)
}

/// Creates an output file for secrets (`--keylog`): readable by the owner only from the
/// moment it exists, and after a forced overwrite too (which keeps the old file's mode).
pub(super) fn create_private(path: &Path, force: bool) -> Result<File, Failure> {
    let f = open(path, force, Some(0o600))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
    }
    Ok(f)
}

fn open(path: &Path, force: bool, mode: Option<u32>) -> Result<File, Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
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
