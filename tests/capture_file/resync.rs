//! Damage in real captures: zeroed or random regions in the middle, at the start and at the
//! end, and garbage after the file. Every packet whose record the damage does not touch must
//! come back, the damage must be reported, nothing may panic.

use super::common::*;

/// A packet of the undamaged file and the byte range of its record.
struct Rec {
    pkt: Pkt,
    start: u64,
}

/// The undamaged file's packets with their record spans (EPBs here carry no options).
fn records(bytes: &[u8]) -> Vec<Rec> {
    let out = read_old(bytes);
    assert_eq!(out.end, Ok(()));
    let pcapng = bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a];
    out.packets
        .into_iter()
        .map(|pkt| {
            let len = if pcapng {
                32 + (pkt.data.len() as u64).div_ceil(4) * 4
            } else {
                16 + pkt.data.len() as u64
            };
            if pcapng {
                let at = (pkt.end - len) as usize;
                assert_eq!(bytes[at], 6, "EPB expected");
            }
            Rec {
                start: pkt.end - len,
                pkt,
            }
        })
        .collect()
}

/// Checks a damaged read against the undamaged packets: all records outside `regions` are
/// there, in order; at most one packet per touched record besides them. Returns how many
/// records were touched and how many of those came back anyway.
fn check(name: &str, orig: &[Rec], regions: &[(u64, u64)], out: &Outcome) -> (usize, usize) {
    let touched = |r: &Rec| {
        regions
            .iter()
            .any(|&(from, to)| r.start < to && r.pkt.end > from)
    };
    let want: Vec<&Pkt> = orig
        .iter()
        .filter(|r| !touched(r))
        .map(|r| &r.pkt)
        .collect();
    let n_touched = orig.len() - want.len();
    let same = |a: &Pkt, b: &Pkt| {
        (a.ts, a.link, a.iface, a.wire_len, &a.data) == (b.ts, b.link, b.iface, b.wire_len, &b.data)
    };
    let mut i = 0;
    let mut extra = 0;
    for p in &out.packets {
        if i < want.len() && same(p, want[i]) {
            i += 1;
        } else {
            extra += 1;
        }
    }
    assert_eq!(
        i,
        want.len(),
        "{name}: only {i} of {} undamaged packets came back (next: ts {:?}); damage {:?}",
        want.len(),
        want.get(i).map(|p| p.ts),
        out.damage
    );
    assert!(
        extra <= n_touched,
        "{name}: {extra} packets that are not in the file ({n_touched} records damaged)"
    );
    (n_touched, extra)
}

fn header_inside(orig: &[Rec], from: u64, to: u64) -> bool {
    orig.iter().any(|r| r.start >= from && r.start < to)
}

const FILES: &[&str] = &[
    "fallback-404-go127.pcap",
    "one-proxy-go127.pcapng",
    "multi-iface-go127.pcapng",
    "vlan-go119.pcap",
    "veth-mtu1500-go127.pcap",
    "any-sll2-go119.pcap",
    "any-sll-go119.pcap",
    "fallback-404-go119-null.pcap",
    "fallback-404-go119-raw.pcap",
    "ipv6-go119.pcap",
];

#[test]
fn zeroed_4k_at_40_percent_is_skipped() {
    for name in FILES {
        let bytes = capture(name);
        let orig = records(&bytes);
        let from = bytes.len() as u64 * 4 / 10;
        let to = from + 4096;
        let mut damaged = bytes.clone();
        damaged[from as usize..to as usize].fill(0);
        let out = read_new(&damaged);
        assert_eq!(out.end, Ok(()), "{name}");
        let (touched, _) = check(name, &orig, &[(from, to)], &out);
        if header_inside(&orig, from, to) {
            assert_eq!(out.resyncs, 1, "{name}: {:?}", out.damage);
            let d = &out.damage[0];
            // Detected at the first record the zeros touch (which may start before them).
            let first = orig.iter().find(|r| r.pkt.end > from).unwrap().start;
            assert!(d.offset >= first && d.offset < to, "{name}: {d:?}");
            assert!(d.offset + d.skipped >= to, "{name}: {d:?}");
            assert_eq!(out.skipped, d.skipped);
            eprintln!(
                "{name}: {} packets, {touched} touched by the damage, {} back; skipped {} bytes at {}: {}",
                orig.len(),
                out.packets.len(),
                d.skipped,
                d.offset,
                d.what
            );
        }
        // The old reader stopped at the damage (or read zeros as packets).
        let old = read_old(&damaged);
        assert!(old.end.is_err() || old.packets.len() != orig.len() - touched);
    }
}

