use super::*;

fn data(id: u64, fill: u8, len: usize) -> Job {
    Job::Data {
        id,
        bytes: vec![fill; len],
    }
}

/// (id, first byte, length) of each data job, and the ids of the others, in order.
fn shape(jobs: &[Job]) -> Vec<(u64, u8, usize)> {
    jobs.iter()
        .map(|j| match j {
            Job::Data { id, bytes } => (*id, bytes[0], bytes.len()),
            Job::Start { id, .. } => (*id, b'S', 0),
            Job::End { id, .. } => (*id, b'E', 0),
        })
        .collect()
}

#[test]
fn spilled_batches_come_back_in_order_with_their_bytes_and_the_file_is_emptied() {
    let (lane, spare, full) = (
        Lane::new(1, 1 << 20),
        Spare::default(),
        AtomicBool::new(false),
    );
    let start = Job::Start {
        id: 7,
        module: None,
        version: None,
    };
    let batches = vec![
        vec![start, data(7, 1, 1000)],
        vec![data(7, 2, 65536), data(7, 3, 10)],
        vec![data(7, 4, 5)],
        vec![Job::End {
            id: 7,
            complete: true,
        }],
    ];
    let want: Vec<_> = batches.iter().map(|b| shape(b)).collect();
    for b in batches {
        assert!(lane.push(b, false, &spare, &full).is_ok());
    }
    // One batch in memory, the other three in the file.
    assert_eq!(lane.figures().0, 65536 + 10 + 5);
    assert!(
        !full.load(Ordering::Relaxed),
        "the spill had room: no hurry"
    );
    let mut got = Vec::new();
    for _ in 0..4 {
        let (jobs, unreadable) = lane.pop(&spare).expect("a batch");
        assert!(unreadable.is_empty());
        got.push(shape(&jobs));
    }
    assert_eq!(got, want);
    assert_eq!(lane.in_file(), 0, "read in full: the file starts again");
    // After the spill drained, memory is used again, and the spill again after it.
    assert!(lane.push(vec![data(8, 5, 3)], false, &spare, &full).is_ok());
    assert!(lane.push(vec![data(8, 6, 4)], false, &spare, &full).is_ok());
    assert_eq!(lane.in_file(), 4);
    assert_eq!(shape(&lane.pop(&spare).unwrap().0), vec![(8, 5, 3)]);
    assert_eq!(shape(&lane.pop(&spare).unwrap().0), vec![(8, 6, 4)]);
    lane.close();
    assert!(lane.pop(&spare).is_none());
}

#[test]
fn past_the_spill_a_batch_that_may_not_wait_is_given_back_whole() {
    let (lane, spare, full) = (Lane::new(1, 100), Spare::default(), AtomicBool::new(false));
    assert!(lane
        .push(vec![data(1, 1, 80)], false, &spare, &full)
        .is_ok()); // memory
    assert!(lane
        .push(vec![data(1, 2, 80)], false, &spare, &full)
        .is_ok()); // file
    let back = lane
        .push(vec![data(1, 3, 80)], false, &spare, &full)
        .expect_err("no room left");
    assert_eq!(shape(&back), vec![(1, 3, 80)]);
    assert_eq!(lane.figures(), (80, 1));
    assert!(
        full.load(Ordering::Relaxed),
        "the workers are asked to hurry"
    );
}

#[test]
fn without_a_spill_a_push_that_may_wait_goes_on_once_a_batch_is_taken() {
    let lane = Arc::new(Lane::new(1, 0));
    let spare = Arc::new(Spare::default());
    let full = Arc::new(AtomicBool::new(false));
    lane.push(vec![data(1, 1, 10)], true, &spare, &full)
        .unwrap();
    let (l, s, f) = (lane.clone(), spare.clone(), full.clone());
    let pusher = std::thread::spawn(move || l.push(vec![data(1, 2, 10)], true, &s, &f).is_ok());
    // The pusher waits (memory full, no spill) until this pop makes room.
    assert_eq!(shape(&lane.pop(&spare).unwrap().0), vec![(1, 1, 10)]);
    assert!(pusher.join().unwrap());
    assert_eq!(shape(&lane.pop(&spare).unwrap().0), vec![(1, 2, 10)]);
    assert_eq!(lane.in_file(), 0);
}
