//! The vocabulary of verdicts: outcomes, severities, problems, and what a verdict may
//! consult (gomod::verdict judges with it, gomod::sentences words it).

use super::cause::Cause;
use super::classify::Kind;
use super::goproxy::GoproxyList;
use super::module::Attempt;
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

pub(crate) fn proxy_name(a: &Attempt) -> &str {
    a.proxy.as_deref().unwrap_or("an unknown proxy")
}

pub(crate) fn status_text(code: u16) -> String {
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
pub(crate) struct Finding {
    pub(crate) outcome: Outcome,
    pub(crate) severity: Severity,
    pub(crate) text: String,
    pub(crate) cause: Option<Cause>,
    pub(crate) inferred: bool,
}

impl Finding {
    pub(crate) fn new(
        outcome: Outcome,
        severity: Severity,
        text: String,
        cause: Option<Cause>,
    ) -> Self {
        Finding {
            outcome,
            severity,
            text,
            cause,
            inferred: false,
        }
    }
}
