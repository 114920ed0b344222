//! The replay spine against real recordings of real go commands (captures/): what the go
//! command itself printed with `-x` and what the proxy logged are the ground truth.

mod common;

use common::*;
use gomodwatch::source::file::CaptureFile;
use gomodwatch::source::writer::{CaptureWriter, IfaceDesc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Every plain-HTTP recording of a go command reaching its proxies (https ones cannot be
/// decoded from the wire; the network-failure recordings have tests of their own).
fn plain_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(captures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
                return false;
            }
            let Ok(json) = std::fs::read_to_string(sidecar(p, "json")) else {
                return false; // a second file of a scenario (e.g. one leg only)
            };
            let meta: Value = serde_json::from_str(&json).unwrap();
            let goproxy = meta["env"]["GOPROXY"].as_str().unwrap_or("");
            !goproxy.starts_with("https://") && meta.get("key_error").is_none()
        })
        .collect();
    v.sort();
    assert!(v.len() >= 20, "captures/ is missing recordings: {v:?}");
    v
}

/// `2026-11-24T08:01:32.123456Z` → nanoseconds since the epoch.
fn rfc3339_ns(s: &str) -> i64 {
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap();
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    // days from civil (Howard Hinnant)
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    secs * 1_000_000_000 + frac.parse::<i64>().unwrap() * 1000
}

fn stem(p: &Path) -> PathBuf {
    let s = p.to_str().unwrap();
    PathBuf::from(s.trim_end_matches(".pcapng").trim_end_matches(".pcap"))
}

fn sidecar(p: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}.{ext}", stem(p).display()))
}

#[test]
fn exchanges_are_exactly_the_requests_go_printed() {
    for cap in plain_captures() {
        let events = replay_json(&cap, &[]);
        let xlog = parse_xlog(&std::fs::read_to_string(sidecar(&cap, "xlog")).unwrap());
        // What went on the wire: every `# get` with a status, and the ones never answered.
        let mut want: BTreeMap<(String, Option<u16>), usize> = BTreeMap::new();
        let mut refused = 0;
        for r in &xlog {
            match (&r.error, r.unanswered) {
                (Some(e), _) if e.contains("connection refused") => refused += 1,
                (Some(e), _) => panic!("{}: unexpected -x error {e}", cap.display()),
                (None, _) => *want.entry((r.url.clone(), r.status)).or_default() += 1,
            }
        }
        let mut got: BTreeMap<(String, Option<u16>), usize> = BTreeMap::new();
        for ex in of_type(&events, "exchange") {
            let url = ex["url"].as_str().unwrap().to_string();
            let status = ex["status"].as_u64().map(|s| s as u16);
            if status.is_none() {
                assert_eq!(ex["error"], "no-response", "{}: {ex}", cap.display());
            }
            *got.entry((url, status)).or_default() += 1;
        }
        assert_eq!(got, want, "{}", cap.display());
        let refused_conns = of_type(&events, "connection")
            .iter()
            .filter(|c| c["error"] == "refused")
            .count();
        assert_eq!(refused_conns, refused, "{}", cap.display());
    }
}

