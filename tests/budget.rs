//! The time budget (`budget` event) on committed captures of real go commands: its parts
//! add up to the wall clock, and on a fallback capture the time lost to the proxy that
//! served nothing is named, with that proxy.

mod common;

use common::*;
use serde_json::Value;

const PHASES: [&str; 8] = [
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "wait_ms",
    "fallback_ms",
    "transfer_ms",
    "checksum_db_ms",
    "idle_ms",
];

fn budget(events: &[Value]) -> Value {
    let b = of_type(events, "budget");
    assert_eq!(b.len(), 1, "one budget event");
    // The summary stays the last line; the budget comes just before it.
    assert_eq!(events[events.len() - 1]["type"], "summary");
    assert_eq!(events[events.len() - 2]["type"], "budget");
    b[0].clone()
}

fn assert_adds_up(b: &Value, what: &str) {
    let wall = b["wall_ms"].as_f64().unwrap();
    let sum: f64 = PHASES.iter().map(|p| b[p].as_f64().unwrap()).sum();
    assert!(
        (sum - wall).abs() <= 1e-6 * wall.max(1.0),
        "{what}: parts {sum} ms, wall {wall} ms: {b}"
    );
    for p in PHASES {
        assert!(b[p].as_f64().unwrap() >= 0.0, "{what}: {p} negative");
    }
    // The path lies inside the wall clock, each step after the one before.
    let mut at = 0.0;
    for s in b["critical_path"].as_array().unwrap() {
        let start = s["start_ms"].as_f64().unwrap();
        assert!(
            start + 1e-6 >= at,
            "{what}: step before the last ended: {s}"
        );
        at = start
            + ["dns_ms", "connect_ms", "tls_ms", "wait_ms", "transfer_ms"]
                .iter()
                .map(|k| s[k].as_f64().unwrap())
                .sum::<f64>();
    }
    assert!(at <= wall + 1e-6, "{what}: path ends after the wall clock");
}

#[test]
fn the_budget_of_every_capture_adds_up_to_its_wall_clock() {
    let mut seen = 0;
    for entry in std::fs::read_dir(captures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("pcap") {
            continue;
        }
        let events = replay_json(&path, &["--no-hash"]);
        // Only the go command's requests count: a capture of other traffic has no budget.
        let go = of_type(&events, "exchange")
            .iter()
            .any(|e| e["go"]["kind"] != "other" || !e["redirect_of"].is_null());
        if !go {
            assert!(of_type(&events, "budget").is_empty(), "{}", path.display());
            continue;
        }
        let b = budget(&events);
        assert_eq!(b["wall_from"], "traffic");
        assert_adds_up(&b, &path.display().to_string());
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} captures with exchanges");
}

#[test]
fn a_fallback_capture_names_the_time_lost_and_the_proxy_that_served_nothing() {
    let events = replay_json(&captures().join("fallback-404-go127.pcap"), &[]);
    let b = budget(&events);
    assert_adds_up(&b, "fallback-404-go127");
    assert!(b["fallback_ms"].as_f64().unwrap() > 0.0, "{b}");
    // The proxies that answered 404 for a module another proxy then served.
    let mut fell_back_from = std::collections::BTreeSet::new();
    for m in of_type(&events, "module") {
        for a in m["attempts"].as_array().unwrap() {
            let served = &m["served_by"][a["kind"].as_str().unwrap()];
            if a["status"] == 404 && served.is_string() && served != &a["proxy"] {
                fell_back_from.insert(a["proxy"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(!fell_back_from.is_empty());
    let lost: Vec<&str> = b["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["fallback_ms"].as_f64().unwrap() > 0.0)
        .map(|p| p["proxy"].as_str().unwrap())
        .collect();
    assert!(!lost.is_empty(), "{b}");
    for p in &lost {
        assert!(fell_back_from.contains(*p), "{p} did not fall back: {b}");
    }
    let steps: Vec<&Value> = b["critical_path"].as_array().unwrap().iter().collect();
    assert!(steps
        .iter()
        .any(|s| s["phase"] == "fallback" && s["status"] == 404));
    // The report says it too.
    let out = run(&[
        "-r",
        captures().join("fallback-404-go127.pcap").to_str().unwrap(),
        "--report",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TIME BUDGET"), "{text}");
    assert!(text.contains("lost to fallbacks"), "{text}");
}
