use super::*;

/// A module zip of example.com/m@v1.0.0 with go.mod and one stored file, `body`.
pub(super) fn module_zip(body: &[u8]) -> Vec<u8> {
    zip_of(body, false)
}

/// The same with every entry deflated (as the go command writes them).
pub(super) fn deflated_zip(body: &[u8]) -> Vec<u8> {
    zip_of(body, true)
}

fn zip_of(body: &[u8], deflate: bool) -> Vec<u8> {
    use std::io::Write as _;
    let files: [(&str, &[u8]); 2] = [
        ("example.com/m@v1.0.0/go.mod", b"module example.com/m\n"),
        ("example.com/m@v1.0.0/data.bin", body),
    ];
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let stored = if deflate {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(data).unwrap();
            z.finish().unwrap()
        } else {
            data.to_vec()
        };
        let offset = out.len() as u32;
        // Version, flags, method, time and date, crc, sizes, name length.
        let method = if deflate { 8 } else { 0 };
        let mut fields = [20u16, 0, method, 0, 0].map(u16::to_le_bytes).concat();
        fields.extend(crc.sum().to_le_bytes());
        fields.extend(
            [stored.len() as u32, data.len() as u32]
                .map(u32::to_le_bytes)
                .concat(),
        );
        fields.extend((name.len() as u16).to_le_bytes());
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&fields);
        out.extend([0, 0]); // no extra field
        out.extend(name.as_bytes());
        out.extend(&stored);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        central.extend(&fields);
        central.extend([0; 12]); // extra, comment, disk, attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let at = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 2, 0, 2, 0]);
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend([0, 0]);
    out
}

/// `n` bytes deflate cannot shrink (xorshift64 from `x`, which must not be 0).
pub(super) fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The `h1:` of a whole zip.
pub(super) fn inflate(zip: &[u8]) -> Result<String, HashError> {
    let mut z = ZipHasher::new();
    z.update(zip);
    z.finish()
}

/// Hands over the start and every chunk of download `id` (of `module`@v1.0.0).
pub(super) fn send_body(pool: &mut HashPool, id: u64, module: Option<&str>, zip: &[u8]) {
    let module = module.map(str::to_string);
    let version = module.as_ref().map(|_| "v1.0.0".to_string());
    assert!(pool.send(Job::Start {
        id,
        module,
        version
    }));
    for chunk in zip.chunks(CHUNK) {
        let bytes = chunk.to_vec();
        assert!(pool.send(Job::Data { id, bytes }));
    }
}

/// Hashes each zip as one download of example.com/m@v1.0.0, one after the other on
/// one worker, through a pool that may keep 64 KiB.
fn hash_in_turn(check_raw_past_budget: bool, zips: &[&[u8]]) -> Vec<Result<String, HashError>> {
    let limits = PoolLimits {
        queue: 1024,
        speculation: 64 << 10,
        background: false,
        spill: 0,
        check_raw_past_budget,
    };
    let mut pool = HashPool::with_limits(true, limits);
    for (i, zip) in zips.iter().enumerate() {
        let id = 2 * i as u64; // even ids: all on one worker, in order
        send_body(&mut pool, id, Some("example.com/m"), zip);
        assert!(pool.send(Job::End { id, complete: true }));
    }
    pool.finish().into_iter().map(|r| r.h1).collect()
}

#[test]
fn a_big_zip_seen_before_is_checked_against_its_raw_hash_and_a_changed_one_is_said() {
    let (zip, changed) = (module_zip(&[7; 300_000]), module_zip(&[8; 300_000]));
    let h1 = inflate(&zip).expect("a valid module zip");
    assert!(h1.starts_with("h1:"));
    let got = hash_in_turn(true, &[&zip, &zip, &changed, &zip]);
    assert_eq!(got[..2], [Ok(h1.clone()), Ok(h1.clone())]);
    let why = got[2]
        .as_ref()
        .expect_err("its bytes were not kept")
        .to_string();
    assert!(why.contains("differ from an earlier download"), "{why}");
    assert_eq!(got[3], Ok(h1));
}

