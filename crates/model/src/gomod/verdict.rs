//! Verdicts: from a module's requests to an outcome and one sentence a user can act on,
//! following the go command's real fallback rules (docs/goproxy-protocol.md §1.3–1.4).

use super::cause::{Cause, INVALID_RESPONSE};
use super::classify::Kind;
use super::goproxy::GoproxyList;
use super::module::{Attempt, ModuleRecord};
use super::sumdb::Sums;
use gomodwatch_wire::vocab::time::Ts;
use serde::Serialize;
use std::net::SocketAddr;

/// How a module@version went (its `outcome`).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every artifact the go command asked for was served.
    Ok,
    /// Every proxy said 404/410 (and the walk ended there).
    NotFound,
    /// Some requests were never answered (the capture ended, bytes were lost).
    Incomplete,
    /// A request failed in a way the go command does not move on from.
    Failed,
    /// The zip's `h1:` differs from the checksum database's or go.sum's.
    ChecksumMismatch,
}

impl Outcome {
    /// The name the NDJSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not-found",
            Outcome::Incomplete => "incomplete",
            Outcome::Failed => "failed",
            Outcome::ChecksumMismatch => "checksum-mismatch",
        }
    }
}

/// How serious a problem is; problems are listed most serious first.
#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    #[default]
    Info,
    /// Something slowed the run or may fail another time.
    Warning,
    /// Something failed.
    Error,
    /// The run could not have worked.
    Critical,
}

/// A problem of the run, in one sentence a user can act on (the summary's `problems`).
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Problem {
    /// How serious.
    pub severity: Severity,
    /// What happened and what to change.
    pub text: String,
    /// `module@version` the problem is about, if any.
    pub subject: Option<String>,
    pub(crate) proxy: Option<String>,
    /// Extension: the class of the cause (docs/GO-ERRORS.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Extension: the step that failed (`info`, `mod`, `zip`, `list`, `latest`,
    /// `sumdb`, `connect`, `tls`, `dns`, `tunnel`, `vcs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    /// Extension: the host (or address) the problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Extension: true when the cause is an inference the traffic suggests but does not
    /// prove (the sentence says so too).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
}

/// The checksum database could not be reached: where, why, how often.
#[derive(Debug, Clone)]
pub(crate) struct SumdbDown {
    /// Its URL (GOSUMDB's, or `https://NAME`).
    pub(crate) url: String,
    /// Who failed, for sentences ("the checksum database https://sum.golang.org (GOSUMDB)").
    pub(crate) who: String,
    /// The address the go command dialled (none when the name did not resolve).
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) cause: Cause,
    /// What happened, for sentences ("refused 2 connections").
    pub(crate) what: String,
}

impl Problem {
    /// The same problem with its cause class, step and host.
    pub(crate) fn caused(
        mut self,
        cause: Cause,
        step: &'static str,
        host: impl Into<Option<String>>,
    ) -> Self {
        self.cause = Some(cause);
        self.step = Some(step);
        self.host = host.into();
        self
    }
}

/// What the verdict may consult besides the module's own requests.
pub(crate) struct JudgeCtx<'a> {
    pub(crate) goproxy: Option<&'a GoproxyList>,
    pub(crate) slo_ms: f64,
    /// Hashes from checksum database lookups seen in the traffic, and who served them.
    pub(crate) sumdb: Option<&'a Sums>,
    pub(crate) sumdb_source: Option<&'a str>,
    /// Hashes from the user's go.sum.
    pub(crate) gosum: Option<&'a Sums>,
    /// The end of the traffic seen, for "never answered" waits.
    pub(crate) end: Ts,
    /// Packets the capture lost (dropped or gaps).
    pub(crate) lost: u64,
    /// The losses are plaintext the MITM proxy's tap dropped (its decoder fell behind),
    /// not packets a capture missed: no capture filter would help.
    pub(crate) lost_in_tap: bool,
    /// The checksum database could not be reached, and this module needed it (GOSUMDB
    /// not off, not in GONOSUMDB/GOPRIVATE, not in go.sum).
    pub(crate) sumdb_down: Option<&'a SumdbDown>,
    /// Redirect targets (origins) that refused or never answered.
    pub(crate) redirects_down: &'a [(String, Cause)],
    /// GOPROXY has `direct`, and the module's code host never resolved.
    pub(crate) direct_unresolved: Option<&'a str>,
}

