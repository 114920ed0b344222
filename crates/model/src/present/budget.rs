//! The `budget` event: where a go run's wall-clock time went, split along its critical path
//! (docs/ARCHITECTURE.md, "The time budget"), and the lines the report and the TUI draw
//! from it.

use super::format::{self, Width};
use gomodwatch_wire::vocab::Ts;
use serde::Serialize;

/// The `budget` event. The phases add up to `wall_ms` exactly: `dns_ms + connect_ms +
/// tls_ms + wait_ms + fallback_ms + transfer_ms + checksum_db_ms + idle_ms`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Budget {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// Where the wall clock starts: the go command's start under `run`, else its first
    /// request's connection setup.
    pub start: Ts,
    /// Where it ends: the go command's exit under `run`, else its last response byte.
    pub end: Ts,
    /// `run` (the child's lifetime) or `traffic` (first to last go-command request).
    pub wall_from: &'static str,
    /// `end - start`.
    pub wall_ms: f64,
    /// How the wall clock was split: `critical-path`.
    pub method: &'static str,
    /// Name lookups on the critical path.
    pub dns_ms: f64,
    /// TCP connects (through a proxy: the CONNECT too).
    pub connect_ms: f64,
    /// TLS handshakes.
    pub tls_ms: f64,
    /// Waiting for the first byte of answers that served (every proxy together; per proxy
    /// in `proxies`).
    pub wait_ms: f64,
    /// Time on requests a proxy answered without serving, for a module path the go command
    /// then asked of another GOPROXY entry (or fetched direct): lost to fallbacks.
    pub fallback_ms: f64,
    /// First to last response byte of answers that served.
    pub transfer_ms: f64,
    /// Requests to the checksum database (whole, after their connection setup).
    pub checksum_db_ms: f64,
    /// Nothing of the go command on the wire along the critical path: its own work
    /// (extracting, hashing, deciding), before the first request and after the last.
    pub idle_ms: f64,
    /// Per proxy, what waiting on it cost along the critical path.
    pub proxies: Vec<BudgetProxy>,
    /// Requests on the critical path (`critical_path` holds the last ones, up to 64).
    pub path_steps: u64,
    /// The chain of requests that set the end time, oldest first: each began after the one
    /// before it ended.
    pub critical_path: Vec<PathStep>,
    /// Go-command requests the budget saw.
    pub requests: u64,
    /// Older requests not kept (docs/LIMITS.md `MAX_BUDGET_REQUESTS`): the critical path
    /// stops at them and the time before is `idle_ms`.
    pub requests_not_kept: u64,
}

/// What one proxy cost along the critical path.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BudgetProxy {
    /// The proxy base URL (or the host, for a direct fetch or a redirect's target).
    pub proxy: String,
    /// Waiting on its answers that served.
    pub wait_ms: f64,
    /// Its transfers.
    pub transfer_ms: f64,
    /// Its answers that served nothing before the go command moved on (lost to fallbacks).
    pub fallback_ms: f64,
}

/// One request on the critical path.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct PathStep {
    /// The exchange's id.
    pub exchange: u64,
    /// Its URL.
    pub url: String,
    /// The proxy base URL or host it went to.
    pub proxy: Option<String>,
    /// What it was (`zip`, `info`, `sumdb-lookup`, ...).
    pub kind: &'static str,
    /// Its status; null when no response came.
    pub status: Option<u16>,
    /// Its start (connection setup included), from the budget's start.
    pub start_ms: f64,
    /// The setup it paid, its wait and its transfer (clipped to the wall clock).
    pub dns_ms: f64,
    /// TCP connect.
    pub connect_ms: f64,
    /// TLS handshake.
    pub tls_ms: f64,
    /// Request → first response byte.
    pub wait_ms: f64,
    /// First → last response byte.
    pub transfer_ms: f64,
    /// Where its wait and transfer count: `wait`, `fallback` or `checksum-db`.
    pub phase: &'static str,
}

/// The budget's phases by name, in the order views list them (`compare` reads them back from
/// each run's `budget` event by these names).
pub const PHASES: [&str; 8] = [
    "dns",
    "connect",
    "tls",
    "wait",
    "fallback",
    "transfer",
    "checksum_db",
    "idle",
];

impl Budget {
    /// The phases in the order views list them, with their names.
    pub fn phases(&self) -> [(&'static str, f64); 8] {
        let ms = [
            self.dns_ms,
            self.connect_ms,
            self.tls_ms,
            self.wait_ms,
            self.fallback_ms,
            self.transfer_ms,
            self.checksum_db_ms,
            self.idle_ms,
        ];
        std::array::from_fn(|i| (PHASES[i], ms[i]))
    }

    /// The budget as text lines (the report's section, the TUI's view); strings from the
    /// wire are left for the caller's sanitiser.
    pub fn lines(&self, width: Width) -> Vec<String> {
        let d = |ms: f64| format::duration(Some(ms), width);
        let pct = |ms: f64| {
            if self.wall_ms > 0.0 {
                100.0 * ms / self.wall_ms
            } else {
                0.0
            }
        };
        let mut out = vec![format!(
            "wall clock {} ({}), split along the critical path of {} requests",
            d(self.wall_ms),
            if self.wall_from == "run" {
                "the go command's lifetime"
            } else {
                "first to last request"
            },
            self.path_steps
        )];
        let label = |p: &'static str| match p {
            "wait" => "waiting on proxies",
            "fallback" => "lost to fallbacks",
            "checksum_db" => "checksum database",
            "idle" => "idle / go command's own work",
            other => other,
        };
        for (name, ms) in self.phases() {
            out.push(format!(
                "  {:<30} {:>9} {:>5.1}%",
                label(name),
                d(ms),
                pct(ms)
            ));
        }
        for p in &self.proxies {
            let lost = if p.fallback_ms > 0.0 {
                format!(", {} lost serving nothing", d(p.fallback_ms))
            } else {
                String::new()
            };
            out.push(format!(
                "  proxy {}: waited {}, transferred {}{lost}",
                p.proxy,
                d(p.wait_ms),
                d(p.transfer_ms)
            ));
        }
        if self.requests_not_kept > 0 {
            out.push(format!(
                "  {} older requests were not kept: the path stops at them",
                self.requests_not_kept
            ));
        }
        if !self.critical_path.is_empty() {
            let shown = self.critical_path.len() as u64;
            out.push(if shown < self.path_steps {
                format!("  critical path (its last {shown} of {}):", self.path_steps)
            } else {
                "  critical path:".to_string()
            });
            for s in &self.critical_path {
                let status = s.status.map_or("-".to_string(), |c| c.to_string());
                let setup = s.dns_ms + s.connect_ms + s.tls_ms;
                let setup = if setup > 0.0 {
                    format!(" setup {}", d(setup))
                } else {
                    String::new()
                };
                out.push(format!(
                    "    +{:<9} {:<14} {:<4} {:<11}{setup} wait {} transfer {}  {}",
                    d(s.start_ms),
                    s.kind,
                    status,
                    if s.phase == "wait" { "" } else { s.phase },
                    d(s.wait_ms),
                    d(s.transfer_ms),
                    s.url
                ));
            }
        }
        out
    }
}
