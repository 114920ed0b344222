//! The decoder's counters: what it read, and what its bounds cut (the summary and the
//! status bar show them).

/// Counters for the summary and the status bar.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Packets (or proxied chunks) read.
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    pub(crate) connections: u64,
    pub(crate) exchanges: u64,
    /// Holes in TCP streams (bytes missing from the capture).
    pub gaps: u64,
    /// TCP payload bytes the capture's snap length cut off packets (on the wire, not in
    /// the file: `tcpdump -s 200`).
    pub snaplen_bytes: u64,
    /// Frames that were not TCP/UDP over IP, or were malformed.
    pub(crate) skipped: u64,
    /// Open connections ended early to stay within the decoder's bounds: more than
    /// `Limits::max_flows` at once (a SYN flood), or more protocol state than
    /// `Limits::max_state_bytes`. The least recently active go first. Each is still
    /// reported (connection error `truncated`; its unanswered requests `evicted`), but
    /// packets of it that come later start a new, mid-stream connection. Like `gaps`, this
    /// is traffic the decoder did not follow to the end: answers may be missing because of
    /// it.
    pub flows_evicted: u64,
    /// HTTP/1 requests beyond the bound on requests waiting for a response on one
    /// connection (`http1::MAX_PENDING`; the go command never pipelines). Each is still
    /// reported, at once, as an exchange with error `dropped: too many pending requests`;
    /// its response, when it comes, is read past but not paired.
    pub requests_dropped: u64,
    /// HTTP/1 messages whose framing net/http rejects (two different Content-Length values,
    /// an invalid Content-Length, a Transfer-Encoding other than `chunked`, broken chunked
    /// encoding) or whose head is not HTTP: the exchange carries a `malformed: ...` error.
    pub malformed: u64,
    /// HTTP/2 streams the decoder's limits refused (too many open at once, a header list
    /// too large): counted, not reported as exchanges.
    pub h2_dropped: u64,
    /// HTTP/2 directions that could no longer be decoded (a gap, a protocol error).
    pub h2_broken: u64,
}
