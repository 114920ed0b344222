//! Every module@version the traffic touched, with every request for it: proxy requests,
//! checksum lookups, the refused connections that came before them, redirect hops, and
//! the zip's hash when the hashing threads deliver it. Past the session's module limit the
//! least recently active modules are folded into aggregates (`super::folded`), so memory
//! stays flat on a capture that runs for weeks.

use super::connections::Connections;
use super::direct::DirectIndex;
use super::folded::Folded;
use crate::gomod::module::{Attempt, ModuleRecord};
use ahash::AHashMap;
use gomodwatch_wire::vocab::{url, Exchange, Kind, Ts, ZipHash};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

/// Module records kept in full by default (module@version pairs, and version-less
/// lookups); older ones are folded past it.
pub(crate) const DEFAULT_MAX_MODULES: usize = 10_000;
/// Zip exchanges waiting for their hash, at most.
const MAX_PENDING_HASHES: usize = 50_000;
/// Distinct (from, to, reason) fallbacks counted; the rest are counted under `other`.
const MAX_FALLBACK_KEYS: usize = 1024;

pub(crate) type Key = (String, Option<String>);

/// A fallback: the go command moved on from one proxy to the next for the same artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fallback {
    /// The proxy that failed.
    pub from: String,
    /// The proxy asked next.
    pub to: String,
    /// `404`, `410`, `500`…, or the transport error (`refused`, `reset`, `no-response`).
    pub reason: String,
}

/// Every module@version the traffic touched, with every request for it.
#[derive(Debug)]
pub struct Modules {
    pub(crate) records: BTreeMap<Key, ModuleRecord>,
    /// Records per module path (components are found by path prefix).
    paths: AHashMap<String, u32>,
    /// Zip exchanges whose hash has not arrived yet → their module record.
    zip_exchanges: HashMap<u64, Key>,
    /// Bumped on every change to a record (stamped on it as `gen`).
    pub(crate) gen: u64,
    /// Bumped whenever records are folded away.
    pub(crate) fold_epoch: u64,
    /// Records kept in full at most; older ones are folded into `folded`.
    pub limit: usize,
    /// What the folded modules add up to.
    pub folded: Folded,
    /// Every fallback from one proxy to another, counted as it happens.
    pub fallbacks: BTreeMap<Fallback, u64>,
    /// What direct fetches' discoveries and git traffic said (`super::direct`).
    pub(crate) direct: DirectIndex,
}

impl Default for Modules {
    fn default() -> Self {
        Modules {
            records: BTreeMap::new(),
            paths: AHashMap::new(),
            zip_exchanges: HashMap::new(),
            gen: 0,
            fold_epoch: 0,
            limit: DEFAULT_MAX_MODULES,
            folded: Folded::default(),
            fallbacks: BTreeMap::new(),
            direct: Default::default(),
        }
    }
}

