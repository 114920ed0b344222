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

/// The tap's hand-over once the relay has stopped waiting (a stuck decoder): a full
/// queue drops, and the decoder is told the gap before the next chunk.
#[test]
fn a_full_queue_drops_and_reports_a_gap_before_the_next_chunk() {
    let (tx, mut rx) = mpsc::channel(capacity(1));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let (_, mut down, _) = tap.open(1, open(1), false);
    assert_eq!(kinds(&mut rx), ["open"]);
    let big = vec![0u8; BUDGET - 10];
    down.hand_over(Ts(1), &big);
    down.hand_over(Ts(2), &[1u8; 100]); // no room: dropped
    assert_eq!(stats.dropped_bytes.load(Ordering::Relaxed), 100);
    // The decoder catches up.
    let first = rx.try_recv().unwrap();
    taken(&stats, &first);
    down.hand_over(Ts(3), b"next");
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
        down.hand_over(Ts(1), c);
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
        up.hand_over(Ts(1), b"x");
    }
    assert!(stats.dropped_chunks.load(Ordering::Relaxed) > 0);
    // No room to keep for another connection: relayed untapped, counted.
    let (mut up2, down2, end2) = tap.open(2, open(2), false);
    assert_eq!(stats.untapped.load(Ordering::Relaxed), 1);
    up2.hand_over(Ts(2), b"lost");
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Backpressure: a decoder slower than the relay (here it takes a chunk every
/// millisecond) slows the relay down instead of losing bytes: 16 MiB, eight times the
/// queue's budget, all arrive, none dropped, and the relay did wait.
#[test]
fn a_slow_decoder_slows_the_relay_and_loses_nothing() {
    let (tx, mut rx) = mpsc::channel(capacity(1));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let decoder = {
        let stats = stats.clone();
        std::thread::spawn(move || {
            let mut bytes = 0;
            while let Some(ev) = rx.blocking_recv() {
                taken(&stats, &ev);
                if let StreamEvent::Data { bytes: b, .. } = &ev {
                    bytes += b.len();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                if matches!(ev, StreamEvent::End { .. }) {
                    break;
                }
            }
            bytes
        })
    };
    let total = 16 << 20;
    runtime().block_on(async {
        let (up, mut down, end) = tap.open(1, open(1), false);
        for _ in 0..total / (64 << 10) {
            down.data(Ts(1), &[7u8; 64 << 10]).await;
        }
        up.fin(Ts(2));
        down.fin(Ts(2));
        end.end(Ts(2), None);
    });
    assert_eq!(decoder.join().unwrap(), total);
    assert_eq!(stats.dropped_bytes.load(Ordering::Relaxed), 0);
    assert!(stats.waits.load(Ordering::Relaxed) > 0);
}

/// A decoder that takes nothing (its output not read) holds the relay up once, for
/// `WAIT_MAX`; after that chunks are dropped at once until it has emptied the queue,
/// and then the relay waits for it again.
#[test]
fn a_stuck_decoder_holds_the_relay_up_once_then_loses_chunks_until_it_catches_up() {
    let (tx, mut rx) = mpsc::channel(capacity(1));
    let stats = Arc::new(TapStats::default());
    let tap = Tap::new(tx, stats.clone());
    let (_, mut down, _) = tap.open(1, open(1), false);
    let rt = runtime();
    let chunk = vec![1u8; 64 << 10];
    let started = std::time::Instant::now();
    rt.block_on(async {
        for _ in 0..BUDGET / chunk.len() + 10 {
            down.data(Ts(1), &chunk).await;
        }
    });
    let took = started.elapsed();
    assert!(
        took >= WAIT_MAX && took < WAIT_MAX * 3,
        "one wait of WAIT_MAX: {took:?}"
    );
    assert_eq!(stats.dropped_chunks.load(Ordering::Relaxed), 10);
    // The decoder comes back and takes everything: the relay waits for it again.
    while let Ok(ev) = rx.try_recv() {
        taken(&stats, &ev);
    }
    assert!(!stats.stalled.load(Ordering::Relaxed));
    rt.block_on(down.data(Ts(2), &chunk));
    assert!(matches!(rx.try_recv(), Ok(StreamEvent::Gap { .. })));
}
