//! `--report`: a readable text summary. Problems first, then the modules (`report_modules`:
//! those with something to say in full, one line for each of the others), then the proxies,
//! then the checksum database.

use crate::present::format::{self, sanitize, Width};
use crate::present::{ChainSource, Kind, ModuleView, Severity, Summary};
use crate::session::sink::Ending;
use crate::session::{Session, Sink};
use std::fmt::Write as _;
use std::io::{self, Write};

/// What the mode knows that the traffic does not, asked when the report is printed (`run`:
/// that the child failed on trust because its go ignores SSL_CERT_FILE).
pub type ReportNote = Box<dyn FnMut() -> Option<String>>;

/// The report as a view: printed to `out` when the input is over.
pub struct Report<W: Write> {
    out: W,
    note: Option<ReportNote>,
}

impl<W: Write> Report<W> {
    pub fn new(out: W) -> Self {
        Report { out, note: None }
    }

    /// The report with a NOTE section, above the problems, when `note` gives one.
    pub fn with_note(out: W, note: Option<ReportNote>) -> Self {
        Report { out, note }
    }
}

impl<W: Write> Sink for Report<W> {
    fn finish(&mut self, end: &Ending<'_>) -> io::Result<()> {
        let mut text = render(end);
        if let Some(n) = self.note.as_mut().and_then(|f| f()) {
            // After the header lines (up to GOPROXY), before PROBLEMS.
            let at = text.find("\nPROBLEMS").unwrap_or(text.len());
            text.insert_str(at, &format!("\nNOTE\n  {}\n", sanitize(&n)));
        }
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

fn human_bytes(n: u64) -> String {
    format::bytes(n, Width::Wide)
}

/// The whole report. Every line passes through the sanitiser: strings from the wire
/// (module paths, URLs, server names) never reach a terminal as control sequences.
pub(crate) fn render(end: &Ending<'_>) -> String {
    let text = render_raw(end.session, end.modules(), end.summary());
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&sanitize(line));
        out.push('\n');
    }
    out
}

fn render_raw(session: &Session, modules_: &[ModuleView], s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "gomodwatch report: {}", session.source.name);
    // The MITM sees connections and requests, not packets: it has no packet count to give.
    let seen = if session.source.mitm_client_limit.is_some() {
        format!("{} relayed", human_bytes(s.bytes))
    } else {
        format!("{} packets ({})", s.packets, human_bytes(s.bytes))
    };
    let _ = writeln!(
        o,
        "{seen}, {} connections, {} requests, {} modules, {} dropped, {} gaps",
        s.connections, s.exchanges, s.modules, s.dropped, s.gaps
    );
    if s.limits.any() {
        let _ = writeln!(
            o,
            "gomodwatch's bounds cut some traffic ({}): answers may be missing because of it \
             (see docs/LIMITS.md)",
            s.limits.phrase()
        );
    }
    if s.malformed > 0 {
        let _ = writeln!(
            o,
            "{} HTTP/1 messages were malformed (the go command's client rejects them)",
            s.malformed
        );
    }
    if let Some(n @ 1..) = s.mitm_relay_waits {
        let _ = writeln!(
            o,
            "the relay waited {n} times for gomodwatch's decoding to make room: those transfers \
             were slowed by gomodwatch, not by the proxy"
        );
    }
    if s.snaplen_bytes > 0 {
        let _ = writeln!(
            o,
            "{} of TCP payload cut off packets by the capture's snap length: requests and \
             statuses are read from the heads' first lines, bodies are incomplete",
            human_bytes(s.snaplen_bytes)
        );
    }
    if s.skipped_packets > 0 {
        let _ = writeln!(
            o,
            "{} packets skipped on interfaces of a link type not read",
            s.skipped_packets
        );
    }
    if s.skipped_bytes > 0 {
        let _ = writeln!(
            o,
            "{} of damaged capture file skipped",
            human_bytes(s.skipped_bytes)
        );
    }
    if let Some(f) = &s.folded {
        let outcomes: Vec<String> = f.outcomes.iter().map(|(o, n)| format!("{n} {o}")).collect();
        let _ = writeln!(
            o,
            "{} older modules were folded into counts past --max-modules {} ({}); their \
             details are in the module events of --json or --output",
            s.modules_folded,
            f.limit,
            outcomes.join(", ")
        );
    }
    match &s.goproxy {
        Some(l) => {
            let from = match l.source {
                ChainSource::Flag => "--goproxy",
                ChainSource::GoEnv => "go env",
                ChainSource::Inferred => "inferred from the traffic",
            };
            let _ = writeln!(o, "GOPROXY: {} ({from})", l.display());
        }
        None => {
            let _ = writeln!(o, "GOPROXY: unknown (no proxy requests seen)");
        }
    }
    problems(&mut o, s);
    super::report_modules::modules(&mut o, modules_);
    proxies(&mut o, s);
    budget(&mut o, session);
    http_proxies(&mut o, session);
    tls(&mut o, session);
    sumdb(&mut o, session, modules_);
    o
}

