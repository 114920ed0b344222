//! The real binary in a real terminal (tmux), used as a person would: keys in, screens out.

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::{can_run, Need};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Tmux {
    /// Starts `gomodwatch ARGS` in a detached 100×30 terminal; afterwards the shell prints
    /// the exit status and whether the terminal is back in cooked mode.
    fn start(tag: &str, args: &str) -> Tmux {
        Tmux::start_sized(tag, args, 100, 30)
    }

    /// The same in a `width`×`height` terminal.
    fn start_sized(tag: &str, args: &str, width: u16, height: u16) -> Tmux {
        let (width, height) = (width.to_string(), height.to_string());
        let name = format!("gmw-{tag}-{}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_gomodwatch");
        let script = format!(
            "cd {dir} && {bin} {args}; echo EXITED $?; stty -a | grep -Eo '(-)?icanon'; sleep 60",
            dir = env!("CARGO_MANIFEST_DIR")
        );
        let _ = tmux(&["kill-session", "-t", &name]);
        let out = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &width,
                "-y",
                &height,
                "bash",
                "-c",
                &script,
            ])
            .env("TERM", "xterm-256color")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { name }
    }

    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.name])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.name.as_str()];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    /// Waits until the screen shows all of `wanted`; returns it.
    fn wait_for(&self, wanted: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if wanted.iter().all(|w| s.contains(w)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {wanted:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.screen().contains(text) {
            assert!(Instant::now() < deadline, "{text:?} never went away");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alternate_screen(&self) -> bool {
        tmux(&["display", "-p", "-t", &self.name, "#{alternate_on}"]).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.name]);
    }
}

#[test]
fn navigate_a_fallback_chain_filter_switch_views_and_quit() {
    if !can_run(
        "navigate_a_fallback_chain_filter_switch_views_and_quit",
        &[Need::Program("tmux")],
    ) {
        return;
    }
    let t = Tmux::start(
        "nav",
        "-r captures/fallback-404-go127.pcap --goproxy http://127.0.0.1:3000,http://127.0.0.1:3001",
    );
    let s = t.wait_for(&["Modules 5", " done ", "github.com/ghodss/yaml"]);
    assert!(t.alternate_screen(), "the TUI uses the alternate screen");
    assert!(s.contains("404→200"), "{s}");
    // Newest first: ghodss/yaml (404 at the first proxy, 200 at the second) is on top.
    t.keys(&["g", "Enter"]);
    let s = t.wait_for(&["LOOKUP CHAIN", "WATERFALL"]);
    assert!(s.contains("github.com/ghodss/yaml v1.0.0"), "{s}");
    let chain: Vec<&str> = s.lines().filter(|l| l.contains(".info ")).collect();
    assert!(
        chain
            .iter()
            .any(|l| l.contains("127.0.0.1:3000") && l.contains("404")),
        "{s}"
    );
    assert!(
        chain
            .iter()
            .any(|l| l.contains("127.0.0.1:3001") && l.contains("200")),
        "{s}"
    );
    assert!(s.contains("served by: info 127.0.0.1:3001"), "{s}");
    // Back, filter, then the other views.
    t.keys(&["Escape"]);
    t.wait_for(&["Attempts"]);
    t.keys(&["/", "y", "a", "m", "l"]);
    t.wait_for(&["filter: yaml"]);
    t.keys(&["Enter"]);
    let s = t.wait_for(&["3 of 5 modules"]);
    assert!(!s.contains("BurntSushi"), "{s}");
    t.keys(&["Tab"]);
    t.wait_for(&["GOPROXY", "configured", "p50"]);
    t.keys(&["Tab"]);
    t.wait_for(&["problems"]);
    t.keys(&["Tab"]);
    t.wait_for(&["exchanges", "following"]);
    t.keys(&["?"]);
    t.wait_for(&[" keys ", "any key closes this"]);
    // Any key closes the help; wait until it is gone (an Escape followed at once by q
    // would arrive as Alt-q).
    t.keys(&["x"]);
    t.wait_gone(" keys ");
    t.keys(&["q"]);
    let s = t.wait_for(&["EXITED 0", "icanon"]);
    assert!(!t.alternate_screen(), "left the alternate screen");
    assert!(
        s.lines().any(|l| l.trim() == "icanon"),
        "raw mode still on:\n{s}"
    );
    assert!(!s.contains("gomodwatch │"), "{s}");
}

#[test]
fn ctrl_c_restores_the_terminal() {
    if !can_run("ctrl_c_restores_the_terminal", &[Need::Program("tmux")]) {
        return;
    }
    let t = Tmux::start("ctrlc", "-r captures/refused-go127.pcap");
    t.wait_for(&["Problems 1", " done "]);
    t.keys(&["C-c"]);
    let s = t.wait_for(&["EXITED 0", "icanon"]);
    assert!(!t.alternate_screen());
    assert!(s.lines().any(|l| l.trim() == "icanon"), "{s}");
}

#[test]
fn not_a_terminal_means_a_report() {
    if !can_run("not_a_terminal_means_a_report", &[Need::Program("tmux")]) {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-r", "captures/refused-go127.pcap"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("gomodwatch report: captures/refused-go127.pcap"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no terminal escapes in a report");
}

/// Live capture in the TUI on a quiet interface: `q` must end the capture threads too
/// (a blocked read on an idle interface may never time out by itself).
#[test]
fn quitting_a_live_capture_on_a_quiet_interface() {
    if !can_run(
        "quitting_a_live_capture_on_a_quiet_interface",
        &[Need::Root, Need::Program("tmux")],
    ) {
        return;
    }
    let t = Tmux::start("live", "-i lo -f 'tcp port 3499'");
    t.wait_for(&[" live ", "lo │ 0 pkts", "Waiting for module traffic"]);
    t.keys(&["q"]);
    t.wait_for(&["EXITED 0", "icanon"]);
    assert!(!t.alternate_screen());
}

/// A terminal that goes away (the window closed, no SIGHUP) ends the TUI instead of
/// leaving it spinning on a dead terminal.
#[test]
fn a_vanished_terminal_ends_the_process() {
    if !can_run(
        "a_vanished_terminal_ends_the_process",
        &[Need::Program("tmux")],
    ) {
        return;
    }
    let marker = "--slo 77.5";
    let t = Tmux::start(
        "vanish",
        &format!("-r captures/refused-go127.pcap {marker}"),
    );
    t.wait_for(&["Problems", " done "]);
    // The gomodwatch process itself (not the shell around it).
    let pid = |pattern: &str| {
        let out = Command::new("pgrep")
            .args(["-f", pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "gomodwatch")
            })
            .unwrap_or_default()
            .to_string()
    };
    let pattern = format!("gomodwatch -r captures/refused-go127.pcap {marker}");
    assert!(!pid(&pattern).is_empty());
    // An idle TUI sleeps: a second of CPU time would mean it is spinning.
    let before = cpu_ticks(&pid(&pattern));
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(&pid(&pattern)) - before;
    assert!(used < 20, "{used} ticks of CPU in 2 s while idle");
    drop(t);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pid(&pattern).is_empty() {
        assert!(
            Instant::now() < deadline,
            "still running after its terminal went away"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Screenshots of three bundled captures at 80×24 and 200×50, every view: no word is cut
/// without an ellipsis. Each module path and version in the modules table is whole (one
/// the capture's NDJSON names) or a prefix of one ending in `…`; the status bar ends with
/// the keys' hint, whole; no line of a view ends mid-word against the border unless with `…`.
#[test]
fn screenshots_at_80x24_and_200x50_cut_nothing_without_an_ellipsis() {
    if !can_run(
        "screenshots_at_80x24_and_200x50_cut_nothing_without_an_ellipsis",
        &[Need::Program("tmux")],
    ) {
        return;
    }
    let captures = [
        "captures/fallback-404-go127.pcap",
        "captures/checksum-mismatch-go127.pcap",
        "captures/refused-go127.pcap",
    ];
    for capture in captures {
        // The capture's modules and versions as the NDJSON names them, in full.
        let json = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
            .args(["-r", capture, "--json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let mut words: Vec<String> = Vec::new();
        for line in String::from_utf8_lossy(&json.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == "module" {
                for k in ["module", "version"] {
                    if let Some(s) = v[k].as_str() {
                        words.push(s.to_string());
                    }
                }
            }
        }
        assert!(!words.is_empty(), "{capture} has modules");
        for (w, h) in [(80u16, 24u16), (200, 50)] {
            let t = Tmux::start_sized("shot", &format!("-r {capture}"), w, h);
            let s = t.wait_for(&[" done ", "Modules"]);
            let rows: Vec<&str> = s
                .lines()
                .skip_while(|l| !l.contains("Module ") || !l.contains("Version"))
                .skip(1)
                .take_while(|l| l.starts_with('│'))
                .filter(|l| !l.trim_matches(['│', ' ']).is_empty())
                .collect();
            assert!(!rows.is_empty(), "{capture} {w}x{h}: no table\n{s}");
            for row in &rows {
                let cells: Vec<&str> = row.trim_matches(['│', ' ']).split_whitespace().collect();
                for cell in &cells[..2] {
                    let whole = words.iter().any(|m| m == cell);
                    let cut = cell.strip_suffix('…').is_some_and(|p| {
                        words.iter().any(|m| m.starts_with(p) && m.len() > p.len())
                    });
                    assert!(
                        whole || cut,
                        "{capture} {w}x{h}: {cell:?} is cut without an ellipsis\n{s}"
                    );
                }
            }
            let bar = s
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or_default();
            assert!(
                bar.trim_end().ends_with("? help  q quit") || bar.trim_end().ends_with("? help"),
                "{capture} {w}x{h}: the status bar is cut: {bar:?}"
            );
            // The other views: no line ends in a word against the right border (a cut),
            // except one ending in an ellipsis.
            for _ in 0..3 {
                t.keys(&["Tab"]);
                std::thread::sleep(Duration::from_millis(300));
                let s = t.screen();
                for l in s.lines().filter(|l| l.starts_with('│') && l.ends_with('│')) {
                    let inner = l.trim_end_matches('│');
                    let last = inner.chars().last().unwrap_or(' ');
                    let before = inner.chars().rev().nth(1).unwrap_or(' ');
                    // Wrapped paragraphs end at a space or punctuation; a table cell cut at
                    // the edge ends in two word characters.
                    assert!(
                        !(last.is_alphanumeric() && before.is_alphanumeric()) || last == '…',
                        "{capture} {w}x{h}: cut at the border: {l:?}\n{s}"
                    );
                }
            }
        }
    }
}