pub(crate) struct Judgement {
    pub(crate) outcome: Outcome,
    pub(crate) problem: Option<Problem>,
}

/// Artifacts in the order they are judged.
const ARTIFACTS: [Kind; 6] = [
    Kind::Info,
    Kind::Mod,
    Kind::Zip,
    Kind::SumdbLookup,
    Kind::List,
    Kind::Latest,
];

/// How an artifact is written in sentences (`.zip`, `@v/list`, ...).
pub fn artifact_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Info => ".info",
        Kind::Mod => ".mod",
        Kind::Zip => ".zip",
        Kind::List => "@v/list",
        Kind::Latest => "@latest",
        Kind::SumdbLookup => "checksum lookup",
        Kind::SumdbTile => "checksum tile",
        Kind::SumdbSupported => "sumdb/supported",
        _ => "request",
    }
}

fn proxy_name(a: &Attempt) -> &str {
    a.proxy.as_deref().unwrap_or("an unknown proxy")
}

fn status_text(code: u16) -> String {
    let reason = match code {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        410 => " Gone",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    };
    format!("{code}{reason}")
}

/// The step an artifact is, as problems name it.
pub(crate) fn step_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Info => "info",
        Kind::Mod => "mod",
        Kind::Zip => "zip",
        Kind::List => "list",
        Kind::Latest => "latest",
        Kind::SumdbLookup | Kind::SumdbTile | Kind::SumdbSupported | Kind::SumdbLatest => "sumdb",
        Kind::GoGet | Kind::Vcs => "vcs",
        _ => "request",
    }
}

/// The cause class of an attempt that did not serve its artifact.
pub(crate) fn cause_of(a: &Attempt) -> Option<Cause> {
    match (a.status, a.error.as_deref()) {
        (_, Some(e)) if Cause::of_error(e).is_some() => Cause::of_error(e),
        (Some(s), _) if s != 200 => Some(Cause::of_status(s)),
        (None, None) => Some(Cause::Hang),
        _ => None,
    }
}

/// One candidate verdict of a module: what happened to one artifact.
struct Finding {
    outcome: Outcome,
    severity: Severity,
    text: String,
    cause: Option<Cause>,
    inferred: bool,
}

impl Finding {
    fn new(outcome: Outcome, severity: Severity, text: String, cause: Option<Cause>) -> Self {
        Finding {
            outcome,
            severity,
            text,
            cause,
            inferred: false,
        }
    }
}

