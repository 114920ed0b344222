use super::super::sumdb::Sums;
use super::*;
use gomodwatch_wire::vocab::time::Ts;

const A: &str = "https://a.test";
const B: &str = "https://b.test";

/// One request for `kind` of example.com/m@v1.0.0 to `proxy`, answered `status` (or
/// failed with `error`), its first byte after `ttfb_ms`.
fn attempt(
    proxy: &str,
    kind: Kind,
    status: Option<u16>,
    error: Option<&str>,
    ttfb_ms: Option<f64>,
) -> Attempt {
    Attempt {
        exchange: Some(1),
        proxy: Some(proxy.into()),
        kind,
        status,
        error: error.map(Into::into),
        ttfb_ms,
        count: 1,
        total_ms: ttfb_ms,
        url: Some(format!("{proxy}/example.com/m/@v/v1.0.0.{kind:?}").into()),
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
    }
}

fn record(attempts: impl IntoIterator<Item = Attempt>) -> ModuleRecord {
    let mut rec = ModuleRecord::new("example.com/m".into(), Some("v1.0.0".into()), Ts(0));
    for a in attempts {
        rec.add(a);
    }
    rec
}

fn ctx() -> JudgeCtx<'static> {
    JudgeCtx {
        goproxy: None,
        slo_ms: 80.0,
        sumdb: None,
        sumdb_source: None,
        gosum: None,
        end: Ts(1_000_000),
        lost: 0,
        lost_in_tap: false,
        sumdb_down: None,
        direct_unresolved: None,
        redirects_down: &[],
    }
}

