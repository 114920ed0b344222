use super::*;
use crate::source::live::PacketMeta;
use crate::vocab::LinkType;
use std::sync::mpsc::sync_channel;

fn batch(iface: u32, stamps: &[i64]) -> Message {
    Message::Batch(Arc::new(Batch {
        iface,
        link: LinkType::Ethernet,
        data: vec![0; stamps.len()],
        packets: stamps
            .iter()
            .enumerate()
            .map(|(i, &ts)| PacketMeta {
                ts: Ts(ts),
                offset: i as u32,
                caplen: 1,
                wire_len: 1,
            })
            .collect(),
    }))
}

/// Takes every packet released now; their stamps.
fn drain(m: &mut Merger) -> Vec<i64> {
    let mut out = Vec::new();
    while matches!(m.next(Duration::ZERO), Next::Packet) {
        out.push(m.current.as_ref().map(|(b, i)| b.packets[*i].ts.0).unwrap());
    }
    out
}

#[test]
fn caught_up_only_once_the_capture_said_it_has_everything_up_to_then() {
    let (tx, rx) = sync_channel(16);
    let mut m = Merger::new(rx, 1);
    // Nothing heard yet: a starved capture thread is not taken for a quiet one.
    assert!(!m.caught_up(Ts(100)));
    tx.send(batch(0, &[10, 20])).unwrap();
    // Queued but not yet released: not caught up even with stamps past the mark.
    assert!(!m.caught_up(Ts(15)));
    assert_eq!(drain(&mut m), [10, 20]);
    assert!(m.caught_up(Ts(20)));
    assert!(!m.caught_up(Ts(100)));
    // The ring was found empty with nothing stamped before 150 left.
    tx.send(Message::Watermark {
        iface: 0,
        upto: Ts(150),
    })
    .unwrap();
    assert!(drain(&mut m).is_empty());
    assert!(m.caught_up(Ts(100)));
    assert!(!m.caught_up(Ts(151)));
    // A packet stamped later says as much, once it has been released.
    tx.send(batch(0, &[300])).unwrap();
    assert_eq!(drain(&mut m), [300]);
    assert!(m.caught_up(Ts(299)));
}

#[test]
fn every_interface_must_be_caught_up_or_ended() {
    let (tx, rx) = sync_channel(16);
    let mut m = Merger::new(rx, 2);
    tx.send(Message::Watermark {
        iface: 0,
        upto: Ts(500),
    })
    .unwrap();
    assert!(drain(&mut m).is_empty());
    assert!(!m.caught_up(Ts(100)), "the second interface said nothing");
    tx.send(Message::Ended {
        iface: 1,
        error: None,
    })
    .unwrap();
    assert!(drain(&mut m).is_empty());
    assert!(m.caught_up(Ts(100)));
}
