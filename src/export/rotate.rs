//! `--output FILE` with `--rotate-size BYTES`: an NDJSON file that a daemon can write for
//! weeks. It is appended to, never truncated; past the size, FILE becomes FILE.1 (FILE.1
//! becomes FILE.2, …, and the oldest beyond `keep` is removed) and a new FILE is started.
//! Lines are never split across files. `reopen` (SIGHUP) closes FILE and opens it again
//! by name, for an external logrotate that moved it away.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub struct RotatingFile {
    path: PathBuf,
    file: io::BufWriter<File>,
    written: u64,
    /// Rotate when the file would grow past this (None: never).
    max: Option<u64>,
    keep: u32,
}

fn open_append(path: &Path) -> io::Result<(File, u64)> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    let len = f.metadata()?.len();
    Ok((f, len))
}

impl RotatingFile {
    pub fn open(path: &Path, max: Option<u64>, keep: u32) -> io::Result<RotatingFile> {
        let (f, written) = open_append(path)?;
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file: io::BufWriter::with_capacity(64 * 1024, f),
            written,
            max,
            keep,
        })
    }

    /// The open file (to hand it to another user before privileges are dropped).
    pub fn get_ref(&self) -> &File {
        self.file.get_ref()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    /// FILE → FILE.1 → FILE.2 …; the one past `keep` is removed (keep 0: FILE is removed).
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.numbered(self.keep));
            for n in (1..self.keep).rev() {
                let from = self.numbered(n);
                if from.exists() {
                    std::fs::rename(&from, self.numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.numbered(1))?;
        }
        self.reopen()
    }

    /// Opens FILE again by name (after logrotate moved it, or after rotating).
    pub(crate) fn reopen(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let (f, written) = open_append(&self.path)?;
        self.file = io::BufWriter::with_capacity(64 * 1024, f);
        self.written = written;
        Ok(())
    }
}

impl Write for RotatingFile {
    /// Writes the whole buffer (callers write whole lines), rotating first if it would
    /// take the file past its size.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(max) = self.max {
            if self.written > 0 && self.written + buf.len() as u64 > max {
                self.rotate()?;
            }
        }
        self.file.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
