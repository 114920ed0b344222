//! Verdicts: from a module's requests to an outcome and one sentence a user can act on,
//! following the go command's real fallback rules (docs/goproxy-protocol.md §1.3–1.4).

use super::cause::{Cause, INVALID_RESPONSE};
use super::classify::Kind;
pub use super::judgement::{artifact_name, Outcome, Problem, Severity};
pub(crate) use super::judgement::{
    cause_of, proxy_name, status_text, step_name, Finding, JudgeCtx, Judgement, SumdbDown,
};
use super::module::{Attempt, ModuleRecord};
pub(crate) use super::sentences::sumdb_sentence;
use super::sentences::{
    checksum_problem, failure_sentence, invalid_response_sentence, redirect_failure,
    sumdb_unreachable,
};

/// Artifacts in the order they are judged.
const ARTIFACTS: [Kind; 6] = [
    Kind::Info,
    Kind::Mod,
    Kind::Zip,
    Kind::SumdbLookup,
    Kind::List,
    Kind::Latest,
];

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
        } else if last.status.is_none() && last.error.as_deref() == Some("one-way") {
            // The capture holds the client's packets only: nothing is known of the answer.
            Some(Finding {
                inferred: true,
                ..Finding::new(
                    Outcome::Incomplete,
                    Severity::Warning,
                    format!(
                        "the {} request to {} was captured, but no packet of the server's \
                         was: the capture holds one direction only (a filter such as `src \
                         host`), so its answer is not known: capture both directions",
                        artifact_name(kind),
                        proxy_name(last),
                    ),
                    Some(Cause::Capture),
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
    // A 404/410 is a fallback's "not here": what such answers cost is told once per proxy
    // (session/timing_verdicts.rs, "served nothing"), not again as slowness per module.
    let slowest = rec
        .attempts
        .iter()
        .filter(|a| a.ttfb_ms.is_some() && !matches!(a.status, Some(404 | 410)))
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
