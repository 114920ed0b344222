use super::super::saved::{cache_rel, ModuleCache};
use super::super::tests::{deflated_zip, inflate, noise, send_body};
use super::super::{HashPool, HashResult, Job, PoolLimits};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// A module cache in a temporary directory, opened as the binary opens GOMODCACHE.
#[derive(Debug)]
struct Dir(PathBuf);

impl ModuleCache for Dir {
    fn open(&self, rel: &str) -> Option<Box<dyn Read + Send>> {
        let f = std::fs::File::open(self.0.join(rel)).ok()?;
        Some(Box::new(f))
    }
}

/// An `h1:` no zip here hashes to: one taken from the cache shows where it came from.
const SAVED_H1: &str = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// Saves `zip` (and `SAVED_H1` as its hash) for example.com/m{i}@v1.0.0 as the go command
/// does, and returns the cache.
fn saved(dir: &tempfile::TempDir, saved: &[(usize, &[u8])]) -> Arc<dyn ModuleCache> {
    for (i, zip) in saved {
        let rel = cache_rel(&format!("example.com/m{i}"), "v1.0.0").unwrap();
        let path = dir.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, zip).unwrap();
        std::fs::write(
            dir.path().join(format!("{rel}hash")),
            format!("{SAVED_H1}\n"),
        )
        .unwrap();
    }
    Arc::new(Dir(dir.path().to_path_buf()))
}

/// Each of `wire` as a download of example.com/m{i}@v1.0.0 through a `run` pool with
/// `cache`: the MITM's limits (a small queue in memory, the spill), the workers deferred.
fn run_pool(cache: Arc<dyn ModuleCache>, limits: PoolLimits, wire: &[Vec<u8>]) -> Vec<HashResult> {
    let mut pool = HashPool::with_cache(true, limits, Some(cache));
    for (i, zip) in wire.iter().enumerate() {
        let id = i as u64;
        send_body(&mut pool, id, Some(&format!("example.com/m{i}")), zip);
        assert!(pool.send(Job::End { id, complete: true }));
    }
    let got = pool.finish();
    assert_eq!(got.len(), wire.len());
    got
}

fn zips(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| deflated_zip(&noise(300_000, 0x5151 ^ u64::from(i + 1))))
        .collect()
}

#[test]
fn a_zip_the_go_command_saved_with_the_same_bytes_takes_its_h1_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(4);
    let cache = saved(&dir, &[(0, &wire[0]), (1, &wire[1]), (2, &wire[2])]);
    let got = run_pool(cache, PoolLimits::LEAN, &wire);
    for r in &got[..3] {
        assert_eq!((r.h1.as_deref(), r.from_cache), (Ok(SAVED_H1), true));
    }
    // Not saved (the go command refused it, or another process saved it): hashed here.
    assert_eq!((&got[3].h1, got[3].from_cache), (&inflate(&wire[3]), false));
}

#[test]
fn bytes_that_differ_from_the_saved_zip_anywhere_are_hashed_here() {
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(4);
    let mut changed = wire[0].clone();
    changed[200_000] ^= 1; // past the first chunks: those compared equal are read again
    let longer = [wire[1].as_slice(), b"more"].concat();
    let shorter = wire[2][..wire[2].len() - 10].to_vec();
    let mut first = wire[3].clone();
    first[0] ^= 1;
    let cache = saved(
        &dir,
        &[(0, &changed), (1, &longer), (2, &shorter), (3, &first)],
    );
    for r in run_pool(cache, PoolLimits::LEAN, &wire) {
        let i = r.exchange as usize;
        assert_eq!(r.h1, inflate(&wire[i]), "zip {i}");
        assert!(r.h1.is_ok() && !r.from_cache, "zip {i}");
    }
}

#[test]
fn a_hash_file_that_is_not_an_h1_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(1);
    let cache = saved(&dir, &[(0, &wire[0])]);
    let rel = cache_rel("example.com/m0", "v1.0.0").unwrap();
    std::fs::write(
        dir.path().join(format!("{rel}hash")),
        "h1:not base64 at all",
    )
    .unwrap();
    let got = run_pool(cache, PoolLimits::LEAN, &wire);
    assert_eq!((&got[0].h1, got[0].from_cache), (&inflate(&wire[0]), false));
}

