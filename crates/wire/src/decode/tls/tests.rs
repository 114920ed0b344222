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
