//! Every real capture reads exactly as with the old reader: same packets (time, link,
//! interface, wire length, data), same positions, same interfaces and drop counts, and no
//! damage reported.

use super::common::*;

#[test]
fn every_real_capture_reads_as_with_the_old_reader() {
    let mut total = 0;
    for path in real_captures() {
        let bytes = std::fs::read(&path).expect("read capture");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let new = assert_same(&name, &bytes);
        assert_eq!(new.end, Ok(()), "{name}");
        assert!(!new.packets.is_empty(), "{name}");
        total += new.packets.len();
    }
    eprintln!("{total} packets compared");
}

#[test]
fn real_captures_read_the_same_through_a_trickling_reader() {
    // Reads of 1 to 7 bytes at a time: every refill boundary falls somewhere else.
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = self.1 % 7 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    for name in [
        "one-proxy-go127.pcapng",
        "multi-iface-go127.pcapng",
        "vlan-go119.pcap",
    ] {
        let bytes = capture(name);
        let want = read_new(&bytes).packets;
        let mut f = gomodwatch::source::file::CaptureFile::new(Trickle(&bytes, 0)).unwrap();
        let mut n = 0;
        while let Some(p) = f.next_packet().unwrap() {
            assert_eq!(
                (p.ts.0, p.data),
                (want[n].ts, &want[n].data[..]),
                "{name} {n}"
            );
            n += 1;
        }
        assert_eq!(n, want.len(), "{name}");
        assert_eq!(f.resyncs(), 0);
    }
}

#[test]
fn io_errors_keep_their_message() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.0.min(buf.len());
            buf[..n].fill(0);
            // A pcap header, then zeros.
            if n >= 24 && self.0 == 1 << 20 {
                buf[..24].copy_from_slice(&pcap(E::Le, false, 1, 65535, &[])[..24]);
            }
            self.0 -= n;
            Ok(n)
        }
    }
    let mut f = gomodwatch::source::file::CaptureFile::new(Failing(1 << 20)).unwrap();
    let mut err = None;
    for _ in 0..1_000_000 {
        match f.next_packet() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                err = Some(e.to_string());
                break;
            }
        }
    }
    assert_eq!(err.as_deref(), Some("disk on fire"));
    let old = legacy::CaptureFile::new(Failing(0))
        .err()
        .map(|e| e.to_string());
    let new = gomodwatch::source::file::CaptureFile::new(Failing(0))
        .err()
        .map(|e| e.to_string());
    assert_eq!(new, old);
}