/// Time to first byte on the wire cannot exceed what the go command measured (its clock
/// starts before the request is written and includes any wait for a connection), and it
/// matches the proxy's own handling time to within 1 ms.
#[test]
fn ttfb_agrees_with_go_and_with_the_proxy() {
    let mut compared = 0;
    for cap in plain_captures() {
        let events = replay_json(&cap, &[]);
        let mut exchanges: Vec<&Value> = of_type(&events, "exchange");
        exchanges.sort_by(|a, b| a["ts"].as_str().cmp(&b["ts"].as_str()));
        let mut by_url: HashMap<String, Vec<&Value>> = HashMap::new();
        for ex in &exchanges {
            by_url
                .entry(ex["url"].as_str().unwrap().into())
                .or_default()
                .push(ex);
        }
        let xlog = parse_xlog(&std::fs::read_to_string(sidecar(&cap, "xlog")).unwrap());
        for r in xlog.iter().filter(|r| r.ms.is_some()) {
            let ex = by_url.get_mut(&r.url).unwrap().remove(0);
            let ttfb = ex["timing"]["ttfb_ms"].as_f64().unwrap();
            // -x prints milliseconds rounded: allow the half millisecond plus 1 ms.
            let go_ms = r.ms.unwrap();
            assert!(
                ttfb <= go_ms + 1.5,
                "{}: {} ttfb {ttfb} ms but go printed {go_ms} ms",
                cap.display(),
                r.url
            );
        }
        // The proxy's log, same clock: when each handler started and how long it ran,
        // keyed by (client address, request URI).
        let log = std::fs::read_to_string(sidecar(&cap, "server.jsonl")).unwrap();
        let mut server: HashMap<(String, String), Vec<(i64, f64)>> = HashMap::new();
        for line in log.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let key = (
                v["remote"].as_str().unwrap().to_string(),
                v["uri"].as_str().unwrap().to_string(),
            );
            let start = v["ts"].as_i64().unwrap();
            server
                .entry(key)
                .or_default()
                .push((start, v["dur_us"].as_f64().unwrap() / 1000.0));
        }
        for ex in &exchanges {
            let url = ex["url"].as_str().unwrap();
            let uri = &url[url.find("://").unwrap() + 3..];
            let uri = &uri[uri.find('/').unwrap()..];
            let key = (ex["client"].as_str().unwrap().to_string(), uri.to_string());
            let Some(starts) = server.get_mut(&key).filter(|d| !d.is_empty()) else {
                continue;
            };
            let (start_ns, handler_ms) = starts.remove(0);
            let sent_ns = rfc3339_ns(ex["ts"].as_str().unwrap());
            // The handler starts right after the request's first byte hit the wire (the
            // proxy's own scheduling delay aside).
            let lag = (start_ns - sent_ns) as f64 / 1e6;
            assert!(
                (-0.001..=50.0).contains(&lag),
                "{}: {url}: handler began {lag} ms after the request",
                cap.display()
            );
            // Go's server buffers small responses until the handler returns: their first
            // byte leaves at the handler's end. Larger ones start streaming earlier.
            let handler_end = lag + handler_ms;
            let ttfb = ex["timing"]["ttfb_ms"].as_f64().unwrap();
            assert!(
                ttfb <= handler_end + 1.0,
                "{}: {url}: ttfb {ttfb} ms, handler ended at {handler_end} ms",
                cap.display()
            );
            if ex["resp_bytes"].as_u64().unwrap() < 2048 {
                assert!(
                    (ttfb - handler_end).abs() <= 1.0,
                    "{}: {url}: ttfb {ttfb} ms, the proxy answered at {handler_end} ms",
                    cap.display()
                );
            }
            compared += 1;
        }
    }
    assert!(
        compared > 300,
        "only {compared} exchanges matched the proxies' logs"
    );
}

#[test]
fn https_connections_show_sni_alpn_and_handshake() {
    for name in ["https-go127.pcap", "https-go119.pcap"] {
        let events = replay_json(&captures().join(name), &[]);
        let tls: Vec<&Value> = of_type(&events, "connection")
            .into_iter()
            .filter(|c| !c["tls"].is_null())
            .collect();
        assert!(!tls.is_empty(), "{name}: no TLS connections");
        for c in &tls {
            let t = &c["tls"];
            assert_eq!(
                t["alpn"],
                serde_json::json!(["h2", "http/1.1"]),
                "{name}: {c}"
            );
            assert_eq!(t["version"], "TLS 1.3", "{name}: {c}");
            let hs = t["handshake_ms"].as_f64().unwrap();
            assert!(hs > 0.0 && hs < 100.0, "{name}: handshake {hs} ms");
            assert!(c["connect_ms"].as_f64().is_some());
        }
        // The proxy reached by name sends SNI; the one reached by IP address does not.
        assert!(
            tls.iter().any(|c| c["tls"]["sni"] == "goproxy.test"),
            "{name}"
        );
        assert!(tls.iter().any(|c| c["tls"]["sni"].is_null()), "{name}");
        // Nothing inside TLS is guessed at.
        assert!(of_type(&events, "exchange").is_empty());
    }
}

