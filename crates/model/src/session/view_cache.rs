//! Module views kept between refreshes, for the views that show them while traffic flows.

use super::model::Session;
use super::module_views;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::verdict::Outcome;
use crate::present::ModuleView;
use gomodwatch_wire::vocab::Ts;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Module views kept between refreshes, for a view that shows them while traffic flows
/// (the TUI, the metrics): only the components whose records changed since the last
/// refresh are merged and judged again, so a refresh costs what changed, not what was
/// seen. Everything is judged again when what verdicts consult changes (the chain, the
/// packets lost); a component still waiting for an answer when the traffic's end moves.
#[derive(Default)]
pub struct ViewCache {
    /// Keep the views themselves (the TUI), or only their outcomes (metrics).
    keep_views: bool,
    seen_gen: u64,
    fold_epoch: u64,
    stamp: Option<(Option<GoproxyList>, u64, u64)>,
    end: Ts,
    comps: BTreeMap<String, CompViews>,
    sorted: Vec<Arc<ModuleView>>,
    counts: BTreeMap<Outcome, u64>,
    /// Components merged and judged by the last refresh (for measurements).
    pub(crate) last_recomputed: usize,
}

struct CompViews {
    views: Vec<Arc<ModuleView>>,
    outcomes: Vec<Outcome>,
    waiting: bool,
}

impl ViewCache {
    /// An empty cache; `keep_views`: keep the views themselves (the TUI), not only their
    /// outcomes (metrics).
    pub fn new(keep_views: bool) -> Self {
        ViewCache {
            keep_views,
            ..Default::default()
        }
    }

    /// Brings the views up to date with the session; returns whether anything changed.
    pub fn update(&mut self, s: &Session) -> bool {
        let chain = s.chain();
        let stamp = (chain.clone(), s.source.lost(), s.config.slo_ms.to_bits());
        let mut changed = false;
        if self.stamp.as_ref() != Some(&stamp) {
            changed = !self.comps.is_empty() || self.stamp.is_none();
            self.comps.clear();
            self.seen_gen = 0;
            self.stamp = Some(stamp);
        }
        let m = &s.modules;
        if m.fold_epoch != self.fold_epoch {
            self.fold_epoch = m.fold_epoch;
            let before = self.comps.len();
            self.comps.retain(|root, _| m.has_path(root));
            changed |= self.comps.len() != before;
        }
        let mut dirty: BTreeSet<&str> = BTreeSet::new();
        if m.gen != self.seen_gen {
            for rec in m.records.values() {
                if rec.gen > self.seen_gen {
                    dirty.insert(m.root_of(&rec.module));
                }
            }
        }
        if s.last != self.end {
            self.end = s.last;
            for (root, c) in &self.comps {
                if c.waiting {
                    // Borrowed from the session's records, like the others.
                    if let Some(((path, _), _)) = m.records.range((root.clone(), None)..).next() {
                        dirty.insert(path.as_str());
                    }
                }
            }
        }
        self.seen_gen = m.gen;
        let j = s.judging(chain.as_ref());
        self.last_recomputed = dirty.len();
        for root in dirty {
            // A new record above older roots joins their components into this one.
            let under = format!("{root}/");
            let absorbed: Vec<String> = self
                .comps
                .range(under.clone()..)
                .take_while(|(k, _)| k.starts_with(&under))
                .map(|(k, _)| k.clone())
                .collect();
            for k in absorbed {
                self.comps.remove(&k);
            }
            let (views, waiting) = module_views::component_views(m, root, &j);
            let outcomes = views.iter().map(|v| v.outcome).collect();
            let views = if self.keep_views {
                views.into_iter().map(Arc::new).collect()
            } else {
                Vec::new()
            };
            self.comps.insert(
                root.to_string(),
                CompViews {
                    views,
                    outcomes,
                    waiting,
                },
            );
            changed = true;
        }
        if changed {
            self.counts.clear();
            for c in self.comps.values() {
                for o in &c.outcomes {
                    *self.counts.entry(*o).or_default() += 1;
                }
            }
            if self.keep_views {
                self.sorted.clear();
                self.sorted
                    .extend(self.comps.values().flat_map(|c| c.views.iter().cloned()));
                // Stable: views with the same time and path keep their merge order.
                self.sorted
                    .sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
            }
        }
        changed
    }

    /// Every module view, oldest first (empty unless views are kept).
    pub fn views(&self) -> &[Arc<ModuleView>] {
        &self.sorted
    }

    /// Modules held in full, by outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.counts.get(&outcome).copied().unwrap_or(0)
    }
}
