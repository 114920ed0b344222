//! Direct fetches in the module records: the `?go-get=1` discovery and the VCS requests
//! it led to are attempts of the module they served, next to any proxy attempts and
//! checksum lookups for it. The version is learnt from the git traffic itself (an
//! `ls-refs` answer that lists the one tag a `git fetch` asked for, on that git process's
//! connection) or, failing that, stays unknown: the record is then version-less and
//! joins a versioned record of the same module by time (`module_views`), as `@v/list`
//! lookups do.

use super::connections::Connections;
use super::module_views::Judging;
use super::modules::Modules;
use crate::gomod::direct::{self, Discovery, DiscoveryRecord};
use crate::gomod::direct_verdict::{judge_direct, DirectCtx, DirectJudgement};
use crate::gomod::module::Attempt;
use crate::gomod::module::ModuleRecord;
use crate::gomod::verdict::Problem;
use crate::present::ModuleView;
use ahash::AHashMap;
use gomodwatch_wire::vocab::{url, Exchange, Kind, Ts};
use std::net::SocketAddr;
use std::sync::Arc;

/// Repositories, discoveries and git connections remembered at most (each a few strings).
const MAX_ENTRIES: usize = 50_000;

/// What the direct fetches said beyond their attempts, by module path.
#[derive(Debug, Default)]
pub struct DirectIndex {
    /// Module root → what its discovery page named (or that it named nothing usable).
    pub discoveries: AHashMap<String, DiscoveryRecord>,
    /// Repository URL → the module root whose discovery named it.
    repos: AHashMap<String, String>,
    /// A git process's connection → the version its `ls-refs` answer showed it fetching.
    conn_version: AHashMap<u64, String>,
    /// Proxies that served an artifact in this run (at most 32).
    pub proxies_serving: Vec<String>,
    /// Code hosts that refused a discovery (GOINSECURE's https try): told in the module's
    /// attempts, not as a missing proxy.
    refused: Vec<SocketAddr>,
}

impl DirectIndex {
    /// The repository a module was fetched from: its discovery's tag.
    pub fn discovery(&self, module: &str) -> Option<&DiscoveryRecord> {
        self.discoveries.get(module)
    }

    /// A code host's address that refused a direct request.
    pub fn refused_here(&self, server: &SocketAddr) -> bool {
        self.refused.contains(server)
    }

    fn bounded(&self) -> bool {
        self.discoveries.len() < MAX_ENTRIES
            && self.repos.len() < MAX_ENTRIES
            && self.conn_version.len() < MAX_ENTRIES
    }
}

