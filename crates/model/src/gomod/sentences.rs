//! The per-module sentences for the causes the model tells apart: a body the go command
//! cannot use, credentials, a CDN that failed, a checksum database out of reach.

use super::judgement::{
    artifact_name, proxy_name, status_text, Finding, JudgeCtx, Outcome, Severity, SumdbDown,
};
use crate::gomod::cause::Cause;
use crate::gomod::classify::Kind;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::Sums;

/// Everything came from the proxies, but the go command must verify the download with a
/// checksum database it could not reach: it fails with `verifying module: ...`.
pub(super) fn sumdb_unreachable(
    rec: &ModuleRecord,
    ctx: &JudgeCtx<'_>,
) -> Option<(String, Cause, String)> {
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
pub(super) fn redirect_failure(
    a: &Attempt,
    kind: Kind,
    location: &str,
    ctx: &JudgeCtx<'_>,
) -> Finding {
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
pub(super) fn credentials_sentence(a: &Attempt, status: u16, cause: &str) -> String {
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
pub(super) fn invalid_response_sentence(a: &Attempt, kind: Kind, ctx: &JudgeCtx<'_>) -> String {
    let p = proxy_name(a);
    if kind == Kind::Mod {
        let looks = if a.html {
            "an HTML page, not a go.mod"
        } else {
            "a go.mod that does not declare this module"
        };
        return format!(
            "proxy {p} answered the go.mod request with 200 but the body is {looks}; the go \
             command fails with `parsing go.mod: module declares its path as: ... but was \
             required as: ...` (a 200 is not a miss, so no GOPROXY separator falls back \
             from it): a web filter answers in the proxy's place, or the proxy serves a wrong \
             go.mod for this version — fix GOPROXY, the filter, or the proxy's copy"
        );
    }
    let looks = if a.html { "an HTML page" } else { "not JSON" };
    let walk = match ctx
        .goproxy
        .filter(|l| l.source != crate::gomod::goproxy::ChainSource::Inferred)
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

/// Why the go command gave up at this attempt, in words a user can act on.
pub(super) fn failure_sentence(a: &Attempt, kind: Kind, ctx: &JudgeCtx<'_>) -> String {
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
        .filter(|l| l.source != crate::gomod::goproxy::ChainSource::Inferred);
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

/// What an authority (the checksum database, go.sum) says a zip or go.mod hashes to.
fn wanted<'a>(what: &str, sum: Option<&'a Sums>) -> Option<&'a str> {
    let sum = sum?;
    if what == "zip" {
        sum.zip.as_deref()
    } else {
        sum.gomod.as_deref()
    }
}

/// Compares the hashes seen on the wire with the checksum database and go.sum.
pub(super) fn checksum_problem(
    rec: &ModuleRecord,
    ctx: &JudgeCtx<'_>,
) -> Option<(String, Option<String>, &'static str)> {
    let by = rec.zip_proxy.as_deref().unwrap_or("the proxy");
    let mod_by = rec.served_by(Kind::Mod).unwrap_or("the proxy");
    let db = ctx.sumdb_source.unwrap_or("the checksum database");
    let other = rec.other_mod_h1.as_ref();
    let other_by = other.and_then(|(_, p)| p.as_deref()).unwrap_or("the proxy");
    let other = other.map(|(h, _)| h.as_str());
    // What was served (zip, go.mod, an earlier go.mod for the same version the go command read
    // too) against each authority that says what it should hash to, in that order.
    let served = [
        (rec.zip_h1.as_deref(), "zip", by),
        (rec.mod_h1.as_deref(), "go.mod", mod_by),
        (other, "go.mod", other_by),
    ];
    let mut checks = served.into_iter().flat_map(|(seen, what, proxy)| {
        [(ctx.sumdb, db), (ctx.gosum, "go.sum")]
            .map(|(sum, source)| (seen, wanted(what, sum), what, proxy, source))
    });
    checks.find_map(|(seen, want, what, proxy, source)| {
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
