//! The zip the go command saved for a module@version, and a download compared with it
//! (see vouch.rs for why). Nothing here knows the pool.

use super::super::h1::ZipHasher;
use std::io::Read;
use std::sync::Arc;

/// The go command's module cache (GOMODCACHE), as the binary opens it.
pub trait ModuleCache: Send + Sync + std::fmt::Debug {
    /// The regular file at `rel` (`/`-separated, validated: no `..`, no empty element)
    /// under the cache's root, if there is one.
    fn open(&self, rel: &str) -> Option<Box<dyn Read + Send>>;
}

/// A download being compared with the zip the go command saved.
pub(crate) struct Compare {
    file: Box<dyn Read + Send>,
    /// Where the file is, and the zip's path to open it again.
    cache: Arc<dyn ModuleCache>,
    rel: String,
    /// Bytes of the download seen so far: all equal to the file's.
    at: u64,
    h1: String,
    buf: Vec<u8>,
}

impl Compare {
    /// What the go command saved for `module`@`version`: its zip, opened, and the `h1:` it
    /// wrote beside it; `None` when either is missing or not what the go command writes.
    pub(crate) fn open(
        cache: Arc<dyn ModuleCache>,
        module: &str,
        version: &str,
    ) -> Option<Compare> {
        let rel = cache_rel(module, version)?;
        let mut h1 = String::new();
        let mut hash_file = cache.open(&format!("{rel}hash"))?.take(128);
        hash_file.read_to_string(&mut h1).ok()?;
        let h1 = h1.trim().to_string();
        if !is_h1(&h1) {
            return None;
        }
        let file = cache.open(&rel)?;
        Some(Compare {
            file,
            cache,
            rel,
            at: 0,
            h1,
            buf: Vec::new(),
        })
    }

    /// The `h1:` the go command saved.
    pub(crate) fn take_h1(&mut self) -> String {
        std::mem::take(&mut self.h1)
    }

    /// Whether `bytes` are the file's next bytes.
    pub(crate) fn same(&mut self, bytes: &[u8]) -> bool {
        self.buf.resize(bytes.len(), 0);
        if self.file.read_exact(&mut self.buf).is_err() || self.buf != bytes {
            return false;
        }
        self.at += bytes.len() as u64;
        true
    }

    /// The download ended: whether the file ends here too.
    pub(crate) fn ends(&mut self) -> bool {
        let mut one = [0u8; 1];
        matches!(self.file.read(&mut one), Ok(0))
    }

    /// The download's bytes so far (the file's first `at` bytes, read again) into `z` and
    /// `raw`; `false` if the file could not be read again in full (it was removed or cut
    /// since): the hash must then be given up, never computed from the rest.
    pub(crate) fn replay(&mut self, z: &mut ZipHasher, raw: &mut blake3::Hasher) -> bool {
        let Some(file) = self.cache.open(&self.rel) else {
            return false;
        };
        let mut file = file.take(self.at);
        self.buf.resize(64 << 10, 0);
        let mut fed = 0u64;
        loop {
            match file.read(&mut self.buf) {
                Ok(0) => return fed == self.at,
                Ok(n) => {
                    z.update(&self.buf[..n]);
                    raw.update(&self.buf[..n]);
                    fed += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

/// `cache/download/MODULE/@v/VERSION.zip`, both escaped as the go command does (an upper
/// case letter as `!` and the lower case one), or `None` for what no module path or
/// version can be (the names come from the wire).
pub(crate) fn cache_rel(module: &str, version: &str) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.split('/').all(|e| !e.is_empty() && e != "." && e != "..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    };
    if !ok(module) || !ok(version) || version.contains('/') {
        return None;
    }
    let esc = super::super::path::escape_case;
    Some(format!(
        "cache/download/{}/@v/{}.zip",
        esc(module),
        esc(version)
    ))
}

/// `h1:` and the base64 of a SHA-256, as the go command writes it.
fn is_h1(s: &str) -> bool {
    s.strip_prefix("h1:").is_some_and(|b| {
        b.len() == 44
            && b.ends_with('=')
            && b[..43]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    })
}