pub(crate) fn judge(rec: &ModuleRecord, ctx: &JudgeCtx<'_>) -> Judgement {
    let subject = Some(match &rec.version {
        Some(v) => format!("{}@{}", rec.module, v),
        None => rec.module.clone(),
    });
    let problem = |severity, text: String, proxy: Option<&str>| Problem {
        severity,
        text,
        subject: subject.clone(),
        proxy: proxy.map(str::to_string),
        ..Default::default()
    };
    if let Some(p) = checksum_problem(rec, ctx) {
        return Judgement {
            outcome: Outcome::ChecksumMismatch,
            problem: Some(Problem {
                cause: Some(Cause::Checksum),
                step: Some(p.2),
                ..problem(Severity::Critical, p.0, p.1.as_deref())
            }),
        };
    }
    let versioned = rec.version.is_some();
    let mut worst: Option<(Finding, Kind, Option<String>)> = None;
    for kind in ARTIFACTS {
        // For a known version, @latest and @v/list failures are not what went wrong.
        if versioned && matches!(kind, Kind::List | Kind::Latest) {
            continue;
        }
        let walk: Vec<&Attempt> = rec.attempts_of(kind).collect();
        let Some(last) = walk.last() else { continue };
        let verdict = if last.ok() {
            unusable_zip(rec, kind, last)
        } else if last.error.as_deref() == Some(INVALID_RESPONSE) {
            Some(Finding::new(
                Outcome::Failed,
                Severity::Error,
                invalid_response_sentence(last, kind, ctx),
                Some(Cause::InvalidResponse),
            ))
        } else if last.status == Some(200) {
            Some(Finding {
                inferred: true,
                ..Finding::new(
                    Outcome::Incomplete,
                    Severity::Warning,
                    format!(
                        "the {} from {} was not captured in full ({})",
                        artifact_name(kind),
                        proxy_name(last),
                        last.error.as_deref().unwrap_or("cut short")
                    ),
                    Some(Cause::Capture),
                )
            })
        } else if let Some(loc) = last.location.as_deref() {
            Some(redirect_failure(last, kind, loc, ctx))
        } else if let Some(host) = ctx.direct_unresolved.filter(|_| last.not_found()) {
            // The proxies said "not here"; `direct` then failed at the code host's name.
            Some(Finding::new(
                Outcome::Failed,
                Severity::Error,
                format!(
                    "the proxies answered {} for the {}, so GOPROXY's direct sent the go command \
                     to the code host, and the DNS lookup of {host} failed (`dial tcp: lookup \
                     {host}: no such host`): let it resolve {host} (DNS, a VPN), or serve the \
                     module from a proxy; for a private module, check GOPRIVATE/GONOPROXY",
                    last.answer(),
                    artifact_name(kind)
                ),
                Some(Cause::Dns),
            ))
        } else if last.not_found() {
            (kind != Kind::Latest).then(|| {
                let answers: Vec<String> = walk
                    .iter()
                    .map(|a| match (a.status, &a.error) {
                        (Some(s), _) => format!("{} answered {s}", proxy_name(a)),
                        (None, Some(e)) => format!("{}: {e}", proxy_name(a)),
                        (None, None) => format!("{}: no answer", proxy_name(a)),
                    })
                    .collect();
                Finding::new(
                    Outcome::NotFound,
                    Severity::Warning,
                    format!(
                        "{} not found at any proxy ({}): check the path and version, or \
                         GOPRIVATE/GONOPROXY if it is private",
                        artifact_name(kind),
                        dedup(answers).join(", ")
                    ),
                    Some(Cause::NotFound),
                )
            })
        } else if ctx.lost > 0 && last.status.is_none() && last.error.as_deref() != Some("refused")
        {
            // No answer was seen, but the capture lost packets: it may have been there.
            let why = if ctx.lost_in_tap {
                format!(
                    "seen, but gomodwatch's decoder fell behind and dropped {} chunks of the \
                     proxied traffic, so it may have been answered",
                    ctx.lost
                )
            } else {
                format!(
                    "captured, but the capture lost {} packets, so it may have been answered: \
                     capture again with a narrower filter",
                    ctx.lost
                )
            };
            Some(Finding {
                inferred: true,
                ..Finding::new(
                    Outcome::Incomplete,
                    Severity::Warning,
                    format!(
                        "no answer from {} to the {} request was {why}",
                        proxy_name(last),
                        artifact_name(kind),
                    ),
                    Some(Cause::Capture),
                )
            })
        } else if last.status.is_none() && last.error.as_deref() == Some("no-response") {
            // A hang is not an error the go command acts on: it has no response timeout
            // and is still waiting (docs/goproxy-protocol.md §5.2), so no separator helps.
            let p = proxy_name(last);
            // The download is stuck: as serious as a failure.
            Some(Finding::new(
                Outcome::Incomplete,
                Severity::Error,
                format!(
                    "proxy {p} accepted the connection but has not answered the {} request after \
                     {:.1} s; the go command has no response timeout and waits until TCP gives \
                     up — '|' does not fall back from a hang: fix or remove {p}",
                    artifact_name(kind),
                    ctx.end.ms_since(last.ts) / 1000.0
                ),
                Some(Cause::Hang),
            ))
        } else {
            Some(Finding::new(
                Outcome::Failed,
                Severity::Error,
                failure_sentence(last, kind, ctx),
                cause_of(last),
            ))
        };
        if let Some(f) = verdict {
            if worst
                .as_ref()
                .is_none_or(|w| (f.outcome, f.severity) > (w.0.outcome, w.0.severity))
            {
                worst = Some((f, kind, last.proxy.as_deref().map(str::to_string)));
            }
        }
    }
    if let Some((f, kind, proxy)) = worst {
        return Judgement {
            outcome: f.outcome,
            problem: Some(Problem {
                cause: f.cause,
                step: Some(step_name(kind)),
                host: proxy.clone(),
                inferred: f.inferred,
                ..problem(f.severity, f.text, proxy.as_deref())
            }),
        };
    }
    if let Some(p) = sumdb_unreachable(rec, ctx) {
        return Judgement {
            outcome: Outcome::Failed,
            problem: Some(Problem {
                cause: Some(p.1),
                step: Some("sumdb"),
                host: Some(p.2),
                ..problem(Severity::Error, p.0, None)
            }),
        };
    }
    // It worked; say so if it worked badly.
    let degraded = fallback_after_error(rec)
        .map(|(t, p, cause, kind)| Problem {
            cause,
            step: Some(step_name(kind)),
            host: p.clone(),
            ..problem(Severity::Warning, t, p.as_deref())
        })
        .or_else(|| slow_problem(rec, ctx).map(|(t, p)| problem(Severity::Info, t, p.as_deref())));
    Judgement {
        outcome: Outcome::Ok,
        problem: degraded,
    }
}

