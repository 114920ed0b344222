//! The per-recording table and the ratchet file (tests/matrix/known-disagreements.txt).

use super::check::{Disagreement, Said};
use super::oracle::{go_errors, Recording};
use std::collections::{BTreeMap, BTreeSet};

/// One row: the recording, what the go command did, what gomodwatch said, which rules hold.
pub fn row(rec: &Recording, said: &Said, dis: &[Disagreement]) -> String {
    let req = rec.requested();
    let got = req.iter().filter(|m| rec.got(m)).count();
    let ok = req
        .iter()
        .filter(|m| said.outcome(m).as_deref() == Some("ok"))
        .count();
    let rules: String = (1..=4)
        .map(|r| {
            if dis.iter().any(|d| d.rule == r) {
                'x'
            } else {
                '.'
            }
        })
        .collect();
    let errs = go_errors(&rec.xlog);
    let mut causes: Vec<&str> = errs.iter().map(|e| e.causes[0].name()).collect();
    causes.sort();
    causes.dedup();
    format!(
        "{:<44} exit {:>3}  go got {}/{}  gmw ok {}/{}  go errors {:<2} {:<22} rules {}",
        rec.name,
        rec.exit,
        got,
        req.len(),
        ok,
        req.len(),
        errs.len(),
        causes.join(","),
        rules
    )
}

/// A ratchet entry's identity: recording, rule, key (the reason text may change).
pub type Key = (String, u8, String);

pub fn key(d: &Disagreement) -> Key {
    (d.name.clone(), d.rule, d.key.clone())
}

/// Reads the ratchet file: `NAME RULE KEY reason...` per line, `#` comments.
pub fn read_known(text: &str) -> BTreeMap<Key, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.splitn(4, ' ');
            let name = it.next()?.to_string();
            let rule = it.next()?.parse().ok()?;
            let key = it.next()?.to_string();
            Some(((name, rule, key), l.to_string()))
        })
        .collect()
}

pub const HEADER: &str =
    "# Disagreements between gomodwatch and the go command on the recorded matrix
# (tests/matrix.rs, matrix_replay): NAME RULE KEY reason. The test fails on a disagreement
# not listed here and on a line listed here that no longer disagrees: the list only shrinks.
# Rewrite it with GMW_MATRIX_RATCHET=update cargo test --release --test matrix matrix_replay.
# Rules: 1 module outcome (ok exactly when the go command got it), 2 no ERROR when go exited 0,
# 3 every go error line matched by a problem naming the module with the same cause class,
# 4 no password in any output.
";

pub fn render_known(dis: &[Disagreement]) -> String {
    let mut s = String::from(HEADER);
    let lines: BTreeSet<String> = dis.iter().map(|d| d.line()).collect();
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// Disagreements grouped by rule and reason pattern (modules and names masked), with counts.
pub fn grouped(dis: &[Disagreement]) -> Vec<(usize, String)> {
    let mut g: BTreeMap<String, usize> = BTreeMap::new();
    for d in dis {
        let mut r = d.reason.clone();
        if let Some(i) = r.find(" (") {
            if let Some(j) = r[i..].find("); ") {
                r.replace_range(i..i + j + 1, "");
            }
        }
        *g.entry(format!("rule {}: {}", d.rule, r)).or_default() += 1;
    }
    let mut v: Vec<(usize, String)> = g.into_iter().map(|(k, n)| (n, k)).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v
}

/// The go command's error texts seen in the recordings, normalised (module, ephemeral ports,
/// temp paths masked), with their class and the recordings that show them: error-classes.md.
pub fn error_classes(recs: &[Recording]) -> String {
    let mut rows: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in recs {
        for e in go_errors(&r.xlog) {
            let mut lines = e.text.lines().filter(|l| !l.trim().is_empty());
            let mut text = lines.next().unwrap_or("").to_string();
            if text.ends_with(':') {
                // git's own words follow on the next lines: the last one says why
                if let Some(last) = lines.rfind(|l| !l.starts_with("h1:")) {
                    text = format!("{text} … {}", last.trim());
                }
            }
            let classes: Vec<&str> = e.causes.iter().map(|c| c.name()).collect();
            rows.entry((classes.join(" / "), normalise(&text, &e.module)))
                .or_default()
                .insert(r.name.clone());
        }
    }
    let mut s = String::new();
    for ((class, text), names) in rows {
        let ex: Vec<&str> = names.iter().take(2).map(|s| s.as_str()).collect();
        let more = if names.len() > 2 {
            format!(" (+{})", names.len() - 2)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "| {class} | `{}` | {}{more} |\n",
            text.replace('|', "\\|"),
            ex.join(", ")
        ));
    }
    s
}

fn normalise(t: &str, module: &str) -> String {
    let path = module.split('@').next().unwrap_or(module);
    let mut s = t.replace(module, "MODULE@VERSION").replace(path, "MODULE");
    // ephemeral client ports: "127.0.0.1:55334->"
    while let Some(j) = s.find("->") {
        let head = &s[..j];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        s.replace_range(j - digits..j + 2, "PORT→");
    }
    while let Some(i) = s.find("/tmp/gmwmx.") {
        let end = s[i..].find([' ', ':', '"']).map_or(s.len(), |j| i + j);
        s.replace_range(i..end, "$DIR");
    }
    s
}
