//! What the modules folded out of memory add up to. A session that runs for weeks keeps
//! its most recently active modules in full (`Modules::limit`); older ones are judged one
//! last time, told to the views that want them (the NDJSON `module` event), and folded
//! here: counts by outcome, per proxy, their problems, and a little evidence of the
//! proxy chain they walked. Nothing is dropped without being counted.

use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::verdict::{Outcome, Problem, Severity};
use crate::present::records::{FoldedProxy, FoldedSummary};
use crate::present::ModuleView;
use gomodwatch_wire::vocab::Ts;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

/// Distinct problem sentences kept for folded modules; the rest are counted only.
const MAX_PROBLEMS: usize = 256;
/// Module names kept per folded problem, as examples.
const SUBJECTS_PER_PROBLEM: usize = 3;
/// Proxies tallied for folded modules; the rest are tallied under `other`.
const MAX_PROXIES: usize = 64;
/// Distinct proxy walks kept as evidence for inferring the GOPROXY chain.
const MAX_EVIDENCE: usize = 64;

#[derive(Debug, Clone)]
struct FoldedProblem {
    severity: Severity,
    text: String,
    count: u64,
    subjects: Vec<String>,
    proxy: Option<String>,
}

/// What the module records folded out of memory add up to (past `--max-modules`).
#[derive(Debug, Default)]
pub struct Folded {
    /// Module views folded (as the `modules` count of the summary counts them).
    pub modules: u64,
    /// Records folded (module@version pairs and version-less lookups).
    pub(crate) records: u64,
    pub(crate) by_outcome: BTreeMap<Outcome, u64>,
    by_proxy: BTreeMap<String, FoldedProxy>,
    problems: Vec<FoldedProblem>,
    problem_index: HashMap<String, usize>,
    /// Problems of folded modules whose sentence did not fit in `problems`.
    pub(crate) problems_uncounted: u64,
    pub(crate) first: Option<Ts>,
    pub(crate) last: Option<Ts>,
    /// One small record per distinct walk down the proxies, for chain inference.
    pub(crate) evidence: Vec<ModuleRecord>,
    evidence_keys: std::collections::HashSet<u64>,
}

impl Folded {
    /// Folds one judged module view in.
    pub(crate) fn add(&mut self, v: &ModuleView) {
        self.modules += 1;
        *self.by_outcome.entry(v.outcome).or_default() += 1;
        self.first = Some(self.first.map_or(v.ts, |t| t.min(v.ts)));
        let last = v.attempts.iter().map(|a| a.ts).max().unwrap_or(v.ts);
        self.last = Some(self.last.map_or(last, |t| t.max(last)));
        let mut served: Vec<&str> = [&v.served_by.info, &v.served_by.gomod, &v.served_by.zip]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        served.dedup();
        for p in served {
            self.proxy(p).modules_served += 1;
        }
        for a in &v.attempts {
            if let Some(p) = a.proxy.as_deref() {
                let t = self.proxy(p);
                t.requests += u64::from(a.count);
                if a.not_found() {
                    t.not_found += u64::from(a.count);
                } else if !a.ok() {
                    t.failed += u64::from(a.count);
                }
            }
        }
        if let (Some(severity), Some(text)) = (v.severity, &v.problem) {
            self.problem(severity, text, &v.subject(), None);
        }
    }

    fn proxy(&mut self, p: &str) -> &mut FoldedProxy {
        let key = if self.by_proxy.len() >= MAX_PROXIES && !self.by_proxy.contains_key(p) {
            "other"
        } else {
            p
        };
        // Found without allocating: folding runs for every module of a long run.
        if self.by_proxy.contains_key(key) {
            return self.by_proxy.get_mut(key).expect("checked above");
        }
        self.by_proxy
            .entry(key.to_string())
            .or_insert_with(|| FoldedProxy {
                proxy: key.to_string(),
                ..Default::default()
            })
    }

