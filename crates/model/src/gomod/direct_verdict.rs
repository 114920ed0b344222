//! Verdicts for modules the go command fetched direct (from their code host, not a
//! proxy): what the discovery and the VCS answered, which rule of the environment sent
//! the module there (or, without the environment, what the traffic shows), whether the
//! module looks public (then the rule is probably too broad), and whether the checksum
//! database verified it. Nothing is claimed that the traffic or the environment given
//! cannot show.

use super::classify::Kind;
use super::direct::DiscoveryRecord;
use super::goenv::GoEnv;
use super::module::{Attempt, ModuleRecord};
use super::verdict::{Outcome, Severity};
use serde::Serialize;

/// The module event's `direct` object.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct DirectView {
    /// `git`, `hg`, `svn`, `bzr`, `fossil`, or null when no VCS request was seen.
    pub vcs: Option<String>,
    /// The repository URL (from the go-import tag, or the VCS requests).
    pub repo: Option<String>,
    /// The module root the go-import tag named.
    pub root: Option<String>,
    /// The `?go-get=1` URL and its status (null when no discovery was seen: the go
    /// command knows some hosts' layout, or had it cached).
    pub(crate) discovery: Option<String>,
    pub(crate) discovery_status: Option<u16>,
    /// Why the module was fetched direct, in words.
    pub why: String,
    /// The environment rule that sent it direct (`GONOPROXY=*.test`), when known.
    pub(crate) rule: Option<String>,
    /// Where the version came from: `ls-refs` (the tag git fetched), `sumdb-lookup`, or
    /// null (then `version` is null: not visible in the traffic).
    pub(crate) version_from: Option<&'static str>,
    /// Time from the discovery to the last VCS byte.
    pub(crate) duration_ms: f64,
    /// Bytes the VCS answers carried.
    pub(crate) bytes: u64,
    /// Warnings (misconfiguration, not verified, plain http), most serious first.
    pub warnings: Vec<String>,
}

/// What a direct verdict consults besides the record.
pub(crate) struct DirectCtx<'a> {
    pub(crate) discovery: Option<&'a DiscoveryRecord>,
    pub(crate) env: Option<&'a GoEnv>,
    /// A proxy that served this module path (any version) in this run.
    pub(crate) served_by_proxy: Option<&'a str>,
    /// Proxies that served anything in this run.
    pub(crate) proxies_seen: &'a [String],
    /// The checksum database that answered a lookup for it, if one did.
    pub(crate) sumdb_source: Option<&'a str>,
}

pub(crate) struct DirectJudgement {
    pub(crate) outcome: Outcome,
    pub(crate) problem: Option<(Severity, String)>,
    pub(crate) view: DirectView,
    pub(crate) served_by: Option<String>,
    pub(crate) hash_note: String,
}

/// Is this record (partly) a direct fetch? VCS requests make it one; a discovery alone
/// does unless a proxy served the module (a `mod` go-import tag names a proxy, which the
/// ordinary verdict judges, docs/goproxy-protocol.md §4.1).
pub(crate) fn is_direct(rec: &ModuleRecord) -> bool {
    let vcs = rec.attempts.iter().any(|a| a.kind == Kind::Vcs);
    let discovery = rec.attempts.iter().any(|a| a.kind == Kind::GoGet);
    let proxied = [Kind::Info, Kind::Mod, Kind::Zip]
        .into_iter()
        .any(|k| rec.served_by(k).is_some());
    vcs || (discovery && !proxied)
}

fn secs(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split('/').next().unwrap_or(rest);
    auth.rsplit_once('@').map_or(auth, |(_, h)| h)
}

