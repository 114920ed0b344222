//! What a passive observer can learn from a TLS connection: the ClientHello's server name,
//! ALPN offers and versions, the ServerHello's choice, the server's certificate when it is
//! sent in the clear (TLS 1.2), when the handshake finished — or how it failed. Everything
//! after the handshake is encrypted and only counted.
//!
//! Handshake end: in TLS 1.3 the client's second flight (its encrypted Finished) follows the
//! server's first flight at once, so it is the first client application-data record after
//! the ServerHello. In TLS 1.2 the server's ChangeCipherSpec comes last.
//!
//! Failure: a plaintext alert names itself (TLS 1.2). TLS 1.3 encrypts alerts, but a client
//! that does not accept the server's certificate answers the server's flight with exactly
//! one encrypted record the size of an alert (2 bytes + content type + 16-byte AEAD tag =
//! 19) and closes; its Finished would be 53 bytes or more. That is inferred, and said so.

pub mod decrypt;
mod hello;
mod records;

use crate::vocab::{TlsFailure, TlsInfo, Ts};
use records::{Record, Records};

pub use hello::version_name;

/// For the fuzz targets (`gomodwatch::fuzzing`): one handshake message body parsed as a
/// ClientHello (`kind` 1), a ServerHello (2) or a Certificate (11), as the decoder does.
#[doc(hidden)]
pub fn fuzz_handshake_message(kind: u8, body: &[u8]) {
    let mut info = TlsInfo::default();
    match kind {
        1 => {
            hello::parse_client_hello(body, &mut info);
        }
        2 => {
            hello::parse_server_hello(body, &mut info);
        }
        _ => {
            info.certificate = hello::parse_certificate(body);
        }
    }
}

const CONTENT_CCS: u8 = 20;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APP_DATA: u8 = 23;
/// An encrypted TLS 1.3 alert: 2 bytes, the inner content type, a 16-byte AEAD tag.
const TLS13_ALERT_LEN: usize = 19;

const HANDSHAKE_SERVER_HELLO: u8 = 2;
const HANDSHAKE_CERTIFICATE: u8 = 11;
const HANDSHAKE_SERVER_DONE: u8 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ClientHello,
    ServerHello,
    /// TLS 1.2: the server's flight (certificate, key exchange) until its Done.
    ServerFlight,
    /// Waiting for the client's (1.3) or server's (1.2) last handshake record.
    Finishing,
    Done,
}

/// One TLS connection's handshake, read from both directions until it ends.
pub struct Tls {
    state: State,
    client: Records,
    server: Records,
    hello_at: Option<Ts>,
    tls13: bool,
    /// TLS 1.3: the client answered the server's flight with one alert-sized record.
    suspect_alert: bool,
    /// Something after the suspect record showed the handshake went on.
    went_on: bool,
    /// What the handshake showed (the connection's `tls`).
    pub info: TlsInfo,
}

impl Tls {
    /// A handshake not yet begun.
    pub fn new() -> Self {
        Tls {
            state: State::ClientHello,
            client: Records::collecting(),
            server: Records::collecting(),
            hello_at: None,
            tls13: false,
            suspect_alert: false,
            went_on: false,
            info: TlsInfo::default(),
        }
    }

    /// Bytes held in buffers (hellos being collected).
    pub fn state_bytes(&self) -> usize {
        self.client.capacity() + self.server.capacity()
    }

    /// Nothing more is read: the buffers go.
    fn done(&mut self) {
        self.state = State::Done;
        self.client = Records::default();
        self.server = Records::default();
    }

    /// Does this look like the start of a TLS connection (a handshake record)?
    pub(crate) fn detect(data: &[u8]) -> bool {
        data.len() >= 3 && data[0] == CONTENT_HANDSHAKE && data[1] == 3 && data[2] <= 4
    }

