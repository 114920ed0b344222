//! Verdicts: from a module's requests to an outcome and one sentence a user can act on,
//! following the go command's real fallback rules (docs/goproxy-protocol.md §1.3–1.4).

mod sentences;

use super::cause::{Cause, INVALID_RESPONSE};
use super::classify::Kind;
use super::goproxy::GoproxyList;
use super::module::{Attempt, ModuleRecord};
use super::sumdb::Sums;
use gomodwatch_wire::vocab::time::Ts;
pub(crate) use sentences::sumdb_sentence;
use sentences::{
    checksum_problem, failure_sentence, invalid_response_sentence, redirect_failure,
    sumdb_unreachable,
};
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

#[cfg(test)]
mod tests;
