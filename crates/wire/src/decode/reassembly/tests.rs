use super::*;

fn budget() -> Budget {
    Budget {
        per_direction: 1 << 20,
        remaining: 1 << 24,
    }
}

/// Feeds segments and returns the delivered stream, with `_` marking each gap byte.
fn run(isn: u32, segs: &[(u32, &[u8])]) -> (Vec<u8>, u32) {
    let mut s = HalfStream::default();
    s.syn(isn.wrapping_sub(1));
    let mut b = budget();
    let mut got = Vec::new();
    let mut sink = |c: Chunk<'_>| match c {
        Chunk::Data(_, d, _) => got.extend_from_slice(d),
        Chunk::Gap(_, n) => got.extend(std::iter::repeat_n(b'_', n as usize)),
        Chunk::Fin(_) => {}
    };
    for (off, data) in segs {
        s.segment(
            Ts(0),
            isn.wrapping_add(*off),
            data,
            0,
            false,
            None,
            &mut b,
            &mut sink,
        );
    }
    s.flush(Ts(0), &mut sink, &mut b);
    assert_eq!(b.remaining, 1 << 24, "budget leaked");
    (got, s.gaps)
}

#[test]
fn in_order_and_reordered() {
    assert_eq!(run(1000, &[(0, b"abc"), (3, b"def")]).0, b"abcdef");
    assert_eq!(run(1000, &[(3, b"def"), (0, b"abc")]).0, b"abcdef");
    assert_eq!(
        run(1000, &[(6, b"g"), (3, b"def"), (0, b"abc")]).0,
        b"abcdefg"
    );
}

#[test]
fn retransmission_and_overlap_keep_first_copy() {
    let (got, gaps) = run(7, &[(0, b"abcd"), (2, b"cdef"), (0, b"abcd"), (6, b"gh")]);
    assert_eq!((got.as_slice(), gaps), (&b"abcdefgh"[..], 0));
    // Held segments overlapping each other: the one that starts first wins (for real
    // retransmissions both copies are the same bytes).
    let (got, _) = run(7, &[(4, b"efgh"), (2, b"cdef"), (0, b"ab")]);
    assert_eq!(got, b"abcdefgh");
}

#[test]
fn sequence_wrap() {
    let isn = u32::MAX - 2;
    assert_eq!(
        run(isn, &[(3, b"def"), (0, b"abc"), (6, b"g")]).0,
        b"abcdefg"
    );
}

#[test]
fn hole_at_end_becomes_gap() {
    let (got, gaps) = run(1, &[(0, b"ab"), (4, b"ef")]);
    assert_eq!((got.as_slice(), gaps), (&b"ab__ef"[..], 1));
}

#[test]
fn snaplen_cut_becomes_gap() {
    let mut s = HalfStream::default();
    s.syn(99);
    let mut b = budget();
    let mut got = Vec::new();
    s.segment(Ts(0), 100, b"abc", 2, false, None, &mut b, &mut |c| {
        got.push(format!("{c:?}"))
    });
    s.segment(Ts(0), 105, b"f", 0, true, None, &mut b, &mut |c| {
        got.push(format!("{c:?}"))
    });
    assert_eq!(
        got,
        [
            "Data(Ts(0), [97, 98, 99], None)",
            "Gap(Ts(0), 2)",
            "Data(Ts(0), [102], None)",
            "Fin(Ts(0))"
        ]
    );
}

#[test]
fn overflow_declares_gap_and_moves_on() {
    let mut s = HalfStream::default();
    s.syn(0);
    let mut b = Budget {
        per_direction: 8,
        remaining: 100,
    };
    let mut got = Vec::new();
    let mut sink = |c: Chunk<'_>| match c {
        Chunk::Data(_, d, _) => got.extend_from_slice(d),
        Chunk::Gap(_, n) => got.extend(std::iter::repeat_n(b'_', n as usize)),
        Chunk::Fin(_) => {}
    };
    s.segment(Ts(0), 1, b"ab", 0, false, None, &mut b, &mut sink);
    s.segment(Ts(0), 5, b"efgh", 0, false, None, &mut b, &mut sink);
    s.segment(Ts(0), 9, b"ijklm", 0, false, None, &mut b, &mut sink);
    assert_eq!(got, b"ab__efghijklm");
    assert_eq!(s.held_bytes(), 0);
}