/// Everything came from the proxies, but the go command must verify the download with a
/// checksum database it could not reach: it fails with `verifying module: ...`.
fn sumdb_unreachable(rec: &ModuleRecord, ctx: &JudgeCtx<'_>) -> Option<(String, Cause, String)> {
    let down = ctx.sumdb_down?;
    let downloaded = rec.served_by(Kind::Zip).is_some() || rec.served_by(Kind::Mod).is_some();
    let verified = rec.attempts_of(Kind::SumdbLookup).any(|a| a.ok());
    (downloaded && !verified && rec.version.is_some()).then(|| {
        let m = format!("{}@{}", rec.module, rec.version.as_deref().unwrap_or(""));
        (sumdb_sentence(down, &m), down.cause, down.url.clone())
    })
}

/// Why a module could not be verified: the checksum database could not be reached.
pub(crate) fn sumdb_sentence(down: &SumdbDown, m: &str) -> String {
    let says = match down.cause {
        Cause::Refused => "connection refused".to_string(),
        Cause::Timeout => "i/o timeout".to_string(),
        Cause::Dns => "lookup ...".to_string(),
        _ => down.what.clone(),
    };
    let at = down.addr.map(|a| format!(" at {a}")).unwrap_or_default();
    format!(
        "{} {}{at}, so the go command cannot verify {m} and fails (`verifying {m}: ... \
         {says}`): fix GOSUMDB or the server (or let the network reach it); for private \
         modules, list them in GONOSUMDB or GOPRIVATE",
        down.who, down.what
    )
}

