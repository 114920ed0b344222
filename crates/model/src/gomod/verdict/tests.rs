use super::*;
use gomodwatch_wire::vocab::time::Ts;

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