impl Modules {
    /// A `?go-get=1` discovery or a VCS request.
    pub(super) fn apply_direct(
        &mut self,
        ex: &Exchange,
        conns: &mut Connections,
        proxy_at: &dyn Fn(&SocketAddr) -> String,
    ) {
        let body = ex.body.text.as_deref();
        let url = ex.url.as_deref().unwrap_or("");
        let origin = url::split(url).map(|p| p.origin.to_string());
        let (module, version, step, proxy) = if ex.go.kind == Kind::GoGet {
            let Some(path) = ex.go.module.clone() else {
                return;
            };
            let d = match (ex.status, body) {
                (Some(200), Some(html)) => direct::discovery(html, &path),
                _ => Discovery::None,
            };
            let (root, found, mismatch) = match d {
                Discovery::Found(t) => (t.root.clone(), Some(t), None),
                Discovery::Mismatch(t) => (path.clone(), None, Some(t)),
                Discovery::None => (path.clone(), None, None),
            };
            if self.direct.bounded() {
                if let Some(t) = &found {
                    self.direct.repos.insert(t.repo.clone(), root.clone());
                }
                // A 404 for a shorter candidate root does not overwrite what a 200 said.
                let keep = self
                    .direct
                    .discoveries
                    .get(&root)
                    .is_some_and(|d| d.found.is_some() && found.is_none());
                if !keep {
                    self.direct.discoveries.insert(
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
            let Some(req) = direct::vcs_request(url, body) else {
                return;
            };
            let module = self
                .direct
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
                    if self.direct.bounded() {
                        self.direct.conn_version.insert(ex.connection, tag.clone());
                    }
                }
            }
            let version = self.direct.conn_version.get(&ex.connection).cloned();
            (module, version, req.step, Some(req.repo))
        };
        let refused = conns.take_refusal_before(ex.ts).map(|(t, server)| {
            // GOINSECURE: https refused before the go command tried plain http; named by
            // the URL it was for.
            let at = match url.strip_prefix("http://") {
                Some(rest) => format!("https://{}", rest.split('/').next().unwrap_or(rest)),
                None => proxy_at(&server),
            };
            if self.direct.refused.len() < 64 && !self.direct.refused.contains(&server) {
                self.direct.refused.push(server);
            }
            refused_direct(ex.go.kind, t, at, step)
        });
        let rec = self.record_mut(module, version, ex.ts);
        if let Some(r) = refused {
            rec.add(r);
        }
        let mut a = Attempt::from_exchange(ex);
        a.step = Some(step);
        a.proxy = proxy.map(Arc::from);
        rec.add(a);
    }
}

impl Modules {
    /// The verdict of a record that holds a direct fetch.
    pub(super) fn judge_direct(&self, rec: &ModuleRecord, j: &Judging<'_>) -> DirectJudgement {
        let served_by_proxy = self.served_by_proxy(&rec.module);
        let source = rec.version.as_deref().and_then(|v| {
            j.checksum_db
                .source(&rec.module, v)
                .map(|b| j.checksum_db.describe(b))
        });
        judge_direct(
            rec,
            &DirectCtx {
                discovery: self.direct.discovery(&rec.module),
                env: j.env,
                served_by_proxy: served_by_proxy.as_deref(),
                proxies_seen: &self.direct.proxies_serving,
                sumdb_source: source.as_deref(),
            },
        )
    }

    /// A proxy that served some version of this module path in this run.
    fn served_by_proxy(&self, module: &str) -> Option<String> {
        let start = (module.to_string(), None);
        self.records
            .range(start..)
            .take_while(|((m, _), _)| m == module)
            .find_map(|(_, r)| {
                [Kind::Zip, Kind::Mod, Kind::Info]
                    .into_iter()
                    .find_map(|k| r.served_by(k))
                    .map(str::to_string)
            })
    }

    /// A proxy answered 200 for an artifact: remembered (a few) so that a module no
    /// proxy was asked for can be told apart from a run that used no proxy.
    pub(super) fn note_serving_proxy(&mut self, proxy: Option<&str>) {
        let list = &mut self.direct.proxies_serving;
        if let Some(p) = proxy {
            if list.len() < 32 && !list.iter().any(|x| x == p) {
                list.push(p.to_string());
            }
        }
    }
}

/// Puts a direct verdict into a module view: outcome, problem, who served it, and the
/// `direct` and `hash_note` fields.
pub(super) fn apply(v: &mut ModuleView, d: DirectJudgement) {
    v.outcome = d.outcome;
    v.severity = d.problem.as_ref().map(|p| p.0);
    v.problem = d.problem.map(|p| p.1);
    if let Some(s) = d.served_by {
        for slot in [
            &mut v.served_by.info,
            &mut v.served_by.gomod,
            &mut v.served_by.zip,
        ] {
            slot.get_or_insert_with(|| s.clone());
        }
    }
    if v.h1.is_none() {
        v.hash_note = Some(d.hash_note);
    }
    v.duration_ms = d.view.duration_ms;
    v.direct = Some(d.view);
}

/// The warnings of direct fetches not already told as their module's problem.
pub(super) fn warnings(v: &ModuleView, out: &mut Vec<Problem>) {
    let Some(d) = &v.direct else { return };
    for w in &d.warnings {
        if v.problem.as_ref() != Some(w) {
            out.push(Problem {
                severity: crate::gomod::verdict::Severity::Warning,
                text: w.clone(),
                subject: Some(v.subject()),
                proxy: None,
            });
        }
    }
}

fn refused_direct(kind: Kind, ts: Ts, at: String, step: &'static str) -> Attempt {
    Attempt {
        step: Some(step),
        ..super::modules::refused_attempt(kind, ts, at)
    }
}