    /// Bytes the client sent.
    pub fn client_data(&mut self, ts: Ts, data: &[u8]) {
        if self.state == State::Done {
            return;
        }
        self.hello_at.get_or_insert(ts);
        let mut started = Vec::new();
        if !self.client.feed(data, &mut started) {
            self.done();
            return;
        }
        for r in started {
            self.client_record(ts, r);
        }
        if self.state == State::ClientHello {
            if let Some((1, body)) = self.client.message(0) {
                hello::parse_client_hello(body, &mut self.info);
                self.client.stop_collecting();
                self.state = State::ServerHello;
            }
        }
    }

    fn client_record(&mut self, ts: Ts, r: Record) {
        if let Some(alert) = r.alert {
            self.fail("client", self.stage(), Some(alert), false);
            return;
        }
        match self.state {
            State::Finishing if self.tls13 && r.content == CONTENT_APP_DATA => {
                if self.suspect_alert {
                    // More after the suspect record: it was not an alert after all.
                    self.went_on = true;
                    self.suspect_alert = false;
                } else if r.len == TLS13_ALERT_LEN && self.info.handshake_ms.is_none() {
                    self.suspect_alert = true;
                    return;
                }
                self.finish(ts);
            }
            _ if r.content == CONTENT_APP_DATA && self.suspect_alert => {
                self.went_on = true;
                self.suspect_alert = false;
            }
            _ => {}
        }
    }

    /// Bytes the server sent.
    pub fn server_data(&mut self, ts: Ts, data: &[u8]) {
        if matches!(self.state, State::ClientHello | State::Done) {
            return;
        }
        let mut started = Vec::new();
        if !self.server.feed(data, &mut started) {
            self.done();
            return;
        }
        if let Some(alert) = started.iter().find_map(|r| r.alert.clone()) {
            self.fail("server", self.stage(), Some(alert), false);
            return;
        }
        if self.state == State::ServerHello {
            if let Some((HANDSHAKE_SERVER_HELLO, body)) = self.server.message(0) {
                self.tls13 = hello::parse_server_hello(body, &mut self.info);
                if self.tls13 {
                    self.server.stop_collecting();
                    self.state = State::Finishing;
                } else {
                    self.state = State::ServerFlight;
                }
            }
        }
        if self.state == State::ServerFlight {
            self.server_flight();
        }
        if !self.tls13
            && matches!(self.state, State::ServerFlight | State::Finishing)
            && started.iter().any(|r| r.content == CONTENT_CCS)
        {
            self.finish(ts);
        }
    }