fn exchange_keys(events: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = of_type(events, "exchange")
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["ts"], e["url"], e["status"], e["resp_bytes"], e["timing"]["ttfb_ms"]
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_link_type_decodes_the_same_traffic() {
    let base = exchange_keys(&replay_json(
        &captures().join("fallback-404-go119.pcap"),
        &[],
    ));
    assert_eq!(base.len(), 29);
    for suffix in ["null", "loop", "raw", "ipv4"] {
        let p = captures().join(format!("fallback-404-go119-{suffix}.pcap"));
        assert_eq!(exchange_keys(&replay_json(&p, &[])), base, "{suffix}");
    }
    let v6 = exchange_keys(&replay_json(&captures().join("ipv6-go119.pcap"), &[]));
    let v6null = exchange_keys(&replay_json(&captures().join("ipv6-go119-null.pcap"), &[]));
    assert_eq!(v6, v6null);
    // pcap and pcapng of the same run (tcpdump and dumpcap side by side).
    let pcap = replay_json(&captures().join("one-proxy-go127.pcap"), &[]);
    let pcapng = replay_json(&captures().join("one-proxy-go127.pcapng"), &[]);
    let urls = |ev: &[Value]| {
        let mut v: Vec<String> = of_type(ev, "exchange")
            .iter()
            .map(|e| e["url"].to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(urls(&pcap), urls(&pcapng));
}

#[test]
fn dns_names_the_server_on_an_mtu_1500_link() {
    let events = replay_json(&captures().join("veth-mtu1500-go127.pcap"), &[]);
    let conns = of_type(&events, "connection");
    assert!(!conns.is_empty());
    for c in conns {
        assert_eq!(c["server_name"], "goproxy.test", "{c}");
        assert!(c["error"].is_null(), "{c}");
    }
    let dns = of_type(&events, "dns");
    assert!(dns
        .iter()
        .any(|d| d["name"] == "goproxy.test" && d["addresses"][0] == "10.203.0.2"));
}

#[test]
fn multi_interface_pcapng_with_two_link_types() {
    let events = replay_json(&captures().join("multi-iface-go127.pcapng"), &[]);
    let servers: std::collections::BTreeSet<String> = of_type(&events, "exchange")
        .iter()
        .map(|e| e["server"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        servers.into_iter().collect::<Vec<_>>(),
        ["10.203.0.2:3000", "127.0.0.1:3000"]
    );
}

/// Reorders and duplicates about 5% of the segments (deterministically) and checks that
/// not one exchange changes.
#[test]
fn reordering_and_duplication_change_nothing() {
    for name in [
        "fallback-404-go127.pcap",
        "veth-mtu1500-go127.pcap",
        "sumdb-via-proxy-go127.pcap",
    ] {
        let src = captures().join(name);
        let mut file = CaptureFile::new(std::fs::File::open(&src).unwrap()).unwrap();
        let mut packets: Vec<(gomodwatch::vocab::time::Ts, u32, Vec<u8>)> = Vec::new();
        let mut link = None;
        while let Some(p) = file.next_packet().unwrap() {
            link = Some(p.link);
            packets.push((p.ts, p.wire_len, p.data.to_vec()));
        }
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut out = Vec::new();
        let mut i = 0;
        let mut touched = 0;
        while i < packets.len() {
            let r = next() % 100;
            if r < 3 && i + 1 < packets.len() {
                // swap with the next packet (keeping timestamps in file order)
                out.push(packets[i + 1].clone());
                out.push(packets[i].clone());
                i += 2;
                touched += 1;
            } else if r < 5 {
                out.push(packets[i].clone());
                out.push(packets[i].clone());
                i += 1;
                touched += 1;
            } else {
                out.push(packets[i].clone());
                i += 1;
            }
        }
        assert!(
            touched * 100 >= packets.len() * 3,
            "{name}: only {touched} of {} touched",
            packets.len()
        );
        let tmp = std::env::temp_dir().join(format!("gmw-reorder-{}-{name}", std::process::id()));
        {
            let f = std::fs::File::create(&tmp).unwrap();
            let desc = [IfaceDesc {
                name: "x",
                link: link.unwrap(),
                snaplen: 262_144,
            }];
            let mut w = CaptureWriter::new(std::io::BufWriter::new(f), &desc).unwrap();
            for (ts, wire, data) in &out {
                w.packet(0, *ts, *wire, data).unwrap();
            }
            w.flush().unwrap();
        }
        let keys = |ev: &[Value]| {
            let mut v: Vec<String> = of_type(ev, "exchange")
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {} {}",
                        e["url"], e["status"], e["resp_bytes"], e["error"]
                    )
                })
                .collect();
            v.sort();
            v
        };
        let h1s = |ev: &[Value]| {
            let mut v: Vec<String> = of_type(ev, "module")
                .iter()
                .map(|m| format!("{} {}", m["h1"], m["mod_h1"]))
                .collect();
            v.sort();
            v
        };
        let a = replay_json(&src, &[]);
        let b = replay_json(&tmp, &[]);
        std::fs::remove_file(&tmp).ok();
        assert_eq!(keys(&a), keys(&b), "{name}");
        assert_eq!(h1s(&a), h1s(&b), "{name}");
        let gaps = of_type(&b, "summary")[0]["gaps"].as_u64().unwrap();
        assert_eq!(gaps, 0, "{name}");
    }
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn damaged_input_fails_cleanly_after_decoding_what_it_can() {
    let dir = std::env::temp_dir().join(format!("gmw-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(captures().join("fallback-404-go127.pcap")).unwrap();
    let full = replay_json(&captures().join("fallback-404-go127.pcap"), &[]);
    let full_ex = of_type(&full, "exchange").len();

    // Cut in the middle of a record.
    let cut = dir.join("truncated.pcap");
    std::fs::write(&cut, &good[..good.len() * 2 / 3 + 7]).unwrap();
    let out = run(&["-r", cut.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_lines(&out);
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].contains("truncated capture"), "{err:?}");
    let partial = parse_ndjson(&out.stdout);
    let n = of_type(&partial, "exchange").len();
    assert!(n > 0 && n < full_ex, "{n} of {full_ex}");
    assert_eq!(partial.last().unwrap()["type"], "summary");

    // Random bytes, an empty file, a link type we do not read.
    let mut rng = 7u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) as u8
        })
        .collect();
    let random = dir.join("random.pcap");
    std::fs::write(&random, &noise).unwrap();
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let mut odd = good.clone();
    odd[20..24].copy_from_slice(&147u32.to_le_bytes());
    let odd_link = dir.join("user0.pcap");
    std::fs::write(&odd_link, &odd).unwrap();
    for (file, says) in [
        (&random, "not a pcap or pcapng file"),
        (&empty, "the file is empty"),
        (&odd_link, "unsupported link type 147 (USER)"),
        (&dir.join("missing.pcap"), "No such file"),
    ] {
        for view in ["--json", "--report"] {
            let out = run(&["-r", file.to_str().unwrap(), view]);
            assert_eq!(out.status.code(), Some(2), "{}", file.display());
            let err = stderr_lines(&out);
            assert_eq!(err.len(), 1, "{err:?}");
            assert!(err[0].contains(says), "{err:?}");
            assert!(!err[0].contains("panicked"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_usage_is_exit_status_2() {
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["--no-such-flag"]).status.code(), Some(2));
    assert_eq!(run(&["-r", "x", "-i", "lo"]).status.code(), Some(2));
    // A flag of another mode is a usage error, not silently ignored.
    let cap = captures().join("fallback-404-go127.pcap");
    let cap = cap.to_str().unwrap();
    for (flag, value) in [
        ("--transparent", None),
        ("--upstream-proxy", Some("http://127.0.0.1:3128")),
        ("--keylog", Some("/nonexistent/k")),
        ("--mitm-timeouts", Some("head=1s")),
    ] {
        let mut args = vec!["-r", cap, "--report", flag];
        args.extend(value);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} needs --mitm")), "{err}");
    }
    let out = run(&["-i", "lo", "--realtime"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--realtime needs -r FILE"));
}

#[test]
fn xlog_parser_pairs_interleaved_lines() {
    let log = "# get http://h/a/@v/list\n# get http://h/b/@v/list\n\
               # get http://h/b/@v/list: 404 Not Found (0.012s)\n\
               # get http://h/a/@v/list: 200 OK (1.500s)\n\
               # get http://h:9/c/@v/list\n\
               # get http://h:9/c/@v/list: dial tcp 127.0.0.1:9: connect: connection refused\n\
               # get http://h/d/@v/list\n";
    let r = parse_xlog(log);
    assert_eq!(r[0].status, Some(200));
    assert_eq!(r[0].ms, Some(1500.0));
    assert_eq!(r[1].status, Some(404));
    assert!(r[2].error.as_deref().unwrap().contains("refused"));
    assert!(r[3].unanswered);
}

/// Packets of a real capture, to cut or thin out.
fn packets_of(
    name: &str,
) -> (
    gomodwatch::vocab::LinkType,
    Vec<(gomodwatch::vocab::time::Ts, u32, Vec<u8>)>,
) {
    let mut f = CaptureFile::new(std::fs::File::open(captures().join(name)).unwrap()).unwrap();
    let mut v = Vec::new();
    let mut link = None;
    while let Some(p) = f.next_packet().unwrap() {
        link = Some(p.link);
        v.push((p.ts, p.wire_len, p.data.to_vec()));
    }
    (link.unwrap(), v)
}

fn write_capture(
    tag: &str,
    link: gomodwatch::vocab::LinkType,
    packets: &[(gomodwatch::vocab::time::Ts, u32, Vec<u8>)],
) -> PathBuf {
    let path = std::env::temp_dir().join(format!("gmw-{tag}-{}.pcap", std::process::id()));
    let f = std::fs::File::create(&path).unwrap();
    let desc = [IfaceDesc {
        name: "x",
        link,
        snaplen: 262_144,
    }];
    let mut w = CaptureWriter::new(std::io::BufWriter::new(f), &desc).unwrap();
    for (ts, wire, data) in packets {
        w.packet(0, *ts, *wire, data).unwrap();
    }
    w.flush().unwrap();
    path
}

/// TCP flags byte of an Ethernet/IPv4 frame, and its source port.
fn tcp_flags(frame: &[u8]) -> (u8, u16) {
    let ihl = (frame[14] & 0x0f) as usize * 4;
    let tcp = &frame[14 + ihl..];
    (tcp[13], u16::from_be_bytes([tcp[0], tcp[1]]))
}

#[test]
fn a_syn_never_answered_is_no_answer() {
    // The refused recording without the RSTs that answered its SYNs.
    let (link, pkts) = packets_of("refused-go127.pcap");
    let kept: Vec<_> = pkts
        .into_iter()
        .filter(|(_, _, d)| !(tcp_flags(d).1 == 3009 && tcp_flags(d).0 & 0x04 != 0))
        .collect();
    let path = write_capture("noanswer", link, &kept);
    let events = replay_json(&path, &[]);
    std::fs::remove_file(&path).ok();
    let silent: Vec<&Value> = of_type(&events, "connection")
        .into_iter()
        .filter(|c| c["server"] == "127.0.0.1:3009")
        .collect();
    assert_eq!(silent.len(), 17);
    assert!(silent
        .iter()
        .all(|c| c["error"] == "no-answer" && c["connect_ms"].is_null()));
}

#[test]
fn a_capture_cut_mid_download_is_truncated() {
    // Stop the recording in the middle of the 217 KiB toml zip.
    let (link, pkts) = packets_of("one-proxy-go119.pcap");
    let first_zip_data = pkts
        .iter()
        .position(|(_, _, d)| memchr_find(d, b"application/zip"))
        .expect("a zip response");
    let path = write_capture("cut", link, &pkts[..first_zip_data + 3]);
    let events = replay_json(&path, &[]);
    std::fs::remove_file(&path).ok();
    let cut: Vec<&Value> = of_type(&events, "exchange")
        .into_iter()
        .filter(|e| e["error"] == "truncated")
        .collect();
    assert_eq!(cut.len(), 1, "{events:#?}");
    assert_eq!(cut[0]["status"], 200);
    assert!(of_type(&events, "connection")
        .iter()
        .any(|c| c["error"] == "truncated"));
    let partial = of_type(&events, "module")
        .into_iter()
        .find(|m| m["module"] == cut[0]["go"]["module"])
        .unwrap();
    assert_eq!(partial["outcome"], "incomplete");
    assert!(partial["h1"].is_null());
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_capture_that_starts_mid_stream_resynchronises() {
    // Drop the first 40% of the packets: connections are joined without their SYN, often
    // in the middle of a body.
    let (link, pkts) = packets_of("fallback-404-go119.pcap");
    let full = replay_json(&captures().join("fallback-404-go119.pcap"), &[]);
    let want: std::collections::BTreeSet<String> = of_type(&full, "exchange")
        .iter()
        .map(|e| format!("{} {}", e["url"], e["status"]))
        .collect();
    let path = write_capture("midstream", link, &pkts[pkts.len() * 2 / 5..]);
    let events = replay_json(&path, &[]);
    std::fs::remove_file(&path).ok();
    let got: Vec<String> = of_type(&events, "exchange")
        .iter()
        .filter(|e| !e["url"].is_null())
        .map(|e| format!("{} {}", e["url"], e["status"]))
        .collect();
    assert!(got.len() >= 8, "only {got:?}");
    // Nothing invented: every exchange decoded after joining late is a real one.
    for g in &got {
        assert!(want.contains(g), "invented {g}");
    }
}

#[test]
fn missing_packets_are_gaps_and_decoding_goes_on() {
    // Lose three data segments in the middle of the biggest zip (as a capture that dropped
    // them would), and nothing else.
    let (link, pkts) = packets_of("veth-mtu1500-go127.pcap");
    let big: Vec<usize> = pkts
        .iter()
        .enumerate()
        .filter(|(_, (_, _, d))| d.len() > 1400 && tcp_flags(d).1 == 3000)
        .map(|(i, _)| i)
        .collect();
    let lose: Vec<usize> = vec![big[40], big[41], big[60]];
    let kept: Vec<_> = pkts
        .iter()
        .enumerate()
        .filter(|(i, _)| !lose.contains(i))
        .map(|(_, p)| p.clone())
        .collect();
    let path = write_capture("gaps", link, &kept);
    let events = replay_json(&path, &[]);
    std::fs::remove_file(&path).ok();
    let full = replay_json(&captures().join("veth-mtu1500-go127.pcap"), &[]);
    assert_eq!(
        of_type(&events, "exchange").len(),
        of_type(&full, "exchange").len()
    );
    let gapped: Vec<&Value> = of_type(&events, "exchange")
        .into_iter()
        .filter(|e| e["error"] == "gap")
        .collect();
    assert_eq!(gapped.len(), 1, "one zip lost bytes");
    // Its size is still right: the framing survived the gap.
    let same = of_type(&full, "exchange")
        .into_iter()
        .find(|e| e["url"] == gapped[0]["url"])
        .unwrap();
    assert_eq!(gapped[0]["resp_bytes"], same["resp_bytes"]);
    assert!(of_type(&events, "summary")[0]["gaps"].as_u64().unwrap() >= 2);
    // Not a MITM run: no relay, so no count of its waits.
    assert!(of_type(&events, "summary")[0]["mitm_relay_waits"].is_null());
    let m = of_type(&events, "module")
        .into_iter()
        .find(|m| m["module"] == gapped[0]["go"]["module"])
        .unwrap();
    assert_eq!(m["outcome"], "incomplete");
}

#[test]
fn a_response_lost_whole_does_not_shift_the_pairing() {
    // On one keep-alive connection, remove every packet of a zip's response (as a capture
    // that dropped them would); the requests after it must still get their own answers.
    let (link, pkts) = packets_of("fallback-404-go119.pcap");
    let full = replay_json(&captures().join("fallback-404-go119.pcap"), &[]);
    let truth: std::collections::BTreeSet<String> = of_type(&full, "exchange")
        .iter()
        .map(|e| format!("{} {}", e["url"], e["status"]))
        .collect();
    let ports = |d: &[u8]| {
        let ihl = (d[14] & 0x0f) as usize * 4;
        let t = &d[14 + ihl..];
        (
            u16::from_be_bytes([t[0], t[1]]),
            u16::from_be_bytes([t[2], t[3]]),
            14 + ihl + ((t[12] >> 4) as usize * 4),
        )
    };
    // The zip response head and the next response head on the same connection.
    let (start, conn) = pkts
        .iter()
        .enumerate()
        .find_map(|(i, (_, _, d))| {
            let (sp, dp, off) = ports(d);
            let body = &d[off..];
            let is_zip_head =
                body.starts_with(b"HTTP/1.1 200") && memchr_find(body, b"application/zip");
            let later = pkts[i + 1..].iter().any(|(_, _, e)| {
                let (s2, d2, o2) = ports(e);
                s2 == sp && d2 == dp && e[o2..].starts_with(b"HTTP/1.1 ")
            });
            (is_zip_head && later).then_some((i, (sp, dp)))
        })
        .expect("a zip followed by another response on its connection");
    let end = start
        + 1
        + pkts[start + 1..]
            .iter()
            .position(|(_, _, e)| {
                let (s2, d2, o2) = ports(e);
                (s2, d2) == conn && e[o2..].starts_with(b"HTTP/1.1 ")
            })
            .unwrap();
    let kept: Vec<_> = pkts
        .iter()
        .enumerate()
        .filter(|(i, (_, _, d))| {
            let (sp, dp, off) = ports(d);
            !(*i >= start && *i < end && (sp, dp) == conn && d.len() > off)
        })
        .map(|(_, p)| p.clone())
        .collect();
    let path = write_capture("lostresp", link, &kept);
    let events = replay_json(&path, &[]);
    if std::env::var("KEEP").is_err() {
        std::fs::remove_file(&path).ok();
    }
    let mut gapped = 0;
    for e in of_type(&events, "exchange") {
        if e["error"] == "gap" {
            gapped += 1;
            continue;
        }
        let key = format!("{} {}", e["url"], e["status"]);
        assert!(truth.contains(&key), "mis-paired: {key}: {e}");
    }
    assert_eq!(gapped, 1, "{events:#?}");
    assert_eq!(
        of_type(&events, "exchange").len(),
        of_type(&full, "exchange").len()
    );
}