/// A redirect the go command followed with no answer seen from where it went (a CDN):
/// the download failed there.
fn redirect_failure(a: &Attempt, kind: Kind, location: &str, ctx: &JudgeCtx<'_>) -> Finding {
    let origin = gomodwatch_wire::vocab::url::parse(location).map(|u| {
        format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        )
    });
    let cause = origin
        .as_deref()
        .and_then(|o| ctx.redirects_down.iter().find(|(r, _)| r == o))
        .map(|(_, c)| *c);
    let what = match cause {
        Some(Cause::Refused) => "refused the connection",
        Some(_) => "never answered",
        None => "gave no answer that was seen",
    };
    let host = origin.as_deref().unwrap_or(location);
    Finding {
        inferred: cause.is_none(),
        ..Finding::new(
            Outcome::Failed,
            Severity::Error,
            format!(
                "proxy {} redirected the {} to {host} (a CDN), which {what}: the go command \
                 follows the redirect, so the download failed there — the download host is down \
                 or blocked from here; ask whoever runs the proxy, or let {host} through",
                proxy_name(a),
                artifact_name(kind),
            ),
            cause,
        )
    }
}

/// A 401/403 from a proxy: what the go command sent, and what to change. It sends
/// `.netrc`/GOAUTH credentials only over https (cmd/go/internal/auth), so `,` versus `|`
/// is not the fix.
fn credentials_sentence(a: &Attempt, status: u16, cause: &str) -> String {
    let https = a.url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let host = a
        .proxy
        .as_deref()
        .and_then(gomodwatch_wire::vocab::url::parse)
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the proxy's host".into());
    match (https, a.authorization.as_deref()) {
        (false, _) => format!(
            "{cause}: it wants credentials, and the go command sends them (.netrc, GOAUTH) only \
             over https, never to an http:// proxy — serve the proxy over https and put its \
             credentials in $HOME/.netrc (machine {host}) or GOAUTH"
        ),
        (true, None) => format!(
            "{cause}, and the go command sent no credentials: add them for {host} to \
             $HOME/.netrc (machine {host} login USER password ...) or GOAUTH"
        ),
        (true, Some(auth)) if status == 401 => format!(
            "{cause} to the credentials the go command sent ({auth}): the user or password in \
             $HOME/.netrc (machine {host}) or GOAUTH is wrong"
        ),
        (true, Some(auth)) => format!(
            "{cause} to the credentials the go command sent ({auth}): that user may not read \
             this module; ask for access, or use another account in $HOME/.netrc (machine \
             {host}) or GOAUTH"
        ),
    }
}

/// A 200 whose body the go command cannot use: `.info`/`@latest` that is not JSON (an
/// HTML block page from a web filter, a captive portal, a misconfigured server).
fn invalid_response_sentence(a: &Attempt, kind: Kind, ctx: &JudgeCtx<'_>) -> String {
    let p = proxy_name(a);
    let looks = if a.html { "an HTML page" } else { "not JSON" };
    let walk = match ctx
        .goproxy
        .filter(|l| l.source != super::goproxy::ChainSource::Inferred)
        .and_then(|l| l.position(p).map(|i| (l, i)))
    {
        Some((l, i)) if i + 1 < l.entries.len() && !l.entries[i].fallback_on_error => {
            "; GOPROXY's ',' does not fall back from it ('|' would)"
        }
        _ => "",
    };
    format!(
        "proxy {p} answered the {} request with 200 but the body is {looks}, not the JSON \
         the go command expects; it fails with `invalid response from proxy`{walk}: a web \
         filter or captive portal answers in the proxy's place, or the URL in GOPROXY is not \
         a module proxy — fix GOPROXY or the filter",
        artifact_name(kind)
    )
}

