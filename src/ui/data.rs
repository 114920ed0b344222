//! What the views draw, derived from the session. Deriving verdicts costs work in
//! proportion to what changed (the session's view cache judges again only the modules
//! whose requests changed), and it is done when the session changed and at most a few
//! times a second — never per key press.

use crate::present::{ModuleView, Problem, Summary};
use crate::session::{Session, ViewCache};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Data {
    pub(crate) generation: u64,
    pub modules: Vec<Arc<ModuleView>>,
    cache: ViewCache,
    pub(crate) summary: Summary,
    /// Short names for proxies on narrow screens: A, B, … in GOPROXY order.
    pub(crate) letters: Vec<(String, char)>,
    computed: Option<Instant>,
}

/// How stale the derived data may get while traffic keeps flowing.
const REFRESH: Duration = Duration::from_millis(300);

impl Data {
    pub fn new(session: &Session) -> Data {
        Data::derive(session, ViewCache::new(true))
    }

    fn derive(session: &Session, mut cache: ViewCache) -> Data {
        cache.update(session);
        let modules = cache.views().to_vec();
        let summary = session.summary(&modules);
        let mut order: Vec<String> = summary
            .goproxy
            .iter()
            .flat_map(|l| l.entries.iter().map(|e| e.url.clone()))
            .collect();
        for p in &summary.proxies {
            if !order.contains(&p.proxy) {
                order.push(p.proxy.clone());
            }
        }
        let letters = order.into_iter().zip('A'..='Z').collect();
        Data {
            generation: session.generation,
            modules,
            cache,
            summary,
            letters,
            computed: Some(Instant::now()),
        }
    }

    /// Recomputes if the session changed and the last computation is old enough (or
    /// `force`, e.g. the source just ended). Returns whether anything changed.
    pub fn refresh(&mut self, session: &Session, force: bool) -> bool {
        if session.generation == self.generation {
            return false;
        }
        let due = self.computed.is_none_or(|t| t.elapsed() >= REFRESH);
        if !(force || due) {
            return false;
        }
        let cache = std::mem::take(&mut self.cache);
        *self = Data::derive(session, cache);
        true
    }

    /// The letter of a proxy base URL, if it has one.
    pub(crate) fn letter(&self, proxy: &str) -> Option<char> {
        self.letters
            .iter()
            .find(|(p, _)| p == proxy)
            .map(|(_, c)| *c)
    }

    pub(crate) fn problems(&self) -> &[Problem] {
        &self.summary.problems
    }
}