/// A `.info` request with no answer seen, in a session that lost `lost` somethings.
fn unanswered(lost: u64, lost_in_tap: bool) -> String {
    let rec = record([attempt(A, Kind::Info, None, None, None)]);
    let ctx = JudgeCtx {
        lost,
        lost_in_tap,
        ..ctx()
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

// The rest pin what the mutation check (benches/README.md) found no unit test checking.

/// "It may have been answered" only when the capture lost something and no answer was
/// seen; a reset with nothing lost is a failure, and a refusal is never a capture's loss.
#[test]
fn may_have_been_answered_needs_a_loss_and_no_answer() {
    let reset = record([attempt(A, Kind::Info, None, Some("reset"), None)]);
    let j = judge(&reset, &ctx());
    assert_eq!(j.outcome, Outcome::Failed);
    let p = j.problem.unwrap();
    assert!(!p.inferred && !p.text.contains("may have been"), "{p:?}");
    let lossy = JudgeCtx { lost: 3, ..ctx() };
    let refused = record([attempt(A, Kind::Info, None, Some("refused"), None)]);
    assert_eq!(judge(&refused, &lossy).outcome, Outcome::Failed);
    let j = judge(&reset, &lossy);
    assert_eq!(j.outcome, Outcome::Incomplete);
    assert!(j.problem.unwrap().inferred);
}

/// A failed artifact's problem carries its step, host, cause and whether it is inferred.
#[test]
fn a_failure_names_its_step_host_and_cause() {
    let rec = record([
        attempt(A, Kind::Info, Some(200), None, Some(5.0)),
        attempt(A, Kind::Zip, Some(500), None, Some(5.0)),
    ]);
    let j = judge(&rec, &ctx());
    assert_eq!(j.outcome, Outcome::Failed);
    let p = j.problem.unwrap();
    assert_eq!((p.step, p.host.as_deref()), (Some("zip"), Some(A)), "{p:?}");
    assert!(p.cause.is_some() && !p.inferred, "{p:?}");
    // A 200 whose body was cut: inferred, blamed on the capture.
    let cut = record([attempt(A, Kind::Zip, Some(200), Some("gap"), Some(5.0))]);
    let p = judge(&cut, &ctx()).problem.unwrap();
    assert!(p.inferred, "{p:?}");
    assert_eq!(p.cause, Some(Cause::Capture));
}

/// A checksum mismatch says which artifact (its step) and is critical.
#[test]
fn a_checksum_mismatch_names_its_step() {
    let mut rec = record([attempt(A, Kind::Zip, Some(200), None, Some(5.0))]);
    rec.zip_h1 = Some("h1:served=".into());
    rec.zip_proxy = Some(A.into());
    let sums = Sums {
        zip: Some("h1:expected=".into()),
        gomod: None,
    };
    let ctx = JudgeCtx {
        sumdb: Some(&sums),
        ..ctx()
    };
    let j = judge(&rec, &ctx);
    assert_eq!(j.outcome, Outcome::ChecksumMismatch);
    let p = j.problem.unwrap();
    assert_eq!(
        (p.severity, p.cause, p.step),
        (Severity::Critical, Some(Cause::Checksum), Some("zip"))
    );
}

/// A checksum database the go command could not reach fails a module it downloaded but
/// could not verify; the problem names the step and the database's host.
#[test]
fn an_unreachable_checksum_database_names_its_host() {
    let rec = record([
        attempt(A, Kind::Mod, Some(200), None, Some(5.0)),
        attempt(A, Kind::Zip, Some(200), None, Some(5.0)),
    ]);
    let down = SumdbDown {
        url: "https://sum.test".into(),
        who: "the checksum database https://sum.test (GOSUMDB)".into(),
        addr: None,
        cause: Cause::Refused,
        what: "refused 2 connections".into(),
    };
    let ctx = JudgeCtx {
        sumdb_down: Some(&down),
        ..ctx()
    };
    let j = judge(&rec, &ctx);
    assert_eq!(j.outcome, Outcome::Failed);
    let p = j.problem.unwrap();
    assert_eq!(
        (p.cause, p.step, p.host.as_deref()),
        (
            Some(Cause::Refused),
            Some("sumdb"),
            Some("https://sum.test")
        )
    );
}

/// An invalid zip fails the module; the same hash error does not blame a `.mod`.
#[test]
fn only_a_zip_is_judged_by_its_hash_error() {
    let mut rec = record([
        attempt(A, Kind::Mod, Some(200), None, Some(5.0)),
        attempt(A, Kind::Zip, Some(200), None, Some(5.0)),
    ]);
    rec.zip_hash_error = Some(format!("{}no end of central directory", h1_invalid()));
    let j = judge(&rec, &ctx());
    assert_eq!(j.outcome, Outcome::Failed);
    let p = j.problem.unwrap();
    assert_eq!(p.step, Some("zip"), "{p:?}");
    assert!(p.text.contains("no end of central directory"), "{p:?}");
    let mut no_zip = record([attempt(A, Kind::Mod, Some(200), None, Some(5.0))]);
    no_zip.zip_hash_error = rec.zip_hash_error.clone();
    assert_eq!(judge(&no_zip, &ctx()).outcome, Outcome::Ok);
}

fn h1_invalid() -> &'static str {
    super::super::h1::INVALID_ZIP
}

/// `,` after a 404 is the protocol working: no warning. `|` after a 500 is a chain that
/// works only because of the fallback: a warning naming both proxies, step and host.
#[test]
fn only_a_fallback_after_an_error_is_a_warning() {
    let after_404 = record([
        attempt(A, Kind::Info, Some(404), None, Some(5.0)),
        attempt(B, Kind::Info, Some(200), None, Some(5.0)),
    ]);
    let j = judge(&after_404, &ctx());
    assert_eq!(j.outcome, Outcome::Ok);
    assert!(j.problem.is_none(), "{:?}", j.problem);
    let after_500 = record([
        attempt(A, Kind::Info, Some(500), None, Some(5.0)),
        attempt(B, Kind::Info, Some(200), None, Some(5.0)),
    ]);
    let j = judge(&after_500, &ctx());
    assert_eq!(j.outcome, Outcome::Ok);
    let p = j.problem.unwrap();
    assert_eq!(p.severity, Severity::Warning);
    assert_eq!(
        (p.step, p.host.as_deref()),
        (Some("info"), Some(A)),
        "{p:?}"
    );
    assert!(p.text.contains("fell back to https://b.test"), "{p:?}");
}

/// Past the SLO, the slowest first byte is told (info); within it, nothing.
#[test]
fn a_slow_first_byte_is_told_with_its_proxy() {
    let slow = record([
        attempt(A, Kind::Info, Some(200), None, Some(30.0)),
        attempt(A, Kind::Zip, Some(200), None, Some(230.0)),
    ]);
    let p = judge(&slow, &ctx()).problem.unwrap();
    assert_eq!(p.severity, Severity::Info);
    assert_eq!(
        p.text,
        "proxy https://a.test took 230 ms to first byte for .zip (SLO 80 ms)"
    );
    // At the SLO exactly is within it.
    let fast = record([attempt(A, Kind::Info, Some(200), None, Some(80.0))]);
    assert!(judge(&fast, &ctx()).problem.is_none());
}

/// A slow "not here" (404/410) from a fallback is not told as this module's slowness: the
/// session says once what such answers cost (timing_verdicts.rs); a slow answer that
/// served the module still is.
#[test]
fn a_slow_not_found_is_not_the_modules_slowness() {
    let fell_back = record([
        attempt(A, Kind::Zip, Some(404), None, Some(250.0)),
        attempt(B, Kind::Zip, Some(200), None, Some(20.0)),
    ]);
    let judged = judge(&fell_back, &ctx());
    assert!(
        judged
            .problem
            .as_ref()
            .is_none_or(|p| !p.text.contains("to first byte")),
        "{:?}",
        judged.problem
    );
    let gone = record([
        attempt(A, Kind::Zip, Some(410), None, Some(250.0)),
        attempt(B, Kind::Zip, Some(200), None, Some(120.0)),
    ]);
    let p = judge(&gone, &ctx()).problem.unwrap();
    assert_eq!(
        p.text,
        "proxy https://b.test took 120 ms to first byte for .zip (SLO 80 ms)"
    );
}