pub(crate) fn judge_direct(rec: &ModuleRecord, ctx: &DirectCtx<'_>) -> DirectJudgement {
    let direct: Vec<&Attempt> = rec
        .attempts
        .iter()
        .filter(|a| matches!(a.kind, Kind::GoGet | Kind::Vcs))
        .collect();
    let vcs: Vec<&Attempt> = direct
        .iter()
        .copied()
        .filter(|a| a.kind == Kind::Vcs)
        .collect();
    let found = ctx.discovery.and_then(|d| d.found.as_ref());
    let repo = found.map(|t| t.repo.clone()).or_else(|| {
        vcs.last()
            .and_then(|a| a.proxy.as_deref().map(str::to_string))
    });
    let vcs_name = found.map(|t| t.vcs.clone()).or_else(|| {
        vcs.last()
            .and_then(|a| a.url.as_deref())
            .and_then(|u| super::direct::vcs_request(u, None))
            .map(|r| r.vcs.to_string())
    });
    let start = direct.first().map(|a| a.ts);
    let end = direct
        .iter()
        .map(|a| a.ts.0 + (a.total_ms.unwrap_or(0.0) * 1e6) as i64)
        .max();
    let duration_ms = match (start, end) {
        (Some(s), Some(e)) => ((e - s.0) as f64 / 1e6 * 1000.0).round() / 1000.0,
        _ => 0.0,
    };
    let how = match (&vcs_name, &repo) {
        (Some(v), Some(r)) => format!("{v} {r}"),
        (None, Some(r)) => r.clone(),
        _ => "its code host".to_string(),
    };
    let (outcome, problem) = outcome(rec, &direct, &vcs, ctx, repo.as_deref());
    let fetched = outcome == Outcome::Ok && vcs.iter().any(|a| a.ok());
    let sumdb_ok = rec.attempts_of(Kind::SumdbLookup).any(Attempt::ok);
    let verb = if outcome == Outcome::Ok {
        "fetched"
    } else {
        "tried"
    };
    let (why, rule, by_pattern) = why(rec, ctx, &format!("{verb} with {how}"), duration_ms);
    let mut warnings = Vec::new();
    if fetched {
        if let Some(w) = misconfigured(rec, ctx, rule.as_deref(), by_pattern, sumdb_ok) {
            warnings.push(w);
        }
        if let Some(w) = plain_http(rec, ctx, &direct) {
            warnings.push(w);
        }
        if !sumdb_ok {
            warnings.push(unverified(
                rec,
                ctx,
                repo.as_deref().unwrap_or("the code host"),
            ));
        }
    }
    let version_from = match &rec.version {
        None => None,
        Some(_) if vcs.iter().any(|a| a.step == Some("ls-refs")) => Some("ls-refs"),
        Some(_) => Some("sumdb-lookup"),
    };
    let hash_note = if fetched {
        let mut n = format!(
            "no h1: on the wire: the go command built the zip itself from {how} (git archive \
             of the commit), so its hash exists only on this machine"
        );
        match ctx.sumdb_source {
            Some(db) if sumdb_ok => n.push_str(&format!(
                "; the go command checked that hash against the one {db} vouches for (sumdb_h1)"
            )),
            _ => n.push_str("; go.sum holds it"),
        }
        n
    } else {
        "no h1: on the wire: a direct fetch builds the zip from the repository".to_string()
    };
    let problem = problem.or_else(|| warnings.first().map(|w| (Severity::Warning, w.clone())));
    DirectJudgement {
        outcome,
        problem,
        served_by: fetched.then(|| format!("direct ({how})")),
        hash_note,
        view: DirectView {
            vcs: vcs_name,
            repo,
            root: found.map(|t| t.root.clone()),
            discovery: ctx.discovery.map(|d| d.url.clone()),
            discovery_status: ctx.discovery.and_then(|d| d.status),
            why,
            rule,
            version_from,
            duration_ms,
            bytes: direct.iter().map(|a| a.bytes).sum(),
            warnings,
        },
    }
}

