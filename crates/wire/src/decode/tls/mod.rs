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
pub mod keylog;
mod records;
mod tls12;

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

    /// Does this look like an application data record (a TLS connection joined after its
    /// handshake)?
    pub(crate) fn detect_app_data(data: &[u8]) -> bool {
        data.len() >= 5
            && data[0] == CONTENT_APP_DATA
            && data[1] == 3
            && data[2] == 3
            && usize::from(u16::from_be_bytes([data[3], data[4]])) <= (1 << 14) + 256
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
mod tests;
