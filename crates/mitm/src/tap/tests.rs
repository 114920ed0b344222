use super::*;

fn open(id: u64) -> StreamEvent {
    let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
    StreamEvent::Open {
        id,
        ts: Ts(0),
        client: addr,
        server: addr,
        host: "h".into(),
        scheme: "https",
        tls: None,
        setup: Default::default(),
        upstream: None,
    }
}

fn kinds(rx: &mut mpsc::Receiver<StreamEvent>) -> Vec<&'static str> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|e| match e {
            StreamEvent::Open { .. } => "open",
            StreamEvent::Data { .. } => "data",
            StreamEvent::Gap { .. } => "gap",
            StreamEvent::Fin { .. } => "fin",
            StreamEvent::End { .. } => "end",
            _ => "other",
        })
        .collect()
}

#[test]
fn a_full_queue_drops_and_reports_a_gap_before_the_next_chunk() {
    let (tx, mut rx) = mpsc::channel(capacity(1));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let (_, mut down, _) = tap.open(1, open(1), false);
    assert_eq!(kinds(&mut rx), ["open"]);
    let big = vec![0u8; BUDGET - 10];
    down.data(Ts(1), &big);
    down.data(Ts(2), &[1u8; 100]); // no room: dropped
    assert_eq!(stats.dropped_bytes.load(Ordering::Relaxed), 100);
    // The decoder catches up.
    let first = rx.try_recv().unwrap();
    taken(&stats, &first);
    down.data(Ts(3), b"next");
    match rx.try_recv().unwrap() {
        StreamEvent::Gap { len, .. } => assert_eq!(len, 100),
        e => panic!("{e:?}"),
    }
    match rx.try_recv().unwrap() {
        StreamEvent::Data { bytes, .. } => assert_eq!(bytes, b"next"),
        e => panic!("{e:?}"),
    }
    assert_eq!(stats.queued.load(Ordering::Relaxed), 4);
}

/// An HTTP/2 server stream with no room in the queue: the frames reach the decoder,
/// only DATA payload goes missing, and every gap lies inside one DATA payload (which
/// the decoder can pass over without losing frame sync or HPACK state).
#[test]
fn http2_without_room_loses_data_payload_only() {
    use super::super::h2frames::{frame, DATA, END_HEADERS, END_STREAM, HEADERS};
    let (tx, mut rx) = mpsc::channel(capacity(1));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let (_, mut down, _) = tap.open(1, open(1), true);
    let mut wire = Vec::new();
    let mut payloads = Vec::new();
    frame(&mut wire, 4, 0, 0, &[]);
    frame(&mut wire, HEADERS, END_HEADERS, 1, b"hpack");
    for (i, n) in [16 << 10, 3 << 20, 5000, 1 << 20].into_iter().enumerate() {
        let start = wire.len() + 9;
        frame(&mut wire, DATA, 0, 1, &vec![i as u8 + 1; n]);
        payloads.push(start..start + n);
    }
    frame(&mut wire, HEADERS, END_HEADERS | END_STREAM, 3, b"next");
    for c in wire.chunks(64 << 10) {
        down.data(Ts(1), c);
    }
    assert!(stats.queued.load(Ordering::Relaxed) <= BUDGET + FRAMING_RESERVE);
    assert!(stats.dropped_bytes.load(Ordering::Relaxed) > 0);
    // Rebuild the stream from the events: what arrived must be the wire's own bytes,
    // at their places; what is missing must lie within one payload.
    assert_eq!(replay_over(&mut rx, &wire, &payloads), wire.len());
}

/// Walks the queued events over `wire`; returns the bytes accounted for.
fn replay_over(
    rx: &mut mpsc::Receiver<StreamEvent>,
    wire: &[u8],
    payloads: &[std::ops::Range<usize>],
) -> usize {
    let mut at = 0;
    while let Ok(ev) = rx.try_recv() {
        match ev {
            StreamEvent::Data { bytes, .. } => {
                assert_eq!(&wire[at..at + bytes.len()], &bytes[..], "at {at}");
                at += bytes.len();
            }
            StreamEvent::Gap { len, .. } => {
                let gap = at..at + len as usize;
                assert!(
                    payloads
                        .iter()
                        .any(|p| p.start <= gap.start && gap.end <= p.end),
                    "gap {gap:?} crosses framing"
                );
                at = gap.end;
            }
            _ => {}
        }
    }
    at
}

#[test]
fn a_queue_full_of_events_never_stops_an_end_and_a_new_connection_goes_untapped() {
    let (tx, mut rx) = mpsc::channel(capacity(2));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let (mut up, down, end) = tap.open(1, open(1), false);
    // Small chunks fill every free slot; the decoder takes none of them.
    for _ in 0..capacity(2) {
        up.data(Ts(1), b"x");
    }
    assert!(stats.dropped_chunks.load(Ordering::Relaxed) > 0);
    // No room to keep for another connection: relayed untapped, counted.
    let (mut up2, down2, end2) = tap.open(2, open(2), false);
    assert_eq!(stats.untapped.load(Ordering::Relaxed), 1);
    up2.data(Ts(2), b"lost");
    up2.fin(Ts(3));
    down2.fin(Ts(3));
    end2.end(Ts(3), None);
    // The first connection's gap, fins and end still get through, in order.
    up.fin(Ts(4));
    down.fin(Ts(4));
    end.end(Ts(4), None);
    let got = kinds(&mut rx);
    assert_eq!(got.first(), Some(&"open"));
    assert!(
        got[1..got.len() - 4].iter().all(|k| *k == "data"),
        "{got:?}"
    );
    assert_eq!(got[got.len() - 4..], ["gap", "fin", "fin", "end"]);
    assert!(stats.dropped_bytes.load(Ordering::Relaxed) >= 4);
}
