//! Synthetic files for everything the old reader handled: both pcap byte orders and
//! resolutions, FCS bits, snap-length cuts, pcapng sections, interfaces, resolutions, offsets,
//! packet block kinds, statistics, unknown blocks; and the errors, with their messages. Each
//! is read by both readers and must come out the same (and as expected).

use super::common::*;
use gomodwatch::vocab::LinkType;

const T0: u32 = 1_700_000_000;

#[test]
fn pcap_byte_orders_resolutions_fcs_bits_and_snap_cuts() {
    let a = eth_ipv4(60, 1);
    let b = eth_ipv4(1400, 2);
    for e in [E::Le, E::Be] {
        for nanos in [false, true] {
            // FCS bits (28-31) set in the link-type field: still Ethernet.
            let link = 0x3000_0000 | 1;
            let recs: &[(u32, u32, &[u8], u32)] = &[
                (T0, 999_999, &a, a.len() as u32),
                // Cut by the snap length: the wire length is kept.
                (T0 + 1, 5, &b[..100], b.len() as u32),
                // Wire length below the captured length (old writers): caplen wins.
                (T0 + 1, 6, &a, 10),
                (T0 + 2, 7, &a, a.len() as u32),
            ];
            let bytes = pcap(e, nanos, link, 100, recs);
            let out = assert_same(&format!("{e:?} nanos={nanos}"), &bytes);
            let scale = if nanos { 1 } else { 1000 };
            assert_eq!(out.packets.len(), 4);
            assert_eq!(
                out.packets[0].ts,
                T0 as i64 * 1_000_000_000 + 999_999 * scale
            );
            assert_eq!(out.packets[1].wire_len, b.len() as u32);
            assert_eq!(out.packets[1].data, &b[..100]);
            assert_eq!(out.packets[2].wire_len, a.len() as u32);
            assert!(out.packets.iter().all(|p| p.link == LinkType::Ethernet));
        }
    }
}

#[test]
fn pcap_odd_but_valid_records_are_kept() {
    let a = eth_ipv4(60, 1);
    let w = a.len() as u32;
    // A clock step back to 1970 and forward again, an empty record, a microsecond field of
    // 1000000 (scapy rounding), a record in the far future then back: all as before.
    let recs: &[(u32, u32, &[u8], u32)] = &[
        (T0, 0, &a, w),
        (5, 0, &a, w),
        (6, 0, &a, w),
        (T0 + 10, 0, &[], 60),
        (T0 + 11, 1_000_000, &a, w),
        (T0 + 50 * 86_400, 0, &a, w),
        (T0 + 12, 0, &a, w),
        (T0 + 13, 0, &a, 10),
        (T0 + 14, 0, &a, 10),
        (T0 + 15, 0, &a, w),
    ];
    let bytes = pcap(E::Le, false, 1, 65535, recs);
    let out = assert_same("odd records", &bytes);
    assert_eq!(out.packets.len(), recs.len());
}

#[test]
fn pcap_link_types() {
    for (code, link) in [
        (0, LinkType::Null),
        (1, LinkType::Ethernet),
        (101, LinkType::Raw),
        (108, LinkType::Loop),
        (113, LinkType::LinuxSll),
        (228, LinkType::Ipv4),
        (229, LinkType::Ipv6),
        (276, LinkType::LinuxSll2),
    ] {
        let bytes = pcap(E::Le, false, code, 65535, &[(T0, 0, &[0x45; 40], 40)]);
        let out = assert_same(&format!("link {code}"), &bytes);
        assert_eq!(out.packets[0].link, link);
    }
}

fn pcapng_sample(e: E) -> (Vec<u8>, Vec<u8>) {
    let a = eth_ipv4(60, 1);
    let sll2 = {
        let mut f = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x45,
        ];
        f.resize(80, 3);
        f
    };
    let mut ng = Ng::new(e);
    // Interface 0: Ethernet, nanoseconds, named. Interface 1: LINUX_SLL2, 2^-20 s units,
    // 100 s offset.
    ng.idb(1, &[(2, b"lo"), (9, &[9])]);
    ng.idb(276, &[(2, b"any"), (9, &[0x80 | 20]), (14, &e.u64(100))]);
    ng.epb(0, T0 as u64 * 1_000_000_000 + 5, &a, a.len() as u32);
    ng.epb(1, (T0 as u64) << 20 | 1 << 19, &sll2, 1500);
    ng.block(4, &[1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0]); // name resolution
    ng.block(0x1234_5678, &[9; 20]); // unknown
    ng.block(0x0BAD, &[0; 8]); // custom
    ng.spb(&a[..30], a.len() as u32);
    ng.pb(1, (T0 as u64 + 1) << 20, &sll2, 80);
    ng.epb_opts(0, T0 as u64 * 1_000_000_000 + 7, &a, a.len() as u32);
    ng.isb(0, 7);
    ng.isb(1, 5);
    // A second section, in the other byte order, with one interface of its own.
    let other = if e == E::Le { E::Be } else { E::Le };
    let mut ng2 = Ng::new(other);
    ng2.idb(101, &[]);
    ng2.epb(0, (T0 as u64 + 2) * 1_000_000, &[0x45; 33], 33);
    ng2.isb(0, 1000);
    let mut bytes = ng.out;
    bytes.extend(&ng2.out);
    (bytes, a)
}