#[test]
fn mid_stream_join_starts_at_first_segment() {
    let mut s = HalfStream::default();
    let mut b = budget();
    let mut got = Vec::new();
    s.segment(Ts(0), 5000, b"xy", 0, false, None, &mut b, &mut |c| {
        if let Chunk::Data(_, d, _) = c {
            got.extend_from_slice(d)
        }
    });
    assert_eq!(got, b"xy");
}

mod props {
    //! Reassembly against a byte model: a random stream cut into random segments (reordered,
    //! duplicated, overlapping, some cut short by the snap length, some never sent), fed to
    //! a `HalfStream` with random ISNs (sequence numbers wrap), with room to hold everything
    //! or with a budget so small that it keeps overflowing.
    use super::super::*;
    use proptest::prelude::*;

    /// A segment of the model stream: `[start, start + len)`, of which the last `missing`
    /// bytes were on the wire but not captured.
    #[derive(Debug, Clone)]
    struct Seg {
        start: usize,
        len: usize,
        missing: usize,
    }

    fn segs(len: usize) -> impl Strategy<Value = Vec<Seg>> {
        let seg = (0..len, 0..300usize, 0..4usize).prop_map(move |(start, l, cut)| {
            let l = l.min(len - start);
            // A quarter of the segments lose a tail to the snap length.
            let missing = if cut == 0 { l / 3 } else { 0 };
            Seg {
                start,
                len: l,
                missing,
            }
        });
        prop::collection::vec(seg, 0..60)
    }

