//! `--keylog FILE`: the TLS secrets of both legs (client ↔ gomodwatch, gomodwatch ↔ server)
//! in the NSS key log format, so Wireshark can decrypt a capture taken alongside. The file
//! is created owner-only and never replaces an existing one unless forced, like `-w`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug)]
pub struct KeyLogFile(Mutex<File>);

impl KeyLogFile {
    pub fn create(path: &Path, force: bool) -> Result<KeyLogFile, String> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        if force {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Secrets: readable by the owner only, from the moment the file exists.
            opts.mode(0o600);
        }
        let f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists; not overwriting it (use --force)",
                    path.display()
                )
            } else {
                format!("{}: {e}", path.display())
            }
        })?;
        #[cfg(unix)]
        {
            // A forced overwrite keeps the old file's mode: make it private too.
            use std::os::unix::fs::PermissionsExt;
            let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
        Ok(KeyLogFile(Mutex::new(f)))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // One write per line, unbuffered: a capture decrypted while the proxy runs sees
        // every secret at once. A failed write only loses decryption, not traffic.
        let _ = f.write_all(line.as_bytes());
    }
}