impl Modules {
    /// `proxy_at`: the proxy base URL to name for a server address (for refusals), and
    /// whether it may be a GOPROXY entry (the checksum database is not).
    pub(crate) fn apply(
        &mut self,
        ex: &Exchange,
        conns: &mut Connections,
        proxy_at: &dyn Fn(&SocketAddr) -> (String, bool),
    ) {
        let go = &ex.go;
        if matches!(go.kind, Kind::GoGet | Kind::Vcs) {
            self.apply_direct(ex, conns, proxy_at);
            return;
        }
        if !(go.kind.is_proxy_artifact() || go.kind == Kind::SumdbLookup) {
            return;
        }
        let Some(module) = go.module.clone() else {
            return;
        };
        let version = match go.kind {
            Kind::List | Kind::Latest => None,
            _ => go.version.clone(),
        };
        // A refusal of the checksum database is not a step of this walk.
        let refused = conns
            .take_refusal_before(ex.ts)
            .and_then(|(t, s)| match proxy_at(&s) {
                (name, true) => Some((t, name)),
                (_, false) => None,
            });
        if go.kind.is_proxy_artifact() && ex.status == Some(200) {
            self.direct.note_serving_proxy(go.proxy.as_deref());
        }
        let key = (module.clone(), version.clone());
        self.gen += 1;
        let gen = self.gen;
        let paths = &mut self.paths;
        let rec = self.records.entry(key).or_insert_with(|| {
            *paths.entry(module.clone()).or_default() += 1;
            ModuleRecord::new(module, version, ex.ts)
        });
        rec.gen = gen;
        let mut moved_on = Vec::new();
        if let Some((t, name)) = refused {
            let a = Attempt::refused(go.kind, t, name);
            moved_on.extend(fallback(rec, &a));
            rec.add(a);
        }
        match ex.redirect_of {
            Some(orig) => follow_redirect(rec, orig, ex),
            None => {
                let a = Attempt::from_exchange(ex);
                moved_on.extend(fallback(rec, &a));
                rec.add(a);
            }
        }
        for f in moved_on {
            let n = self.fallbacks.len();
            let f = if n >= MAX_FALLBACK_KEYS && !self.fallbacks.contains_key(&f) {
                Fallback {
                    from: "other".into(),
                    to: "other".into(),
                    reason: "other".into(),
                }
            } else {
                f
            };
            *self.fallbacks.entry(f).or_default() += 1;
        }
        match go.kind {
            Kind::Zip if ex.status == Some(200) => {
                rec.zip_bytes = Some(ex.resp_bytes);
                rec.zip_proxy = go.proxy.clone();
                let key = (rec.module.clone(), rec.version.clone());
                if self.zip_exchanges.len() < MAX_PENDING_HASHES {
                    self.zip_exchanges.insert(ex.id, key);
                }
            }
            Kind::Mod if ex.status == Some(200) && ex.body.h1.is_some() => {
                if let Some(old) = rec.mod_h1.take().filter(|o| Some(o) != ex.body.h1.as_ref()) {
                    if rec.other_mod_h1.is_none() {
                        rec.other_mod_h1 = Some((old, rec.mod_proxy.take()));
                    }
                }
                rec.mod_h1 = ex.body.h1.clone();
                rec.mod_proxy = go.proxy.clone();
            }
            _ => {}
        }
    }

    /// A zip's `h1:` arrived from the hashing threads.
    pub(crate) fn zip_hash(&mut self, h: &ZipHash) {
        let Some(key) = self.zip_exchanges.remove(&h.exchange) else {
            return;
        };
        if let Some(rec) = self.records.get_mut(&key) {
            self.gen += 1;
            rec.gen = self.gen;
            if h.h1.is_some() {
                rec.zip_h1 = h.h1.clone();
            }
            rec.zip_hash_error = h.error.clone();
        }
    }

    /// A `?go-get=1` discovery or a VCS request: an attempt of the module it serves.
    fn apply_direct(
        &mut self,
        ex: &Exchange,
        conns: &mut Connections,
        proxy_at: &dyn Fn(&SocketAddr) -> (String, bool),
    ) {
        let Some(f) = self.direct.learn(ex) else {
            return;
        };
        let url = ex.url.as_deref().unwrap_or("");
        let refused = conns.take_refusal_before(ex.ts).map(|(t, server)| {
            // GOINSECURE: https refused before the go command tried plain http; named by
            // the URL it was for.
            let at = match url.strip_prefix("http://") {
                Some(rest) => format!("https://{}", rest.split('/').next().unwrap_or(rest)),
                None => proxy_at(&server).0,
            };
            self.direct.note_refused(server);
            Attempt {
                step: Some(f.step),
                ..Attempt::refused(ex.go.kind, t, at)
            }
        });
        let rec = self.record_mut(f.module, f.version, ex.ts);
        if let Some(r) = refused {
            rec.add(r);
        }
        let mut a = Attempt::from_exchange(ex);
        a.step = Some(f.step);
        a.proxy = f.proxy.map(Arc::from);
        rec.add(a);
    }

