//! Where the time went, on real recordings (captures/timing/, made by captures/record.sh:
//! a real go command 1.27 over tools/delayline.py paths, the capture on the client's side):
//! the round trips against the path's configured delay, the server's own time against the
//! server's log, retransmissions against tshark's TCP analysis (recorded beside each
//! capture), and the verdicts — each capture gets its own and none of the others'.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

const FAR: &str = "is far, not slow";
const SLOW: &str = "is slow to answer, not far";
const LOSSY: &str = "loses packets";
const HAPPY_EYEBALLS: &str = "(Happy Eyeballs) and got through";
const SERVED_NOTHING: &str = "served nothing in this run";
const VERDICTS: [&str; 5] = [FAR, SLOW, LOSSY, HAPPY_EYEBALLS, SERVED_NOTHING];

struct Recording {
    events: Vec<Value>,
    meta: Value,
    name: &'static str,
}

fn dir() -> PathBuf {
    captures().join("timing")
}

/// Replays one recording, after checking the oracle: the go command itself succeeded.
fn recording(name: &'static str) -> Recording {
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir().join(format!("{name}.json"))).unwrap())
            .unwrap();
    assert_eq!(meta["exit_status"], 0, "{name}: the go command failed");
    let events = replay_json(&dir().join(format!("{name}.pcap")), &[]);
    Recording { events, meta, name }
}