    /// TLS 1.2: the server's certificate, then its Done.
    fn server_flight(&mut self) {
        let mut i = 1;
        while let Some((ty, body)) = self.server.message(i) {
            match ty {
                HANDSHAKE_CERTIFICATE => self.info.certificate = hello::parse_certificate(body),
                HANDSHAKE_SERVER_DONE => {
                    self.server.stop_collecting();
                    self.state = State::Finishing;
                    return;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Where in the handshake we are, in words for a failure.
    fn stage(&self) -> &'static str {
        match self.state {
            State::ClientHello | State::ServerHello => "after the client hello",
            State::ServerFlight | State::Finishing => "after the server's certificate",
            State::Done => "after the handshake",
        }
    }

    fn fail(
        &mut self,
        by: &'static str,
        after: &'static str,
        alert: Option<String>,
        inferred: bool,
    ) {
        if self.info.handshake_ms.is_some() && !inferred {
            // An alert after a complete handshake (close_notify, ...) is not a failed one.
            self.done();
            return;
        }
        self.info.failure = Some(TlsFailure {
            alert,
            by,
            after,
            inferred,
        });
        self.done();
    }

    fn finish(&mut self, ts: Ts) {
        if self.info.handshake_ms.is_none() {
            self.info.handshake_ms = self.hello_at.map(|h| ts.ms_since(h));
        }
        self.done();
    }

    /// The connection ended. A handshake left half done says how it failed: TLS 1.3 with
    /// the client's alert-sized record and nothing after it is an inferred refusal; a
    /// client that closes after the server's flight without a word gave up on it too.
    pub fn close(&mut self) {
        if self.info.handshake_ms.is_some() || self.info.failure.is_some() {
            return;
        }
        match self.state {
            State::Finishing if self.suspect_alert && !self.went_on => {
                self.fail("client", "after the server's certificate", None, true)
            }
            State::ServerFlight | State::Finishing => {
                self.fail("client", "after the server's certificate", None, true)
            }
            State::ServerHello if self.hello_at.is_some() => {
                self.fail("server", "after the client hello", None, true)
            }
            _ => {}
        }
    }
}

impl Default for Tls {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello as Go's crypto/tls builds it (SNI, ALPN h2/http1.1, TLS 1.3/1.2),
    /// in one record.
    fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let name = sni.as_bytes();
        ext.extend([0, 0]);
        ext.extend(((name.len() + 5) as u16).to_be_bytes());
        ext.extend(((name.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend((name.len() as u16).to_be_bytes());
        ext.extend(name);
        ext.extend([0, 16, 0, 14, 0, 12, 2, b'h', b'2', 8]);
        ext.extend(b"http/1.1");
        ext.extend([0, 43, 0, 5, 4, 3, 4, 3, 3]);
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.extend([0, 0, 2, 0x13, 1, 1, 0]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn client_hello_split_anywhere() {
        let rec = client_hello("proxy.golang.org");
        for cut in 1..rec.len() {
            let mut t = Tls::new();
            t.client_data(Ts(0), &rec[..cut]);
            t.client_data(Ts(1), &rec[cut..]);
            assert_eq!(t.info.sni.as_deref(), Some("proxy.golang.org"), "cut {cut}");
            assert_eq!(t.info.alpn, ["h2", "http/1.1"]);
            assert_eq!(t.info.versions_offered, ["TLS 1.3", "TLS 1.2"]);
        }
    }

    #[test]
    fn tls13_handshake_time_ends_with_client_second_flight() {
        let mut t = Tls::new();
        t.client_data(Ts(1_000_000), &client_hello("h"));
        // ServerHello choosing TLS 1.3
        let mut sh = vec![3, 3];
        sh.extend([1u8; 32]);
        sh.extend([0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4]);
        let mut hs = vec![2, 0];
        hs.extend((sh.len() as u16).to_be_bytes());
        hs.extend(sh);
        let mut rec = vec![22, 3, 3];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        t.server_data(Ts(2_000_000), &rec);
        assert_eq!(t.info.version.as_deref(), Some("TLS 1.3"));
        // The client's CCS, then its encrypted Finished (53 bytes).
        t.client_data(Ts(3_000_000), &[20, 3, 3, 0, 1, 1]);
        let mut fin = vec![23, 3, 3, 0, 53];
        fin.extend([0u8; 53]);
        t.client_data(Ts(3_500_000), &fin);
        assert_eq!(t.info.handshake_ms, Some(2.5));
    }

    #[test]
    fn an_oversized_hello_is_given_up_and_its_buffer_freed() {
        let mut t = Tls::new();
        // A handshake record announcing a huge ClientHello, sent in full records.
        let mut hs = vec![1, 0xff, 0xff, 0xff];
        hs.resize(16_000, 0);
        for _ in 0..5 {
            let mut rec = vec![22, 3, 1];
            rec.extend((hs.len() as u16).to_be_bytes());
            rec.extend(&hs);
            t.client_data(Ts(0), &rec);
            assert!(t.state_bytes() <= (64 << 10) + 64);
        }
        assert_eq!(t.state, State::Done);
        assert_eq!(t.state_bytes(), 0);
    }

    #[test]
    fn garbage_is_not_tls() {
        assert!(!Tls::detect(b"GET / HTTP/1.1"));
        let mut t = Tls::new();
        t.client_data(Ts(0), b"\x16\x03\x01\x00\x04\x01\x00\xff\xff");
        assert_eq!(t.info.sni, None);
    }
}