    /// A proxy that served some version of this module path in this run.
    pub(super) fn served_by_proxy(&self, module: &str) -> Option<String> {
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

    /// The record for a module@version, made when missing, stamped as changed.
    fn record_mut(&mut self, module: String, version: Option<String>, ts: Ts) -> &mut ModuleRecord {
        self.gen += 1;
        let gen = self.gen;
        let paths = &mut self.paths;
        let rec = self
            .records
            .entry((module.clone(), version.clone()))
            .or_insert_with(|| {
                *paths.entry(module.clone()).or_default() += 1;
                ModuleRecord::new(module, version, ts)
            });
        rec.gen = gen;
        rec
    }

    #[cfg(test)]
    pub(crate) fn paths_mut(&mut self) -> &mut AHashMap<String, u32> {
        &mut self.paths
    }

    /// Whether any record has this module path.
    pub(crate) fn has_path(&self, path: &str) -> bool {
        self.paths.contains_key(path)
    }

    /// The root of the component a module path belongs to: the shortest path among it and
    /// its `/`-ancestors that has a record. Records are related only within a component
    /// (a path and the paths under it that the same query probed), so views are derived
    /// one component at a time.
    pub(crate) fn root_of<'a>(&self, path: &'a str) -> &'a str {
        let mut cut = 0;
        while let Some(i) = path[cut..].find('/') {
            let prefix = &path[..cut + i];
            if self.paths.contains_key(prefix) {
                return prefix;
            }
            cut += i + 1;
        }
        path
    }

    /// The records of the component rooted at `root`, in key order.
    pub(crate) fn component<'a>(
        &'a self,
        root: &str,
    ) -> impl Iterator<Item = &'a ModuleRecord> + 'a {
        let start: Key = (root.to_string(), None);
        let end: Key = (format!("{root}0"), None);
        let under = format!("{root}/");
        let root = root.to_string();
        self.records
            .range(start..end)
            .filter(move |((m, _), _)| *m == root || m.starts_with(&under))
            .map(|(_, r)| r)
    }

    /// Every component root, in key order, with the most recent activity of its records.
    pub(crate) fn roots(&self) -> Vec<(&str, Ts)> {
        let mut out: Vec<(&str, Ts)> = Vec::new();
        let mut index: AHashMap<&str, usize> = AHashMap::with_capacity(self.records.len());
        for ((m, _), rec) in &self.records {
            let root = self.root_of(m);
            match index.get(root) {
                Some(&i) => out[i].1 = out[i].1.max(rec.last),
                None => {
                    index.insert(root, out.len());
                    out.push((root, rec.last));
                }
            }
        }
        out
    }

    /// Removes a component's records (they were folded); returns their keys.
    pub(crate) fn remove_component(&mut self, root: &str) -> Vec<Key> {
        let keys: Vec<Key> = self
            .component(root)
            .map(|r| (r.module.clone(), r.version.clone()))
            .collect();
        for k in &keys {
            self.records.remove(k);
            if let Some(n) = self.paths.get_mut(&k.0) {
                *n -= 1;
                if *n == 0 {
                    self.paths.remove(&k.0);
                }
            }
        }
        if !keys.is_empty() {
            self.fold_epoch += 1;
        }
        keys
    }

    /// Forgets the zips of folded records that still wait for their hash (once per batch:
    /// the pending list can be long).
    pub(crate) fn forget_pending_hashes(&mut self, folded: &[Key]) {
        if !self.zip_exchanges.is_empty() && !folded.is_empty() {
            let gone: std::collections::HashSet<&Key> = folded.iter().collect();
            self.zip_exchanges.retain(|_, k| !gone.contains(k));
        }
    }
}

/// The fallback `a` makes, if the previous request for the same artifact of this record
/// failed at another proxy (docs/goproxy-protocol.md §1.3–1.4).
fn fallback(rec: &ModuleRecord, a: &Attempt) -> Option<Fallback> {
    let prev = rec.attempts.iter().rev().find(|p| p.kind == a.kind)?;
    // A walk moves on within moments; a later request starts a new walk.
    if prev.ok() || prev.proxy == a.proxy || prev.ts > a.ts || a.ts.0 - prev.ts.0 > 10_000_000_000 {
        return None;
    }
    let reason = match (prev.status, prev.error.as_deref()) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => "no-response".to_string(),
    };
    Some(Fallback {
        from: prev.proxy.as_deref().unwrap_or("unknown").to_string(),
        to: a.proxy.as_deref().unwrap_or("unknown").to_string(),
        reason,
    })
}

/// A redirect hop finishes the attempt that was redirected: its status, bytes and time
/// are what the go command got for that request.
fn follow_redirect(rec: &mut ModuleRecord, orig: u64, hop: &Exchange) {
    let Some(a) = rec.attempts.iter_mut().find(|a| a.exchange == Some(orig)) else {
        rec.add(Attempt::from_exchange(hop));
        return;
    };
    a.status = hop.status;
    a.error = hop.error.as_deref().map(Arc::from);
    // The hop was seen: its answer is the attempt's, not the redirect's.
    a.location = None;
    a.bytes = hop.resp_bytes;
    a.total_ms = hop.last_byte_at.map(|t| t.ms_since(a.ts));
    a.redirected_to = hop
        .url
        .as_deref()
        .and_then(url::parse)
        .and_then(|u| url::authority(&u));
}
