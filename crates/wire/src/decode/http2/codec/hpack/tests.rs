use super::*;

#[test]
fn integers() {
    assert_eq!(integer(&[10], 5), Some((10, 1)));
    assert_eq!(integer(&[31, 154, 10], 5), Some((1337, 3)));
    assert_eq!(integer(&[31], 5), None);
    assert_eq!(integer(&[31, 0xff, 0xff, 0xff, 0xff, 0x01], 5), None);
}

#[test]
fn rfc7541_c3_requests_share_the_table() {
    // RFC 7541 Appendix C.3: three requests, no Huffman, the second and
    // third reuse entries the first added.
    let mut d = HpackDir::new(4096);
    let r1 = hex("828684410f7777772e6578616d706c652e636f6d");
    let r2 = hex("828684be58086e6f2d6361636865");
    let r3 = hex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565");
    let b1 = d.decode(&r1, 1 << 16).unwrap();
    assert_eq!(
        b1.fields[3],
        (":authority".into(), "www.example.com".into())
    );
    let b2 = d.decode(&r2, 1 << 16).unwrap();
    assert_eq!(
        b2.fields[3],
        (":authority".into(), "www.example.com".into())
    );
    assert_eq!(b2.fields[4], ("cache-control".into(), "no-cache".into()));
    let b3 = d.decode(&r3, 1 << 16).unwrap();
    assert_eq!(b3.fields[4], ("custom-key".into(), "custom-value".into()));
}

#[test]
fn rfc7541_c4_huffman_requests() {
    // RFC 7541 Appendix C.4: the same requests, Huffman-coded (this
    // goes through our rewrite to raw literals).
    let mut d = HpackDir::new(4096);
    let b1 = d
        .decode(&hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"), 1 << 16)
        .unwrap();
    assert_eq!(
        b1.fields[3],
        (":authority".into(), "www.example.com".into())
    );
    let b2 = d.decode(&hex("828684be5886a8eb10649cbf"), 1 << 16).unwrap();
    assert_eq!(b2.fields[4], ("cache-control".into(), "no-cache".into()));
    let b3 = d
        .decode(
            &hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"),
            1 << 16,
        )
        .unwrap();
    assert_eq!(b3.fields[4], ("custom-key".into(), "custom-value".into()));
    assert_eq!(
        b3.fields[3],
        (":authority".into(), "www.example.com".into())
    );
    // Bad Huffman padding is an error.
    assert!(HpackDir::new(4096)
        .decode(&hex("0081008100"), 1 << 16)
        .is_err());
}

#[test]
fn list_limit_keeps_table_in_sync() {
    let mut d = HpackDir::new(4096);
    let b = d
        .decode(&hex("828684410f7777772e6578616d706c652e636f6d"), 40)
        .unwrap();
    assert!(b.too_large && b.fields.is_empty());
    // The :authority entry was still added: index 62 resolves.
    let b = d.decode(&hex("be"), 1 << 16).unwrap();
    assert_eq!(
        b.fields,
        vec![(":authority".into(), "www.example.com".into())]
    );
}

#[test]
fn size_updates() {
    let mut d = HpackDir::new(65536);
    // 0x3f e1 1f = update to 4096 (allowed), then indexed :method GET.
    assert!(
        !d.decode(&[0x3f, 0xe1, 0x1f, 0x82], 1 << 16)
            .unwrap()
            .over_setting
    );
    // Update to 8192 without the peer advertising it: lenient, counted.
    assert!(
        d.decode(&[0x3f, 0xe1, 0x3f, 0x82], 1 << 16)
            .unwrap()
            .over_setting
    );
    // Advertised (pending ACK) 16384: fine.
    d.peer_settings(Some(16384));
    assert!(
        !d.decode(&[0x3f, 0xe1, 0x7f, 0x82], 1 << 16)
            .unwrap()
            .over_setting
    );
    // A block of only an update is accepted.
    assert!(d.decode(&[0x20], 1 << 16).unwrap().fields.is_empty());
    // Above our cap: an error.
    let mut small = HpackDir::new(4096);
    assert!(small.decode(&[0x3f, 0xe1, 0x3f, 0x82], 1 << 16).is_err());
    assert!(small.decode(&[0x3f, 0xe1, 0x3f], 1 << 16).is_err());
}

#[test]
fn settings_bound_follows_acks() {
    let mut d = HpackDir::new(65536);
    let grow = |d: &mut HpackDir, size: u16| {
        // An update to `size` (>= 31: 0x3f then the rest) and :method GET.
        let rest = size as usize - 31;
        let block = [0x3f, (rest & 0x7f) as u8 | 0x80, (rest >> 7) as u8, 0x82];
        d.decode(&block, 1 << 16).unwrap().over_setting
    };
    d.peer_settings(Some(16384));
    d.peer_settings_ack();
    assert!(!grow(&mut d, 16384));
    // Lowered but not yet acknowledged: either value may be in force.
    d.peer_settings(Some(4096));
    d.peer_settings(None);
    assert!(!grow(&mut d, 16384));
    d.peer_settings_ack();
    assert!(grow(&mut d, 8192));
    // A SETTINGS without the parameter leaves the bound alone.
    d.peer_settings_ack();
    assert!(!grow(&mut d, 4096) && grow(&mut d, 4097));
}

#[test]
fn malformed_blocks_are_errors_not_panics() {
    for b in [
        &[0x3f][..],
        &[0x40],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x82, 0x20],
        &[0x00, 0x81],
    ] {
        let _ = HpackDir::new(4096).decode(b, 1 << 16);
    }
    assert!(HpackDir::new(4096).decode(&[0xbf], 1 << 16).is_err()); // index 63, empty table
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
