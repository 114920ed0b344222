//! Unit tests: the old reader's tests (ported), and the pieces that are private.

use super::resync::{pcap_candidate, Verdict};
use super::state::{TsResol, MAX_DAMAGE_ENTRIES, READ_CHUNK};
use super::*;
use crate::vocab::{LinkType, Ts};

fn pcap_le(link: u32, packets: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    v.extend([0u8; 8]);
    v.extend(65535u32.to_le_bytes());
    v.extend(link.to_le_bytes());
    for (s, us, data) in packets {
        v.extend(s.to_le_bytes());
        v.extend(us.to_le_bytes());
        v.extend((data.len() as u32).to_le_bytes());
        v.extend((data.len() as u32).to_le_bytes());
        v.extend(*data);
    }
    v
}

#[test]
fn reads_pcap_and_stops_cleanly() {
    let bytes = pcap_le(1, &[(1, 5, b"abc"), (2, 6, b"defg")]);
    let mut f = CaptureFile::new(&bytes[..]).unwrap();
    let p = f.next_packet().unwrap().unwrap();
    assert_eq!((p.ts, p.data), (Ts(1_000_005_000), &b"abc"[..]));
    let p = f.next_packet().unwrap().unwrap();
    assert_eq!(p.data, b"defg");
    assert!(f.next_packet().unwrap().is_none());
    assert_eq!(f.position(), bytes.len() as u64);
    assert_eq!((f.skipped_bytes(), f.resyncs()), (0, 0));
}

#[test]
fn truncated_record_reports_offset_after_good_packets() {
    let bytes = pcap_le(1, &[(1, 5, b"abc"), (2, 6, b"defg")]);
    let cut = &bytes[..bytes.len() - 2];
    let mut f = CaptureFile::new(cut).unwrap();
    assert!(f.next_packet().unwrap().is_some());
    let err = f.next_packet().unwrap_err().to_string();
    assert_eq!(err, "truncated capture: the record at byte 43 is cut off");
    // The stream is over after an error.
    assert!(f.next_packet().unwrap().is_none());
    assert_eq!(f.position(), 43);
}

#[test]
fn rejects_garbage_empty_and_unknown_links() {
    assert!(matches!(CaptureFile::new(&b""[..]), Err(FileError::Empty)));
    let err = CaptureFile::new(&b"hello world, not pcap"[..])
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "not a pcap or pcapng file (starts with bytes 68 65 6c 6c 6f 20 77 6f)"
    );
    let err = CaptureFile::new(&pcap_le(127, &[])[..]).err().unwrap();
    assert!(err.to_string().contains("IEEE802_11_RADIOTAP"));
}

#[test]
fn big_endian_nanosecond_pcap() {
    let mut v = vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4];
    v.extend([0u8; 8]);
    v.extend(65535u32.to_be_bytes());
    v.extend(101u32.to_be_bytes());
    v.extend(7u32.to_be_bytes());
    v.extend(123u32.to_be_bytes());
    v.extend(2u32.to_be_bytes());
    v.extend(2u32.to_be_bytes());
    v.extend([0x45, 0]);
    let mut f = CaptureFile::new(&v[..]).unwrap();
    let p = f.next_packet().unwrap().unwrap();
    assert_eq!(p.ts, Ts(7_000_000_123));
    assert_eq!(p.link, LinkType::Raw);
}

#[test]
fn ts_resolutions() {
    assert_eq!(TsResol::Pow10(6).to_ns(5), 5000);
    assert_eq!(TsResol::Pow10(12).to_ns(5000), 5);
    assert_eq!(TsResol::Pow2(10).to_ns(1024), 1_000_000_000);
}

fn state_after(bytes: &[u8]) -> CaptureFile<&[u8]> {
    let mut f = CaptureFile::new(bytes).unwrap();
    while f.next_packet().unwrap().is_some() {}
    f
}

