//! Every TUI view rendered from real recordings into ratatui's TestBackend, driven by the
//! same key events a user sends, and compared with insta snapshots (the status bar's
//! wall-clock timer is scrubbed; everything else comes from the capture).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use gomodwatch::decode::DecodeConfig;
use gomodwatch::decode::Decoder;
use gomodwatch::gomod::goproxy::{ChainSource, GoproxyList};
use gomodwatch::gomod::hook::{GoHook, GoHookConfig};
use gomodwatch::session::SourceStatus;
use gomodwatch::session::{Session, SessionConfig};
use gomodwatch::source::file::CaptureFile;
use gomodwatch::ui::Tui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn session(name: &str) -> Session {
    session_upto(name, usize::MAX)
}

/// The session after the capture's first `packets` packets.
fn session_upto(name: &str, packets: usize) -> Session {
    let dir = env!("CARGO_MANIFEST_DIR");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/captures/{name}.json")).unwrap(),
    )
    .unwrap();
    let goproxy = GoproxyList::parse(meta["env"]["GOPROXY"].as_str().unwrap(), ChainSource::Flag);
    let mut path = format!("{dir}/captures/{name}.pcap");
    if !std::path::Path::new(&path).exists() {
        path.push_str("ng");
    }
    let mut file = CaptureFile::new(std::fs::File::open(path).unwrap()).unwrap();
    // The direct-mode recordings are decrypted with their key logs, and judged with the
    // go command's environment (as `--tls-keylog` and `--go-env` do).
    let direct = name.starts_with("direct/");
    let keylog = std::path::Path::new(&format!("{dir}/captures/{name}.keylog"))
        .exists()
        .then(|| std::fs::read_to_string(format!("{dir}/captures/{name}.keylog")).unwrap())
        .filter(|_| direct)
        .map(|t| std::sync::Arc::new(gomodwatch::decode::tls::decrypt::KeyLog::parse(&t).0));
    let go_env = direct.then(|| {
        let mut env = gomodwatch::gomod::goenv::GoEnv::default();
        for (k, v) in meta["env"].as_object().unwrap() {
            env.set(k, v.as_str().unwrap());
        }
        env
    });
    let mut decoder = Decoder::new(
        DecodeConfig {
            keylog,
            ..Default::default()
        },
        Box::new(GoHook::new(GoHookConfig {
            proxy_bases: goproxy.proxy_bases(),
            ..Default::default()
        })),
    );
    let mut s = Session::new(SessionConfig {
        goproxy: Some(goproxy),
        log_capacity: 1000,
        go_env,
        ..Default::default()
    });
    let mut n = 0;
    while let Some(p) = file.next_packet().unwrap().filter(|_| n < packets) {
        n += 1;
        decoder.packet(&p);
        for ev in decoder.drain() {
            s.apply(&ev);
        }
    }
    decoder.finish();
    for ev in decoder.drain() {
        s.apply(&ev);
    }
    s
}

