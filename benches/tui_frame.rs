//! How long the TUI takes to answer a key and to fold new traffic in, with 100 000
//! exchanges in the session. The session is built by replaying a real capture (the large
//! benchmark capture, else captures/fallback-404-go127.pcap) as many times as needed, each
//! pass shifted in time so its connections are new ones.
//!
//!     cargo bench --bench tui_frame [-- CAPTURE] [EXCHANGES]

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use gomodwatch::decode::Decoder;
use gomodwatch::session::{Session, SessionConfig};
use gomodwatch::source::file::CaptureFile;
use gomodwatch::ui::data::Data;
use gomodwatch::ui::Tui;
use gomodwatch::vocab::time::Ts;
use gomodwatch::vocab::Packet;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let default = if std::path::Path::new("/var/tmp/gomodwatch-bench.pcap").exists() {
        "/var/tmp/gomodwatch-bench.pcap".to_string()
    } else {
        format!(
            "{}/captures/fallback-404-go127.pcap",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let path = args.first().cloned().unwrap_or(default);
    let want: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // MAX_MODULES: module versions kept in full (default: as the command line's).
    let max_modules = std::env::var("MAX_MODULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SessionConfig::default().max_modules);
    let mut session = Session::new(SessionConfig {
        log_capacity: gomodwatch::ui::LOG_CAPACITY,
        max_modules,
        ..Default::default()
    });
    let mut decoder = Decoder::new(
        Default::default(),
        Box::new(gomodwatch::gomod::hook::GoHook::new(Default::default())),
    );
    let started = Instant::now();
    let mut pass = 0i64;
    while session.exchanges < want {
        let mut file =
            CaptureFile::new(std::fs::File::open(&path).expect("capture")).expect("capture");
        let mut span = 0i64;
        let mut first = None;
        while let Some(p) = file.next_packet().expect("readable capture") {
            let f = *first.get_or_insert(p.ts.0);
            span = span.max(p.ts.0 - f);
            // Later passes happen later: a minute after the previous one ended.
            let shifted = Packet {
                ts: Ts(p.ts.0 + pass * (span + 60_000_000_000)),
                ..p
            };
            decoder.packet(&shifted);
            for ev in decoder.drain() {
                session.apply(&ev);
            }
        }
        pass += 1;
    }
    decoder.finish();
    for ev in decoder.drain() {
        session.apply(&ev);
    }
    println!(
        "session: {} exchanges, {} connections from {pass} passes of {path} ({:.1} s)",
        session.exchanges,
        session.connections.count,
        started.elapsed().as_secs_f64()
    );
    let rounds: u32 = std::env::var("REFRESH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let t = Instant::now();
    let mut data = Data::new(&session);
    for _ in 1..rounds {
        data = Data::new(&session);
    }
    let refresh = t.elapsed() / rounds;
    println!(
        "fold new traffic in (verdicts for {} modules): {:.1} ms",
        data.modules.len(),
        refresh.as_secs_f64() * 1e3
    );
    // New traffic while the TUI is up: about 100 more exchanges, then one refresh, which
    // judges again only the modules they touched.
    let before = session.exchanges;
    let mut file = CaptureFile::new(std::fs::File::open(&path).expect("capture")).expect("capture");
    let mut first = None;
    let base = session.last.0 + 60_000_000_000;
    while session.exchanges < before + 100 {
        let Some(p) = file.next_packet().expect("readable capture") else {
            break;
        };
        let f = *first.get_or_insert(p.ts.0);
        let shifted = Packet {
            ts: Ts(base + (p.ts.0 - f)),
            ..p
        };
        decoder.packet(&shifted);
        for ev in decoder.drain() {
            session.apply(&ev);
        }
    }
    let t = Instant::now();
    data.refresh(&session, true);
    println!(
        "refresh after {} new exchanges ({} modules shown): {:.1} ms",
        session.exchanges - before,
        data.modules.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    session.source.name = path.clone();
    session.source.done = true;
    let mut tui = Tui::with_terminal(Terminal::new(TestBackend::new(160, 50)).unwrap());
    tui.draw_now(&session).unwrap();
    let keys = [
        KeyCode::Down,
        KeyCode::PageDown,
        KeyCode::Char('s'),
        KeyCode::Tab,
        KeyCode::Tab,
        KeyCode::Tab,
        KeyCode::Up,
        KeyCode::Tab,
        KeyCode::Enter,
        KeyCode::Esc,
    ];
    let mut times = Vec::new();
    for round in 0..50 {
        let k = keys[round % keys.len()];
        let t = Instant::now();
        tui.input(&Event::Key(KeyEvent::new(k, KeyModifiers::NONE)), &session);
        tui.draw_now(&session).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "key → redrawn frame: median {:.2} ms, p95 {:.2} ms, max {:.2} ms (target: < 100 ms)",
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1]
    );
}
