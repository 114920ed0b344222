//! What `compare` makes of its runs: each run read back from `gomodwatch run --json` (the
//! budget, the module events, the exit status, the go command's error lines), tallied per
//! candidate (median and p95 of the wall clock, the budget's median per phase, per-module
//! medians and failures), ranked, and written as a table or as one NDJSON line per
//! candidate.

use super::run_env;
use gomodwatch::gomod::gosaid;
use gomodwatch::present::budget::PHASES;
use gomodwatch::present::format::{self, sanitize, Width};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The go command's error lines kept per run.
const SAID_PER_RUN: usize = 5;
/// Module rows the table shows (those that differ most first); `--json` has them all.
const MODULE_ROWS: usize = 50;

/// A GOPROXY list with any password hidden.
pub(super) fn redact(list: &str) -> String {
    run_env::redact_list(list)
}

/// One module@version in one run.
#[derive(Clone, Debug)]
struct ModuleRun {
    outcome: String,
    ms: f64,
}

/// One run of the command, as `gomodwatch run --json` told it.
#[derive(Clone, Debug)]
pub(super) struct RunResult {
    round: u32,
    /// The command's exit status (128+N for a signal).
    pub(super) exit: i32,
    /// The go command's lifetime (the budget's wall clock), else the run's own.
    pub(super) wall_ms: f64,
    /// The budget's phases (ms), when the run had one.
    phases: BTreeMap<&'static str, f64>,
    modules: BTreeMap<String, ModuleRun>,
    /// The go command's error lines.
    said: Vec<String>,
    /// The requests the run saw (the summary's `exchanges`).
    requests: Option<u64>,
}