/// What the capture could see of TLS connections: who, how long the handshake took, how
/// much went through.
fn tls(o: &mut String, session: &Session) {
    if session.tls.by_name.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nTLS ({} servers, contents not visible in a capture)",
        session.tls.by_name.len()
    );
    for (name, t) in &session.tls.by_name {
        let addr = match (t.via, t.address) {
            (Some(via), _) => format!("through HTTP proxy {via}"),
            (None, Some(a)) => a.to_string(),
            (None, None) => String::new(),
        };
        let versions: Vec<&str> = t.versions.iter().map(String::as_str).collect();
        let _ =
            writeln!(
            o,
            "  {name} ({addr}{dns}): {} connections, {}, {}, ALPN {}, handshake p50 {} max {}, \
             connection p50 {}",
            t.connections,
            human_bytes(t.bytes),
            if versions.is_empty() { "version unknown".to_string() } else { versions.join("/") },
            match (t.alpn.is_empty(), t.alpn_selected) {
                (true, _) => "none".to_string(),
                (false, true) => t.alpn.join(","),
                (false, false) => format!("offered {}", t.alpn.join(",")),
            },
            ms(t.handshake.percentile(50.0)),
            ms(t.handshake.max()),
            ms(t.duration.percentile(50.0)),
            dns = t.dns_name.as_ref().map(|n| format!(", DNS {n}")).unwrap_or_default(),
        );
    }
}

/// Where the wall-clock time went, along the critical path.
fn budget(o: &mut String, session: &Session) {
    let Some(b) = session.budget() else {
        return;
    };
    let _ = writeln!(o, "\nTIME BUDGET");
    for line in b.lines(Width::Wide) {
        let _ = writeln!(o, "  {line}");
    }
}

/// HTTP proxies the traffic went through, and what they answered to CONNECT.
fn http_proxies(o: &mut String, session: &Session) {
    let tunnels = &session.network.tunnels;
    if tunnels.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nHTTP PROXIES ({} tunnel targets)", tunnels.len());
    for ((proxy, target), t) in tunnels {
        let mut parts = Vec::new();
        if t.opened > 0 {
            parts.push(format!("{} tunnels opened", t.opened));
        }
        for (status, n) in &t.refused {
            parts.push(format!("{n} refused with {status}"));
        }
        if let Some(c) = &t.challenge {
            parts.push(format!("asks for {c}"));
        }
        let _ = writeln!(o, "  {proxy} -> {target}: {}", parts.join(", "));
    }
}

fn problems(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "\nPROBLEMS ({})", s.problems.len());
    if s.problems.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for p in &s.problems {
        let tag = match p.severity {
            Severity::Critical => "CRITICAL",
            Severity::Error => "ERROR   ",
            Severity::Warning => "WARNING ",
            Severity::Info => "INFO    ",
        };
        match &p.subject {
            Some(subj) => {
                let _ = writeln!(o, "  {tag} {subj}: {}", p.text);
            }
            None => {
                let _ = writeln!(o, "  {tag} {}", p.text);
            }
        }
    }
}

fn ms(v: Option<f64>) -> String {
    format::duration(v, Width::Wide)
}

fn proxies(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "\nPROXIES ({})", s.proxies.len());
    if s.proxies.is_empty() {
        return;
    }
    let width = s
        .proxies
        .iter()
        .map(|p| p.proxy.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        o,
        "  {:<width$}  {:>5}  {:<22}  {:>4}  {:>8}  {:>8}  {:>8}  {:>10}  {:>8}  {:>8}",
        "PROXY", "REQS", "STATUS", "ERRS", "P50", "P95", "MAX", "BYTES", "RTT P50", "SRV P50"
    );
    for p in &s.proxies {
        let status: Vec<String> = p.status.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let _ = writeln!(
            o,
            "  {:<width$}  {:>5}  {:<22}  {:>4}  {:>8}  {:>8}  {:>8}  {:>10}  {:>8}  {:>8}",
            p.proxy,
            p.requests,
            status.join(" "),
            p.errors,
            ms(p.p50_ms),
            ms(p.p95_ms),
            ms(p.max_ms),
            human_bytes(p.bytes),
            ms(p.rtt_p50_ms),
            ms(p.server_p50_ms)
        );
    }
}

fn sumdb(o: &mut String, session: &Session, mods: &[ModuleView]) {
    let supported = &session.checksum_db.supported;
    let lookups = mods
        .iter()
        .flat_map(|m| m.attempts.iter())
        .filter(|a| a.kind == Kind::SumdbLookup)
        .count();
    if supported.is_empty() && lookups == 0 {
        return;
    }
    let _ = writeln!(o, "\nCHECKSUM DATABASE");
    for (proxy, status) in supported {
        let answer = status.map_or("no answer".to_string(), |s| s.to_string());
        let meaning = if *status == Some(200) {
            "lookups go through this proxy"
        } else {
            "not mirrored here"
        };
        let _ = writeln!(o, "  {proxy}/sumdb/.../supported: {answer} ({meaning})");
    }
    let verified = mods
        .iter()
        .filter(|m| m.h1.is_some() && m.h1 == m.sumdb_h1)
        .count();
    let _ = writeln!(
        o,
        "  {lookups} lookups; {verified} zip hashes seen on the wire match the database"
    );
}