#[test]
fn zeroed_regions_of_many_sizes_and_places() {
    for name in FILES {
        let bytes = capture(name);
        let orig = records(&bytes);
        for (i, size) in [1usize, 7, 16, 100, 1500, 4096, 20_000, 100_000]
            .iter()
            .enumerate()
        {
            for frac in [1, 3, 5, 7, 9] {
                let from = (bytes.len() * frac / 10 + i * 13).min(bytes.len() - size - 1);
                let to = from + size;
                let mut damaged = bytes.clone();
                damaged[from..to].fill(0);
                let out = read_new(&damaged);
                let label = format!("{name} zero {size} at {from}");
                // An error only if no whole record is left after the zeros.
                let after = orig.iter().any(|r| r.start >= to as u64);
                assert_eq!(out.end.is_ok(), after, "{label}: {:?}", out.end);
                check(&label, &orig, &[(from as u64, to as u64)], &out);
            }
        }
    }
}

#[test]
fn random_damage_never_panics_and_spares_the_rest() {
    let mut recovered = 0;
    let mut total_touched = 0;
    // CAPFILE_SEEDS=N for a longer run.
    let seeds = std::env::var("CAPFILE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40u64);
    for seed in 0..seeds {
        let name = FILES[seed as usize % FILES.len()];
        let bytes = capture(name);
        let orig = records(&bytes);
        let mut rng = Rng::new(seed);
        let mut damaged = bytes.clone();
        let mut regions = Vec::new();
        // One to three regions, of random bytes or zeros, away from the file header.
        for _ in 0..1 + rng.below(3) {
            let size = 1 + rng.below(8000) as usize;
            let from = 2000 + rng.below((bytes.len() - 4000 - size) as u64) as usize;
            let zeros = rng.below(3) == 0;
            for b in &mut damaged[from..from + size] {
                *b = if zeros { 0 } else { rng.next() as u8 };
            }
            regions.push((from as u64, (from + size) as u64));
        }
        let out = read_new(&damaged);
        let label = format!("seed {seed} ({name}, {regions:?})");
        assert_eq!(out.end, Ok(()), "{label}");
        let (touched, _) = check(&label, &orig, &regions, &out);
        total_touched += touched;
        recovered += out.packets.len();
        assert!(
            out.damage.len() <= regions.len() + 1,
            "{label}: {:?}",
            out.damage
        );
    }
    eprintln!("random damage: {recovered} packets back, {total_touched} records touched");
}

#[test]
fn bit_flips_in_record_headers() {
    // Flip one bit in a header field of some record (the length fields most of all): at
    // most that record and its neighbour are lost.
    for name in [
        "fallback-404-go127.pcap",
        "vlan-go119.pcap",
        "one-proxy-go127.pcapng",
    ] {
        let bytes = capture(name);
        let orig = records(&bytes);
        let mut rng = Rng::new(7);
        for _ in 0..60 {
            let r = &orig[1 + rng.below(orig.len() as u64 - 2) as usize];
            let field = rng.below(if name.ends_with("ng") { 28 } else { 16 });
            let at = (r.start + field) as usize;
            let mut damaged = bytes.clone();
            damaged[at] ^= 1 << rng.below(8);
            let out = read_new(&damaged);
            let label = format!("{name} flip at {at}");
            assert!(out.end.is_ok(), "{label}: {:?}", out.end);
            check(&label, &orig, &[(at as u64, at as u64 + 1)], &out);
        }
    }
}

#[test]
fn damage_right_after_the_file_header() {
    for name in [
        "fallback-404-go127.pcap",
        "vlan-go119.pcap",
        "one-proxy-go127.pcapng",
        "multi-iface-go127.pcapng",
    ] {
        let bytes = capture(name);
        let orig = records(&bytes);
        // pcap: right after the 24-byte header; pcapng: right after the IDB(s), which are
        // needed to read anything.
        let first = orig[0].start as usize;
        for size in [16, 300, 3000] {
            let mut damaged = bytes.clone();
            damaged[first..first + size].fill(0);
            let out = read_new(&damaged);
            let label = format!("{name}: {size} zeros at {first}");
            assert_eq!(out.end, Ok(()), "{label}");
            check(
                &label,
                &orig,
                &[(first as u64, (first + size) as u64)],
                &out,
            );
            assert_eq!(out.resyncs, 1, "{label}");
        }
    }
}

#[test]
fn damaged_file_header_or_interfaces() {
    // The file header: not a capture any more (an error, no panic).
    let bytes = capture("fallback-404-go127.pcap");
    let mut damaged = bytes.clone();
    damaged[..24].fill(0);
    assert!(read_new(&damaged)
        .end
        .unwrap_err()
        .starts_with("not a pcap"));
    // The pcapng interface description: its packets cannot be decoded; no panic, and the
    // damage is either reported or the error.
    let bytes = capture("one-proxy-go127.pcapng");
    let orig = records(&bytes);
    let mut damaged = bytes.clone();
    let idb_end = orig[0].start as usize;
    damaged[30..idb_end].fill(0);
    let out = read_new(&damaged);
    assert!(out.end.is_err() || out.resyncs > 0);
    assert!(out.packets.is_empty());
}

#[test]
fn damage_at_the_very_end_is_the_error() {
    for name in FILES {
        let bytes = capture(name);
        let orig = records(&bytes);
        // Zeros over the last 2 KiB: nothing after them, so the error, after every packet
        // before them.
        let from = bytes.len() - 2048;
        let mut damaged = bytes.clone();
        damaged[from..].fill(0);
        let out = read_new(&damaged);
        assert!(out.end.is_err(), "{name}");
        assert!(
            out.end
                .as_ref()
                .unwrap_err()
                .starts_with("corrupt capture at byte")
                || out
                    .end
                    .as_ref()
                    .unwrap_err()
                    .starts_with("truncated capture"),
            "{name}: {:?}",
            out.end
        );
        let before = orig.iter().filter(|r| r.pkt.end <= from as u64).count();
        assert!(out.packets.len() >= before, "{name}");
        assert_eq!(out.resyncs, 0, "{name}");
        // Cut in the middle of the last record: `Truncated`, as before.
        let last = orig.last().unwrap();
        let cut = &bytes[..(last.pkt.end - 3) as usize];
        let out = read_new(cut);
        assert_eq!(
            out.end,
            Err(format!(
                "truncated capture: the record at byte {} is cut off",
                last.start
            )),
            "{name}"
        );
        assert_eq!(out.packets.len(), orig.len() - 1);
        assert_eq!(read_old(cut).end, out.end);
    }
}

#[test]
fn garbage_after_a_valid_file() {
    for name in FILES {
        let bytes = capture(name);
        let orig = records(&bytes);
        for seed in 0..4u64 {
            let mut rng = Rng::new(seed);
            let mut v = bytes.clone();
            let n = 1 + rng.below(5000) as usize;
            v.extend((0..n).map(|_| if seed == 0 { b'x' } else { rng.next() as u8 }));
            let out = read_new(&v);
            let label = format!("{name} + {n} bytes (seed {seed})");
            // Every packet, then the error for the garbage (nothing after it).
            assert_eq!(out.packets.len(), orig.len(), "{label}");
            assert!(out.end.is_err(), "{label}");
        }
    }
}

#[test]
fn garbage_between_two_captures_is_skipped() {
    // A pcap with garbage in the middle: the second half comes back.
    let bytes = capture("vlan-go119.pcap");
    let orig = records(&bytes);
    let mut v = bytes.clone();
    let mut rng = Rng::new(99);
    v.extend((0..10_000).map(|_| rng.next() as u8));
    v.extend(&bytes[24..]);
    let out = read_new(&v);
    assert_eq!(out.end, Ok(()));
    assert_eq!(out.packets.len(), 2 * orig.len());
    assert_eq!((out.resyncs, out.skipped), (1, 10_000));
    assert_eq!(out.damage[0].offset, bytes.len() as u64);
    // pcapng: a second section after garbage.
    let bytes = capture("multi-iface-go127.pcapng");
    let n = read_new(&bytes).packets.len();
    let mut v = bytes.clone();
    v.extend((0..10_001).map(|_| rng.next() as u8));
    v.extend(&bytes);
    let out = read_new(&v);
    assert_eq!(out.end, Ok(()));
    assert_eq!(out.packets.len(), 2 * n);
    assert_eq!((out.resyncs, out.skipped), (1, 10_001));
}

#[test]
fn files_cut_short_end_with_truncated_after_every_whole_record() {
    // As gomodwatch's own test does (2/3 + 7), and at many other places.
    for name in FILES {
        let bytes = capture(name);
        let orig = records(&bytes);
        let mut rng = Rng::new(3);
        let mut cuts = vec![bytes.len() * 2 / 3 + 7];
        cuts.extend((0..15).map(|_| 2000 + rng.below(bytes.len() as u64 - 2000) as usize));
        for cut in cuts {
            let out = read_new(&bytes[..cut]);
            let whole = orig.iter().filter(|r| r.pkt.end <= cut as u64).count();
            let label = format!("{name} cut at {cut}");
            assert_eq!(out.packets.len(), whole, "{label}");
            assert_eq!(out.resyncs, 0, "{label}");
            match orig.iter().find(|r| r.pkt.end > cut as u64) {
                Some(r) if r.start < cut as u64 => assert_eq!(
                    out.end,
                    Err(format!(
                        "truncated capture: the record at byte {} is cut off",
                        r.start
                    )),
                    "{label}"
                ),
                // Cut between records (pcapng: maybe inside a statistics block).
                _ => assert!(
                    out.end.is_ok() || out.end.as_ref().unwrap_err().starts_with("truncated"),
                    "{label}: {:?}",
                    out.end
                ),
            }
            assert_eq!(read_old(&bytes[..cut]).end, out.end, "{label}");
        }
    }
}