impl RunResult {
    pub(super) fn new(
        round: u32,
        exit: i32,
        elapsed_ms: f64,
        events: &[Value],
        stderr: &str,
    ) -> RunResult {
        let budget = events.iter().find(|e| e["type"] == "budget");
        let phases = budget
            .map(|b| {
                PHASES
                    .iter()
                    .filter_map(|p| Some((*p, b[format!("{p}_ms")].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let modules = events
            .iter()
            .filter(|e| e["type"] == "module")
            .filter_map(|m| {
                let key = format!(
                    "{}@{}",
                    m["module"].as_str()?,
                    m["version"].as_str().unwrap_or("(no version)")
                );
                let run = ModuleRun {
                    outcome: m["outcome"].as_str().unwrap_or("?").to_string(),
                    ms: m["duration_ms"].as_f64().unwrap_or(0.0),
                };
                Some((key, run))
            })
            .collect();
        let mut said: Vec<String> = stderr
            .lines()
            .filter(|l| gosaid::parse_line(l).is_some() || l.starts_with("go: "))
            .filter(|l| !l.starts_with("go: downloading") && !l.starts_with("go: finding"))
            .take(SAID_PER_RUN)
            .map(str::to_string)
            .collect();
        if said.is_empty() && exit != 0 {
            // Not a go command's error line: its last line (or gomodwatch's) says why.
            said.extend(
                stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(String::from),
            );
        }
        RunResult {
            requests: events
                .iter()
                .find(|e| e["type"] == "summary")
                .and_then(|s| s["exchanges"].as_u64()),
            round,
            exit,
            wall_ms: budget
                .and_then(|b| b["wall_ms"].as_f64())
                .unwrap_or(elapsed_ms),
            phases,
            modules,
            said,
        }
    }
}

/// A candidate's runs.
pub(super) struct Tally {
    goproxy: String,
    runs: Vec<RunResult>,
}

/// The median and the p95 (nearest rank) of some values.
fn median_p95(v: &[f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    (Some(median), Some(s[rank - 1]))
}

/// The NDJSON line of one candidate.
#[derive(Serialize)]
struct CandidateLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    goproxy: &'a str,
    rank: usize,
    runs: usize,
    runs_ok: usize,
    wall_ms: WallLine,
    budget_median_ms: BTreeMap<&'static str, f64>,
    modules: Vec<ModuleLine>,
    failures: Vec<FailureLine<'a>>,
    /// Each run: its wall clock and budget (whose phases add up to it).
    each_run: Vec<RunLine<'a>>,
}

#[derive(Serialize)]
struct RunLine<'a> {
    run: u32,
    exit: i32,
    wall_ms: f64,
    requests: Option<u64>,
    budget_ms: &'a BTreeMap<&'static str, f64>,
}

#[derive(Serialize)]
struct WallLine {
    median: Option<f64>,
    p95: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    runs: Vec<f64>,
}

#[derive(Serialize)]
struct ModuleLine {
    module: String,
    median_ms: Option<f64>,
    outcomes: BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct FailureLine<'a> {
    run: u32,
    exit: i32,
    go_said: &'a [String],
}

impl Tally {
    pub(super) fn new(goproxy: &str, runs: Vec<RunResult>) -> Tally {
        Tally {
            goproxy: redact(goproxy),
            runs,
        }
    }

    fn ok(&self) -> usize {
        self.runs.iter().filter(|r| r.exit == 0).count()
    }

    fn walls(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.wall_ms).collect()
    }

    fn phase_median(&self, phase: &str) -> Option<f64> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.phases.get(phase).copied())
            .collect();
        median_p95(&v).0
    }

    /// Per module: the median time of the runs that got it (`ok`), and outcomes counted.
    fn module(&self, key: &str) -> (Option<f64>, BTreeMap<String, usize>) {
        let mut ok = Vec::new();
        let mut outcomes = BTreeMap::new();
        for m in self.runs.iter().filter_map(|r| r.modules.get(key)) {
            *outcomes.entry(m.outcome.clone()).or_default() += 1;
            if m.outcome == "ok" {
                ok.push(m.ms);
            }
        }
        (median_p95(&ok).0, outcomes)
    }
}

/// Candidates best first: more runs that succeeded, then the lower median wall clock.
fn ranking(t: &[Tally]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..t.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            (
                std::cmp::Reverse(t[i].ok()),
                median_p95(&t[i].walls()).0.unwrap_or(f64::INFINITY),
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    order
}

fn module_keys(t: &[Tally]) -> BTreeSet<String> {
    t.iter()
        .flat_map(|c| c.runs.iter().flat_map(|r| r.modules.keys().cloned()))
        .collect()
}

/// One NDJSON line per candidate, in the order given.
pub(super) fn ndjson(t: &[Tally]) -> String {
    let order = ranking(t);
    let keys = module_keys(t);
    let mut out = String::new();
    for (i, c) in t.iter().enumerate() {
        let walls = c.walls();
        let (median, p95) = median_p95(&walls);
        let line = CandidateLine {
            kind: "compare",
            goproxy: &c.goproxy,
            rank: order.iter().position(|&o| o == i).unwrap_or(i) + 1,
            runs: c.runs.len(),
            runs_ok: c.ok(),
            wall_ms: WallLine {
                median,
                p95,
                min: walls.iter().copied().reduce(f64::min),
                max: walls.iter().copied().reduce(f64::max),
                runs: walls.clone(),
            },
            budget_median_ms: PHASES
                .iter()
                .filter_map(|p| Some((*p, c.phase_median(p)?)))
                .collect(),
            modules: keys
                .iter()
                .map(|k| {
                    let (median_ms, outcomes) = c.module(k);
                    ModuleLine {
                        module: k.clone(),
                        median_ms,
                        outcomes,
                    }
                })
                .collect(),
            failures: c
                .runs
                .iter()
                .filter(|r| r.exit != 0)
                .map(|r| FailureLine {
                    run: r.round + 1,
                    exit: r.exit,
                    go_said: &r.said,
                })
                .collect(),
            each_run: c
                .runs
                .iter()
                .map(|r| RunLine {
                    run: r.round + 1,
                    exit: r.exit,
                    wall_ms: r.wall_ms,
                    requests: r.requests,
                    budget_ms: &r.phases,
                })
                .collect(),
        };
        if let Ok(s) = serde_json::to_string(&line) {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

fn d(ms: Option<f64>) -> String {
    format::duration(ms, Width::Wide)
}

/// The side-by-side table.
pub(super) fn table(command: &str, runs: u32, t: &[Tally]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "gomodwatch compare: {command}\n{runs} run(s) per candidate, interleaved, each with a \
         fresh module cache; times are the go command's lifetime (medians unless said)\n"
    );
    let w = t
        .iter()
        .map(|c| c.goproxy.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(12, 40);
    // The first column fits the longest module@version (up to a point).
    let names = module_keys(t)
        .iter()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(24, 60);
    let row = |o: &mut String, name: &str, cells: Vec<String>| {
        let _ = write!(o, "  {name:<names$}");
        for c in cells {
            let _ = write!(o, " {c:>w$}");
        }
        o.push('\n');
    };
    row(
        &mut o,
        "GOPROXY",
        t.iter().map(|c| c.goproxy.clone()).collect(),
    );
    row(
        &mut o,
        "runs ok",
        t.iter()
            .map(|c| format!("{}/{}", c.ok(), c.runs.len()))
            .collect(),
    );
    let stats: Vec<(Option<f64>, Option<f64>)> = t.iter().map(|c| median_p95(&c.walls())).collect();
    row(
        &mut o,
        "wall median",
        stats.iter().map(|s| d(s.0)).collect(),
    );
    row(&mut o, "wall p95", stats.iter().map(|s| d(s.1)).collect());
    for p in PHASES {
        let label = match p {
            "wait" => "  waiting on proxies",
            "fallback" => "  lost to fallbacks",
            "checksum_db" => "  checksum database",
            "idle" => "  idle / go's own work",
            other => other,
        };
        let label = if label.starts_with("  ") {
            label.to_string()
        } else {
            format!("  {label}")
        };
        row(
            &mut o,
            &label,
            t.iter().map(|c| d(c.phase_median(p))).collect(),
        );
    }
    let order = ranking(t);
    match (order.first(), order.get(1)) {
        (Some(&best), _) if t[best].ok() == 0 => {
            let _ = writeln!(o, "\nno candidate completed a run: see FAILURES");
        }
        (Some(&best), Some(&next)) => {
            let (b, n) = (stats[best].0.unwrap_or(0.0), stats[next].0.unwrap_or(0.0));
            let _ = writeln!(
                o,
                "\nfastest: {} (median {}, {} less than {})",
                t[best].goproxy,
                d(Some(b)),
                d(Some(n - b)),
                t[next].goproxy
            );
        }
        _ => {}
    }
    modules_table(&mut o, t, names, w);
    failures(&mut o, t);
    o.lines().map(|l| sanitize(l) + "\n").collect()
}

/// Per module: each candidate's median, `*` on the slowest, failures by name.
fn modules_table(o: &mut String, t: &[Tally], names: usize, w: usize) {
    let keys = module_keys(t);
    if keys.is_empty() {
        return;
    }
    let mut rows: Vec<(f64, String, Vec<String>)> = keys
        .iter()
        .map(|k| {
            let per: Vec<(Option<f64>, BTreeMap<String, usize>)> =
                t.iter().map(|c| c.module(k)).collect();
            let times: Vec<f64> = per.iter().filter_map(|p| p.0).collect();
            let (lo, hi) = (
                times.iter().copied().fold(f64::INFINITY, f64::min),
                times.iter().copied().fold(0.0, f64::max),
            );
            let failing = per.iter().any(|(_, outs)| outs.keys().any(|o| o != "ok"));
            let cells = per
                .iter()
                .map(|(ms, outs)| {
                    let bad: Vec<String> = outs
                        .iter()
                        .filter(|(o, _)| *o != "ok")
                        .map(|(o, n)| format!("{} {n}x", o.to_uppercase()))
                        .collect();
                    let time = match ms {
                        Some(v) if times.len() > 1 && *v == hi && hi > lo => {
                            format!("*{}", d(Some(*v)))
                        }
                        Some(v) => d(Some(*v)),
                        None if outs.is_empty() => "-".into(),
                        None => String::new(),
                    };
                    [time, bad.join(" ")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            // Failures first, then the largest difference.
            let spread = if failing {
                f64::INFINITY
            } else {
                hi - lo.min(hi)
            };
            (spread, k.clone(), cells)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let _ = writeln!(
        o,
        "\nMODULES ({}; median time of the runs that got it, * the slowest, failures by \
         outcome)",
        rows.len()
    );
    let n = rows.len();
    for (_, key, cells) in rows.into_iter().take(MODULE_ROWS) {
        let _ = write!(o, "  {key:<names$}");
        for c in cells {
            let _ = write!(o, " {c:>w$}");
        }
        o.push('\n');
    }
    if n > MODULE_ROWS {
        let _ = writeln!(o, "  and {} more (all of them in --json)", n - MODULE_ROWS);
    }
}

fn failures(o: &mut String, t: &[Tally]) {
    let failed: Vec<(&Tally, &RunResult)> = t
        .iter()
        .flat_map(|c| c.runs.iter().filter(|r| r.exit != 0).map(move |r| (c, r)))
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nFAILURES ({})", failed.len());
    for (c, r) in failed {
        let _ = writeln!(o, "  {} run {}: exit {}", c.goproxy, r.round + 1, r.exit);
        for l in &r.said {
            let _ = writeln!(o, "    {l}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_and_p95_by_nearest_rank() {
        let (m, p) = super::median_p95(&[3.0, 1.0, 2.0, 10.0]);
        assert_eq!(m, Some(2.5));
        assert_eq!(p, Some(10.0));
        assert_eq!(super::median_p95(&[]), (None, None));
        assert_eq!(super::median_p95(&[4.0]), (Some(4.0), Some(4.0)));
    }
}