#[test]
fn pcapng_sections_interfaces_resolutions_and_block_kinds() {
    for e in [E::Le, E::Be] {
        let (bytes, a) = pcapng_sample(e);
        let out = read_new(&bytes);
        assert_eq!(out.end, Ok(()), "{e:?}");
        let p = &out.packets;
        assert_eq!(p.len(), 6, "{e:?}");
        assert_eq!(
            (p[0].ts, p[0].link, p[0].iface),
            (T0 as i64 * 1_000_000_000 + 5, LinkType::Ethernet, 0)
        );
        assert_eq!(
            (p[1].ts, p[1].link, p[1].iface, p[1].wire_len),
            (
                (T0 as i64 + 100) * 1_000_000_000 + 500_000_000,
                LinkType::LinuxSll2,
                1,
                1500
            )
        );
        // Simple Packet Block: no time, interface 0; its length is the block's (30 bytes and
        // 2 of padding), as the block does not say how much was captured.
        assert_eq!((p[2].ts, p[2].iface, p[2].data.len()), (0, 0, 32));
        assert_eq!(p[2].wire_len, a.len() as u32);
        assert_eq!(
            (p[3].ts, p[3].iface),
            ((T0 as i64 + 101) * 1_000_000_000, 1)
        );
        assert_eq!(p[4].ts, T0 as i64 * 1_000_000_000 + 7);
        assert_eq!((p[5].link, p[5].iface), (LinkType::Raw, 0));
        assert_eq!(p[5].ts, (T0 as i64 + 2) * 1_000_000_000);
        // The second section reset the interfaces; its ISB counts for its interface.
        assert_eq!(out.interfaces, vec![(LinkType::Raw, None)]);
        assert_eq!(out.dropped, 1000);
        // Same as the old reader, whatever the byte order.
        assert_same(&format!("pcapng {e:?}"), &bytes);
    }
}

#[test]
fn pcapng_drop_counts_and_names_in_one_section() {
    for e in [E::Le, E::Be] {
        let mut ng = Ng::new(e);
        ng.idb(1, &[(2, b"eth0")]).idb(1, &[(2, b"eth1")]);
        ng.epb(1, 1, &eth_ipv4(20, 0), 34);
        ng.isb(0, 3).isb(1, 4).isb(7, 100);
        let out = assert_same("drops", &ng.out);
        assert_eq!(out.dropped, 7);
        assert_eq!(out.interfaces[1].1.as_deref(), Some("eth1"));
    }
}