/// What the discovery and the VCS answered, as an outcome and a sentence.
fn outcome(
    rec: &ModuleRecord,
    direct: &[&Attempt],
    vcs: &[&Attempt],
    ctx: &DirectCtx<'_>,
    repo: Option<&str>,
) -> (Outcome, Option<(Severity, String)>) {
    let m = &rec.module;
    let failed = |t: String| (Outcome::Failed, Some((Severity::Error, t)));
    // The git step that decided: the last answer of each request, the worst first.
    if let Some(bad) = vcs.iter().rev().find(|a| !a.ok()).filter(|bad| {
        // A 401 that the same git process repeated with credentials and got 200 is
        // git's normal Basic-auth dance (.netrc), not a failure.
        !vcs.iter()
            .any(|b| b.ts > bad.ts && b.ok() && b.step == bad.step && b.url == bad.url)
    }) {
        let url = bad.url.as_deref().unwrap_or("the repository");
        let host = host_of(url);
        let r = repo.unwrap_or(url);
        return match (bad.status, bad.error.as_deref()) {
            (Some(401), _) => failed(format!(
                "git needs credentials for {host}: {r} answered 401 Unauthorized; configure a \
                 git credential helper or ~/.netrc for {host} (GOPRIVATE alone does not provide \
                 them)"
            )),
            (Some(403), _) => failed(format!(
                "{host} refused git access to {r} (403 Forbidden): the credentials git sent are \
                 not allowed to read it"
            )),
            (Some(404 | 410), _) => failed(format!(
                "the repository {r} does not exist ({} from {host}){}: fix the go-import tag \
                 or create the repository",
                bad.status.unwrap_or(404),
                ctx.discovery
                    .map(|d| format!(", though {} names it", d.url))
                    .unwrap_or_default()
            )),
            (Some(s), _) if s != 200 => failed(format!(
                "{host} answered {s} to git's {} request for {r}",
                bad.step.unwrap_or("request")
            )),
            (_, Some(e)) => failed(format!(
                "git's {} request to {r} failed ({e})",
                bad.step.unwrap_or("request")
            )),
            _ => (
                Outcome::Incomplete,
                Some((
                    Severity::Warning,
                    format!("git's request to {r} was not answered in the capture"),
                )),
            ),
        };
    }
    if !vcs.is_empty() {
        return (Outcome::Ok, None);
    }
    // No VCS request: the discovery decided.
    let Some(d) = ctx.discovery else {
        let last = direct.last();
        return match last {
            Some(a) if a.error.is_some() && a.status.is_none() => failed(format!(
                "the discovery request for {m} failed ({})",
                a.error.as_deref().unwrap_or("no answer")
            )),
            _ => (Outcome::Incomplete, None),
        };
    };
    if let Some(t) = &d.mismatch {
        return failed(format!(
            "{} names the module root {} (go-import), which does not match {m}: the go command \
             rejects it (\"no go-import meta tags\") and runs no VCS; fix the tag on the server \
             (its first field must be {m} or a path above it)",
            d.url, t.root
        ));
    }
    match (d.status, &d.found) {
        (Some(200), Some(t)) => (
            Outcome::Incomplete,
            Some((
                Severity::Info,
                format!(
                    "{} named {} {}, but no {} request to it was seen (over ssh, or outside the \
                     capture)",
                    d.url, t.vcs, t.repo, t.vcs
                ),
            )),
        ),
        (s, _) => (
            Outcome::NotFound,
            Some((
                Severity::Warning,
                format!(
                    "{} answered {} without a go-import meta tag: the go command cannot find a \
                     repository for {m}; check the import path (a private host may need \
                     credentials in ~/.netrc for the discovery too)",
                    d.url,
                    s.map_or("nothing".to_string(), |s| s.to_string())
                ),
            )),
        ),
    }
}

/// Why it was direct: the rule, or what the traffic shows. Returns the sentence, the
/// rule (`GONOPROXY=*.test`), and whether a pattern (not GOPROXY itself) sent it there.
fn why(
    rec: &ModuleRecord,
    ctx: &DirectCtx<'_>,
    how: &str,
    ms: f64,
) -> (String, Option<String>, bool) {
    let m = &rec.module;
    let proxy_attempts: Vec<&Attempt> = rec
        .attempts
        .iter()
        .filter(|a| a.kind.is_proxy_artifact())
        .collect();
    let all_not_found = !proxy_attempts.is_empty() && proxy_attempts.iter().all(|a| a.not_found());
    let took = secs(ms);
    if let Some(env) = ctx.env {
        let goproxy = env.goproxy();
        if let Some(r) = env.noproxy(m) {
            let default = (r.var == "GOPRIVATE").then_some("GONOPROXY");
            let rule = r.describe(default);
            let instead = match env.proxies().first() {
                Some(p) => format!("instead of from {p}"),
                None => format!("(GOPROXY={goproxy} has no proxy anyway)"),
            };
            let pattern = if r.pattern == r.value {
                String::new()
            } else {
                format!(" (pattern {})", r.pattern)
            };
            return (
                format!("{m} matched {rule}{pattern}, so it was {how} in {took} {instead}"),
                Some(format!("{}={}", r.var, r.value)),
                true,
            );
        }
        if env.proxies().is_empty() {
            return (
                format!("GOPROXY={goproxy}: every module is fetched from its code host; {m} was {how} in {took}"),
                Some(format!("GOPROXY={goproxy}")),
                false,
            );
        }
        if all_not_found {
            return (
                format!("every proxy of GOPROXY={goproxy} answered 404/410 for {m}, and 'direct' followed: {how} in {took}"),
                Some(format!("GOPROXY={goproxy}")),
                false,
            );
        }
        return (
            format!("{m} was {how} in {took}, but neither GOPROXY={goproxy} nor GONOPROXY/GOPRIVATE as given explain why (was the environment different?)"),
            None,
            false,
        );
    }
    if all_not_found {
        return (
            format!("every proxy asked answered 404/410 for {m}, and 'direct' followed: {how} in {took}"),
            None,
            false,
        );
    }
    match ctx.proxies_seen.first() {
        Some(p) => (
            format!(
                "no proxy was asked for {m}, though {p} served other modules in this run: a \
                 GONOPROXY or GOPRIVATE pattern sent it direct ({how} in {took}); \
                 pass --go-env to name the rule"
            ),
            None,
            true,
        ),
        None => (
            format!(
                "no proxy request was seen in this run: GOPROXY=direct, or GONOPROXY/GOPRIVATE \
                 matched {m}; {how} in {took} (pass --go-env to name the rule)"
            ),
            None,
            false,
        ),
    }
}

