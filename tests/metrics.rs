//! Prometheus metrics: the `/metrics` endpoint (Prometheus text and OpenMetrics), checked
//! by `promtool`; a real Prometheus scraping a live capture while a real go command
//! downloads from the fixture GOPROXY; and a push of a run's metrics to a real
//! Pushgateway. Prometheus and the Pushgateway are Debian's (tests/deps.sh installs them).

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(url: &str, accept: Option<&str>) -> (String, String) {
    let mut req = ureq::get(url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (ctype, resp.body_mut().read_to_string().unwrap())
}

/// The sum of a metric's samples in a text exposition (all label sets).
fn sum_of(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Requests the replay of a capture reports (redirect hops are counted with their request).
fn requests_in(capture: &Path) -> usize {
    let events = replay_json(capture, &[]);
    of_type(&events, "exchange")
        .iter()
        .filter(|e| e["redirect_of"].is_null())
        .count()
}

fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A replay fed through stdin stays open while the test scrapes it.
#[test]
fn the_endpoint_serves_both_formats_while_a_replay_runs() {
    let capture = captures().join("fallback-404-go127.pcap");
    let want = requests_in(&capture);
    let mut child = Command::new(bin())
        .args(["-r", "-", "--json", "--metrics", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The capture's header must arrive before gomodwatch says where it serves; the input
    // stays open (the run goes on) until the test has scraped.
    let mut stdin = child.stdin.take().unwrap();
    let bytes = std::fs::read(&capture).unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&bytes).unwrap();
        stdin.flush().unwrap();
        let _ = done_rx.recv();
        drop(stdin);
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split("metrics at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no metrics address in {line:?}"))
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let (ctype, text) = get(&url, None);
        assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
        if sum_of(&text, "gomodwatch_requests_total") as usize == want {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {want} requests:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        text.contains("# TYPE gomodwatch_requests_total counter"),
        "{text}"
    );
    assert!(!text.contains("# EOF"));
    assert_eq!(
        sum_of(&text, "gomodwatch_ttfb_seconds_count") as usize,
        want
    );
    assert!(text.contains("gomodwatch_ttfb_seconds_bucket{"), "{text}");
    assert!(
        text.contains("le=\"0.08\""),
        "buckets around the 80 ms SLO: {text}"
    );
    assert!(text.contains("gomodwatch_build_info{version=\""));
    // Labels are proxy base URLs and kinds, never module paths.
    assert!(text.contains("proxy=\"http://127.0.0.1:3000\""), "{text}");
    assert!(!text.contains("ghodss"), "{text}");
    let (ctype, om) = get(&url, Some("application/openmetrics-text; version=1.0.0"));
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE gomodwatch_requests counter"), "{om}");
    if can_run("promtool check metrics", &[Need::Program("promtool")]) {
        promtool_check(&text);
    }
    done_tx.send(()).unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
}

/// A real Prometheus scrapes a live capture of a real go command: its query API counts
/// exactly the requests the go command's `-x` output shows.
#[test]
fn prometheus_counts_the_go_commands_requests() {
    let mut needs = LIVE.to_vec();
    needs.extend([Need::Program("prometheus"), Need::Program("promtool")]);
    if !can_run("prometheus_counts_the_go_commands_requests", &needs) {
        return;
    }
    let _proxy = goproxyd(None, "127.0.0.1:3431", &[]);
    let run = LiveRun::start(
        &[
            "-i",
            "lo",
            "-f",
            "tcp port 3431",
            "--daemon",
            "--metrics",
            "127.0.0.1:0",
        ],
        &[],
    );
    let metrics_url = run
        .first_line
        .split("metrics at ")
        .nth(1)
        .expect("metrics address")
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_string();
    let target = metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let dir = tempdir("prometheus");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: gomodwatch\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let prom_addr = "127.0.0.1:39190";
    let _prom = Proc(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let xlog = run_go(
        &go127(),
        "http://127.0.0.1:3431",
        &[
            "mod",
            "download",
            "-x",
            "github.com/BurntSushi/toml@v1.2.0",
            "gopkg.in/yaml.v2@v2.2.2",
        ],
        None,
    );
    let want = parse_xlog(&xlog).len();
    assert!(want >= 6, "{xlog}");
    let query = |q: &str| -> Option<f64> {
        let url = format!(
            "http://{prom_addr}/api/v1/query?query={}",
            q.replace(' ', "%20")
        );
        let (_, body) = ureq::get(&url)
            .call()
            .ok()
            .map(|mut r| (String::new(), r.body_mut().read_to_string().unwrap()))?;
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reqs = query("sum(gomodwatch_requests_total)");
        let ttfb = query("sum(gomodwatch_ttfb_seconds_count)");
        if reqs == Some(want as f64) && ttfb == Some(want as f64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus saw {reqs:?} requests and {ttfb:?} first bytes; the go command made {want}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, text) = get(&metrics_url, None);
    promtool_check(&text);
    let out = run.stop_with(libc::SIGTERM);
    assert!(out.status.success(), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

fn pushgateway(addr: &str) -> Proc {
    let p = Proc(
        Command::new("prometheus-pushgateway")
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-pushgateway"),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while ureq::get(&format!("http://{addr}/-/ready")).call().is_err() {
        assert!(Instant::now() < deadline, "the pushgateway did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    p
}

/// A CI step's run (here a replay of a real capture) pushes its metrics; the group the
/// Pushgateway holds has the run's counts.
#[test]
fn a_run_pushes_its_metrics_to_a_pushgateway() {
    if !can_run(
        "a_run_pushes_its_metrics_to_a_pushgateway",
        &[Need::Program("prometheus-pushgateway")],
    ) {
        return;
    }
    let addr = "127.0.0.1:39191";
    let _gw = pushgateway(addr);
    let capture = captures().join("fallback-404-go127.pcap");
    let events = replay_json(
        &capture,
        &[
            "--push-metrics",
            &format!("http://{addr}"),
            "--push-job",
            "ci-replay",
        ],
    );
    let want = of_type(&events, "exchange")
        .iter()
        .filter(|e| e["redirect_of"].is_null())
        .count();
    let summary = of_type(&events, "summary")[0];
    let (_, text) = get(&format!("http://{addr}/metrics"), None);
    let ours: String = text
        .lines()
        .filter(|l| l.contains("job=\"ci-replay\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        sum_of(&ours, "gomodwatch_requests_total") as usize,
        want,
        "{ours}"
    );
    assert_eq!(
        sum_of(&ours, "gomodwatch_ttfb_seconds_count") as usize,
        want
    );
    assert_eq!(
        sum_of(&ours, "gomodwatch_modules_total") as u64,
        summary["modules"].as_u64().unwrap(),
        "{ours}"
    );
    let fallbacks = sum_of(&ours, "gomodwatch_fallbacks_total");
    assert!(
        fallbacks >= 3.0,
        "the 404s fell back to the next proxy: {ours}"
    );
    // The time budget by phase: the same figures as the `budget` event, adding up to the
    // wall clock; the fallback time per proxy as its `proxies`.
    let budget = of_type(&events, "budget")[0];
    let phase = |p: &str| {
        ours.lines()
            .find(|l| {
                l.starts_with("gomodwatch_budget_seconds{") && l.contains(&format!("phase=\"{p}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no budget phase {p}: {ours}"))
    };
    let wall = phase("wall");
    assert!((wall * 1000.0 - budget["wall_ms"].as_f64().unwrap()).abs() < 1e-3);
    let parts: f64 = [
        "dns",
        "connect",
        "tls",
        "wait",
        "fallback",
        "transfer",
        "checksum_db",
        "idle",
    ]
    .iter()
    .map(|p| phase(p))
    .sum();
    assert!((parts - wall).abs() < 1e-6, "{parts} vs {wall}: {ours}");
    let lost: f64 = ours
        .lines()
        .filter(|l| {
            l.starts_with("gomodwatch_budget_proxy_seconds{") && l.contains("phase=\"fallback\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(lost > 0.0, "{ours}");
    assert!((lost * 1000.0 - budget["fallback_ms"].as_f64().unwrap()).abs() < 1e-3);
    // The API has the group too.
    let (_, api) = get(&format!("http://{addr}/api/v1/metrics"), None);
    let v: Value = serde_json::from_str(&api).unwrap();
    assert!(
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["labels"]["job"] == "ci-replay"),
        "{api}"
    );
}

#[test]
fn a_failed_push_is_one_clear_line_and_exit_status_1() {
    let capture = captures().join("fallback-404-go127.pcap");
    // Nothing listens on port 9 of loopback.
    let out = run(&[
        "-r",
        capture.to_str().unwrap(),
        "--report",
        "--push-metrics",
        "http://127.0.0.1:9",
        "--push-job",
        "ci",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gomodwatch: pushing metrics to http://127.0.0.1:9/metrics/job/ci:"),
        "{err}"
    );
    // The report itself was printed before.
    assert!(!out.stdout.is_empty());
}