#[test]
fn candidate_needs_time_sizes_link_and_a_successor() {
    let eth = |ty: u16| {
        let mut f = vec![0u8; 12];
        f.extend(ty.to_be_bytes());
        f.extend([0x45; 20]);
        f
    };
    let ip = eth(0x0800);
    let bytes = pcap_le(1, &[(1000, 0, &ip), (1001, 0, &ip), (1002, 0, &ip)]);
    let f = state_after(&bytes);
    let rec = 16 + ip.len();
    // The second record, followed by the third: yes; at the end of the buffer, more is needed.
    assert_eq!(
        pcap_candidate(&f.st, &bytes[24 + rec..], true),
        Verdict::Yes
    );
    assert_eq!(
        pcap_candidate(&f.st, &bytes[24 + rec..24 + rec + 20], false),
        Verdict::Need(rec)
    );
    assert_eq!(
        pcap_candidate(&f.st, &bytes[24 + rec..24 + 2 * rec + 3], false),
        Verdict::Need(rec + 16)
    );
    // The last record, ending with the file: yes.
    assert_eq!(
        pcap_candidate(&f.st, &bytes[24 + 2 * rec..], true),
        Verdict::Yes
    );
    // One byte off: no.
    assert_eq!(pcap_candidate(&f.st, &bytes[25 + rec..], true), Verdict::No);
    // Two days later: no.
    let late = pcap_le(1, &[(1000 + 2 * 86_400, 0, &ip)]);
    assert_eq!(pcap_candidate(&f.st, &late[24..], true), Verdict::No);
    // Not an Ethernet frame (EtherType 0x05ff is neither a type nor a length): no.
    let odd = pcap_le(1, &[(1002, 0, &eth(0x05ff))]);
    assert_eq!(pcap_candidate(&f.st, &odd[24..], true), Verdict::No);
    // Zeros: no.
    assert_eq!(pcap_candidate(&f.st, &[0u8; 64], true), Verdict::No);
}

#[test]
fn damage_list_is_bounded_and_contiguous_damage_merges() {
    let bytes = pcap_le(1, &[]);
    let mut f = CaptureFile::new(&bytes[..]).unwrap();
    f.st.note_damage(100, 10, "a".into());
    f.st.note_damage(110, 5, "b".into());
    assert_eq!(f.damage().len(), 1);
    assert_eq!(f.damage()[0].skipped, 15);
    for i in 0..2 * MAX_DAMAGE_ENTRIES as u64 {
        f.st.note_damage(1000 + 100 * i, 1, "c".into());
    }
    assert_eq!(f.damage().len(), MAX_DAMAGE_ENTRIES);
    assert_eq!(f.resyncs(), 1 + 2 * MAX_DAMAGE_ENTRIES as u64);
    assert_eq!(f.skipped_bytes(), 15 + 2 * MAX_DAMAGE_ENTRIES as u64);
}

/// Megabytes of zeros or of random bytes between records: skipped in one piece, with the
/// buffer at its initial size.
#[test]
fn large_damage_is_scanned_in_a_fixed_buffer() {
    let ip = {
        let mut f = vec![0u8; 12];
        f.extend(0x0800u16.to_be_bytes());
        f.extend([0x45; 50]);
        f
    };
    let head = pcap_le(1, &[(1000, 0, &ip), (1001, 0, &ip)]);
    let tail = pcap_le(1, &[(1002, 0, &ip), (1003, 0, &ip)]);
    let mut x = 0x1234_5678_9abc_def0u64;
    for random in [false, true] {
        let mut bytes = head.clone();
        let garbage = 6 << 20;
        bytes.extend((0..garbage).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if random {
                x as u8
            } else {
                0
            }
        }));
        bytes.extend(&tail[24..]);
        let mut f = CaptureFile::new(&bytes[..]).unwrap();
        let mut n = 0;
        while f.next_packet().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 4, "random={random}");
        assert_eq!(f.damage().len(), 1);
        assert_eq!(f.damage()[0].offset, head.len() as u64);
        assert_eq!(f.skipped_bytes(), garbage as u64);
        assert_eq!(f.st.capacity, READ_CHUNK);
    }
}