impl Recording {
    fn problems(&self) -> Vec<Value> {
        of_type(&self.events, "summary")[0]["problems"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn texts(&self) -> Vec<String> {
        self.problems()
            .iter()
            .map(|p| p["text"].as_str().unwrap().to_string())
            .collect()
    }

    /// The verdicts it has must be exactly `expected`, and none is an error.
    fn verdicts_are(&self, expected: &[&str]) {
        let texts = self.texts();
        for v in VERDICTS {
            let has = texts.iter().any(|t| t.contains(v));
            assert_eq!(
                has,
                expected.contains(&v),
                "{}: verdict {v:?} {}: {texts:#?}",
                self.name,
                if has { "given wrongly" } else { "missing" }
            );
        }
        for p in self.problems() {
            assert!(
                !matches!(p["severity"].as_str(), Some("error" | "critical")),
                "{}: the go command succeeded, yet: {p}",
                self.name
            );
        }
    }

    /// The round trip delayline.py was told to add (both one-way delays).
    fn path_rtt_ms(&self) -> f64 {
        let cmd = self.meta["delayline"]["command"].as_str().unwrap();
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let delay = |flag: &str| -> f64 {
            let i = words.iter().position(|w| *w == flag).unwrap();
            words[i + 1].parse().unwrap()
        };
        delay("--delay-ab") + delay("--delay-ba")
    }

    fn tcp(&self) -> Vec<&Value> {
        of_type(&self.events, "connection")
            .into_iter()
            .filter(|c| c["error"].is_null())
            .map(|c| &c["tcp"])
            .collect()
    }

    fn tshark(&self, key: &str) -> f64 {
        self.meta["tshark_tcp_analysis"][key].as_f64().unwrap()
    }

    fn sum(&self, key: &str) -> f64 {
        self.tcp().iter().map(|t| t[key].as_f64().unwrap()).sum()
    }
}

fn within(got: f64, want: f64, share: f64) -> bool {
    (got - want).abs() <= want * share
}

#[test]
fn a_far_proxy_is_far_not_slow() {
    let r = recording("far-proxy-go127");
    let want = r.path_rtt_ms();
    let conns = r.tcp();
    assert!(!conns.is_empty());
    for t in conns {
        let rtt = t["rtt_ms"].as_f64().unwrap();
        assert!(
            within(rtt, want, 0.15),
            "rtt {rtt} vs the path's {want}: {t}"
        );
        assert_eq!(t["rtt_from"], "handshake", "{t}");
    }
    r.verdicts_are(&[FAR]);
}

#[test]
fn a_slow_server_next_door_is_slow_not_far() {
    let r = recording("slow-think-go127");
    // The server's own time against its log, request by request (matched by client port
    // and path).
    let log = std::fs::read_to_string(dir().join("slow-think-go127.server.jsonl")).unwrap();
    let served: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exchanges = of_type(&r.events, "exchange");
    assert_eq!(exchanges.len(), served.len());
    for ex in exchanges {
        let url = ex["url"].as_str().unwrap();
        let line = served
            .iter()
            .find(|s| s["remote"] == ex["client"] && url.ends_with(s["uri"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("no server log line for {ex}"));
        let own = line["dur_us"].as_f64().unwrap() / 1000.0;
        let got = ex["timing"]["server_ms"].as_f64().unwrap();
        assert!(
            within(got, own, 0.15),
            "server time {got} vs its log's {own}: {ex}"
        );
        assert!(ex["timing"]["rtt_ms"].as_f64().unwrap() < 20.0, "{ex}");
    }
    r.verdicts_are(&[SLOW]);
}

#[test]
fn a_lossy_path_counts_its_retransmissions_as_tshark_does() {
    let r = recording("lossy-path-go127");
    for (ours, theirs) in [
        ("retransmits", "retransmission"),
        ("out_of_order", "out_of_order"),
        ("dup_acks", "duplicate_ack"),
    ] {
        let (got, want) = (r.sum(ours), r.tshark(theirs));
        assert!(want > 0.0, "the recording lost nothing: re-record it");
        assert!(
            within(got, want, 0.25),
            "{ours} {got} vs tshark's {theirs} {want}"
        );
    }
    let want = r.path_rtt_ms();
    for t in r.tcp() {
        let rtt = t["rtt_ms"].as_f64().unwrap();
        assert!(
            within(rtt, want, 0.15),
            "rtt {rtt} vs the path's {want}: {t}"
        );
    }
    r.verdicts_are(&[LOSSY]);
    let text = r.texts().into_iter().find(|t| t.contains(LOSSY)).unwrap();
    let repaired = r.sum("retransmits") + r.sum("out_of_order");
    assert!(
        text.contains(&format!("{repaired} of ")),
        "{text} (repairs {repaired})"
    );
}

#[test]
fn a_dead_ipv6_route_is_a_cost_not_an_error() {
    let r = recording("dead-ipv6-go127");
    r.verdicts_are(&[HAPPY_EYEBALLS]);
    let text = r
        .texts()
        .into_iter()
        .find(|t| t.contains(HAPPY_EYEBALLS))
        .unwrap();
    assert!(text.contains("a cost, not a failure"), "{text}");
    assert!(text.contains("[2001:db8:77::2]:3000"), "{text}");
    // The IPv6 attempts that fell back each waited the dialer's 300 ms.
    let each: f64 = text
        .split(" ms each")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no per-connection cost in {text}"));
    assert!((290.0..=400.0).contains(&each), "{text}");
}

#[test]
fn a_proxy_that_served_nothing_is_told_with_its_cost_and_the_fix() {
    let r = recording("fallback-cost-go127");
    r.verdicts_are(&[SERVED_NOTHING]);
    let (a, b) = ("http://goproxy.test:3000", "http://goproxy.test:3001");
    let text = r
        .texts()
        .into_iter()
        .find(|t| t.contains(SERVED_NOTHING))
        .unwrap();
    assert!(text.starts_with(&format!("GOPROXY entry {a} ")), "{text}");
    assert!(
        text.contains(&format!("Put {b} first (GOPROXY={b},{a}) or drop {a}")),
        "{text}"
    );
    // Said once: not again as "proxy A is slow" (its answers were slow, but the warning
    // above is what the user acts on).
    let slow = format!("proxy {a} is slow");
    assert!(
        !r.texts().iter().any(|t| t.starts_with(&slow)),
        "{:?}",
        r.texts()
    );
    // Nor per module as A's slowness to first byte: its answers were 404s, whose cost is
    // the warning above (modules that A served nothing for are not slow modules).
    let per_module = format!("proxy {a} took");
    assert!(
        !r.texts().iter().any(|t| t.contains(&per_module)),
        "{:?}",
        r.texts()
    );
    for m in of_type(&r.events, "module") {
        let p = m["problem"]["text"].as_str().unwrap_or("");
        assert!(!p.contains(&per_module), "{m}");
    }
    // The cost against the go command's own clock: its -x log times every request to A.
    let xlog = std::fs::read_to_string(dir().join("fallback-cost-go127.xlog")).unwrap();
    let at_a: f64 = parse_xlog(&xlog)
        .iter()
        .filter(|x| x.url.starts_with(a) && x.status == Some(404))
        .map(|x| x.ms.unwrap() / 1000.0)
        .sum();
    let told: f64 = text
        .split(" s of waiting")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no cost in {text}"));
    assert!(
        within(told, at_a, 0.15),
        "told {told} s, the go command waited {at_a} s"
    );
}