/// A public module sent direct by a pattern: the pattern is probably broader than meant.
fn misconfigured(
    rec: &ModuleRecord,
    ctx: &DirectCtx<'_>,
    rule: Option<&str>,
    by_pattern: bool,
    sumdb_ok: bool,
) -> Option<String> {
    if !by_pattern {
        return None;
    }
    let m = &rec.module;
    let evidence = if let Some(p) = ctx.served_by_proxy {
        format!("{p} served it in this run")
    } else if sumdb_ok {
        format!(
            "{} knows it, and a checksum database only knows public modules",
            ctx.sumdb_source.unwrap_or("the checksum database")
        )
    } else if super::direct::public_host(m) {
        format!("{} is a public host", m.split('/').next().unwrap_or(m))
    } else {
        return None;
    };
    let proxy = ctx
        .env
        .and_then(|e| e.proxies().first().map(|p| p.to_string()))
        .or_else(|| ctx.proxies_seen.first().cloned())
        .unwrap_or_else(|| "your proxy".into());
    Some(match rule {
        Some(r) => format!(
            "probable misconfiguration: {m} is public ({evidence}), but {r} sent it direct; \
             narrow the pattern to your private modules so it comes from {proxy}"
        ),
        None => format!(
            "probable misconfiguration: {m} is public ({evidence}), but a GONOPROXY/GOPRIVATE \
             pattern sent it direct; narrow it to your private modules so it comes from {proxy}"
        ),
    })
}

/// Fetched over plain http (GOINSECURE).
fn plain_http(rec: &ModuleRecord, ctx: &DirectCtx<'_>, direct: &[&Attempt]) -> Option<String> {
    let clear = direct
        .iter()
        .filter(|a| a.ok())
        .find(|a| a.url.as_deref().is_some_and(|u| u.starts_with("http://")))?;
    let host = host_of(clear.url.as_deref().unwrap_or(""));
    let rule = ctx
        .env
        .and_then(|e| e.insecure(&rec.module))
        .map(|r| format!(" (GOINSECURE={})", r.value))
        .unwrap_or_else(|| " (GOINSECURE matched it)".to_string());
    Some(format!(
        "{} was fetched from {host} over plain http{rule}: anyone on the path can read or \
         alter it; serve https and drop the GOINSECURE entry",
        rec.module
    ))
}

/// Not verified by the checksum database, and why.
fn unverified(rec: &ModuleRecord, ctx: &DirectCtx<'_>, repo: &str) -> String {
    let m = &rec.module;
    let subject = match &rec.version {
        Some(v) => format!("{m}@{v}"),
        None => m.clone(),
    };
    let reason = match ctx.env {
        Some(env) if env.sumdb_off() => "GOSUMDB=off".to_string(),
        Some(env) => match env.nosumdb(m) {
            Some(r) => {
                let default = (r.var == "GOPRIVATE").then_some("GONOSUMDB");
                format!("it matched {}", r.describe(default))
            }
            None => "no checksum lookup for it was seen (go.sum may already have held it)".into(),
        },
        None => "no checksum database lookup for it was seen: GOSUMDB=off, GONOSUMDB or GOPRIVATE \
                 matched it, or go.sum already held it"
            .into(),
    };
    format!(
        "{subject} was not verified by the checksum database ({reason}): the go command trusts \
         what {repo} served"
    )
}