    /// What came out: a byte, or a placeholder for each byte of a gap.
    fn feed(
        isn: u32,
        data: &[u8],
        segs: &[Seg],
        fin_last: bool,
        budget: &mut Budget,
    ) -> (Vec<Option<u8>>, HalfStream, usize) {
        let start_budget = budget.remaining;
        let mut s = HalfStream::default();
        s.syn(isn.wrapping_sub(1));
        let mut got: Vec<Option<u8>> = Vec::new();
        let mut fins = 0;
        let last = segs
            .iter()
            .filter(|g| g.len > 0)
            .map(|g| g.start + g.len)
            .max()
            .unwrap_or(0);
        for g in segs {
            let captured = &data[g.start..g.start + g.len - g.missing];
            let fin = fin_last && g.start + g.len == last;
            let mut sink = |c: Chunk<'_>| match c {
                Chunk::Data(_, d, _) => got.extend(d.iter().map(|&b| Some(b))),
                Chunk::Gap(_, n) => got.extend(std::iter::repeat_n(None, n as usize)),
                Chunk::Fin(_) => fins += 1,
            };
            s.segment(
                Ts(0),
                isn.wrapping_add(g.start as u32),
                captured,
                g.missing as u32,
                fin,
                None,
                budget,
                &mut sink,
            );
            // The bounds hold after every segment, and the budget only lends.
            assert!(s.held_bytes() <= budget.per_direction, "over its bound");
            assert_eq!(
                budget.remaining + s.held_bytes(),
                start_budget,
                "budget leak"
            );
            if s.held_segments() == 0 {
                assert_eq!(s.held_bytes(), 0);
            }
        }
        s.flush(
            Ts(0),
            &mut |c| match c {
                Chunk::Data(_, d, _) => got.extend(d.iter().map(|&b| Some(b))),
                Chunk::Gap(_, n) => got.extend(std::iter::repeat_n(None, n as usize)),
                Chunk::Fin(_) => fins += 1,
            },
            budget,
        );
        assert_eq!(budget.remaining, start_budget, "budget leaked after flush");
        assert_eq!(s.held_bytes(), 0);
        (got, s, fins)
    }

    fn check(isn: u32, data: &[u8], segs: &[Seg], fin_last: bool, roomy: bool) {
        let mut budget = if roomy {
            Budget {
                per_direction: 1 << 20,
                remaining: 1 << 22,
            }
        } else {
            // Room for about one segment: the stream keeps giving up on holes.
            Budget {
                per_direction: 400 + HELD_OVERHEAD + MAP_OVERHEAD,
                remaining: 2_000,
            }
        };
        let (got, s, fins) = feed(isn, data, segs, fin_last, &mut budget);
        let end = segs
            .iter()
            .filter(|g| g.len > 0)
            .map(|g| g.start + g.len)
            .max()
            .unwrap_or(0);
        // The stream reaches the end of the furthest segment, and no further.
        assert_eq!(got.len(), end);
        assert_eq!(s.bytes, end as u64);
        // Gaps are counted as they are delivered.
        let holes = got.iter().filter(|b| b.is_none()).count() as u64;
        assert_eq!(s.gap_bytes, holes);
        // Which bytes did the capture carry, and which did it know were missing?
        let mut carried = vec![false; end];
        let mut cut = vec![false; end];
        for g in segs.iter().filter(|g| g.len > 0) {
            carried[g.start..g.start + g.len - g.missing].fill(true);
            cut[g.start + g.len - g.missing..g.start + g.len].fill(true);
        }
        for i in 0..end {
            match got[i] {
                // Never a wrong byte, and never a byte that was not captured.
                Some(b) => {
                    assert_eq!(b, data[i], "byte {i}");
                    assert!(carried[i], "byte {i} was never captured");
                }
                // With room, only bytes that never came (or were cut) are gaps.
                None if roomy => assert!(!carried[i] || cut[i], "byte {i} lost with room"),
                None => {}
            }
        }
        // A FIN is reported once, and only after everything before it.
        assert!(fins <= 1);
        if fin_last && end > 0 {
            assert_eq!(fins, 1, "FIN after flush");
            assert!(s.finished());
        }
    }

    fn isn() -> impl Strategy<Value = u32> {
        prop_oneof![any::<u32>(), (u32::MAX - 400..=u32::MAX), Just(0u32)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn delivered_stream_matches_the_model(
            isn in isn(),
            (data, segs) in (1..1500usize).prop_flat_map(|n| {
                (prop::collection::vec(any::<u8>(), n), segs(n))
            }),
            fin_last in any::<bool>(),
            roomy in any::<bool>(),
        ) {
            check(isn, &data, &segs, fin_last, roomy);
        }

        /// Every byte sent exactly once, in a random order: with room, nothing is lost.
        #[test]
        fn any_order_of_a_complete_stream_is_exact(
            isn in isn(),
            cuts in prop::collection::vec(1..200usize, 1..30),
            order in any::<prop::sample::Index>(),
            dups in 0..5usize,
        ) {
            let mut segs = Vec::new();
            let mut at = 0;
            for c in cuts {
                segs.push(Seg { start: at, len: c, missing: 0 });
                at += c;
            }
            let data: Vec<u8> = (0..at).map(|i| (i * 7 + 3) as u8).collect();
            // Rotate and duplicate: a deterministic shuffle driven by `order`.
            let k = order.index(segs.len());
            segs.rotate_left(k);
            for d in 0..dups.min(segs.len()) {
                let again = segs[d].clone();
                segs.push(again);
            }
            let mut budget = Budget { per_direction: 1 << 20, remaining: 1 << 22 };
            let (got, s, _) = feed(isn, &data, &segs, false, &mut budget);
            prop_assert_eq!(got, data.iter().map(|&b| Some(b)).collect::<Vec<_>>());
            prop_assert_eq!(s.gaps, 0);
        }
    }
}
