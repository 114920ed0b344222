//! The verdicts checked against what the go command said (`gomodwatch run`): a module it
//! failed on is not `ok`; one it named but gomodwatch never saw a request for is a record
//! too; a run it completed (exit 0) has no ERROR.

use crate::gomod::gosaid::GoRun;
use crate::gomod::verdict::{Outcome, Severity};
use crate::present::ModuleView;
use gomodwatch_wire::vocab::Ts;

/// Brings one module's verdict in line with the go command's word.
pub(super) fn reconcile(v: &mut ModuleView, run: &GoRun) {
    if let Some(said) = run.about(&v.subject()) {
        if v.outcome == Outcome::Ok {
            // The traffic looked fine, the go command failed: say what it said and that
            // the cause is not on the wire gomodwatch saw.
            v.outcome = Outcome::Failed;
            v.severity = Some(Severity::Error);
            v.cause = said.cause;
            v.inferred = true;
            v.problem = Some(format!(
                "the go command failed on it although every answer gomodwatch saw was good; \
                 it said `{}` — the cause is outside the traffic seen (its cache, go.sum, or a \
                 connection that did not go through gomodwatch)",
                said.line
            ));
        }
        v.go_said = Some(said.line);
    }
    if run.exit() == Some(0) && v.severity.is_some_and(|s| s >= Severity::Error) {
        // It got everything it needed: what failed on the way cost time, not the run.
        v.severity = Some(Severity::Warning);
        if let Some(p) = &mut v.problem {
            p.push_str(" (the go command recovered: it exited 0)");
        }
    }
}

/// Modules the go command failed on that no request was seen for.
pub(super) fn add_unseen(views: &mut Vec<ModuleView>, run: &GoRun, at: Ts) {
    for said in run.all() {
        if views.iter().any(|v| v.subject() == said.subject) {
            continue;
        }
        let (module, version) = said.subject.split_once('@').unwrap_or((&said.subject, ""));
        views.push(ModuleView::go_only(
            module.to_string(),
            version.to_string(),
            said.cause,
            format!(
                "the go command failed on it and gomodwatch saw no request for it (it went \
                 direct, came from a path the MITM does not see, or failed before asking); it \
                 said `{}`",
                said.line
            ),
            said.line,
            at,
        ));
    }
}
