//! Go module understanding on real recordings: lookup chains, verdicts, hashes, report and
//! HAR. The go command's own output (`-x`, go.sum, its error messages) is the reference.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn meta(name: &str) -> Value {
    let text = std::fs::read_to_string(captures().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn capture(name: &str) -> PathBuf {
    let pcap = captures().join(format!("{name}.pcap"));
    if pcap.exists() {
        pcap
    } else {
        captures().join(format!("{name}.pcapng"))
    }
}

/// Replays with the GOPROXY the recording used.
fn modules(name: &str, configured: bool) -> Vec<Value> {
    let goproxy = meta(name)["env"]["GOPROXY"].as_str().unwrap().to_string();
    let args: Vec<&str> = if configured {
        vec!["--goproxy", &goproxy]
    } else {
        vec![]
    };
    let events = replay_json(&capture(name), &args);
    of_type(&events, "module").into_iter().cloned().collect()
}

fn module<'a>(mods: &'a [Value], path: &str, version: &str) -> &'a Value {
    mods.iter()
        .find(|m| m["module"] == path && m["version"] == version)
        .unwrap_or_else(|| panic!("no module {path}@{version} in {mods:#?}"))
}

/// (proxy, status) of each attempt of one artifact.
fn chain(m: &Value, kind: &str) -> Vec<(String, Option<u64>)> {
    m["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .map(|a| {
            (
                a["proxy"].as_str().unwrap().to_string(),
                a["status"].as_u64(),
            )
        })
        .collect()
}

const A: &str = "http://127.0.0.1:3000";
const B: &str = "http://127.0.0.1:3001";

#[test]
fn a_404_falls_back_to_the_next_proxy() {
    for (name, miss) in [
        ("fallback-404-go119", 404),
        ("fallback-404-go127", 404),
        ("fallback-410-go127", 410),
    ] {
        for configured in [true, false] {
            let mods = modules(name, configured);
            let yaml = module(&mods, "github.com/ghodss/yaml", "v1.0.0");
            for kind in ["info", "mod", "zip"] {
                assert_eq!(
                    chain(yaml, kind),
                    [(A.to_string(), Some(miss)), (B.to_string(), Some(200))],
                    "{name} {kind}"
                );
            }
            assert_eq!(yaml["served_by"]["info"], B);
            assert_eq!(yaml["served_by"]["zip"], B);
            assert_eq!(yaml["outcome"], "ok");
            assert!(yaml["problem"].is_null(), "{name}: {}", yaml["problem"]);
            // A serves BurntSushi itself: no fallback there.
            let toml = module(&mods, "github.com/BurntSushi/toml", "v1.2.0");
            assert_eq!(chain(toml, "zip"), [(A.to_string(), Some(200))]);
            assert_eq!(toml["served_by"]["mod"], A);
            // The prefix probes belong to the query that resolved, not to the failures.
            assert!(toml["probes"].as_array().unwrap().len() >= 2);
            assert!(mods.iter().all(|m| m["outcome"] == "ok"), "{name}");
        }
    }
}

