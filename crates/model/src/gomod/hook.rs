//! The decoder's [`ExchangeHook`], Go-module flavoured: each request is classified
//! (which proxy, which module, which artifact), redirects stay attached to the request
//! that caused them, and the bodies the module model needs are kept or hashed.

use super::classify::classify_with;
pub use super::hashpool::ModuleCache;
use super::hashpool::{HashPool, HashResult, PoolLimits};
use super::redirect::Redirects;
use super::sinks::{self, SharedPool};
use gomodwatch_wire::decode::hook::{BodySink, ExchangeHook, Tag};
use gomodwatch_wire::vocab::{Event, Exchange, Kind, ZipHash, H1_FROM_MODULE_CACHE};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// How the Go-module hook is set up for a run.
#[derive(Debug, Clone, Default)]
pub struct GoHookConfig {
    /// Proxy base URLs from the configured GOPROXY, to find where module paths start.
    pub proxy_bases: Vec<String>,
    /// Live capture or MITM: the traffic cannot be read again (see `PoolLimits::for_mode`).
    pub live: bool,
    /// Skip `h1:` hashing of zips (`--no-hash`).
    pub no_hash: bool,
    /// Keep the hashing threads' memory small (MITM mode); see `PoolLimits::LEAN`.
    pub lean: bool,
    /// `run` with a go command: its module cache, to hash zips after it has exited and
    /// take the `h1:` it saved with the same bytes (`hashpool/vouch.rs`).
    pub module_cache: Option<Arc<dyn ModuleCache>>,
}

/// The decoder's hook for Go module traffic: it tags each request (`classify`), follows
/// redirects, keeps the small bodies the model reads, and hashes zips on the hashing
/// threads.
pub struct GoHook {
    proxy_bases: Vec<String>,
    origins: gomodwatch_wire::vocab::url::Origins,
    redirects: Redirects,
    /// `None` with `--no-hash`.
    pool: Option<SharedPool>,
}

impl GoHook {
    /// The hook for a run (starting the hashing threads unless `no_hash`).
    pub fn new(config: GoHookConfig) -> Self {
        GoHook {
            pool: (!config.no_hash).then(|| {
                let (wait, limits) = PoolLimits::for_mode(config.live, config.lean);
                let pool = HashPool::with_cache(wait, limits, config.module_cache);
                Rc::new(RefCell::new(pool))
            }),
            proxy_bases: config.proxy_bases,
            origins: Default::default(),
            redirects: Redirects::default(),
        }
    }
}

impl ExchangeHook for GoHook {
    fn request(&mut self, ex: &Exchange) -> Tag {
        let url = ex.url.as_deref().unwrap_or("");
        match self.redirects.take(url) {
            Some((go, of)) => Tag {
                go,
                redirect_of: Some(of),
            },
            None => Tag {
                go: classify_with(url, &self.proxy_bases, &mut self.origins),
                redirect_of: None,
            },
        }
    }

    fn response(&mut self, ex: &Exchange) -> Option<Box<dyn BodySink>> {
        let status = ex.status?;
        if let (300..=399, Some(loc), Some(url)) = (status, &ex.location, &ex.url) {
            if ex.go.kind != Kind::Other {
                self.redirects.remember(url, loc, &ex.go, ex.id);
            }
        }
        // Only a 200 carries the artifact; an error page is not hashed.
        if status != 200 {
            return None;
        }
        sinks::for_response(&ex.go, ex.id, self.pool.as_ref())
    }

    fn poll(&mut self, finish: bool, out: &mut Vec<Event>) {
        let Some(pool) = &self.pool else { return };
        let results = if finish {
            pool.borrow_mut().finish()
        } else {
            pool.borrow_mut().ready()
        };
        for HashResult {
            exchange,
            h1,
            from_cache,
        } in results
        {
            let (h1, error) = match h1 {
                Ok(h) => (Some(h), None),
                Err(e) => (None, Some(e.to_string())),
            };
            out.push(Event::Hash(ZipHash {
                exchange,
                h1,
                error,
                h1_from: from_cache.then_some(H1_FROM_MODULE_CACHE),
            }));
        }
    }
}
