//! HTTP/1 heads as the proxy meets them: the client's request to the proxy (CONNECT or an
//! absolute-form request), an upstream proxy's answer to CONNECT, and, for plain HTTP, the
//! heads and body framing of what it forwards. Bytes read past a head stay in the reader.

use tokio::io::{AsyncRead, AsyncReadExt};

/// A head larger than this is not one the go command (or a proxy) sends.
pub(crate) const MAX_HEAD: usize = 64 << 10;

pub(crate) struct Reader<S> {
    io: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + Unpin> Reader<S> {
    pub(crate) fn new(io: S) -> Self {
        Reader {
            io,
            buf: Vec::new(),
        }
    }

    /// The next head, up to and including its empty line; `UnexpectedEof` when the peer
    /// closed before one began.
    pub(crate) async fn head(&mut self) -> std::io::Result<Vec<u8>> {
        self.head_checked(|_| None).await
    }

    /// [`Reader::head`], giving up (`InvalidData`, with `check`'s words) as soon as the
    /// bytes so far are not the start of a head `check` accepts.
    pub(crate) async fn head_checked(
        &mut self,
        check: impl Fn(&[u8]) -> Option<&'static str>,
    ) -> std::io::Result<Vec<u8>> {
        let mut scan = 0;
        loop {
            if let Some(why) = check(&self.buf).filter(|_| !self.buf.is_empty()) {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why));
            }
            if let Some(at) = memchr::memmem::find(&self.buf[scan..], b"\r\n\r\n") {
                let end = scan + at + 4;
                let rest = self.buf.split_off(end);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            scan = self.buf.len().saturating_sub(3);
            if self.buf.len() > MAX_HEAD {
                return Err(std::io::Error::other("HTTP head too large"));
            }
            let mut chunk = [0u8; 8192];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Up to `max` bytes: buffered ones first, else one read (0 at end of stream).
    pub(crate) async fn some(&mut self, max: usize) -> std::io::Result<Vec<u8>> {
        if !self.buf.is_empty() {
            let n = self.buf.len().min(max);
            let rest = self.buf.split_off(n);
            return Ok(std::mem::replace(&mut self.buf, rest));
        }
        let mut v = vec![0u8; max.min(64 << 10)];
        let n = self.io.read(&mut v).await?;
        v.truncate(n);
        Ok(v)
    }

    /// One line (a chunk-size line of a chunked body), with its CRLF.
    pub(crate) async fn line(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buf) {
                let rest = self.buf.split_off(at + 1);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.buf.len() > 4096 {
                return Err(std::io::Error::other("chunk line too long"));
            }
            let mut chunk = [0u8; 4096];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    pub(crate) fn into_parts(self) -> (S, Vec<u8>) {
        (self.io, self.buf)
    }
}

pub(crate) enum Head {
    Request {
        method: String,
        target: String,
        headers: Vec<(String, String)>,
    },
    Response {
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
    },
}

fn owned(h: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    h.iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Parses a complete head (request or response, told apart by its first bytes).
pub(crate) fn parse(head: &[u8]) -> Option<Head> {
    let mut hs = [httparse::EMPTY_HEADER; 100];
    if head.starts_with(b"HTTP/") {
        let mut r = httparse::Response::new(&mut hs);
        if !r.parse(head).ok()?.is_complete() {
            return None;
        }
        return Some(Head::Response {
            status: r.code?,
            reason: r.reason.unwrap_or("").to_string(),
            headers: owned(r.headers),
        });
    }
    let mut r = httparse::Request::new(&mut hs);
    if !r.parse(head).ok()?.is_complete() {
        return None;
    }
    Some(Head::Request {
        method: r.method?.to_string(),
        target: r.path?.to_string(),
        headers: owned(r.headers),
    })
}

pub(crate) fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// How a message body is delimited (RFC 9112 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes.
    Close,
}

pub(crate) fn request_body(headers: &[(String, String)]) -> Body {
    if header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Body::Chunked;
    }
    match header(headers, "content-length").and_then(|v| v.trim().parse().ok()) {
        Some(0) | None => Body::None,
        Some(n) => Body::Length(n),
    }
}

pub(crate) fn response_body(status: u16, head_request: bool, headers: &[(String, String)]) -> Body {
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Body::None;
    }
    if header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Body::Chunked;
    }
    match header(headers, "content-length").and_then(|v| v.trim().parse().ok()) {
        Some(0) => Body::None,
        Some(n) => Body::Length(n),
        None => Body::Close,
    }
}