#[test]
fn without_the_raw_check_a_big_zip_seen_before_is_inflated_again() {
    let (zip, changed) = (module_zip(&[7; 300_000]), module_zip(&[8; 300_000]));
    let (h1, h1_changed) = (inflate(&zip).unwrap(), inflate(&changed).unwrap());
    assert_ne!(h1, h1_changed);
    let got = hash_in_turn(false, &[&zip, &zip, &changed]);
    assert_eq!(got, [Ok(h1.clone()), Ok(h1), Ok(h1_changed)]);
}

#[test]
fn what_is_queued_for_a_hash_given_up_is_skipped() {
    let zip = module_zip(&[7; 300_000]);
    let mut pool = HashPool::with_limits(false, PoolLimits::LEAN);
    let shared = pool.shared.clone();
    // The worker waits at the first download's start while the test holds the state.
    let held = shared.lock();
    for id in [0, 2] {
        send_body(&mut pool, id, None, &zip);
    }
    pool.give_up(0);
    drop(held);
    for id in [0, 2] {
        assert!(pool.send(Job::End { id, complete: true }));
    }
    let got: Vec<_> = pool.finish().into_iter().map(|r| r.h1).collect();
    let not_seen = Err(HashError::Incomplete);
    assert_eq!(got, [not_seen, inflate(&zip)]);
    assert!(shared.given_up().is_empty(), "forgotten at its end");
}

#[test]
fn an_end_whose_start_was_lost_is_a_hash_given_up_not_a_silence() {
    let mut pool = HashPool::with_limits(false, PoolLimits::LEAN);
    // The start never reached the worker (its queue was full when it was sent).
    assert!(pool.send(Job::End {
        id: 7,
        complete: true
    }));
    let results = pool.finish();
    assert_eq!(
        results,
        vec![HashResult {
            exchange: 7,
            h1: Err(HashError::FellBehind),
            from_cache: false,
        }]
    );
}

#[test]
fn a_hasher_reused_across_zips_gives_each_its_own_hash() {
    let zips = [
        deflated_zip(&[7; 300_000]),
        b"PK\x03\x04 not a zip".to_vec(),
        module_zip(b"small"),
        deflated_zip(b"another body, deflated"),
    ];
    let mut z = ZipHasher::new();
    // A download cut short leaves nothing behind either.
    z.update(&zips[0][..1000]);
    z.reset();
    for zip in &zips {
        for piece in zip.chunks(4093) {
            z.update(piece);
        }
        assert_eq!(z.finish_and_reset(), inflate(zip));
    }
    assert!(inflate(&zips[0]).is_ok() && inflate(&zips[3]).is_ok());
    assert!(inflate(&zips[1]).is_err());
}

#[test]
fn downloads_that_find_the_worker_behind_are_given_up_and_said_none_dropped() {
    // Bytes deflate cannot shrink, so the zip is several chunks long.
    let zip = deflated_zip(&noise(300_000, 0x2545_f491_4f6c_dd1d));
    let h1 = inflate(&zip);
    assert!(zip.len() > 3 * CHUNK, "several chunks: {}", zip.len());
    // No spill file: past its queue in memory a worker is behind.
    let limits = PoolLimits {
        spill: 0,
        ..PoolLimits::LEAN
    };
    let mut pool = HashPool::with_limits(false, limits);
    let shared = pool.shared.clone();
    // The worker waits at the first download's start while the test holds the state:
    // its queue (16 chunks) fills up.
    let held = shared.lock();
    let mut refused = 0;
    for id in (0..12).map(|i| 2 * i) {
        // As the zip sink does: a refused job ends the download's hand-over, and its End
        // says whether every chunk got through.
        let mut lost = !pool.send(Job::Start {
            id,
            module: None,
            version: None,
        });
        for chunk in zip.chunks(CHUNK) {
            if lost
                || !pool.send(Job::Data {
                    id,
                    bytes: chunk.to_vec(),
                })
            {
                lost = true;
                break;
            }
        }
        refused += usize::from(lost);
        pool.send(Job::End {
            id,
            complete: !lost,
        });
    }
    drop(held);
    let results = pool.finish();
    assert_eq!(results.len(), 12, "every download has its hash event");
    let hashed = results.iter().filter(|r| r.h1 == h1).count();
    let given_up = results
        .iter()
        // Said as the workers falling behind, never as bytes missing from the body.
        .filter(|r| r.h1 == Err(HashError::FellBehind))
        .count();
    assert!(
        hashed > 0 && refused > 0,
        "{hashed} hashed, {refused} refused"
    );
    assert_eq!((hashed, given_up), (12 - refused, refused));
}

