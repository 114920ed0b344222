//! The verdicts checked against what the go command said (`gomodwatch run`): a module it
//! failed on is not `ok`; one it named but gomodwatch never saw a request for is a record
//! too; a run it completed (exit 0) has no ERROR.

use crate::gomod::cause::Cause;
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

/// What gomodwatch's MITM knows of why it answered the go command 502/504 for `host`
/// (a name or `ip:port` as the MITM keyed it): its cause class, step and message.
pub(super) struct MitmCause {
    pub(super) cause: Cause,
    pub(super) step: &'static str,
    pub(super) host: String,
    pub(super) message: String,
}

/// Modules the go command failed on that no request was seen for. When what it got was
/// gomodwatch's own 502/504 (its MITM could not reach the host the go command named), the
/// MITM's reason is the cause: the go command only saw "Bad Gateway".
pub(super) fn add_unseen(
    views: &mut Vec<ModuleView>,
    run: &GoRun,
    at: Ts,
    mitm_cause: impl Fn(&str) -> Option<MitmCause>,
) {
    for said in run.all() {
        if views.iter().any(|v| v.subject() == said.subject) {
            continue;
        }
        let (module, version) = said.subject.split_once('@').unwrap_or((&said.subject, ""));
        let own = gateway_answer(&said.line)
            .then(|| url_host(&said.line))
            .flatten()
            .and_then(&mitm_cause);
        let Some(own) = own else {
            views.push(ModuleView::go_only(
                module.to_string(),
                version.to_string(),
                said.cause,
                format!(
                    "the go command failed on it and gomodwatch saw no request for it (it went \
                     direct, came from a path the MITM does not see, or failed before asking); \
                     it said `{}`",
                    said.line
                ),
                said.line,
                at,
            ));
            continue;
        };
        let mut v = ModuleView::go_only(
            module.to_string(),
            version.to_string(),
            Some(own.cause),
            format!(
                "the go command failed on it because gomodwatch's MITM could not reach {} for \
                 it: {} (the go command only saw gomodwatch's own answer: `{}`)",
                own.host, own.message, said.line
            ),
            said.line,
            at,
        );
        v.step = Some(own.step);
        v.host = Some(own.host);
        v.inferred = false;
        views.push(v);
    }
}

/// Modules the go command was asked for (its arguments) that it named in no error line and
/// no request was seen for, when it did not succeed: it ended (or was stopped) before it
/// asked for them, so nothing can be said of them but that.
pub(super) fn add_asked(views: &mut Vec<ModuleView>, run: &GoRun, at: Ts) {
    let Some(code) = run.exit().filter(|c| *c != 0) else {
        return;
    };
    for subject in run.asked() {
        if views.iter().any(|v| {
            let s = v.subject();
            s == *subject
                || (subject.ends_with("@latest")
                    && s.split('@').next() == subject.split('@').next())
        }) {
            continue;
        }
        let (module, version) = subject.split_once('@').unwrap_or((subject, ""));
        let mut v = ModuleView::go_only(
            module.to_string(),
            version.to_string(),
            None,
            format!(
                "the go command was asked for it and exited {code} before any request for it \
                 was seen or any error about it was said: it stopped first (another module's \
                 failure, a signal), or found it in its module cache"
            ),
            String::new(),
            at,
        );
        v.outcome = Outcome::Incomplete;
        v.severity = Some(Severity::Warning);
        v.go_said = None;
        views.push(v);
    }
}

/// The go command's error is an HTTP proxy's "could not reach it" (gomodwatch's 502/504 to a
/// CONNECT, or to a request inside the tunnel).
fn gateway_answer(line: &str) -> bool {
    line.contains("Bad Gateway") || line.contains("Gateway Timeout")
}

/// The host of the first URL in a go command's error line (`reading https://HOST:PORT/...`,
/// `Get "https://HOST/..."`), without its port.
fn url_host(line: &str) -> Option<&str> {
    let rest = &line[line.find("://")? + 3..];
    let end = rest.find(['/', '"', ' ']).unwrap_or(rest.len());
    let host = without_port(&rest[..end]);
    (!host.is_empty()).then_some(host)
}

/// A host without its `:port`: `[::1]:443` → `[::1]`, `h:443` → `h`; a bare IPv6 address (more
/// than one colon, no brackets) has no port to strip.
pub(super) fn without_port(hostport: &str) -> &str {
    if hostport.starts_with('[') {
        return hostport.find(']').map_or(hostport, |end| &hostport[..=end]);
    }
    match hostport.split_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => hostport,
    }
}

#[cfg(test)]
mod tests {
    use super::{add_asked, gateway_answer, url_host, without_port};
    use crate::gomod::gosaid::GoRun;
    use crate::gomod::verdict::Outcome;
    use gomodwatch_wire::vocab::Ts;

    #[test]
    fn asked_for_and_never_seen_is_incomplete_when_the_run_failed() {
        let run = GoRun::new(&["get", "a.test/x@v1.0.0", "b.test/y@latest"]);
        let mut views = Vec::new();
        add_asked(&mut views, &run, Ts::default());
        assert!(views.is_empty(), "still running: nothing to say yet");
        run.exited(0);
        add_asked(&mut views, &run, Ts::default());
        assert!(views.is_empty(), "it succeeded: from its cache");
        let run = GoRun::new(&["get", "a.test/x@v1.0.0", "b.test/y@latest"]);
        run.exited(1);
        add_asked(&mut views, &run, Ts::default());
        let got: Vec<_> = views.iter().map(|v| (v.subject(), v.outcome)).collect();
        assert_eq!(
            got,
            [
                ("a.test/x@v1.0.0".to_string(), Outcome::Incomplete),
                ("b.test/y@latest".to_string(), Outcome::Incomplete)
            ]
        );
    }

    #[test]
    fn the_host_the_go_command_named() {
        let l = "go: a.b/c@v1.0.0: reading https://goproxy.test:3000/a.b/c/@v/v1.0.0.info: 502 Bad Gateway";
        assert_eq!(url_host(l), Some("goproxy.test"));
        assert!(gateway_answer(l));
        let l = r#"go: a.b/c@v1.0.0: Get "https://proxy.example/a.b/c/@v/v1.0.0.info": Gateway Timeout"#;
        assert_eq!(url_host(l), Some("proxy.example"));
        assert!(gateway_answer(l));
        assert_eq!(url_host("go: a@v1: no url here"), None);
        assert!(!gateway_answer(
            "go: a@v1: reading http://x/: 404 Not Found"
        ));
    }

    #[test]
    fn ports_are_stripped_but_never_part_of_an_address() {
        assert_eq!(without_port("proxy.test:443"), "proxy.test");
        assert_eq!(without_port("proxy.test"), "proxy.test");
        assert_eq!(without_port("[::1]:8443"), "[::1]");
        assert_eq!(without_port("[::1]"), "[::1]");
        assert_eq!(
            without_port("::1"),
            "::1",
            "a bare IPv6 address has no port"
        );
        assert_eq!(without_port("fe80::1:80"), "fe80::1:80");
        assert_eq!(without_port("host:"), "host:");
    }
}
