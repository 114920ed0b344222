//! `run`: the child go command's module cache, opened read-only for the zip hashers (the
//! model's `hashpool/vouch.rs` decides which files and what is trusted of them).

use gomodwatch::gomod::hook::ModuleCache;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// GOMODCACHE as the child's `go env` gave it.
#[derive(Debug)]
pub(crate) struct GoModCache {
    root: PathBuf,
}

/// The module cache of `go env`, if it is an absolute path (the go command refuses a
/// relative GOMODCACHE). It need not exist yet: a fresh cache is made by the child.
pub(crate) fn of_go_env(goenv: &BTreeMap<String, String>) -> Option<Arc<dyn ModuleCache>> {
    let root = PathBuf::from(goenv.get("GOMODCACHE")?);
    root.is_absolute()
        .then(|| Arc::new(GoModCache { root }) as Arc<dyn ModuleCache>)
}

impl ModuleCache for GoModCache {
    fn open(&self, rel: &str) -> Option<Box<dyn Read + Send>> {
        let rel = Path::new(rel);
        // The model checked the names; this makes sure of it where the path is built.
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        let file = open_regular(&self.root.join(rel))?;
        Some(Box::new(file))
    }
}

/// A regular file, the last component not followed if it is a link (the go command writes
/// plain files there).
fn open_regular(path: &Path) -> Option<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW);
    }
    let file = opts.open(path).ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_regular_files_under_the_root() {
        let root = std::env::temp_dir().join(format!("gmw-run-cache-{}", std::process::id()));
        let v = root.join("cache/download/example.com/m/@v");
        std::fs::create_dir_all(&v).unwrap();
        std::fs::write(v.join("v1.0.0.zip"), b"zip bytes").unwrap();
        let env = BTreeMap::from([(
            "GOMODCACHE".to_string(),
            root.to_string_lossy().into_owned(),
        )]);
        let cache = of_go_env(&env).unwrap();
        let mut s = String::new();
        cache
            .open("cache/download/example.com/m/@v/v1.0.0.zip")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "zip bytes");
        assert!(cache.open("cache/download/example.com/m/@v").is_none());
        assert!(cache
            .open("cache/../cache/download/example.com/m/@v/v1.0.0.zip")
            .is_none());
        assert!(cache.open("/etc/passwd").is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(v.join("v1.0.0.zip"), v.join("v1.0.1.zip")).unwrap();
            assert!(cache
                .open("cache/download/example.com/m/@v/v1.0.1.zip")
                .is_none());
        }
        let relative = BTreeMap::from([("GOMODCACHE".to_string(), "mc".to_string())]);
        assert!(of_go_env(&relative).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
