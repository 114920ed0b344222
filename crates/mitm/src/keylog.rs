//! `--keylog FILE`: the TLS secrets of both legs (client ↔ gomodwatch, gomodwatch ↔ server)
//! in the NSS key log format, so Wireshark can decrypt a capture taken alongside. The
//! binary creates the file (owner-only, never replacing one unless forced, like `-w`).

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

/// Both legs' TLS secrets, written to a file as they are made (rustls calls `log`).
#[derive(Debug)]
pub struct KeyLogFile(Mutex<File>);

impl KeyLogFile {
    /// Writes to `file`, created by the caller (owner-only: it holds secrets).
    pub fn new(file: File) -> KeyLogFile {
        KeyLogFile(Mutex::new(file))
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