    fn problem(&mut self, severity: Severity, text: &str, subject: &str, proxy: Option<String>) {
        let i = match self.problem_index.get(text) {
            Some(&i) => i,
            None if self.problems.len() >= MAX_PROBLEMS => {
                self.problems_uncounted += 1;
                return;
            }
            None => {
                self.problem_index
                    .insert(text.to_string(), self.problems.len());
                self.problems.push(FoldedProblem {
                    severity,
                    text: text.to_string(),
                    count: 0,
                    subjects: Vec::new(),
                    proxy,
                });
                self.problems.len() - 1
            }
        };
        let p = &mut self.problems[i];
        p.count += 1;
        if p.subjects.len() < SUBJECTS_PER_PROBLEM {
            p.subjects.push(subject.to_string());
        }
    }

    /// Whether a record walked the proxies in a way not kept as evidence yet (a hash of
    /// its attempts' kinds, proxies and answers: nothing is allocated per record).
    pub(crate) fn wants_evidence(&self, rec: &ModuleRecord) -> Option<u64> {
        if self.evidence.len() >= MAX_EVIDENCE || rec.attempts.is_empty() {
            return None;
        }
        let mut h = ahash::AHasher::default();
        for a in &rec.attempts {
            (a.kind, a.proxy.as_deref(), a.ok(), a.not_found()).hash(&mut h);
        }
        let sig = h.finish();
        (!self.evidence_keys.contains(&sig)).then_some(sig)
    }

    /// Keeps a record's walk down the proxies (not its details).
    pub(crate) fn keep_evidence(&mut self, sig: u64, rec: &ModuleRecord) {
        if self.evidence.len() >= MAX_EVIDENCE || !self.evidence_keys.insert(sig) {
            return;
        }
        let mut e = ModuleRecord::new(rec.module.clone(), rec.version.clone(), rec.first);
        e.attempts = rec
            .attempts
            .iter()
            .map(|a| Attempt {
                url: None,
                redirected_to: None,
                ..a.clone()
            })
            .collect();
        e.last = rec.last;
        self.evidence.push(e);
    }

    /// Adds the folded modules' problems to a session's problem list: a sentence already
    /// there names the folded modules too; a new one is placed by severity.
    pub(crate) fn merge_problems(&self, out: &mut Vec<Problem>) {
        for p in &self.problems {
            let mut subject = p.subjects.join(", ");
            let more = p.count - p.subjects.len() as u64;
            if more > 0 {
                subject.push_str(&format!(" and {more} more"));
            }
            subject.push_str(" (folded)");
            match out.iter_mut().find(|m| m.text == p.text) {
                Some(m) => match &mut m.subject {
                    Some(s) => {
                        s.push_str(", ");
                        s.push_str(&subject);
                    }
                    None => m.subject = Some(subject),
                },
                None => {
                    let at = out.partition_point(|m| m.severity >= p.severity);
                    out.insert(
                        at,
                        Problem {
                            severity: p.severity,
                            text: p.text.clone(),
                            subject: Some(subject),
                            proxy: p.proxy.clone(),
                            ..Default::default()
                        },
                    );
                }
            }
        }
        if self.problems_uncounted > 0 {
            let at = out.partition_point(|m| m.severity >= Severity::Warning);
            out.insert(
                at,
                Problem {
                    severity: Severity::Warning,
                    text: format!(
                        "{} more problems of folded modules had sentences of their own, not \
                         kept (see the module events of the NDJSON output)",
                        self.problems_uncounted
                    ),
                    subject: None,
                    proxy: None,
                    ..Default::default()
                },
            );
        }
    }

    /// The summary's `folded` object, or nothing when no module was folded.
    pub(crate) fn summary(&self, limit: usize) -> Option<FoldedSummary> {
        (self.modules > 0 || self.records > 0).then(|| FoldedSummary {
            limit: limit as u64,
            records: self.records,
            outcomes: self
                .by_outcome
                .iter()
                .map(|(o, n)| (o.as_str().to_string(), *n))
                .collect(),
            proxies: self.by_proxy.values().cloned().collect(),
            problems: self.problems.iter().map(|p| p.count).sum::<u64>() + self.problems_uncounted,
            first: self.first,
            last: self.last,
        })
    }

    /// Folded modules with this outcome.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.by_outcome.get(&outcome).copied().unwrap_or(0)
    }
}
