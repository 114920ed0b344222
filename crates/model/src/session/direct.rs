//! Direct fetches in the module records: the `?go-get=1` discovery and the VCS requests
//! it led to are attempts of the module they served, next to any proxy attempts and
//! checksum lookups for it. The version is learnt from the git traffic itself (an
//! `ls-refs` answer that lists the one tag a `git fetch` asked for, on that git process's
//! connection) or, failing that, stays unknown: the record is then version-less and
//! joins a versioned record of the same module by time (`module_views`), as `@v/list`
//! lookups do. This file keeps what the direct fetches said (`DirectIndex`);
//! `modules.rs` files their attempts and `direct_views.rs` judges them.

use crate::gomod::direct::{self, Discovery, DiscoveryRecord};
use ahash::AHashMap;
use gomodwatch_wire::vocab::{url, Exchange, Kind};
use std::net::SocketAddr;

/// Repositories, discoveries and git connections remembered at most (each a few strings).
const MAX_ENTRIES: usize = 50_000;

/// What the direct fetches said beyond their attempts, by module path.
#[derive(Debug, Default)]
pub(crate) struct DirectIndex {
    /// Module root → what its discovery page named (or that it named nothing usable).
    pub(crate) discoveries: AHashMap<String, DiscoveryRecord>,
    /// Repository URL → the module root whose discovery named it.
    repos: AHashMap<String, String>,
    /// A git process's connection → the version its `ls-refs` answer showed it fetching.
    conn_version: AHashMap<u64, String>,
    /// Proxies that served an artifact in this run (at most 32).
    pub(crate) proxies_serving: Vec<String>,
    /// Code hosts that refused a discovery (GOINSECURE's https try): told in the module's
    /// attempts, not as a missing proxy.
    refused: Vec<SocketAddr>,
}

/// A direct fetch as an attempt: the record it belongs to, the step it was (`go-get`,
/// `ls-refs`, `fetch`...), and the repository or origin it went to.
pub(super) struct DirectFetch {
    pub(crate) module: String,
    pub(crate) version: Option<String>,
    pub(crate) step: &'static str,
    pub(crate) proxy: Option<String>,
}

impl DirectIndex {
    /// The repository a module was fetched from: its discovery's tag.
    pub(crate) fn discovery(&self, module: &str) -> Option<&DiscoveryRecord> {
        self.discoveries.get(module)
    }

    /// A code host's address that refused a direct request.
    pub(crate) fn refused_here(&self, server: &SocketAddr) -> bool {
        self.refused.contains(server)
    }

    /// Learns what a `?go-get=1` discovery or a VCS request says (the repository a module
    /// comes from, the version a git process fetches), and which record it is an attempt
    /// of; `None` when it is neither.
    pub(super) fn learn(&mut self, ex: &Exchange) -> Option<DirectFetch> {
        let body = ex.body.text.as_deref();
        let url = ex.url.as_deref().unwrap_or("");
        let origin = url::split(url).map(|p| p.origin.to_string());
        let (module, version, step, proxy) = if ex.go.kind == Kind::GoGet {
            let path = ex.go.module.clone()?;
            let d = match (ex.status, body) {
                (Some(200), Some(html)) => direct::discovery(html, &path),
                _ => Discovery::None,
            };
            let (root, found, mismatch) = match d {
                Discovery::Found(t) => (t.root.clone(), Some(t), None),
                Discovery::Mismatch(t) => (path.clone(), None, Some(t)),
                Discovery::None => (path.clone(), None, None),
            };
            if self.bounded() {
                if let Some(t) = &found {
                    self.repos.insert(t.repo.clone(), root.clone());
                }
                // A 404 for a shorter candidate root does not overwrite what a 200 said.
                let keep = self
                    .discoveries
                    .get(&root)
                    .is_some_and(|d| d.found.is_some() && found.is_none());
                if !keep {
                    self.discoveries.insert(
                        root.clone(),
                        DiscoveryRecord {
                            url: url.to_string(),
                            status: ex.status,
                            found,
                            mismatch,
                        },
                    );
                }
            }
            (root, None, "go-get", origin)
        } else {
            let req = direct::vcs_request(url, body)?;
            let module = self
                .repos
                .get(&req.repo)
                .cloned()
                .unwrap_or_else(|| direct::module_of_repo(&req.repo));
            if req.step == "ls-refs" {
                // `git fetch … refs/tags/vX:refs/tags/vX` asks ls-refs for that one tag
                // (`ref-prefix`), so its answer lists it alone; `git ls-remote` lists all.
                let tags = body.map(direct::listed_tags).unwrap_or_default();
                let refs = body.map(direct::listed_refs).unwrap_or(0);
                if let ([tag], true) = (&tags[..], refs <= 2) {
                    if self.bounded() {
                        self.conn_version.insert(ex.connection, tag.clone());
                    }
                }
            }
            let version = self.conn_version.get(&ex.connection).cloned();
            (module, version, req.step, Some(req.repo))
        };
        Some(DirectFetch {
            module,
            version,
            step,
            proxy,
        })
    }

    /// A code host that refused a direct request (a few are remembered).
    pub(super) fn note_refused(&mut self, server: SocketAddr) {
        if self.refused.len() < 64 && !self.refused.contains(&server) {
            self.refused.push(server);
        }
    }

    /// A proxy answered 200 for an artifact: remembered (a few) so that a module no
    /// proxy was asked for can be told apart from a run that used no proxy.
    pub(super) fn note_serving_proxy(&mut self, proxy: Option<&str>) {
        let list = &mut self.proxies_serving;
        if let Some(p) = proxy {
            if list.len() < 32 && !list.iter().any(|x| x == p) {
                list.push(p.to_string());
            }
        }
    }

    fn bounded(&self) -> bool {
        self.discoveries.len() < MAX_ENTRIES
            && self.repos.len() < MAX_ENTRIES
            && self.conn_version.len() < MAX_ENTRIES
    }
}