fn status(name: &str) -> SourceStatus {
    SourceStatus {
        name: format!("captures/{name}.pcap"),
        packets: 1234,
        done: true,
        ..Default::default()
    }
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Renders after feeding `keys`; returns the screen as text.
fn screen(name: &str, w: u16, h: u16, keys: &[Event]) -> String {
    let mut s = session(name);
    s.source = status(name);
    let mut tui = Tui::with_terminal(Terminal::new(TestBackend::new(w, h)).unwrap());
    tui.draw_now(&s).unwrap();
    for k in keys {
        tui.input(k, &s);
        tui.draw_now(&s).unwrap();
    }
    text_of(&tui)
}

/// What the terminal shows, as text.
fn text_of(tui: &Tui<TestBackend>) -> String {
    let buf = tui.terminal().backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn snap(name: &str, text: String) {
    insta::with_settings!({ filters => vec![(r"│ \d\d:\d\d │", "│ [elapsed] │")] }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn modules_view_80x24() {
    snap("modules_80x24", screen("fallback-404-go127", 80, 24, &[]));
}

/// The TUI opened while the modules were still arriving (a replay that finishes as it
/// opens): the list is shown from its top, newest first, not scrolled down after the first
/// module that happened to arrive; and a pseudo-version is never cut while the module path
/// can give way.
#[test]
fn a_list_that_fills_up_is_shown_from_its_top_with_whole_versions() {
    let name = "fallback-404-go127";
    // Four rows on screen, five modules.
    let (w, h) = (84, 7);
    let mut tui = Tui::with_terminal(Terminal::new(TestBackend::new(w, h)).unwrap());
    let mut early = session_upto(name, 40);
    early.source = status(name);
    tui.draw_now(&early).unwrap();
    assert!(text_of(&tui).contains("2 modules"), "{}", text_of(&tui));
    let mut s = session(name);
    s.source = status(name);
    tui.draw_now(&s).unwrap();
    let opened_late = screen(name, w, h, &[]);
    assert_eq!(text_of(&tui), opened_late);
    let text = screen(name, w, 12, &[]);
    assert!(
        text.contains(" v0.0.0-20161208181325-20d25e280405 "),
        "the version whole:\n{text}"
    );
}

#[test]
fn modules_view_large_sorted_by_outcome() {
    snap(
        "modules_140x40_outcome",
        screen("pipe-after-500-go127", 140, 40, &[key(KeyCode::Char('s'))]),
    );
}

#[test]
fn detail_of_a_module_that_fell_back_from_a_404() {
    // Rows are newest first: ghodss/yaml, whose .info went 404 → 200, is on top.
    let text = screen("fallback-404-go127", 100, 32, &[key(KeyCode::Enter)]);
    assert!(text.contains("github.com/ghodss/yaml v1.0.0"));
    assert!(text.contains("127.0.0.1:3000               404"));
    assert!(text.contains("127.0.0.1:3001               200"));
    snap("detail_fallback_404", text);
}

#[test]
fn detail_of_a_checksum_mismatch() {
    // Sort worst first, go to the top, open it.
    let keys = [
        key(KeyCode::Char('s')),
        key(KeyCode::Char('g')),
        key(KeyCode::Enter),
    ];
    let text = screen("checksum-mismatch-go127", 120, 30, &keys);
    assert!(text.contains("checksum-mismatch"));
    assert!(text.contains("≠ checksum db"));
    snap("detail_checksum_mismatch", text);
}

#[test]
fn detail_waterfall_shows_connection_setup() {
    let keys = [key(KeyCode::Enter)];
    snap("detail_refused", screen("refused-go127", 110, 34, &keys));
}

#[test]
fn proxies_view() {
    snap(
        "proxies",
        screen("pipe-after-500-go127", 100, 24, &[key(KeyCode::Tab)]),
    );
}

#[test]
fn problems_view() {
    let keys = [key(KeyCode::Tab), key(KeyCode::Tab)];
    snap("problems", screen("refused-go127", 100, 24, &keys));
}

/// The network in the way: a tunnel through squid (via), a 407 asking for credentials, a
/// TLS handshake the go command abandoned — first in the Problems view.
#[test]
fn problems_of_the_network() {
    let keys = [key(KeyCode::Tab), key(KeyCode::Tab)];
    for (snapshot, name) in [
        ("problems_tunnel_via", "squid-tunnel-go127"),
        ("problems_407", "squid-407-go127"),
        ("problems_tls_abandoned", "tls-untrusted-go127"),
    ] {
        snap(snapshot, screen(name, 120, 16, &keys));
    }
}

/// Enter on a problem opens the detail of the module it is about: the whole screen is
/// compared (the problem's module, its 500 and what came after it), not a word or two.
#[test]
fn problem_enter_opens_its_module() {
    let problems = screen(
        "comma-after-500-go127",
        100,
        24,
        &[key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    let keys = [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Enter)];
    let text = screen("comma-after-500-go127", 100, 24, &keys);
    // The module named first on the selected (first) problem is the one whose detail
    // opened: "│SEVERITY  path@version, ...: what happened".
    let first = problems
        .lines()
        .skip_while(|l| !l.contains(" · Enter: the module"))
        .nth(1)
        .unwrap_or_default();
    let named = first
        .trim_start_matches('│')
        .split_whitespace()
        .nth(1)
        .and_then(|w| w.trim_end_matches([',', ':']).split_once('@'))
        .unwrap_or_else(|| panic!("no module@version on the first problem:\n{problems}"));
    assert!(
        text.contains(&format!("{} {}", named.0, named.1)),
        "the detail is not {named:?}'s:\n{text}"
    );
    snap("problem_enter_detail", text);
}

#[test]
fn log_view_follows() {
    let keys = [key(KeyCode::BackTab)];
    snap("log", screen("sumdb-via-proxy-go127", 100, 20, &keys));
}

#[test]
fn filter_narrows_the_modules() {
    let mut keys = vec![key(KeyCode::Char('/'))];
    keys.extend("yaml".chars().map(|c| key(KeyCode::Char(c))));
    let typing = screen("fallback-404-go127", 80, 24, &keys);
    assert!(typing.contains("filter: yaml"));
    keys.push(key(KeyCode::Enter));
    let text = screen("fallback-404-go127", 80, 24, &keys);
    assert!(!text.contains("BurntSushi"));
    snap("filtered", text);
}

#[test]
fn help_overlay() {
    snap(
        "help",
        screen("fallback-404-go127", 80, 24, &[key(KeyCode::Char('?'))]),
    );
}

/// `b` opens the time budget from any view; Esc goes back to where it was opened.
#[test]
fn budget_view_names_the_fallback_time() {
    let keys = [key(KeyCode::Tab), key(KeyCode::Char('b'))];
    let text = screen("fallback-404-go127", 120, 40, &keys);
    assert!(text.contains("Time budget"), "{text}");
    assert!(text.contains("lost to fallbacks"), "{text}");
    assert!(text.contains("critical path"), "{text}");
    snap("budget", text);
    let back = screen(
        "fallback-404-go127",
        120,
        40,
        &[
            key(KeyCode::Tab),
            key(KeyCode::Char('b')),
            key(KeyCode::Esc),
        ],
    );
    assert!(back.contains("PROXY") || back.contains("Proxy"), "{back}");
}

#[test]
fn waiting_for_traffic() {
    let s = Session {
        source: SourceStatus {
            name: "lo".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut tui = Tui::with_terminal(Terminal::new(TestBackend::new(80, 12)).unwrap());
    tui.draw_now(&s).unwrap();
    let buf = tui.terminal().backend().buffer().clone();
    let text: String = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect();
    snap("waiting", text);
}

#[test]
fn direct_modules_have_their_own_outcome() {
    // GONOPROXY=*.test sends both *.test modules to git; github.com/pkg/errors comes from
    // the proxy: the list tells them apart.
    let text = screen("direct/gonoproxy-overmatch-go127", 120, 12, &[]);
    // Each row's own outcome and source, not a word found anywhere on the screen (the
    // status bar names captures/direct/...).
    let row = |module: &str| -> Vec<&str> {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("│{module} ")))
            .unwrap_or_else(|| panic!("no row for {module}:\n{text}"));
        line.trim_matches('│').split_whitespace().collect()
    };
    let (proxied, git_a, git_b) = (
        row("github.com/pkg/errors"),
        row("pub.test/humanize"),
        row("git.test/errors"),
    );
    assert_eq!(proxied[2..4], ["goproxy.test:3000", "200"], "{proxied:?}");
    assert_eq!(proxied[4], "ok", "{proxied:?}");
    for r in [&git_a, &git_b] {
        assert_eq!(r[2], "git", "{r:?}");
        assert!(r.contains(&"direct"), "{r:?}");
        assert!(!r.contains(&"ok"), "{r:?}");
    }
    snap("modules_direct", text);
}

#[test]
fn detail_of_a_direct_fetch() {
    // direct-go127 has one module: discovery, ls-remote (info/refs, ls-refs) and the
    // fetch (info/refs, ls-refs, fetch), in the chain and the waterfall.
    let text = screen("direct/direct-go127", 130, 40, &[key(KeyCode::Enter)]);
    for step in [
        "go-get",
        "info/refs",
        "ls-refs",
        "fetch",
        "why",
        "GOPROXY=direct",
    ] {
        assert!(text.contains(step), "{step} missing:\n{text}");
    }
    snap("detail_direct", text);
}

#[test]
fn the_status_bar_counts_skipped_packets_and_what_a_snap_length_cut() {
    let mut s = session("one-proxy-go127");
    s.source = SourceStatus {
        skipped_packets: 3,
        snaplen_bytes: 310_102,
        ..status("one-proxy-go127")
    };
    let mut tui = Tui::with_terminal(Terminal::new(TestBackend::new(160, 24)).unwrap());
    tui.draw_now(&s).unwrap();
    let buf = tui.terminal().backend().buffer().clone();
    let bar: String = (0..buf.area.width)
        .map(|x| buf[(x, buf.area.height - 1)].symbol().to_string())
        .collect();
    assert!(bar.contains("│ 3 skipped │"), "{bar}");
    assert!(bar.contains("│ 302.8 KiB cut by snaplen │"), "{bar}");
}