/// Errors at the end of a file (nothing after them) read exactly as before.
#[test]
fn errors_keep_their_messages() {
    let a = eth_ipv4(60, 1);
    let w = a.len() as u32;
    let good = pcap(E::Le, false, 1, 65535, &[(T0, 0, &a, w), (T0, 1, &a, w)]);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "the file is empty"),
        (
            "tiny",
            b"ab".to_vec(),
            "not a pcap or pcapng file (starts with bytes 61 62)",
        ),
        (
            "pcap header cut",
            good[..20].to_vec(),
            "truncated capture: the record at byte 0 is cut off",
        ),
        (
            "last record cut",
            good[..good.len() - 1].to_vec(),
            "truncated capture: the record at byte 114 is cut off",
        ),
        (
            "last header cut",
            good[..114 + 9].to_vec(),
            "truncated capture: the record at byte 114 is cut off",
        ),
        (
            "huge last record",
            {
                let mut v = good.clone();
                v[114 + 8..114 + 12].copy_from_slice(&(20u32 << 20).to_le_bytes());
                v
            },
            "corrupt capture at byte 114: packet length 20971520",
        ),
    ];
    let mut v3 = good.clone();
    v3[4] = 3;
    cases.push((
        "pcap v3",
        v3,
        "corrupt capture at byte 4: pcap version 3 (expected 2)",
    ));
    let mut radiotap = good.clone();
    radiotap[20] = 127;
    cases.push((
        "radiotap",
        radiotap,
        "unsupported link type 127 (IEEE802_11_RADIOTAP); gomodwatch reads EN10MB, NULL, LOOP, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2 and PKTAP",
    ));

    let mut ng = Ng::new(E::Le);
    ng.idb(1, &[]).epb(0, 1, &a, w);
    let ok = ng.out.clone();
    let shb_len = 28;
    cases.push((
        "pcapng bom",
        {
            let mut v = ok.clone();
            v[8] = 0;
            v
        },
        "corrupt capture at byte 8: bad pcapng byte-order magic",
    ));
    cases.push((
        "pcapng shb cut",
        ok[..20].to_vec(),
        "truncated capture: the record at byte 0 is cut off",
    ));
    cases.push((
        "pcapng shb trailer",
        {
            let mut v = ok.clone();
            v[24] = 0;
            v
        },
        "corrupt capture at byte 0: block length 28 does not match its trailer 0",
    ));
    let epb_at = shb_len + 20;
    cases.push((
        "last block cut",
        ok[..ok.len() - 3].to_vec(),
        "truncated capture: the record at byte 48 is cut off",
    ));
    cases.push((
        "last block trailer",
        {
            let mut v = ok.clone();
            let n = v.len();
            v[n - 4] ^= 4;
            v
        },
        "corrupt capture at byte 48: block length 108 does not match its trailer 104",
    ));
    cases.push((
        "last block length",
        {
            let mut v = ok.clone();
            v[epb_at + 4] = 3;
            v
        },
        "corrupt capture at byte 48: block length 3",
    ));
    let mut unknown_iface = Ng::new(E::Le);
    unknown_iface.idb(1, &[]).epb(1, 1, &a, w);
    cases.push((
        "unknown interface",
        unknown_iface.out,
        "corrupt capture at byte 48: packet on interface 1, but the file describes 1",
    ));
    let mut runs_past = Ng::new(E::Le);
    runs_past.idb(1, &[]).epb(0, 1, &a, w);
    let caplen_at = epb_at + 20;
    runs_past.out[caplen_at..caplen_at + 4].copy_from_slice(&500u32.to_le_bytes());
    cases.push((
        "data past block",
        runs_past.out,
        "corrupt capture at byte 48: packet data runs past its block",
    ));
    let mut short_epb = Ng::new(E::Le);
    short_epb.idb(1, &[]).block(6, &[0; 12]);
    cases.push((
        "short epb",
        short_epb.out,
        "corrupt capture at byte 48: packet block too short",
    ));
    let mut short_idb = Ng::new(E::Le);
    short_idb.block(1, &[1, 0, 0, 0]).epb(0, 1, &a, w);
    cases.push((
        "short idb",
        short_idb.out,
        "corrupt capture at byte 28: interface description too short",
    ));

    for (name, bytes, want) in cases {
        let old = read_old(&bytes);
        let new = read_new(&bytes);
        let got = new.end.clone().err().unwrap_or_default();
        assert!(got.starts_with(want), "{name}: got {got:?}, want {want:?}");
        assert_eq!(new.end, old.end, "{name}");
        assert_eq!(new.packets, old.packets, "{name}");
    }
}

/// The same damage in the middle of a file: the old reader stopped there, the new one
/// reports it and goes on.
#[test]
fn damage_in_the_middle_is_skipped_and_reported() {
    let a = eth_ipv4(60, 1);
    let w = a.len() as u32;
    let after = |ng: &mut Ng| {
        ng.epb(0, 10, &a, w).epb(0, 11, &a, w);
    };
    type Damage = (&'static str, fn(&mut Vec<u8>, usize), &'static str);
    let damages: &[Damage] = &[
        (
            "trailer",
            |v, at| v[at + 104] ^= 4,
            "block length 108 does not match its trailer 104",
        ),
        ("length", |v, at| v[at + 4] = 3, "block length 3"),
        ("zeroed", |v, at| v[at..at + 20].fill(0), "block length 0"),
        (
            "iface",
            |v, at| v[at + 8] = 5,
            "packet on interface 5, but the file describes 1",
        ),
        (
            "caplen",
            |v, at| v[at + 20] = 200,
            "packet data runs past its block",
        ),
    ];
    for (name, damage, what) in damages {
        let mut ng = Ng::new(E::Le);
        ng.idb(1, &[]).epb(0, 1, &a, w);
        let at = ng.out.len();
        ng.epb(0, 2, &a, w);
        after(&mut ng);
        let mut bytes = ng.out;
        damage(&mut bytes, at);
        let out = read_new(&bytes);
        assert_eq!(out.end, Ok(()), "{name}");
        let ts: Vec<i64> = out.packets.iter().map(|p| p.ts / 1000).collect();
        assert_eq!(ts, [1, 10, 11], "{name}");
        assert_eq!(out.damage.len(), 1, "{name}");
        assert_eq!(out.damage[0].offset, at as u64, "{name}");
        assert_eq!(out.damage[0].skipped, 108, "{name}");
        assert_eq!(out.damage[0].what, *what, "{name}");
        assert_eq!((out.skipped, out.resyncs), (108, 1), "{name}");
        assert!(read_old(&bytes).end.is_err(), "{name}");
    }
}
