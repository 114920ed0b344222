//! TLS 1.2 record keys from the master secret of a `CLIENT_RANDOM` key log line (RFC 5246
//! §6.3: the key block is PRF(master, "key expansion", server random + client random), the
//! PRF being P_SHA256 or P_SHA384 over HMAC, RFC 5246 §5), for the AEAD suites Go, curl and
//! common proxies negotiate: AES-128/256-GCM (RFC 5288) and ChaCha20-Poly1305 (RFC 7905).
//! CBC suites are not covered: ring has no AES-CBC, and they are rare in what Go clients
//! and current proxies agree on; such a connection is reported as not decrypted.
//!
//! Hand-written on ring's HMAC and AEADs (already a dependency for TLS 1.3): the PRF is
//! a dozen lines, and rustls, which has it, does not expose it.

use ring::{aead, hmac};

/// How a suite's records are sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sealing {
    /// AES-GCM: a 4-byte implicit salt, an 8-byte explicit nonce in front of each record.
    Gcm,
    /// ChaCha20-Poly1305: a 12-byte IV xor the record number, nothing in the record.
    Chacha,
}

/// A TLS 1.2 AEAD cipher suite.
#[derive(Clone, Copy)]
pub(super) struct Suite12 {
    pub(super) aead: &'static aead::Algorithm,
    prf: hmac::Algorithm,
    pub(super) sealing: Sealing,
}

/// The suites covered, by IANA number.
pub(super) fn suite(id: u16) -> Option<Suite12> {
    let (aead, prf, sealing) = match id {
        // ECDHE_RSA / ECDHE_ECDSA / RSA / DHE_RSA _WITH_AES_128_GCM_SHA256
        0xc02f | 0xc02b | 0x009c | 0x009e => (&aead::AES_128_GCM, hmac::HMAC_SHA256, Sealing::Gcm),
        // ... _WITH_AES_256_GCM_SHA384
        0xc030 | 0xc02c | 0x009d | 0x009f => (&aead::AES_256_GCM, hmac::HMAC_SHA384, Sealing::Gcm),
        // ECDHE_RSA / ECDHE_ECDSA / DHE_RSA _WITH_CHACHA20_POLY1305_SHA256
        0xcca8..=0xccaa => (&aead::CHACHA20_POLY1305, hmac::HMAC_SHA256, Sealing::Chacha),
        _ => return None,
    };
    Some(Suite12 { aead, prf, sealing })
}

/// P_hash(secret, label + seed) to `len` bytes (RFC 5246 §5).
fn prf(alg: hmac::Algorithm, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(alg, secret);
    let mut label_seed = label.to_vec();
    label_seed.extend_from_slice(seed);
    let mut out = Vec::with_capacity(len);
    let mut a = hmac::sign(&key, &label_seed);
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// One direction's TLS 1.2 key: the AEAD key, its salt or IV (12 bytes; GCM uses 4).
pub(super) struct Key12 {
    pub(super) key: aead::LessSafeKey,
    pub(super) iv: [u8; 12],
    pub(super) sealing: Sealing,
}

/// The client's and the server's keys.
pub(super) fn keys(
    s: Suite12,
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> Option<(Key12, Key12)> {
    let key_len = s.aead.key_len();
    let iv_len = match s.sealing {
        Sealing::Gcm => 4,
        Sealing::Chacha => 12,
    };
    let mut seed = server_random.to_vec();
    seed.extend_from_slice(client_random);
    // AEAD suites have no MAC keys: client key, server key, client IV, server IV.
    let block = prf(
        s.prf,
        master,
        b"key expansion",
        &seed,
        2 * (key_len + iv_len),
    );
    let (ck, rest) = block.split_at(key_len);
    let (sk, rest) = rest.split_at(key_len);
    let (civ, siv) = rest.split_at(iv_len);
    let make = |k: &[u8], iv: &[u8]| {
        let mut full = [0u8; 12];
        full[..iv.len()].copy_from_slice(iv);
        Some(Key12 {
            key: aead::LessSafeKey::new(aead::UnboundKey::new(s.aead, k).ok()?),
            iv: full,
            sealing: s.sealing,
        })
    };
    Some((make(ck, civ)?, make(sk, siv)?))
}

impl Key12 {
    /// Opens record number `seq` (`header` is its 5 bytes); its plaintext.
    pub(super) fn open<'a>(&self, seq: u64, header: &[u8], body: &'a mut [u8]) -> Option<&'a [u8]> {
        let tag = self.key.algorithm().tag_len();
        let (nonce, sealed) = match self.sealing {
            Sealing::Gcm => {
                let explicit = body.get(..8)?;
                let mut n = [0u8; 12];
                n[..4].copy_from_slice(&self.iv[..4]);
                n[4..].copy_from_slice(explicit);
                (n, body.get_mut(8..)?)
            }
            Sealing::Chacha => {
                let mut n = self.iv;
                for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *b ^= s;
                }
                (n, body)
            }
        };
        let plain_len = sealed.len().checked_sub(tag)?;
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&seq.to_be_bytes());
        aad[8..11].copy_from_slice(header.get(..3)?);
        aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                sealed,
            )
            .ok()?;
        Some(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TLS 1.2 PRF test vector for P_SHA256 (from the IETF TLS working group's list,
    /// as used by many implementations' tests).
    #[test]
    fn prf_sha256_vector() {
        let secret = hex("9bbe436ba940f017b17652849a71db35");
        let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
        let out = prf(hmac::HMAC_SHA256, &secret, b"test label", &seed, 100);
        assert_eq!(
            out,
            hex(concat!(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
                "87347b66"
            ))
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