/// A zip that arrived in full but cannot be hashed for a reason of its own (not a zip, a
/// corrupt deflate stream, past the 500 MiB limit): the go command refuses it, so the
/// download failed whatever its status said. Hash errors that are the observer's limits
/// (a body not seen in full, `--no-hash`) blame nothing.
fn unusable_zip(rec: &ModuleRecord, kind: Kind, last: &Attempt) -> Option<Finding> {
    if kind != Kind::Zip {
        return None;
    }
    let why = super::h1::invalid_zip_reason(rec.zip_hash_error.as_deref()?)?;
    Some(Finding::new(
        Outcome::Failed,
        Severity::Error,
        format!(
            "the .zip from {} is not a valid module zip: {why}; the go command will refuse it",
            proxy_name(last)
        ),
        Some(Cause::InvalidResponse),
    ))
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// Why the go command gave up at this attempt, in words a user can act on.
fn failure_sentence(a: &Attempt, kind: Kind, ctx: &JudgeCtx<'_>) -> String {
    let p = proxy_name(a);
    let what = artifact_name(kind);
    let cause = match (a.status, a.error.as_deref()) {
        (_, Some("refused")) => format!("proxy {p} refused the connection for {what}"),
        (_, Some("reset")) => format!("proxy {p} reset the connection during {what}"),
        (_, Some("incomplete")) => {
            format!("proxy {p} closed the connection before the {what} body was complete")
        }
        (Some(s), _) => format!("proxy {p} answered {}", status_text(s)),
        (None, Some(e)) => format!("proxy {p} failed for {what}: {e}"),
        (None, None) => format!("proxy {p} gave no answer for {what}"),
    };
    let cause = if a.status.is_some() {
        format!("{cause} for {what}")
    } else {
        cause
    };
    if kind == Kind::SumdbLookup {
        return format!("{cause}, so the go command cannot verify the download");
    }
    if let Some(s @ (401 | 403)) = a.status {
        return credentials_sentence(a, s, &cause);
    }
    // Only a chain the user configured (not one guessed from the traffic) can say what the
    // separator after this proxy is.
    let configured = ctx
        .goproxy
        .filter(|l| l.source != super::goproxy::ChainSource::Inferred);
    match configured.and_then(|l| l.position(p).map(|i| (l, i))) {
        Some((l, i)) if i + 1 == l.entries.len() => {
            format!("{cause}, and it is the last entry in GOPROXY")
        }
        Some((l, i)) if l.entries[i].fallback_on_error => {
            format!("{cause}; GOPROXY's '|' would fall back, but nothing else answered")
        }
        Some(_) => format!(
            "{cause} and GOPROXY's ',' stops the walk there; use '|' after it to fall back on errors"
        ),
        None => format!(
            "{cause} and the go command stopped there (a ',' after it in GOPROXY stops the \
             walk; '|' would fall back)"
        ),
    }
}

/// A request that failed with an error (not 404/410) and was then served by another proxy:
/// the chain works only because of `|`, and every request pays for the failure.
fn fallback_after_error(
    rec: &ModuleRecord,
) -> Option<(String, Option<String>, Option<Cause>, Kind)> {
    for kind in ARTIFACTS {
        let walk: Vec<&Attempt> = rec.attempts_of(kind).collect();
        for (i, a) in walk.iter().enumerate() {
            if a.ok() || a.not_found() || a.status == Some(200) {
                continue;
            }
            let Some(next) = walk[i + 1..].iter().find(|b| b.ok() && b.proxy != a.proxy) else {
                continue;
            };
            let what = match (a.status, a.error.as_deref()) {
                (Some(s), _) => format!("answered {}", status_text(s)),
                (None, Some("refused")) => "refused the connection".to_string(),
                (None, Some(e)) => format!("failed ({e})"),
                (None, None) => "gave no answer".to_string(),
            };
            return Some((
                format!(
                    "proxy {} {what} for {}; GOPROXY's '|' fell back to {}, so every request \
                     pays that failed round trip: fix {0} or remove it",
                    proxy_name(a),
                    artifact_name(kind),
                    proxy_name(next)
                ),
                a.proxy.as_deref().map(str::to_string),
                cause_of(a),
                kind,
            ));
        }
    }
    None
}

fn slow_problem(rec: &ModuleRecord, ctx: &JudgeCtx<'_>) -> Option<(String, Option<String>)> {
    let slowest = rec
        .attempts
        .iter()
        .filter(|a| a.ttfb_ms.is_some())
        .max_by(|a, b| {
            a.ttfb_ms
                .unwrap_or(0.0)
                .total_cmp(&b.ttfb_ms.unwrap_or(0.0))
        })?;
    let t = slowest.ttfb_ms?;
    (t > ctx.slo_ms).then(|| {
        (
            format!(
                "proxy {} took {t:.0} ms to first byte for {} (SLO {:.0} ms)",
                proxy_name(slowest),
                artifact_name(slowest.kind),
                ctx.slo_ms
            ),
            slowest.proxy.as_deref().map(str::to_string),
        )
    })
}

/// Compares the hashes seen on the wire with the checksum database and go.sum.
fn checksum_problem(
    rec: &ModuleRecord,
    ctx: &JudgeCtx<'_>,
) -> Option<(String, Option<String>, &'static str)> {
    let by = rec.zip_proxy.as_deref().unwrap_or("the proxy");
    let mod_by = rec.served_by(Kind::Mod).unwrap_or("the proxy");
    let db = ctx.sumdb_source.unwrap_or("the checksum database");
    let checks = [
        (
            rec.zip_h1.as_deref(),
            ctx.sumdb.and_then(|s| s.zip.as_deref()),
            "zip",
            by,
            db,
        ),
        (
            rec.zip_h1.as_deref(),
            ctx.gosum.and_then(|s| s.zip.as_deref()),
            "zip",
            by,
            "go.sum",
        ),
        (
            rec.mod_h1.as_deref(),
            ctx.sumdb.and_then(|s| s.gomod.as_deref()),
            "go.mod",
            mod_by,
            db,
        ),
        (
            rec.mod_h1.as_deref(),
            ctx.gosum.and_then(|s| s.gomod.as_deref()),
            "go.mod",
            mod_by,
            "go.sum",
        ),
    ];
    checks.into_iter().find_map(|(seen, want, what, proxy, source)| {
        let (seen, want) = (seen?, want?);
        (seen != want).then(|| {
            (
                format!(
                    "checksum mismatch: the {what} served by {proxy} hashes to {seen}, but {source} \
                     says {want}; the bits were altered, so do not trust {proxy}"
                ),
                Some(proxy.to_string()),
                if what == "zip" { "zip" } else { "mod" },
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.info` request with no answer seen, in a session that lost `lost` somethings.
    fn unanswered(lost: u64, lost_in_tap: bool) -> String {
        let mut rec = ModuleRecord::new("example.com/m".into(), Some("v1.0.0".into()), Ts(0));
        rec.add(Attempt {
            exchange: Some(1),
            proxy: Some("https://p.test".into()),
            kind: Kind::Info,
            status: None,
            error: None,
            ttfb_ms: None,
            count: 1,
            total_ms: None,
            url: Some("https://p.test/example.com/m/@v/v1.0.0.info".into()),
            redirected_to: None,
            step: None,
            bytes: 0,
            ts: Ts(0),
            connection: None,
            setup: Default::default(),
            h2_reused: false,
            html: false,
            authorization: None,
            location: None,
        });
        let ctx = JudgeCtx {
            goproxy: None,
            slo_ms: 80.0,
            sumdb: None,
            sumdb_source: None,
            gosum: None,
            end: Ts(1_000_000),
            lost,
            lost_in_tap,
            sumdb_down: None,
            direct_unresolved: None,
            redirects_down: &[],
        };
        judge(&rec, &ctx)
            .problem
            .map(|p| p.text)
            .unwrap_or_default()
    }

    /// Losses are told in the source's own terms: a capture's packets (a narrower filter
    /// helps), or the MITM tap's chunks (no filter would: it is gomodwatch falling behind).
    #[test]
    fn a_missing_answer_is_blamed_on_what_was_actually_lost() {
        let capture = unanswered(12, false);
        assert!(capture.contains("the capture lost 12 packets"), "{capture}");
        assert!(capture.contains("narrower filter"), "{capture}");
        let tap = unanswered(12, true);
        assert!(
            tap.contains("decoder fell behind and dropped 12 chunks"),
            "{tap}"
        );
        assert!(!tap.contains("filter") && !tap.contains("packets"), "{tap}");
    }
}