/// The MITM's hand-off (issue 26): a zip far larger than the lean queue, handed over while
/// the worker is held up (a slow hasher), is not given up: the decoder waits for room (and
/// the tap in front of it makes the relay wait), and the zip gets its `h1:`.
#[test]
fn the_mitm_waits_for_a_slow_hasher_and_every_zip_gets_its_h1() {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let zip = deflated_zip(&noise);
    let (wait, limits) = PoolLimits::for_mode(true, true);
    assert!(wait, "the MITM waits");
    assert!(zip.len() > limits.queue * CHUNK, "{} bytes", zip.len());
    let mut pool = HashPool::with_limits(wait, limits);
    // The worker stops at the first download's start while another thread holds the
    // state for 300 ms.
    let shared = pool.shared.clone();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let release = std::thread::spawn(move || {
        let _held = shared.lock();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    });
    is_locked.recv().unwrap();
    for id in [0, 2] {
        send_body(&mut pool, id, None, &zip);
        assert!(pool.send(Job::End { id, complete: true }));
    }
    release.join().unwrap();
    let got: Vec<_> = pool.finish().into_iter().map(|r| r.h1).collect();
    assert_eq!(got, [inflate(&zip), inflate(&zip)]);
}

#[test]
fn zips_spilled_past_the_queue_in_memory_hash_the_same() {
    // The MITM's limits with the smallest queue in memory: the decoder (this thread) runs
    // far ahead of the workers (at the lowest priority), so most bytes go through the spill file.
    let limits = PoolLimits {
        queue: 2,
        ..PoolLimits::LEAN
    };
    let mut pool = HashPool::with_limits(true, limits);
    let zips: Vec<Vec<u8>> = (0..24u32)
        .map(|i| {
            // Incompressible: each zip is several chunks, as real zips are.
            deflated_zip(&noise(400_000, 0x9E37_79B9 ^ u64::from(i + 1)))
        })
        .collect();
    for (i, zip) in zips.iter().enumerate() {
        // Distinct module paths: every zip is inflated, none only compared raw.
        let module = format!("example.com/m{i}");
        send_body(&mut pool, i as u64, Some(&module), zip);
        assert!(pool.send(Job::End {
            id: i as u64,
            complete: true
        }));
    }
    let got = pool.finish();
    assert!(pool.spill_figures().0 > 0, "nothing was spilled");
    assert_eq!(got.len(), zips.len());
    for r in got {
        assert_eq!(
            r.h1,
            inflate(&zips[r.exchange as usize]),
            "zip {}",
            r.exchange
        );
    }
}

/// The MITM's hashers yield to the go command: nice +19, which needs no privilege.
#[cfg(target_os = "linux")]
#[test]
fn lowered_workers_run_at_nice_19() {
    let nice = std::thread::spawn(|| {
        assert!(super::priority::lower());
        // SAFETY: reads the calling thread's own nice value.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        }
    })
    .join()
    .unwrap();
    assert_eq!(nice, 19);
}

/// A live capture's workers far behind (held up here) give nothing up while their spill
/// file has room: every zip is hashed, the bytes past 1 MiB a worker having waited in the file.
#[test]
fn a_live_capture_spills_to_a_file_instead_of_giving_hashes_up() {
    let zip = deflated_zip(&noise(300_000, 0x2545_f491_4f6c_dd1d));
    let h1 = inflate(&zip);
    let mut pool = HashPool::with_limits(false, PoolLimits::LIVE);
    let shared = pool.shared.clone();
    let held = shared.lock();
    for id in (0..24).map(|i| 2 * i) {
        assert!(pool.send(Job::Start {
            id,
            module: None,
            version: None,
        }));
        for chunk in zip.chunks(CHUNK) {
            let bytes = chunk.to_vec();
            assert!(pool.send(Job::Data { id, bytes }), "download {id} refused");
        }
        assert!(pool.send(Job::End { id, complete: true }));
    }
    drop(held);
    let results = pool.finish();
    assert_eq!(results.len(), 24);
    assert!(results.iter().all(|r| r.h1 == h1), "{results:?}");
    assert!(pool.spill_figures().0 > 0, "nothing was spilled");
}
