//! Long runs: past `--max-modules` the least recently active modules are folded into
//! counts, and nothing is dropped silently; the end-of-run merge is linear. Synthetic
//! captures (tests/common/synth.rs) with many distinct modules.

mod common;

use common::synth::{self, Opts};
use common::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn synth_capture(tag: &str, o: &Opts) -> PathBuf {
    let dir = tempdir(tag);
    let path = dir.join("synth.pcap");
    let f = std::fs::File::create(&path).unwrap();
    synth::write(std::io::BufWriter::new(f), o).unwrap();
    path
}

#[test]
fn folded_modules_are_counted_and_told_once() {
    let o = Opts {
        modules: 500,
        fail_every: 7,
        proxies: 2,
        per_conn: 50,
        ..Default::default()
    };
    let pcap = synth_capture("fold", &o);
    let events = replay_json(&pcap, &["--max-modules", "40"]);
    let summary = of_type(&events, "summary")[0];
    let modules = of_type(&events, "module");
    // Every module is told exactly once: when it was folded, or at the end.
    let names: BTreeSet<&str> = modules
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert_eq!(modules.len(), 500);
    assert_eq!(names.len(), 500);
    assert_eq!(summary["modules"], 500);
    let folded = summary["modules_folded"].as_u64().unwrap();
    assert!((460..500).contains(&folded), "{summary}");
    assert_eq!(summary["module_limit"], 40);
    let f = &summary["folded"];
    let failing = (0..500).filter(|&i| synth::fails(&o, i)).count() as u64;
    let ok_folded = f["outcomes"]["ok"].as_u64().unwrap_or(0);
    let nf_folded = f["outcomes"]["not-found"].as_u64().unwrap_or(0);
    assert_eq!(ok_folded + nf_folded, folded, "{f}");
    let nf_total = modules
        .iter()
        .filter(|m| m["outcome"] == "not-found")
        .count() as u64;
    assert_eq!(nf_total, failing);
    // Per proxy: the second proxy served every folded module that was found.
    let b = f["proxies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proxy"] == "http://127.0.0.2:3001")
        .unwrap();
    assert_eq!(b["modules_served"], ok_folded);
    // The folded not-found problem is told, with examples and a count.
    let problems = summary["problems"].as_array().unwrap();
    let nf = problems
        .iter()
        .find(|p| {
            p["text"]
                .as_str()
                .unwrap()
                .contains("not found at any proxy")
        })
        .expect("a not-found problem");
    let subject = nf["subject"].as_str().unwrap();
    assert!(subject.contains("more (folded)"), "{subject}");
    // The chain inferred from the traffic survives the folding.
    assert_eq!(
        summary["goproxy"]["entries"][0]["url"], "http://127.0.0.2:3000",
        "{summary}"
    );
    assert_eq!(summary["exchanges"], 1000);
}

#[test]
fn below_the_limit_nothing_is_folded() {
    let o = Opts {
        modules: 60,
        ..Default::default()
    };
    let pcap = synth_capture("nofold", &o);
    let events = replay_json(&pcap, &[]);
    let summary = of_type(&events, "summary")[0];
    assert_eq!(summary["modules"], 60);
    assert_eq!(summary["modules_folded"], 0);
    assert!(summary["folded"].is_null());
    assert_eq!(of_type(&events, "module").len(), 60);
}

#[test]
fn the_report_tells_what_was_folded() {
    let o = Opts {
        modules: 200,
        fail_every: 5,
        ..Default::default()
    };
    let pcap = synth_capture("foldreport", &o);
    let out = run(&[
        "-r",
        pcap.to_str().unwrap(),
        "--report",
        "--max-modules",
        "20",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("200 modules"), "{text}");
    assert!(text.contains("folded"), "{text}");
}

/// 10 000 modules that were not found at either of two proxies: the end-of-run merge
/// compared every pair before (57 s for 20 000); it is linear now.
#[test]
fn thousands_of_failed_modules_are_reported_quickly() {
    let o = Opts {
        modules: 10_000,
        all_fail: true,
        proxies: 2,
        ..Default::default()
    };
    let pcap = synth_capture("failed", &o);
    let started = Instant::now();
    let out = run(&[
        "-r",
        pcap.to_str().unwrap(),
        "--report",
        "--max-modules",
        "50000",
    ]);
    let took = started.elapsed();
    assert!(out.status.success());
    assert!(
        took < Duration::from_secs(20),
        "the report of 10 000 failed modules took {took:?}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("10000 modules"),
        "{}",
        &text[..400.min(text.len())]
    );
}
