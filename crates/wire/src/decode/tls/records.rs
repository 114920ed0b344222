//! TLS records of one direction: their content types and lengths as they start, plaintext
//! alerts, and the handshake messages while they are wanted.

/// Handshake bytes kept at most (a hello plus a certificate chain; more is not TLS we can
/// use).
const MAX_HANDSHAKE: usize = 64 << 10;

const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;

/// A record that started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) content: u8,
    pub(crate) len: usize,
    /// A plaintext alert's description (an encrypted alert has no readable body).
    pub(crate) alert: Option<String>,
}

#[derive(Default)]
pub(crate) struct Records {
    header: Vec<u8>,
    /// Bytes left in the current record's fragment, and its content type and length.
    left: usize,
    content: u8,
    len: usize,
    /// The body of a record that may be a plaintext alert (2 bytes).
    alert_body: Vec<u8>,
    handshake: Vec<u8>,
    collect: bool,
}

impl Records {
    pub(crate) fn collecting() -> Self {
        Records {
            collect: true,
            ..Default::default()
        }
    }

    pub(crate) fn stop_collecting(&mut self) {
        self.collect = false;
        self.handshake = Vec::new();
    }

    /// Feeds bytes; records that started (or, for alerts, completed) in this call are added
    /// to `started`. `false` when this is not TLS.
    pub(crate) fn feed(&mut self, mut data: &[u8], started: &mut Vec<Record>) -> bool {
        while !data.is_empty() {
            if self.left == 0 {
                let need = 5 - self.header.len();
                let take = need.min(data.len());
                self.header.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.header.len() < 5 {
                    break;
                }
                self.content = self.header[0];
                if !(20..=24).contains(&self.content) || self.header[1] != 3 {
                    return false;
                }
                self.len = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                self.left = self.len;
                self.header.clear();
                self.alert_body.clear();
                if self.content != CONTENT_ALERT || self.len != 2 {
                    started.push(Record {
                        content: self.content,
                        len: self.len,
                        alert: None,
                    });
                }
                continue;
            }
            let take = self.left.min(data.len());
            if self.content == CONTENT_ALERT && self.len == 2 {
                self.alert_body.extend_from_slice(&data[..take]);
                if self.alert_body.len() == 2 {
                    started.push(Record {
                        content: CONTENT_ALERT,
                        len: 2,
                        alert: Some(alert_name(self.alert_body[1]).to_string()),
                    });
                }
            }
            if self.collect && self.content == CONTENT_HANDSHAKE {
                if self.handshake.len() + take > MAX_HANDSHAKE {
                    return false;
                }
                self.handshake.extend_from_slice(&data[..take]);
            }
            self.left -= take;
            data = &data[take..];
        }
        true
    }

    /// Bytes held in buffers.
    pub(crate) fn capacity(&self) -> usize {
        self.header.capacity() + self.alert_body.capacity() + self.handshake.capacity()
    }

    /// The `n`th complete handshake message, if it has arrived: (type, body).
    pub(crate) fn message(&self, n: usize) -> Option<(u8, &[u8])> {
        let mut h = self.handshake.as_slice();
        for i in 0.. {
            if h.len() < 4 {
                return None;
            }
            let len = (h[1] as usize) << 16 | (h[2] as usize) << 8 | h[3] as usize;
            let body = h.get(4..4 + len)?;
            if i == n {
                return Some((h[0], body));
            }
            h = &h[4 + len..];
        }
        None
    }
}

/// RFC 8446 §6 / RFC 5246 §7.2 alert descriptions.
pub(crate) fn alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}