#[test]
fn a_comma_after_a_500_stops_the_walk() {
    let mods = modules("comma-after-500-go127", true);
    assert_eq!(mods.len(), 2, "one failure per query: {mods:#?}");
    for m in &mods {
        assert_eq!(m["outcome"], "failed");
        let p = m["problem"].as_str().unwrap();
        assert!(p.contains("answered 500"), "{p}");
        assert!(p.contains("GOPROXY's ',' stops the walk there"), "{p}");
        // B was never asked.
        assert!(m["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["proxy"] == A));
    }
    // Without the configuration the sentence still names the 500 and the stop.
    for m in modules("comma-after-500-go127", false) {
        let p = m["problem"].as_str().unwrap();
        assert!(
            p.contains("answered 500") && p.contains("stopped there"),
            "{p}"
        );
    }
}

#[test]
fn a_pipe_after_a_500_falls_back_and_says_what_it_costs() {
    let mods = modules("pipe-after-500-go127", true);
    let toml = module(&mods, "github.com/BurntSushi/toml", "v1.2.0");
    assert_eq!(toml["outcome"], "ok");
    assert_eq!(
        chain(toml, "zip"),
        [(A.to_string(), Some(500)), (B.to_string(), Some(200))]
    );
    assert_eq!(toml["served_by"]["zip"], B);
    let p = toml["problem"].as_str().unwrap();
    assert!(
        p.contains("answered 500") && p.contains("'|' fell back to http://127.0.0.1:3001"),
        "{p}"
    );
}

#[test]
fn a_refused_proxy_shows_in_the_chain() {
    let mods = modules("refused-go127", true);
    let yaml = module(&mods, "github.com/ghodss/yaml", "v1.0.0");
    let zip: Vec<&Value> = yaml["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "zip")
        .collect();
    assert_eq!(zip.len(), 2);
    assert_eq!(zip[0]["proxy"], "http://127.0.0.1:3009");
    assert_eq!(zip[0]["error"], "refused");
    assert!(zip[0]["exchange"].is_null());
    assert_eq!(zip[1]["status"], 200);
    assert!(yaml["problem"]
        .as_str()
        .unwrap()
        .contains("refused the connection"));
}

/// The go command has no response timeout: a proxy that never answers leaves it waiting,
/// not failed, and no separator in GOPROXY would change that.
#[test]
fn a_proxy_that_never_answers() {
    for m in modules("hang-proxy-go127", true) {
        assert_eq!(m["outcome"], "incomplete");
        let p = m["problem"].as_str().unwrap();
        assert!(p.contains("has not answered the .info request"), "{p}");
        assert!(
            !p.contains("stops the walk") && !p.contains("would fall back"),
            "{p}"
        );
    }
}

/// The go command printed both hashes when it refused the tampered zip; ours must be them.
#[test]
fn a_tampered_zip_is_a_checksum_mismatch_with_gos_own_hashes() {
    let xlog = std::fs::read_to_string(captures().join("checksum-mismatch-go127.xlog")).unwrap();
    let after = |label: &str| {
        xlog.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|| panic!("no {label} in the xlog"))
    };
    let downloaded = after("downloaded:");
    let sumdb = after("sum.test:");
    let mods = modules("checksum-mismatch-go127", true);
    let yaml = module(&mods, "github.com/ghodss/yaml", "v1.0.0");
    assert_eq!(yaml["outcome"], "checksum-mismatch");
    assert_eq!(yaml["h1"], downloaded.as_str());
    assert_eq!(yaml["sumdb_h1"], sumdb.as_str());
    let p = yaml["problem"].as_str().unwrap();
    assert!(p.contains("checksum mismatch") && p.contains(A), "{p}");
    // The genuine module next to it verifies.
    let toml = module(&mods, "github.com/BurntSushi/toml", "v1.2.0");
    assert_eq!(toml["outcome"], "ok");
    assert_eq!(toml["h1"], toml["sumdb_h1"]);
}

/// Every hash the go command wrote to go.sum is the one gomodwatch computed from the wire.
#[test]
fn hashes_equal_the_go_sum_the_go_command_wrote() {
    let mut checked = 0;
    for entry in std::fs::read_dir(captures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let Some(stem) = name.strip_suffix(".go.sum") else {
            continue;
        };
        let goproxy = meta(stem)["env"]["GOPROXY"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if goproxy.starts_with("https://") {
            continue; // TLS: not decodable from a capture
        }
        let gosum = std::fs::read_to_string(&path).unwrap();
        let mods = modules(stem, false);
        for line in gosum.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (path, ver, hash) = (f[0], f[1], f[2]);
            let (ver, field) = match ver.strip_suffix("/go.mod") {
                Some(v) => (v, "mod_h1"),
                None => (ver, "h1"),
            };
            let m = module(&mods, path, ver);
            assert_eq!(m[field], hash, "{stem}: {line}");
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} go.sum lines checked");
}

#[test]
fn a_go_sum_that_disagrees_is_a_checksum_mismatch() {
    let dir = std::env::temp_dir().join(format!("gmw-gosum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(captures().join("one-proxy-go119.go.sum")).unwrap();
    let bad = good.replace(
        "github.com/BurntSushi/toml v1.2.0 h1:EYV7",
        "github.com/BurntSushi/toml v1.2.0 h1:XXXX",
    );
    assert_ne!(good, bad);
    let sum = dir.join("go.sum");
    std::fs::write(&sum, bad).unwrap();
    let events = replay_json(
        &capture("one-proxy-go119"),
        &["--gosum", sum.to_str().unwrap()],
    );
    let mods: Vec<Value> = of_type(&events, "module").into_iter().cloned().collect();
    let toml = module(&mods, "github.com/BurntSushi/toml", "v1.2.0");
    assert_eq!(toml["outcome"], "checksum-mismatch");
    assert!(toml["problem"].as_str().unwrap().contains("go.sum"));
    assert_eq!(
        module(&mods, "github.com/ghodss/yaml", "v1.0.0")["outcome"],
        "ok"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_checksum_database_through_the_proxy_and_directly() {
    for name in ["sumdb-via-proxy-go127", "sumdb-direct-go127"] {
        let events = replay_json(&capture(name), &[]);
        let lookups: Vec<&Value> = of_type(&events, "exchange")
            .into_iter()
            .filter(|e| e["go"]["kind"] == "sumdb-lookup")
            .collect();
        assert_eq!(lookups.len(), 5, "{name}");
        let mods: Vec<&Value> = of_type(&events, "module");
        for m in mods.iter().filter(|m| !m["h1"].is_null()) {
            assert_eq!(m["h1"], m["sumdb_h1"], "{name}: {m}");
        }
        for m in &mods {
            assert_eq!(m["mod_h1"], m["sumdb_mod_h1"], "{name}: {m}");
        }
        let base = lookups[0]["go"]["proxy"].as_str().unwrap();
        match name {
            "sumdb-via-proxy-go127" => assert_eq!(base, A),
            _ => assert_eq!(base, B),
        }
    }
}

#[test]
fn a_slow_proxy_misses_the_slo() {
    let events = replay_json(&capture("slow-proxy-go119"), &[]);
    let summary = of_type(&events, "summary")[0];
    let p = &summary["proxies"][0];
    assert!(p["p50_ms"].as_f64().unwrap() >= 120.0, "{p}");
    let problems = summary["problems"].as_array().unwrap();
    // Over the SLO, and the round trips (loopback: ~0) tell it is the server's own time.
    assert!(problems.iter().any(|p| p["text"]
        .as_str()
        .unwrap()
        .contains("is slow to answer, not far: time to first byte")));
    // With a looser SLO it is fine.
    let events = replay_json(&capture("slow-proxy-go119"), &["--slo", "500"]);
    assert!(of_type(&events, "summary")[0]["problems"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn https_traffic_points_to_mitm() {
    let events = replay_json(&capture("https-go127"), &[]);
    let problems = of_type(&events, "summary")[0]["problems"]
        .as_array()
        .unwrap()
        .clone();
    assert!(problems
        .iter()
        .any(|p| p["text"].as_str().unwrap().contains("goproxy.test")
            && p["text"].as_str().unwrap().contains("--mitm")));
}

#[test]
fn summary_counts_proxies_and_status() {
    let events = replay_json(
        &capture("fallback-404-go127"),
        &["--goproxy", &format!("{A},{B}")],
    );
    let s = of_type(&events, "summary")[0];
    assert_eq!(s["exchanges"], 29);
    let proxies = s["proxies"].as_array().unwrap();
    assert_eq!(proxies.len(), 2);
    let a = proxies.iter().find(|p| p["proxy"] == A).unwrap();
    assert_eq!(a["requests"], 17);
    assert_eq!(a["status"]["404"], 13);
    assert_eq!(a["status"]["200"], 4);
    assert!(a["p50_ms"].as_f64().unwrap() <= a["p95_ms"].as_f64().unwrap());
    assert!(a["p95_ms"].as_f64().unwrap() <= a["max_ms"].as_f64().unwrap());
    assert_eq!(s["goproxy"]["source"], "flag");
}

#[test]
fn har_is_valid_har_1_2() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/har-1.2.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("gmw-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "fallback-404-go127",
        "hang-proxy-go127",
        "veth-mtu1500-go127",
    ] {
        let har = dir.join(format!("{name}.har"));
        let out = run(&[
            "-r",
            capture(name).to_str().unwrap(),
            "--report",
            "--har",
            har.to_str().unwrap(),
        ]);
        assert!(out.status.success());
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let entries = doc["log"]["entries"].as_array().unwrap();
        let xlog =
            parse_xlog(&std::fs::read_to_string(captures().join(format!("{name}.xlog"))).unwrap());
        assert_eq!(entries.len(), xlog.len(), "{name}");
        for e in entries {
            let t = &e["timings"];
            let sum: f64 = ["dns", "connect", "send", "wait", "receive"]
                .iter()
                .map(|k| t[k].as_f64().unwrap().max(0.0))
                .sum();
            assert!((e["time"].as_f64().unwrap() - sum).abs() < 0.01, "{e}");
        }
        // Refuses to overwrite what it wrote.
        let again = run(&[
            "-r",
            capture(name).to_str().unwrap(),
            "--report",
            "--har",
            har.to_str().unwrap(),
        ]);
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Traffic that contradicts the configured GOPROXY is flagged (the recording used
/// `A,B`; we claim something else).
#[test]
fn traffic_that_contradicts_the_configuration_is_flagged() {
    let problems = |goproxy: &str| -> Vec<String> {
        let events = replay_json(&capture("fallback-404-go127"), &["--goproxy", goproxy]);
        of_type(&events, "summary")[0]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap().to_string())
            .collect()
    };
    let reversed = problems(&format!("{B},{A}"));
    assert!(
        reversed
            .iter()
            .any(|p| p.starts_with(&format!("{A} was asked without asking {B} first"))),
        "{reversed:#?}"
    );
    let only_a = problems(A);
    assert!(
        only_a
            .iter()
            .any(|p| p.starts_with(&format!("proxy {B} was asked but is not in GOPROXY"))),
        "{only_a:#?}"
    );
    // The configuration the recording really used draws no such remark.
    let right = problems(&format!("{A},{B}"));
    assert!(right.iter().all(|p| !p.contains("GOPROXY (")), "{right:#?}");
}