#[test]
fn deferred_workers_start_when_the_decoder_finds_no_room() {
    // No spill and a queue of two chunks: the decoder must wait for the workers, which
    // are waiting for the run's end: they start as soon as a lane is full, and compare
    // what the go command has saved by then.
    let limits = PoolLimits {
        queue: 2,
        spill: 0,
        ..PoolLimits::LEAN
    };
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(6);
    let cache = saved(&dir, &[(1, &wire[1]), (4, &wire[4])]);
    for r in run_pool(cache, limits, &wire) {
        let i = r.exchange as usize;
        if i == 1 || i == 4 {
            assert_eq!(
                (r.h1.as_deref(), r.from_cache),
                (Ok(SAVED_H1), true),
                "zip {i}"
            );
        } else {
            assert_eq!(
                (&r.h1, r.from_cache),
                (&inflate(&wire[i]), false),
                "zip {i}"
            );
        }
    }
}

#[test]
fn cache_paths_are_escaped_and_names_that_could_leave_the_cache_refused() {
    assert_eq!(
        cache_rel("github.com/Azure/go-autorest", "v0.11.29").as_deref(),
        Some("cache/download/github.com/!azure/go-autorest/@v/v0.11.29.zip")
    );
    assert_eq!(
        cache_rel("example.com/m", "v1.0.0-RC1").as_deref(),
        Some("cache/download/example.com/m/@v/v1.0.0-!r!c1.zip")
    );
    for (m, v) in [
        ("example.com/../../etc", "v1.0.0"),
        ("example.com//m", "v1.0.0"),
        ("/etc/m", "v1.0.0"),
        ("example.com/m", "../v1"),
        ("example.com/m", "v1/../../x"),
        ("example.com/m\0", "v1.0.0"),
        ("example.com/m", ""),
        ("example.com\\m", "v1.0.0"),
    ] {
        assert_eq!(cache_rel(m, v), None, "{m:?} {v:?}");
    }
}

#[test]
fn small_zips_saved_by_the_go_command_take_its_h1_too() {
    let dir = tempfile::tempdir().unwrap();
    let wire: Vec<Vec<u8>> = vec![super::super::tests::module_zip(b"small")];
    let cache = saved(&dir, &[(0, &wire[0])]);
    let got = run_pool(cache, PoolLimits::LEAN, &wire);
    assert_eq!(
        (got[0].h1.as_deref(), got[0].from_cache),
        (Ok(SAVED_H1), true)
    );
}

/// A cache whose zip can be opened once only: removed by someone after the comparison began.
#[derive(Debug)]
struct OnceDir(Dir, std::sync::atomic::AtomicUsize);

impl ModuleCache for OnceDir {
    fn open(&self, rel: &str) -> Option<Box<dyn Read + Send>> {
        let zips = &self.1;
        if rel.ends_with(".zip") && zips.fetch_add(1, std::sync::atomic::Ordering::Relaxed) > 0 {
            return None;
        }
        self.0.open(rel)
    }
}

#[test]
fn a_saved_zip_that_cannot_be_read_again_loses_the_hash_and_never_blames_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(1);
    let mut changed = wire[0].clone();
    changed[200_000] ^= 1;
    saved(&dir, &[(0, &changed)]);
    let cache = Arc::new(OnceDir(Dir(dir.path().to_path_buf()), Default::default()));
    let got = run_pool(cache, PoolLimits::LEAN, &wire);
    assert_eq!(got[0].h1, Err(super::HashError::SavedZipUnreadable));
}

/// A pool dropped without being finished (its owner unwinding from a panic, say) while
/// its workers wait for the run's end: they stop waiting, and the drop returns. It once
/// waited for ever, and a panic elsewhere became a hang.
#[test]
fn a_pool_dropped_while_its_workers_wait_for_the_end_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let wire = zips(1);
    let cache = saved(&dir, &[(0, &wire[0])]);
    let (done, dropped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut pool = HashPool::with_cache(true, PoolLimits::LEAN, Some(cache));
        send_body(&mut pool, 0, Some("example.com/m0"), &wire[0]);
        drop(pool);
        let _ = done.send(());
    });
    // Far longer than a drop takes; a hang never ends.
    let waited = dropped.recv_timeout(std::time::Duration::from_secs(60));
    assert!(waited.is_ok(), "the drop of a waiting pool never returned");
}
