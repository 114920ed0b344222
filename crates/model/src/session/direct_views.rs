//! Direct fetches judged: the verdict of a record that holds one (`gomod::direct_verdict`,
//! told what the discoveries said and which proxies served this run), put into its module
//! view, and the warnings not already told as the module's problem.

use super::judging::Judging;
use super::modules::Modules;
use crate::gomod::direct_verdict::{judge_direct, DirectCtx, DirectJudgement};
use crate::gomod::module::ModuleRecord;
use crate::gomod::verdict::{Problem, Severity};
use crate::present::ModuleView;

/// The verdict of a record that holds a direct fetch.
pub(super) fn judge(m: &Modules, rec: &ModuleRecord, j: &Judging<'_>) -> DirectJudgement {
    let served_by_proxy = m.served_by_proxy(&rec.module);
    let source = rec.version.as_deref().and_then(|v| {
        j.checksum_db
            .source(&rec.module, v)
            .map(|b| j.checksum_db.describe(b))
    });
    judge_direct(
        rec,
        &DirectCtx {
            discovery: m.direct.discovery(&rec.module),
            env: j.env,
            served_by_proxy: served_by_proxy.as_deref(),
            proxies_seen: &m.direct.proxies_serving,
            sumdb_source: source.as_deref(),
        },
    )
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
                severity: Severity::Warning,
                text: w.clone(),
                subject: Some(v.subject()),
                proxy: None,
                ..Default::default()
            });
        }
    }
}
